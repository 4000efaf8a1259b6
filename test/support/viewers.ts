// Test viewers over WS-FLV and HTTP-FLV that validate what they receive.
import http from 'node:http';
import WebSocket from 'ws';
import { flvCheck, type FlvCheck } from './flv-check.js';

export interface TestViewer {
  flv: FlvCheck;
  bytes: number;
  /** WebSocket messages (WS) or body chunks (HTTP) received */
  deliveries: number;
  /** resolves when the connection ends: WS close code/reason, or 'end' for HTTP */
  ended: Promise<{ code: number | string; reason: string }>;
  close(): void;
}

/** A corrupt stream is recorded as a problem for the test to assert on, not thrown from an event handler. */
function feed(flv: FlvCheck, chunk: Buffer): void {
  if (flv.error !== null) return;
  try {
    flv.push(chunk);
  } catch (err) {
    flv.error = err as Error;
  }
}

export function wsViewer(url: string): TestViewer {
  const flv = flvCheck();
  const ws = new WebSocket(url);
  const viewer: TestViewer = {
    flv,
    bytes: 0,
    deliveries: 0,
    ended: new Promise((resolve) => {
      ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() }));
    }),
    close: () => ws.close(),
  };
  ws.on('message', (data: Buffer, isBinary) => {
    if (!isBinary) throw new Error('WS-FLV sent a text frame');
    viewer.bytes += data.length;
    viewer.deliveries++;
    feed(flv, data);
  });
  ws.on('error', () => {});
  return viewer;
}

export function httpViewer(url: string): TestViewer & { status: Promise<http.IncomingMessage> } {
  const flv = flvCheck();
  let resolveEnd!: (v: { code: number | string; reason: string }) => void;
  const ended = new Promise<{ code: number | string; reason: string }>((r) => (resolveEnd = r));
  let req!: http.ClientRequest;
  const status = new Promise<http.IncomingMessage>((resolve, reject) => {
    req = http.get(url, (res) => {
      resolve(res);
      res.on('data', (d: Buffer) => {
        viewer.bytes += d.length;
        viewer.deliveries++;
        feed(flv, d);
      });
      res.on('end', () => resolveEnd({ code: 'end', reason: '' }));
      res.on('error', () => resolveEnd({ code: 'error', reason: '' }));
      res.on('aborted', () => resolveEnd({ code: 'aborted', reason: '' }));
    });
    req.on('error', (e) => {
      reject(e);
      resolveEnd({ code: 'error', reason: e.message });
    });
  });
  const viewer = { flv, bytes: 0, deliveries: 0, ended, status, close: () => req.destroy() };
  return viewer;
}
