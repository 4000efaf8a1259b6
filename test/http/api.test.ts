import { afterEach, describe, expect, it } from 'vitest';
import type { Config } from '../../server/config.js';
import type { LiveStream, PublisherInfo } from '../../server/hub/live-stream.js';
import { AAC_SEQ_44100, AVC_SEQ_320X240, aacFrame, avcInter, avcKey } from '../hub/fixtures.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';

let gateways: TestGateway[] = [];
const aborts: AbortController[] = [];

afterEach(async () => {
  for (const a of aborts.splice(0)) a.abort();
  await Promise.all(gateways.map((g) => g.close()));
  gateways = [];
});

async function gateway(config: Partial<Config> = {}): Promise<TestGateway> {
  const gw = await startTestGateway(config);
  gateways.push(gw);
  return gw;
}

interface Published {
  stream: LiveStream;
  kicks: string[];
}

/** Publishes app/key straight into the hub with a publisher that, like the RTMP session, detaches when kicked. */
function publish(gw: TestGateway, app = 'live', key = 'x', withMedia = true): Published {
  const kicks: string[] = [];
  const publisher: PublisherInfo = {
    id: 't',
    address: '10.0.0.9',
    protocol: 'rtmp',
    kick: (reason) => {
      kicks.push(reason);
      stream.detach(publisher);
    },
  };
  const r = gw.hub.publish(app, key, publisher);
  if (!r.ok) throw new Error(`publish refused: ${r.detail}`);
  const stream = r.stream;
  if (withMedia) {
    stream.push(9, 0, AVC_SEQ_320X240);
    stream.push(8, 0, AAC_SEQ_44100);
    stream.push(9, 0, avcKey(1));
    stream.push(8, 10, aacFrame(1));
    stream.push(9, 40, avcInter(2));
  }
  return { stream, kicks };
}

function get(gw: TestGateway, path: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(gw.httpUrl(path), { headers });
}

/** An HTTP-FLV viewer whose response headers have arrived; aborted after the test. */
async function httpViewer(gw: TestGateway, path: string): Promise<Response> {
  const ctrl = new AbortController();
  aborts.push(ctrl);
  const res = await fetch(gw.httpUrl(path), { signal: ctrl.signal });
  expect(res.status).toBe(200);
  return res;
}

describe('/api/health', () => {
  it('answers ok with the number of streams', async () => {
    const gw = await gateway();
    const res = await get(gw, '/api/health');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/application\/json/);
    expect(await res.json()).toEqual({ status: 'ok', streams: 0 });
    publish(gw);
    expect(await (await get(gw, '/api/health')).json()).toEqual({ status: 'ok', streams: 1 });
  });
});

describe('/api/streams', () => {
  it('answers an empty list and the RTMP port when nothing is live', async () => {
    const gw = await gateway();
    const res = await get(gw, '/api/streams');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ streams: [], rtmpPort: gw.rtmpPort });
  });

  it('lists a live stream with its tracks, viewers, rates, uptime and publisher', async () => {
    const gw = await gateway();
    publish(gw);
    const body = (await (await get(gw, '/api/streams')).json()) as { streams: Array<Record<string, unknown>>; rtmpPort: number };
    expect(body.rtmpPort).toBe(gw.rtmpPort);
    expect(body.streams).toHaveLength(1);
    const s = body.streams[0]!;
    expect(s).toMatchObject({
      name: 'live/x',
      app: 'live',
      key: 'x',
      state: 'live',
      video: { codec: 'H.264', width: 320, height: 240 },
      audio: { codec: 'AAC', sampleRate: 44100, channels: 2 },
      viewers: { http: 0, ws: 0, rtmp: 0, rtmpt: 0, hls: 0, total: 0 },
      publisher: { address: '10.0.0.9', protocol: 'rtmp' },
    });
    expect(typeof s['bitrateIn']).toBe('number');
    expect(typeof s['bitrateOut']).toBe('number');
    expect(s['uptime']).toEqual(expect.any(Number));
    expect(s['uptime'] as number).toBeGreaterThanOrEqual(0);
    expect((s['video'] as Record<string, unknown>)['profile']).toEqual(expect.any(String));
    expect((s['video'] as Record<string, unknown>)['fps']).toEqual(expect.any(Number));
  });

  it('counts an HTTP-FLV viewer under viewers.http and viewers.total', async () => {
    const gw = await gateway();
    publish(gw);
    await httpViewer(gw, '/live/x.flv');
    const body = (await (await get(gw, '/api/streams')).json()) as { streams: Array<{ viewers: unknown }> };
    expect(body.streams[0]!.viewers).toEqual({ http: 1, ws: 0, rtmp: 0, rtmpt: 0, hls: 0, total: 1 });
  });

  it('lists every live stream', async () => {
    const gw = await gateway();
    publish(gw, 'live', 'a');
    publish(gw, 'other', 'b', false);
    const body = (await (await get(gw, '/api/streams')).json()) as { streams: Array<{ name: string; video: unknown }> };
    expect(body.streams.map((s) => s.name).sort()).toEqual(['live/a', 'other/b']);
    expect(body.streams.find((s) => s.name === 'other/b')!.video).toBeNull();
  });
});

