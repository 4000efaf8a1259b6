// Issue: hostile input — limits. Each configured limit, when hit, closes or
// refuses the connection, leaves a log line, and bumps a counter on /metrics.
// A small raw RTMP client (real sockets, the project's own handshake and chunk
// writer) does what ffmpeg never would: stall, nest, oversize, misname.
import net from 'node:net';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import WebSocket from 'ws';
import { afterEach, describe, expect, it } from 'vitest';
import { decodeAmf0 } from '../../server/amf/amf0.js';
import type { AmfObject, AmfValue } from '../../server/amf/types.js';
import type { Config } from '../../server/config.js';
import { ChunkStreamReader, type RtmpMessage } from '../../server/rtmp/chunk-reader.js';
import { ChunkStreamWriter, type OutgoingMessage } from '../../server/rtmp/chunk-writer.js';
import { commandMessage } from '../../server/rtmp/commands.js';
import { ClientHandshake } from '../../server/rtmp/handshake.js';
import { setChunkSize } from '../../server/rtmp/messages.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { wsViewer, type TestViewer } from '../support/viewers.js';
import { waitFor } from '../support/wait.js';

// ---------------------------------------------------------------------------
// Helpers

/** A pino logger writing JSON lines into memory. */
function memoryLog(): { log: pino.Logger; lines: string[] } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString('utf8').split('\n')) if (l !== '') lines.push(l);
      cb();
    },
  });
  return { log: pino({ level: 'info' }, stream), lines };
}

/** The value of one sample on /metrics (0 when absent). */
async function metric(gw: TestGateway, name: string, label: string, value: string): Promise<number> {
  const text = await (await fetch(gw.httpUrl('/metrics'))).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${label}="${value}"}`));
  return line === undefined ? 0 : Number(line.split(' ').at(-1));
}
const refusals = (gw: TestGateway, reason: string) => metric(gw, 'gateway_limit_refusals_total', 'reason', reason);
const protocolErrors = (gw: TestGateway, code: string) => metric(gw, 'gateway_protocol_errors_total', 'code', code);

/** A raw RTMP client over a real socket. */
class RawRtmp {
  readonly socket: net.Socket;
  readonly received: RtmpMessage[] = [];
  readonly closed: Promise<void>;
  readonly writer = new ChunkStreamWriter();
  #hs = new ClientHandshake();
  #handshakeDone = false;
  #reader = new ChunkStreamReader((m) => this.received.push({ ...m, payload: Buffer.from(m.payload) }));
  #txn = 1;
  #hsDone!: () => void;
  readonly handshaken = new Promise<void>((r) => (this.#hsDone = r));
  isClosed = false;

  constructor(port: number, localAddress = '127.0.0.1') {
    this.socket = net.connect({ port, host: '127.0.0.1', localAddress });
    this.socket.on('error', () => {});
    this.closed = new Promise((resolve) =>
      this.socket.on('close', () => {
        this.isClosed = true;
        resolve();
      }),
    );
    this.socket.on('data', (d: Buffer) => {
      if (this.#handshakeDone) {
        this.#reader.push(d);
        return;
      }
      const r = this.#hs.push(d);
      if (r.send !== null) this.socket.write(r.send);
      if (r.done) {
        this.#handshakeDone = true;
        this.#hsDone();
        if (r.rest !== null) this.#reader.push(r.rest);
      }
    });
  }

  get connected(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.socket.once('connect', resolve);
      this.socket.once('error', reject);
    });
  }

  async handshake(): Promise<void> {
    this.socket.write(this.#hs.start());
    await this.handshaken;
  }

  send(msg: OutgoingMessage): void {
    this.socket.write(this.writer.encode(msg));
  }

  command(name: string, args: AmfValue[], streamId = 0, object: AmfValue = null): void {
    this.send(commandMessage([name, this.#txn++, object, ...args], streamId));
  }

  connect(app = 'live'): void {
    this.command('connect', [], 0, { app, type: 'nonprivate', flashVer: 'FMLE/3.0', tcUrl: `rtmp://127.0.0.1/${app}` });
  }

  /** handshake, connect, wait for the connect _result */
  async connected_(app = 'live'): Promise<void> {
    await this.handshake();
    this.connect(app);
    await waitFor('connect result', () => this.statusCodes().includes('NetConnection.Connect.Success'));
  }

  /** the `code` of every status object the server sent (onStatus, _result, _error) */
  statusCodes(): string[] {
    const out: string[] = [];
    for (const m of this.received) {
      if (m.type !== 20) continue;
      for (const v of decodeAmf0(m.payload)) {
        if (typeof v === 'object' && v !== null && 'code' in v) out.push(String((v as AmfObject)['code']));
      }
    }
    return out;
  }

  close(): void {
    this.socket.destroy();
  }
}

