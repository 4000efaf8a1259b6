import { afterEach, describe, expect, it } from 'vitest';
import type { Config } from '../server/config.js';
import type { Hub } from '../server/hub/hub.js';
import type { LiveStream, PublisherInfo } from '../server/hub/live-stream.js';
import { signedQuery } from '../server/auth/signature.js';
import { GatewayMetrics } from '../server/metrics.js';
import { AAC_SEQ_44100, AVC_SEQ_320X240, FakeSink, aacFrame, avcInter, avcKey, makeHub } from './hub/fixtures.js';
import { startTestGateway, type TestGateway } from './support/gateway.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function gateway(config: Partial<Config> = {}): Promise<TestGateway> {
  const gw = await startTestGateway(config);
  cleanups.push(() => gw.close());
  return gw;
}

/** Publishes app/key into the hub with a publisher that detaches when kicked, like the RTMP session. */
function publish(hub: Hub, app = 'live', key = 'x'): LiveStream {
  const publisher: PublisherInfo = { id: 't', address: '10.0.0.9', protocol: 'rtmp', kick: () => stream.detach(publisher) };
  const r = hub.publish(app, key, publisher);
  if (!r.ok) throw new Error(`publish refused: ${r.detail}`);
  const stream = r.stream;
  return stream;
}

/** Pushes an A/V start and returns the body bytes pushed. */
function pushAv(stream: LiveStream, t0 = 0): number {
  const tags: Array<[8 | 9, number, Buffer]> = [
    [9, t0, AVC_SEQ_320X240],
    [8, t0, AAC_SEQ_44100],
    [9, t0, avcKey(1)],
    [8, t0 + 10, aacFrame(1)],
    [9, t0 + 40, avcInter(2)],
  ];
  for (const [type, ts, body] of tags) stream.push(type, ts, body);
  return tags.reduce((n, [, , body]) => n + body.length, 0);
}

/** The value of one sample in Prometheus text, e.g. sample(text, 'gateway_viewers', { protocol: 'http' }). */
function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (m === null || m[1] !== name) continue;
    const have = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1], l[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) return Number(m[3]);
  }
  throw new Error(`no sample ${name} ${JSON.stringify(labels)} in:\n${text}`);
}

async function scrape(gw: TestGateway, headers: Record<string, string> = {}): Promise<string> {
  const res = await fetch(gw.httpUrl('/metrics'), { headers });
  expect(res.status).toBe(200);
  return res.text();
}