describe('/api/streams/:app/:key', () => {
  it('GET answers one stream in the same shape as the list', async () => {
    const gw = await gateway();
    publish(gw);
    const res = await get(gw, '/api/streams/live/x');
    expect(res.status).toBe(200);
    const one = (await res.json()) as Record<string, unknown>;
    expect(one).toMatchObject({ name: 'live/x', app: 'live', key: 'x', publisher: { address: '10.0.0.9' } });
    const list = (await (await get(gw, '/api/streams')).json()) as { streams: Array<Record<string, unknown>> };
    // Everything the list says of the stream, the single answer says too (it may add details).
    for (const key of Object.keys(list.streams[0]!)) expect(one, key).toHaveProperty(key);
    expect(one['viewers']).toEqual(list.streams[0]!['viewers']);
    expect(one['video']).toEqual(list.streams[0]!['video']);
  });

  it('GET answers 404 JSON for a stream that is not live', async () => {
    const gw = await gateway();
    const res = await get(gw, '/api/streams/live/nope');
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toMatch(/application\/json/);
    expect(await res.json()).toMatchObject({ error: 'not-found', message: expect.stringContaining('live/nope') });
  });

  it('DELETE kicks the publisher, answers 204, and the stream is gone', async () => {
    const gw = await gateway();
    const { kicks } = publish(gw);
    const res = await fetch(gw.httpUrl('/api/streams/live/x'), { method: 'DELETE' });
    expect(res.status).toBe(204);
    expect(await res.text()).toBe('');
    expect(kicks).toHaveLength(1);
    expect(kicks[0]).toMatch(/API/);
    expect(gw.hub.get('live/x')).toBeUndefined();
    expect((await get(gw, '/api/streams/live/x')).status).toBe(404);
  });

  it('DELETE ends a stream waiting for its publisher (grace period) and its viewers', async () => {
    const gw = await gateway({ 'grace-ms': 60_000 });
    const { stream } = publish(gw);
    const viewer = await httpViewer(gw, '/live/x.flv');
    stream.detach(stream.publisher!);
    expect(stream.state).toBe('idle');
    const res = await fetch(gw.httpUrl('/api/streams/live/x'), { method: 'DELETE' });
    expect(res.status).toBe(204);
    expect(gw.hub.get('live/x')).toBeUndefined();
    // The viewer's endless response now ends.
    const bytes = await viewer.arrayBuffer();
    expect(Buffer.from(bytes).subarray(0, 3).toString('latin1')).toBe('FLV');
  });

  it('DELETE answers 404 JSON for a stream that is not live', async () => {
    const gw = await gateway();
    const res = await fetch(gw.httpUrl('/api/streams/live/nope'), { method: 'DELETE' });
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ error: 'not-found' });
  });
});

describe('unknown API routes', () => {
  it.each([
    ['GET', '/api/nope'],
    ['GET', '/api/streams/live'],
    ['GET', '/api/streams/live/x/extra'],
    ['POST', '/api/streams'],
  ])('%s %s answers 404 JSON', async (method, path) => {
    const gw = await gateway();
    const res = await fetch(gw.httpUrl(path), { method });
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toMatch(/application\/json/);
    expect(await res.json()).toMatchObject({ error: 'not-found', message: expect.stringContaining(path) });
  });
});