const gateways: TestGateway[] = [];
const clients: RawRtmp[] = [];
const viewers: TestViewer[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  for (const v of viewers.splice(0)) v.close();
  await Promise.all(gateways.splice(0).map((g) => g.close()));
});

async function gateway(config: Partial<Config>): Promise<{ gw: TestGateway; lines: string[] }> {
  const { log, lines } = memoryLog();
  const gw = await startTestGateway(config, log);
  gateways.push(gw);
  return { gw, lines };
}

function client(gw: TestGateway, localAddress?: string): RawRtmp {
  const c = new RawRtmp(gw.rtmpPort, localAddress);
  clients.push(c);
  return c;
}

const logged = (lines: string[], re: RegExp) => lines.some((l) => re.test(l));

/** AVC sequence header + a keyframe: enough for the stream to be ready for viewers. */
const AVC_CONFIG = Buffer.from('1700000000014d401fffe1001b674d401fe8802802dd80b501010140000003004000000f03c60c448001000468ebef20', 'hex');
const AVC_KEY = Buffer.from('17010000000000000565888400ff', 'hex');

async function rawPublisher(gw: TestGateway, key: string): Promise<RawRtmp> {
  const c = client(gw);
  await c.connected_();
  c.command('createStream', []);
  c.command('publish', [key, 'live'], 1);
  await waitFor(`${key} published`, () => c.statusCodes().includes('NetStream.Publish.Start'));
  c.send({ csid: 6, type: 9, streamId: 1, timestamp: 0, payload: AVC_CONFIG });
  c.send({ csid: 6, type: 9, streamId: 1, timestamp: 0, payload: AVC_KEY });
  return c;
}

// ---------------------------------------------------------------------------

describe('connection limits', () => {
  it('a connection that does not finish the handshake in handshake-timeout-ms is closed, logged and counted', async () => {
    const { gw, lines } = await gateway({ 'handshake-timeout-ms': 300 });
    const c = client(gw);
    await c.connected;
    c.socket.write(Buffer.from([3])); // one byte of C0, then nothing
    await c.closed;
    expect(await refusals(gw, 'handshake-timeout')).toBe(1);
    expect(logged(lines, /handshake not complete after 300 ms/)).toBe(true);
  });

  it('a connection that neither publishes nor plays within idle-timeout-ms is closed, logged and counted', async () => {
    const { gw, lines } = await gateway({ 'idle-timeout-ms': 1_000 });
    const c = client(gw);
    await c.connected_();
    await c.closed;
    expect(await refusals(gw, 'idle-timeout')).toBe(1);
    expect(logged(lines, /neither published nor played within 1000 ms/)).toBe(true);
  });

  it('connections over max-connections are refused at accept, logged and counted', async () => {
    const { gw, lines } = await gateway({ 'max-connections': 2 });
    const a = client(gw);
    const b = client(gw);
    await waitFor('two sessions', () => gw.rtmp.sessions.size === 2);
    const c = client(gw);
    await c.closed;
    expect(a.isClosed || b.isClosed).toBe(false);
    expect(gw.rtmp.sessions.size).toBe(2);
    expect(await refusals(gw, 'max-connections')).toBe(1);
    expect(logged(lines, /rtmp connection refused: connection limit/)).toBe(true);
  });

  it('connections over max-connections-per-address are refused for that address only, logged and counted', async () => {
    const { gw, lines } = await gateway({ 'max-connections-per-address': 2 });
    client(gw, '127.0.0.2');
    client(gw, '127.0.0.2');
    await waitFor('two sessions', () => gw.rtmp.sessions.size === 2);
    const third = client(gw, '127.0.0.2');
    await third.closed;
    expect(await refusals(gw, 'max-connections-per-address')).toBe(1);
    // another address is still welcome
    const other = client(gw, '127.0.0.1');
    await other.connected_();
    expect(other.isClosed).toBe(false);
    expect(gw.rtmp.sessions.size).toBe(3);
    expect(lines.some((l) => /connection limit/.test(l) && /127\.0\.0\.2/.test(l))).toBe(true);
  });
});