describe('GET /metrics', () => {
  it('answers Prometheus text with every gateway metric', async () => {
    const gw = await gateway();
    const res = await fetch(gw.httpUrl('/metrics'));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    for (const [name, type] of [
      ['gateway_connections', 'gauge'],
      ['gateway_streams_live', 'gauge'],
      ['gateway_viewers', 'gauge'],
      ['gateway_bytes_in_total', 'counter'],
      ['gateway_bytes_out_total', 'counter'],
      ['gateway_slow_viewer_dropped_tags_total', 'counter'],
      ['gateway_slow_viewer_disconnects_total', 'counter'],
      ['gateway_auth_refusals_total', 'counter'],
      ['gateway_event_loop_lag_seconds', 'gauge'],
    ]) {
      expect(text, name).toContain(`# TYPE ${name} ${type}\n`);
    }
    expect(sample(text, 'gateway_streams_live')).toBe(0);
    expect(sample(text, 'gateway_bytes_in_total')).toBe(0);
    expect(sample(text, 'gateway_connections', { protocol: 'rtmp' })).toBe(0);
    expect(sample(text, 'gateway_viewers', { protocol: 'ws' })).toBe(0);
    expect(sample(text, 'gateway_event_loop_lag_seconds')).toBeGreaterThanOrEqual(0);
    // Node process metrics under the gateway prefix.
    expect(text).toContain('gateway_process_');
  });

  it('counts one live stream and its HTTP-FLV viewer', async () => {
    const gw = await gateway();
    pushAv(publish(gw.hub));
    const ctrl = new AbortController();
    cleanups.push(() => ctrl.abort());
    const viewer = await fetch(gw.httpUrl('/live/x.flv'), { signal: ctrl.signal });
    expect(viewer.status).toBe(200);
    const text = await scrape(gw);
    expect(sample(text, 'gateway_streams_live')).toBe(1);
    expect(sample(text, 'gateway_viewers', { protocol: 'http' })).toBe(1);
    expect(sample(text, 'gateway_connections', { protocol: 'http' })).toBe(1);
  });

  it('bytes_in_total grows as tags are pushed and does not go backwards once the stream ends', async () => {
    const gw = await gateway();
    const stream = publish(gw.hub);
    const first = pushAv(stream);
    const t1 = sample(await scrape(gw), 'gateway_bytes_in_total');
    expect(t1).toBe(first);

    stream.push(9, 80, avcKey(3));
    const t2 = sample(await scrape(gw), 'gateway_bytes_in_total');
    expect(t2).toBe(first + avcKey(3).length);

    stream.detach(stream.publisher!);
    expect(gw.hub.get('live/x')).toBeUndefined();
    const afterEnd = await scrape(gw);
    expect(sample(afterEnd, 'gateway_streams_live')).toBe(0);
    expect(sample(afterEnd, 'gateway_bytes_in_total')).toBe(t2);

    // A new stream adds to the total rather than starting it over.
    const second = pushAv(publish(gw.hub, 'live', 'y'));
    expect(sample(await scrape(gw), 'gateway_bytes_in_total')).toBe(t2 + second);
  });

  it('bytes_out_total counts what a viewer was sent and keeps it after the stream ends', async () => {
    const gw = await gateway();
    const stream = publish(gw.hub);
    pushAv(stream);
    const viewer = await fetch(gw.httpUrl('/live/x.flv'));
    const reader = viewer.body!.getReader();
    await reader.read(); // the join sequence has been written
    const live = sample(await scrape(gw), 'gateway_bytes_out_total');
    expect(live).toBeGreaterThan(0);
    stream.push(9, 80, avcInter(3));
    // Ending the stream ends the viewer's response; read it to the end.
    stream.detach(stream.publisher!);
    let received = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      received += value.length;
    }
    expect(received).toBeGreaterThan(0);
    const ended = sample(await scrape(gw), 'gateway_bytes_out_total');
    expect(ended).toBeGreaterThanOrEqual(live);
    expect(ended).toBe(live + avcInter(3).length + 11 + 4); // one more FLV tag: 11-byte header, body, 4-byte size
  });

  it('counts auth refusals by action and protocol', async () => {
    const gw = await gateway({ 'auth-secret': 's3cret' });
    pushAv(publish(gw.hub));
    expect((await fetch(gw.httpUrl('/live/x.flv'))).status).toBe(403);
    expect((await fetch(gw.httpUrl('/live/x.flv?exp=1&sig=00'))).status).toBe(403);
    const text = await scrape(gw);
    expect(sample(text, 'gateway_auth_refusals_total', { action: 'play', protocol: 'http' })).toBe(2);

    // A correctly signed play is not counted.
    const ctrl = new AbortController();
    cleanups.push(() => ctrl.abort());
    const ok = await fetch(gw.httpUrl(`/live/x.flv?${signedQuery('s3cret', 'play', 'live/x', 60)}`), { signal: ctrl.signal });
    expect(ok.status).toBe(200);
    expect(sample(await scrape(gw), 'gateway_auth_refusals_total', { action: 'play', protocol: 'http' })).toBe(2);
  });

  it('is guarded by the API token', async () => {
    const gw = await gateway({ 'api-token': 'tok' });
    expect((await fetch(gw.httpUrl('/metrics'))).status).toBe(401);
    expect(await scrape(gw, { Authorization: 'Bearer tok' })).toContain('gateway_streams_live');
  });
});

