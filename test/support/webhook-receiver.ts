// A webhook receiver on loopback for the access tests: it keeps every call the gateway makes and
// answers 403 to those `refuse` picks, 200 to the others.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Config } from '../../server/config.js';

export interface WebhookCall {
  /** /publish, /play or /done */
  path: string;
  body: Record<string, unknown>;
}

export interface WebhookReceiver {
  readonly calls: WebhookCall[];
  /** the gateway's on-publish, on-play and on-done options, pointing here */
  readonly config: Partial<Config>;
  close(): Promise<void>;
}

export async function startWebhookReceiver(refuse: (call: WebhookCall) => boolean): Promise<WebhookReceiver> {
  const calls: WebhookCall[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      const call = { path: req.url ?? '', body: JSON.parse(body) as Record<string, unknown> };
      calls.push(call);
      res.statusCode = refuse(call) ? 403 : 200;
      res.end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    calls,
    config: { 'on-publish': `${base}/publish`, 'on-play': `${base}/play`, 'on-done': `${base}/done` },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