describe('message limits', () => {
  it('a message larger than max-message-bytes closes the connection as soon as its header arrives, logged and counted', async () => {
    const { gw, lines } = await gateway({ 'max-message-bytes': 1024 });
    const c = client(gw);
    await c.connected_();
    // only the header of a 4000-byte message is sent: the refusal must not wait for the body
    const header = Buffer.from([0x03, 0, 0, 0, 0, 0x0f, 0xa0, 20, 0, 0, 0, 0]);
    c.socket.write(header);
    await c.closed;
    expect(await refusals(gw, 'message-limits')).toBe(1);
    expect(await protocolErrors(gw, 'limit')).toBe(1);
    expect(logged(lines, /message of 4000 bytes exceeds 1024/)).toBe(true);
  });

  it('AMF nested deeper than the decoder allows closes the connection, logged and counted as an amf error', async () => {
    const { gw, lines } = await gateway({});
    const c = client(gw);
    await c.handshake();
    let deep: AmfObject = { leaf: 1 };
    for (let i = 0; i < 40; i++) deep = { d: deep };
    c.command('connect', [], 0, { app: 'live', deep });
    await c.closed;
    expect(await protocolErrors(gw, 'amf')).toBe(1);
    expect(logged(lines, /nesting deeper than 32/)).toBe(true);
  });

  it('amf-max-depth configures the nesting limit', async () => {
    const { gw, lines } = await gateway({ 'amf-max-depth': 4 });
    const c = client(gw);
    await c.handshake();
    let deep: AmfObject = { leaf: 1 };
    for (let i = 0; i < 6; i++) deep = { d: deep };
    c.command('connect', [], 0, { app: 'live', deep });
    await c.closed;
    expect(await protocolErrors(gw, 'amf')).toBe(1);
    expect(logged(lines, /nesting deeper than 4/)).toBe(true);
  });

  it('an AMF string longer than the decoder allows closes the connection, logged and counted as an amf error', async () => {
    const { gw, lines } = await gateway({});
    const c = client(gw);
    await c.connected_();
    c.send(setChunkSize(65_536));
    c.writer.setChunkSize(65_536);
    c.command('FCPublish', ['x'.repeat(1024 * 1024 + 1)]);
    await c.closed;
    expect(await protocolErrors(gw, 'amf')).toBe(1);
    expect(logged(lines, /string of 1048577 bytes exceeds 1048576/)).toBe(true);
  });
});

describe('stream limits', () => {
  it('a publish over max-streams is refused with BadName and closed, logged and counted', async () => {
    const { gw, lines } = await gateway({ 'max-streams': 1 });
    await rawPublisher(gw, 'one');
    const c = client(gw);
    await c.connected_();
    c.command('publish', ['two', 'live'], 1);
    await c.closed;
    expect(c.statusCodes()).toContain('NetStream.Publish.BadName');
    expect([...gw.hub.streams.keys()]).toEqual(['live/one']);
    expect(await refusals(gw, 'max-streams')).toBe(1);
    expect(logged(lines, /publish refused: max-streams/)).toBe(true);
  });

  it('viewers over max-viewers-per-stream are refused on WS (4503), HTTP (503) and RTMP (Play.Failed), logged and counted', async () => {
    const { gw, lines } = await gateway({ 'max-viewers-per-stream': 1 });
    await rawPublisher(gw, 'cam');
    await waitFor('stream ready', () => gw.hub.get('live/cam')?.ready === true);
    const first = wsViewer(gw.wsUrl('/live/cam.flv'));
    viewers.push(first);
    await waitFor('first viewer started', () => first.flv.tags.length > 0);

    const ws = wsViewer(gw.wsUrl('/live/cam.flv'));
    viewers.push(ws);
    expect((await ws.ended).code).toBe(4503);

    const res = await fetch(gw.httpUrl('/live/cam.flv'));
    expect(res.status).toBe(503);
    expect(await res.text()).toMatch(/maximum of viewers/);

    const player = client(gw);
    await player.connected_();
    player.command('createStream', []);
    player.command('play', ['cam'], 1);
    await player.closed;
    expect(player.statusCodes()).toContain('NetStream.Play.Failed');

    expect(await refusals(gw, 'max-viewers-per-stream')).toBe(3);
    expect(lines.filter((l) => /viewer refused: max-viewers-per-stream/.test(l))).toHaveLength(3);
    // the admitted viewer is untouched
    expect(gw.hub.viewersByProtocol(gw.hub.get('live/cam')!).total).toBe(1);
  });

  it.each([
    ['129 characters', 'k'.repeat(129)],
    ['a CR LF', 'cam\r\nX-Injected: 1'],
    ['unicode', 'caméra'],
    ['a path', '../etc/passwd'],
    ['a space', 'my cam'],
  ])('a stream key with %s is refused with BadName and the connection closed with a log line', async (_what, key) => {
    const { gw, lines } = await gateway({});
    const c = client(gw);
    await c.connected_();
    c.command('publish', [key, 'live'], 1);
    await c.closed;
    expect(c.statusCodes()).toContain('NetStream.Publish.BadName');
    expect(gw.hub.streams.size).toBe(0);
    expect(logged(lines, /publish refused: invalid stream key/)).toBe(true);
    expect(await metric(gw, 'gateway_limit_refusals_total', 'reason', 'stream-name')).toBe(1);
  });

  it('a key of exactly 128 safe characters is accepted', async () => {
    const { gw } = await gateway({});
    await rawPublisher(gw, 'k'.repeat(128));
    expect(gw.hub.get(`live/${'k'.repeat(128)}`)).toBeDefined();
  });
});

