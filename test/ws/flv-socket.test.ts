// WS-FLV framing: one WebSocket message per write batch, as fragments of the shared tag Buffers,
// carrying exactly the bytes HTTP-FLV sends. Frame headers against RFC 6455 §5.2 byte fixtures;
// a real `ws` client and a real HTTP client read one stream side by side.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { HttpFlvSink } from '../../server/http/flv-route.js';
import type { LiveStream } from '../../server/hub/live-stream.js';
import { MESSAGE_END, wsFrameHeads } from '../../server/ws/frame-head.js';
import { WsFlvSink } from '../../server/ws/flv-socket.js';
import { flvCheck } from '../support/flv-check.js';
import { waitFor } from '../support/wait.js';
import { aacFrame, avcInter, avcKey, hex, makeStream, startAv } from '../hub/fixtures.js';

describe('WebSocket frame headers (RFC 6455 §5.2)', () => {
  it.each([
    // n, whole, first fragment, continuation
    [0, '82 00', '02 00', '00 00'],
    [125, '82 7d', '02 7d', '00 7d'],
    [126, '82 7e 007e', '02 7e 007e', '00 7e 007e'],
    [65535, '82 7e ffff', '02 7e ffff', '00 7e ffff'],
    [65536, '82 7f 00000000 00010000', '02 7f 00000000 00010000', '00 7f 00000000 00010000'],
    [2 ** 32 + 5, '82 7f 00000001 00000005', '02 7f 00000001 00000005', '00 7f 00000001 00000005'],
  ])('a %d-byte payload: FIN+binary, binary without FIN, continuation without FIN', (n, whole, first, more) => {
    const heads = wsFrameHeads(n);
    expect(heads.whole).toEqual(hex(whole));
    expect(heads.first).toEqual(hex(first));
    expect(heads.more).toEqual(hex(more));
  });

  it('a fragmented message ends with an empty continuation frame with FIN set', () => {
    expect(MESSAGE_END).toEqual(hex('80 00'));
  });
});

interface Rig {
  stream: LiveStream;
  ws: { messages: Buffer[]; closed: Promise<number> };
  httpBody: Buffer[];
  httpEnded: Promise<void>;
  close(): Promise<void>;
}

/** One stream, a WS-FLV viewer over a real `ws` connection and an HTTP-FLV viewer over real HTTP. */
async function rig(): Promise<Rig> {
  const { stream } = makeStream({ slow: { softBytes: 1 << 24, hardBytes: 1 << 25, maxSkipMs: 10_000 } });
  startAv(stream);
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
  await new Promise((r) => wss.once('listening', r));
  wss.on('connection', (ws) => stream.subscribe(new WsFlvSink(ws)));
  const server = http.createServer((_req, res) => stream.subscribe(new HttpFlvSink(res)));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));

  const messages: Buffer[] = [];
  const client = new WebSocket(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}/live/cam.flv`);
  client.on('message', (data: Buffer) => messages.push(data));
  const closed = new Promise<number>((r) => client.on('close', (code) => r(code)));
  await new Promise((r) => client.once('open', r));

  const httpBody: Buffer[] = [];
  let httpEnded!: () => void;
  const ended = new Promise<void>((r) => (httpEnded = r));
  http.get(`http://127.0.0.1:${(server.address() as AddressInfo).port}/live/cam.flv`, (res) => {
    res.on('data', (d: Buffer) => httpBody.push(d));
    res.on('end', httpEnded);
  });
  await waitFor('both viewers joined', () => stream.subscribers.size === 2);
  return {
    stream, ws: { messages, closed }, httpBody, httpEnded: ended,
    close: async () => {
      client.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}

let open: Rig | null = null;
afterEach(async () => {
  await open?.close();
  open = null;
});

describe('WS-FLV messages', () => {
  it('carry exactly the HTTP-FLV byte stream, one message per write batch instead of one per tag', async () => {
    const r = (open = await rig());
    const joined = await waitFor('the join burst on both', () => {
      const ws = Buffer.concat(r.ws.messages);
      return ws.length > 13 && ws.equals(Buffer.concat(r.httpBody)) ? r.ws.messages.length : undefined;
    });
    // The FLV file header, then the whole join burst (metadata, sequence headers, cue, GOP) as one message.
    expect(joined).toBe(2);
    let n = 2;
    let tags = 0;
    for (let batch = 0; batch < 20; batch++) {
      r.stream.writeBatch.run(() => {
        // A read with an inter frame and two audio frames; every fourth one starts a GOP.
        const t = 100 + batch * 40;
        r.stream.push(9, t, batch % 4 === 3 ? avcKey(batch) : avcInter(batch));
        r.stream.push(8, t + 5, aacFrame(2 * batch));
        r.stream.push(8, t + 28, aacFrame(2 * batch + 1));
      });
      tags += 3;
    }
    r.stream.end('unpublished', 'test over');
    await r.httpEnded;
    expect(await r.ws.closed).toBe(1000);
    const ws = Buffer.concat(r.ws.messages);
    expect(ws.equals(Buffer.concat(r.httpBody))).toBe(true);
    n += 20;
    expect(r.ws.messages.length).toBe(n);
    expect(tags).toBe(60);
    // and the bytes are a valid FLV stream with every tag in it
    const check = flvCheck();
    check.push(ws);
    expect(check.problems()).toEqual([]);
    expect(check.videoFrames().length).toBe(2 + 20); // the join's keyframe and inter frame, then the batches
  });

  it('a tag written outside a batch (a timed-text cue, a late join) is a message of its own', async () => {
    const r = (open = await rig());
    await waitFor('the join burst', () => (r.ws.messages.length === 2 ? true : undefined));
    r.stream.push(9, 200, avcInter(9));
    r.stream.push(8, 205, aacFrame(9));
    await waitFor('two more messages', () => (r.ws.messages.length === 4 ? true : undefined));
    expect(r.ws.messages.slice(2).map((m) => m[0])).toEqual([9, 8]);
    await waitFor('same bytes over HTTP', () => (Buffer.concat(r.ws.messages).equals(Buffer.concat(r.httpBody)) ? true : undefined));
  });

  it('a close in the middle of a batch comes after the end of the open message', async () => {
    const r = (open = await rig());
    await waitFor('the join burst', () => (r.ws.messages.length === 2 ? true : undefined));
    r.stream.writeBatch.run(() => {
      r.stream.push(9, 200, avcInter(9));
      r.stream.push(8, 205, aacFrame(9));
      r.stream.end('unpublished', 'ended mid-batch');
    });
    // The ws client fails the connection (code 1006 or 1002) on a close frame inside a message.
    expect(await r.ws.closed).toBe(1000);
    expect(r.ws.messages.length).toBe(3);
    expect(Buffer.concat(r.ws.messages).equals(Buffer.concat(r.httpBody))).toBe(true);
  });
});