describe('bearer token', () => {
  it('refuses /api/streams without a token or with a wrong one, and allows Bearer tok', async () => {
    const gw = await gateway({ 'api-token': 'tok' });
    publish(gw);
    const none = await get(gw, '/api/streams');
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('Bearer');
    expect(await none.json()).toMatchObject({ error: 'unauthorized' });
    expect((await get(gw, '/api/streams', { Authorization: 'Bearer wrong' })).status).toBe(401);
    expect((await get(gw, '/api/streams', { Authorization: 'Bearer tokk' })).status).toBe(401);
    expect((await get(gw, '/api/streams', { Authorization: 'Bearer to' })).status).toBe(401);
    expect((await get(gw, '/api/streams', { Authorization: 'Basic dG9r' })).status).toBe(401);
    expect((await get(gw, '/api/streams', { Authorization: 'tok' })).status).toBe(401);
    const ok = await get(gw, '/api/streams', { Authorization: 'Bearer tok' });
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as { streams: unknown[] }).streams).toHaveLength(1);
  });

  it('guards GET and DELETE of one stream, /metrics and unknown API routes too', async () => {
    const gw = await gateway({ 'api-token': 'tok' });
    const { kicks } = publish(gw);
    expect((await get(gw, '/api/streams/live/x')).status).toBe(401);
    expect((await fetch(gw.httpUrl('/api/streams/live/x'), { method: 'DELETE' })).status).toBe(401);
    expect(kicks).toHaveLength(0);
    expect(gw.hub.get('live/x')).toBeDefined();
    expect((await get(gw, '/metrics')).status).toBe(401);
    expect((await get(gw, '/api/nope')).status).toBe(401);

    const auth = { Authorization: 'Bearer tok' };
    expect((await get(gw, '/api/streams/live/x', auth)).status).toBe(200);
    expect((await get(gw, '/metrics', auth)).status).toBe(200);
    expect((await get(gw, '/api/nope', auth)).status).toBe(404);
    expect((await fetch(gw.httpUrl('/api/streams/live/x'), { method: 'DELETE', headers: auth })).status).toBe(204);
    expect(kicks).toHaveLength(1);
  });

  it('leaves /api/health open', async () => {
    const gw = await gateway({ 'api-token': 'tok' });
    const res = await get(gw, '/api/health');
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: 'ok' });
  });

  it('leaves everything open when no token is configured', async () => {
    const gw = await gateway();
    expect((await get(gw, '/api/streams')).status).toBe(200);
    expect((await get(gw, '/metrics')).status).toBe(200);
  });
});

describe('CORS', () => {
  it('allows any origin by default, with the methods and headers the player and API need', async () => {
    const gw = await gateway();
    const res = await get(gw, '/api/streams', { Origin: 'https://anywhere.example' });
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect(res.headers.get('access-control-allow-methods')).toMatch(/DELETE/);
    expect(res.headers.get('access-control-allow-headers')).toMatch(/Authorization/);
  });

  it('answers a preflight with 204, even when a token is required', async () => {
    const gw = await gateway({ 'api-token': 'tok' });
    const res = await fetch(gw.httpUrl('/api/streams/live/x'), {
      method: 'OPTIONS',
      headers: { Origin: 'https://a.example', 'Access-Control-Request-Method': 'DELETE' },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect(res.headers.get('access-control-max-age')).toBe('600');
  });

  it('with a configured origin list, echoes only an allowed Origin', async () => {
    const gw = await gateway({ 'cors-origins': ['https://a.example'] });
    const allowed = await get(gw, '/api/streams', { Origin: 'https://a.example' });
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://a.example');
    expect(allowed.headers.get('vary')).toMatch(/Origin/);

    const other = await get(gw, '/api/streams', { Origin: 'https://b.example' });
    expect(other.status).toBe(200);
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
    // The answer depends on Origin, so caches must key on it even when the origin was not allowed.
    expect(other.headers.get('vary')).toMatch(/Origin/);

    const none = await get(gw, '/api/streams');
    expect(none.headers.get('access-control-allow-origin')).toBeNull();
    expect(none.headers.get('vary')).toMatch(/Origin/);
  });

  it('applies CORS to HTTP-FLV responses too', async () => {
    const gw = await gateway({ 'cors-origins': ['https://a.example'] });
    publish(gw);
    const ctrl = new AbortController();
    aborts.push(ctrl);
    const res = await fetch(gw.httpUrl('/live/x.flv'), { headers: { Origin: 'https://a.example' }, signal: ctrl.signal });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('video/x-flv');
    expect(res.headers.get('access-control-allow-origin')).toBe('https://a.example');
  });
});