describe('hostile viewers', () => {
  it('a viewer sending an oversized WebSocket frame is closed with 1009, and another viewer keeps receiving', async () => {
    const { gw } = await gateway({});
    const pub = await rawPublisher(gw, 'ws');
    await waitFor('stream ready', () => gw.hub.get('live/ws')?.ready === true);
    const good = wsViewer(gw.wsUrl('/live/ws.flv'));
    viewers.push(good);
    await waitFor('good viewer started', () => good.flv.tags.length > 0);
    const bad = new WebSocket(gw.wsUrl('/live/ws.flv'));
    bad.on('error', () => {});
    await new Promise((r) => bad.once('open', r));
    await waitFor('two viewers', () => gw.hub.viewersByProtocol(gw.hub.get('live/ws')!).ws === 2);
    const code = new Promise<number>((r) => bad.once('close', (c) => r(c)));
    bad.send(Buffer.alloc(256 * 1024));
    expect(await code).toBe(1009);
    await waitFor('bad viewer removed', () => gw.hub.viewersByProtocol(gw.hub.get('live/ws')!).ws === 1);
    const before = good.flv.tags.length;
    pub.send({ csid: 6, type: 9, streamId: 1, timestamp: 40, payload: AVC_KEY });
    await waitFor('good viewer still receiving', () => good.flv.tags.length > before);
    expect(good.flv.error).toBeNull();
  });

  it('garbage on the HTTP port gets 400 or a closed connection, and the gateway keeps serving', async () => {
    const { gw } = await gateway({});
    const garbage = [
      Buffer.from('\x00\x01\x02\xff\xfe\r\n\r\n', 'latin1'),
      Buffer.from('GET / HTTP/9.9\r\n\r\n'),
      Buffer.from(`GET /${'a'.repeat(100_000)} HTTP/1.1\r\nHost: x\r\n\r\n`),
      Buffer.from('GET / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n'),
      Buffer.from('GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\nzz\r\n'),
      Buffer.from('GET /live/x.flv HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 99\r\n\r\n'),
    ];
    for (const g of garbage) {
      const answer = await new Promise<string>((resolve) => {
        const s = net.connect(gw.httpPort, '127.0.0.1');
        let out = '';
        s.on('data', (d: Buffer) => (out += d.toString('latin1')));
        s.on('error', () => {});
        s.on('close', () => resolve(out));
        s.setTimeout(5_000, () => s.destroy());
        s.write(g);
      });
      expect(answer === '' || /^HTTP\/1\.1 (400|404|413|426|431) /.test(answer), JSON.stringify(answer.slice(0, 60))).toBe(true);
    }
    expect((await fetch(gw.httpUrl('/api/health'))).status).toBe(200);
  });
});
