// Issue: hostile input — security. Stream names never reach headers
// unvalidated; CORS and the API token are honoured; secrets and signatures
// never appear in logs, whether a signed publish or play succeeds or fails;
// signatures are compared in constant time.
import net from 'node:net';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { checkSignature, signedQuery, signStream } from '../../server/auth/signature.js';
import { publish, testSource, type Proc } from '../support/ffmpeg.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { httpViewer, wsViewer, type TestViewer } from '../support/viewers.js';
import { waitFor } from '../support/wait.js';

const procs: Proc[] = [];
const viewers: TestViewer[] = [];
afterEach(async () => {
  for (const v of viewers.splice(0)) v.close();
  await Promise.all(procs.splice(0).map((p) => p.stop()));
});

/** Send raw bytes to the HTTP port and collect the whole answer (the server closes, or 2 s of quiet pass). */
function rawHttp(port: number, request: string): Promise<string> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    let out = '';
    s.setEncoding('latin1');
    s.on('data', (d: string) => (out += d));
    s.on('error', () => {});
    s.setTimeout(2_000, () => s.destroy());
    s.on('close', () => resolve(out));
    s.write(request);
  });
}

const headerNames = (response: string): string[] =>
  response.split('\r\n\r\n')[0]!.split('\r\n').slice(1).map((l) => l.split(':')[0]!.toLowerCase());

describe('stream names at the HTTP port', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway();
  });
  afterAll(() => gw.close());

  it.each([
    ['an encoded CR LF', '/live/cam%0d%0aX-Injected:%201.flv'],
    ['encoded unicode', '/live/cam%C3%A9ra.flv'],
    ['an encoded slash', '/live/a%2f..%2fb.flv'],
    ['dot-dot', '/live/...flv'],
    ['129 characters', `/live/${'k'.repeat(129)}.flv`],
  ])('an HTTP-FLV request for a name with %s is a plain 404 that echoes nothing into headers', async (_what, path) => {
    const answer = await rawHttp(gw.httpPort, `GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
    expect(answer).toMatch(/^HTTP\/1\.1 404 /);
    expect(headerNames(answer)).not.toContain('x-injected');
    expect(answer.split('\r\n\r\n')[0]).not.toMatch(/cam|Injected|é/i);
  });

  it('a raw CR LF inside the request line cuts the path there and injects nothing', async () => {
    // llhttp takes `GET /live/cam` as a whole request line; what follows is a header of the request, never of the answer.
    const answer = await rawHttp(gw.httpPort, 'GET /live/cam\r\nX-Injected: 1.flv HTTP/1.1\r\nHost: x\r\n\r\n');
    expect(answer).toMatch(/^HTTP\/1\.1 (400|404) /);
    expect(headerNames(answer)).not.toContain('x-injected');
  });

  it.each([
    ['an encoded CR LF', '/live/cam%0d%0aX-Injected:%201.flv'],
    ['encoded unicode', '/live/cam%C3%A9ra.flv'],
  ])('a WebSocket upgrade for a name with %s is answered 404 without upgrading', async (_what, path) => {
    const answer = await rawHttp(
      gw.httpPort,
      `GET ${path} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
    );
    expect(answer).toMatch(/^HTTP\/1\.1 404 /);
    expect(headerNames(answer)).not.toContain('x-injected');
    expect(headerNames(answer)).not.toContain('sec-websocket-accept');
  });
});