describe('GatewayMetrics', () => {
  function metricsFor(hub: Hub): GatewayMetrics {
    const m = new GatewayMetrics({ hub, rtmpConnections: () => 3, httpViewers: () => 0, wsViewers: () => 2 });
    hub.events.on('stream-ended', (s) => m.streamEnded(s));
    cleanups.push(() => {
      m.close();
      hub.close();
    });
    return m;
  }

  it('reads the connection gauges from its sources at scrape time', async () => {
    const text = await metricsFor(makeHub()).registry.metrics();
    expect(sample(text, 'gateway_connections', { protocol: 'rtmp' })).toBe(3);
    expect(sample(text, 'gateway_connections', { protocol: 'ws' })).toBe(2);
  });

  it('counts viewers under every protocol label, tunnelled RTMP players under rtmpt and plain ones under rtmp', async () => {
    const hub = makeHub();
    const m = metricsFor(hub);
    pushAv(publish(hub));
    const viewers = (text: string): number[] =>
      ['http', 'ws', 'rtmp', 'rtmpt', 'hls'].map((protocol) => sample(text, 'gateway_viewers', { protocol }));
    expect(viewers(await m.registry.metrics())).toEqual([0, 0, 0, 0, 0]);
    for (const p of ['rtmpt', 'rtmpt', 'rtmp'] as const) expect(hub.subscribe('live/x', new FakeSink(p)).ok).toBe(true);
    expect(viewers(await m.registry.metrics())).toEqual([0, 0, 1, 2, 0]);
  });

  it('counts slow-viewer drops and disconnects, and keeps them after the stream ends', async () => {
    // makeHub's limits: skip above 1000 unsent bytes, disconnect above 5000.
    const hub = makeHub();
    const m = metricsFor(hub);
    const stream = publish(hub);
    pushAv(stream);
    const sink = new FakeSink('ws');
    expect(hub.subscribe('live/x', sink).ok).toBe(true);

    sink.bufferedBytes = 1500;
    stream.push(9, 80, avcInter(3)); // dropped
    stream.push(9, 120, avcInter(4)); // dropped
    let text = await m.registry.metrics();
    expect(sample(text, 'gateway_slow_viewer_dropped_tags_total')).toBe(2);
    expect(sample(text, 'gateway_slow_viewer_disconnects_total')).toBe(0);
    expect(sample(text, 'gateway_viewers', { protocol: 'ws' })).toBe(1);

    sink.bufferedBytes = 6000;
    stream.push(9, 160, avcInter(5)); // over the hard limit: disconnected
    expect(sink.ends.map((e) => e.reason)).toEqual(['slow']);
    text = await m.registry.metrics();
    expect(sample(text, 'gateway_slow_viewer_dropped_tags_total')).toBe(2);
    expect(sample(text, 'gateway_slow_viewer_disconnects_total')).toBe(1);
    expect(sample(text, 'gateway_viewers', { protocol: 'ws' })).toBe(0);

    const bytesIn = sample(text, 'gateway_bytes_in_total');
    const bytesOut = sample(text, 'gateway_bytes_out_total');
    expect(bytesOut).toBeGreaterThan(0);
    stream.detach(stream.publisher!);
    text = await m.registry.metrics();
    expect(sample(text, 'gateway_streams_live')).toBe(0);
    expect(sample(text, 'gateway_slow_viewer_dropped_tags_total')).toBe(2);
    expect(sample(text, 'gateway_slow_viewer_disconnects_total')).toBe(1);
    expect(sample(text, 'gateway_bytes_in_total')).toBe(bytesIn);
    expect(sample(text, 'gateway_bytes_out_total')).toBe(bytesOut);
  });

  it('keeps counting across a takeover and a shutdown without going backwards', async () => {
    const hub = makeHub({ duplicatePublish: 'takeover' });
    const m = metricsFor(hub);
    const a = pushAv(publish(hub));
    const b = pushAv(publish(hub), 1000); // same key, new publisher: same stream continues
    expect(sample(await m.registry.metrics(), 'gateway_bytes_in_total')).toBe(a + b);
    hub.close();
    const text = await m.registry.metrics();
    expect(sample(text, 'gateway_streams_live')).toBe(0);
    expect(sample(text, 'gateway_bytes_in_total')).toBe(a + b);
  });

  it('counts auth refusals through its labelled counter', async () => {
    const m = metricsFor(makeHub());
    m.authRefusals.inc({ action: 'publish', protocol: 'rtmp' });
    expect(sample(await m.registry.metrics(), 'gateway_auth_refusals_total', { action: 'publish', protocol: 'rtmp' })).toBe(1);
  });
});