describe('CORS and the API token', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({ 'cors-origins': ['https://good.example'], 'api-token': 'tok-Qx7-secret' });
  });
  afterAll(() => gw.close());

  it('an allowed origin is echoed, a foreign one is not, and both answers vary on Origin', async () => {
    for (const path of ['/api/health', '/live/none.flv']) {
      const good = await fetch(gw.httpUrl(path), { headers: { Origin: 'https://good.example' } });
      expect(good.headers.get('access-control-allow-origin')).toBe('https://good.example');
      expect(good.headers.get('vary')).toMatch(/Origin/);
      const evil = await fetch(gw.httpUrl(path), { headers: { Origin: 'https://evil.example' } });
      expect(evil.headers.get('access-control-allow-origin')).toBeNull();
      expect(evil.headers.get('vary')).toMatch(/Origin/);
    }
  });

  it('a preflight from a foreign origin gets no allow-origin', async () => {
    const r = await fetch(gw.httpUrl('/live/x.flv'), { method: 'OPTIONS', headers: { Origin: 'https://evil.example' } });
    expect(r.status).toBe(204);
    expect(r.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('/api and /metrics need the bearer token: none or a wrong one is 401, the right one passes; health stays open', async () => {
    for (const path of ['/api/streams', '/metrics', '/api/streams/live/x', '/api/nothing']) {
      expect((await fetch(gw.httpUrl(path))).status, path).toBe(401);
      expect((await fetch(gw.httpUrl(path), { headers: { Authorization: 'Bearer tok-Qx7-secreT' } })).status, path).toBe(401);
      expect((await fetch(gw.httpUrl(path), { headers: { Authorization: 'Bearer tok-Qx7' } })).status, path).toBe(401);
      expect((await fetch(gw.httpUrl(path), { headers: { Authorization: 'Bearer tok-Qx7-secret' } })).status, path).not.toBe(401);
    }
    const kick = await fetch(gw.httpUrl('/api/streams/live/x'), { method: 'DELETE' });
    expect(kick.status).toBe(401);
    expect((await fetch(gw.httpUrl('/api/health'))).status).toBe(200);
  });

  it('with the default "*" any origin is allowed', async () => {
    const open = await startTestGateway();
    try {
      const r = await fetch(open.httpUrl('/api/health'), { headers: { Origin: 'https://any.example' } });
      expect(r.headers.get('access-control-allow-origin')).toBe('*');
    } finally {
      await open.close();
    }
  });
});

describe('secrets in logs', () => {
  it('neither the secret, the API token nor any signature appears in any log line, at trace level, for signed and failed publishes and plays', async () => {
    testSource();
    const SECRET = 'shh-9f8e7d6c5b4a-SECRET';
    const TOKEN = 'api-tok-1a2b3c4d5e6f';
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _e, cb) {
        lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
        cb();
      },
    });
    const gw = await startTestGateway({ 'auth-secret': SECRET, 'api-token': TOKEN }, pino({ level: 'trace' }, sink));
    const sigs: string[] = [];
    const signed = (action: 'publish' | 'play', stream: string, ttl = 600): string => {
      const q = signedQuery(SECRET, action, stream, ttl);
      sigs.push(new URLSearchParams(q).get('sig')!);
      return q;
    };
    try {
      // a signed publish that works, and viewers with good and bad signatures
      const good = publish(gw.rtmpUrl(`live/cam?${signed('publish', 'live/cam')}`));
      procs.push(good);
      await waitFor('signed publish live', () => gw.hub.get('live/cam')?.ready === true);
      const ws = wsViewer(gw.wsUrl(`/live/cam.flv?${signed('play', 'live/cam')}`));
      viewers.push(ws);
      await waitFor('signed WS viewer receiving', () => ws.flv.videoFrames().length > 2);
      const http = httpViewer(gw.httpUrl(`/live/cam.flv?${signed('play', 'live/cam')}`));
      viewers.push(http);
      await waitFor('signed HTTP viewer receiving', () => http.flv.videoFrames().length > 2);
      // a play signature used for another stream, an expired one, a publish link used to play
      const wrongStream = await fetch(gw.httpUrl(`/live/cam.flv?${signed('play', 'live/other')}`));
      expect(wrongStream.status).toBe(403);
      const expired = await fetch(gw.httpUrl(`/live/cam.flv?${signed('play', 'live/cam', -10)}`));
      expect(expired.status).toBe(403);
      const wsBad = wsViewer(gw.wsUrl(`/live/cam.flv?${signed('publish', 'live/cam')}`));
      expect((await wsBad.ended).code).toBe(4403);
      // failed publishes: a bad signature, and a key that is not even valid carrying a real signature
      const bad = publish(gw.rtmpUrl(`live/cam2?${signed('publish', 'live/other')}`));
      procs.push(bad);
      await bad.exited;
      const badKey = publish(gw.rtmpUrl(`live/cam..x?${signed('publish', 'live/cam..x')}`));
      procs.push(badKey);
      await badKey.exited;
      // the API with a wrong and the right token
      expect((await fetch(gw.httpUrl('/api/streams'), { headers: { Authorization: `Bearer ${TOKEN}x` } })).status).toBe(401);
      expect((await fetch(gw.httpUrl('/api/streams'), { headers: { Authorization: `Bearer ${TOKEN}` } })).status).toBe(200);
      await waitFor('refusals logged', () => lines.filter((l) => /refused/.test(l)).length >= 4);
    } finally {
      for (const v of viewers.splice(0)) v.close();
      await Promise.all(procs.splice(0).map((p) => p.stop()));
      await gw.close();
    }
    expect(lines.length).toBeGreaterThan(10);
    const leaks = lines.filter((l) => l.includes(SECRET) || l.includes(TOKEN) || sigs.some((s) => l.includes(s) || l.includes(s.slice(0, 16))));
    expect(leaks).toEqual([]);
  });
});

describe('timing-safe checks', () => {
  it('checkSignature compares with timingSafeEqual and never with string equality', () => {
    const src = checkSignature.toString();
    expect(src).toMatch(/timingSafeEqual\)?\(/);
    // `sig === null` (absent) is fine; comparing the signature's value with === is not
    expect(src).not.toMatch(/\b(sig|expected)\s*[!=]==?\s*(?!null\b)[\w'"`]/);
    expect(src).not.toMatch(/[!=]==?\s*(sig|expected)\b/);
  });

  it('checkSignature accepts exactly the signature of its action, stream and expiry', () => {
    const exp = Math.floor(Date.now() / 1000) + 60;
    const sig = signStream('k', 'play', 'live/a', exp);
    const q = (s: string) => new URLSearchParams({ exp: String(exp), sig: s });
    expect(checkSignature('k', 'play', 'live/a', q(sig))).toBeNull();
    expect(checkSignature('k', 'play', 'live/a', q(sig.toUpperCase()))).toBeNull();
    expect(checkSignature('k', 'publish', 'live/a', q(sig))).toBe('bad signature');
    expect(checkSignature('k', 'play', 'live/a', q(`${sig.slice(0, 63)}${sig[63] === '0' ? '1' : '0'}`))).toBe('bad signature');
    expect(checkSignature('k', 'play', 'live/a', q(sig.slice(0, 62)))).toBe('malformed sig');
  });
});
