// Issue: faults. A publisher whose network vanishes without a FIN, a publisher
// that flaps, and a second publisher of a live key, with real ffmpeg encoders.
import { afterEach, describe, expect, it } from 'vitest';
import type { Config } from '../../server/config.js';
import { publish, testSource, type Proc } from '../support/ffmpeg.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.js';
import { httpViewer, wsViewer, type TestViewer } from '../support/viewers.js';
import { waitFor } from '../support/wait.js';

const procs: Proc[] = [];
const viewers: TestViewer[] = [];
const proxies: TcpProxy[] = [];
const gateways: TestGateway[] = [];
afterEach(async () => {
  for (const v of viewers.splice(0)) v.close();
  await Promise.all(procs.splice(0).map((p) => p.stop()));
  await Promise.all(proxies.splice(0).map((p) => p.close()));
  await Promise.all(gateways.splice(0).map((g) => g.close()));
});

async function gateway(config: Partial<Config>): Promise<TestGateway> {
  testSource();
  const gw = await startTestGateway(config);
  gateways.push(gw);
  return gw;
}

function publisher(url: string): Proc {
  const p = publish(url);
  procs.push(p);
  return p;
}

function viewer(v: TestViewer): TestViewer {
  viewers.push(v);
  return v;
}

async function refusals(gw: TestGateway, reason: string): Promise<number> {
  const text = await (await fetch(gw.httpUrl('/metrics'))).text();
  const line = text.split('\n').find((l) => l.startsWith(`gateway_limit_refusals_total{reason="${reason}"}`));
  return line === undefined ? 0 : Number(line.split(' ').at(-1));
}

/** Timers and handles of this process, by kind (Timeout, TCPSocketWrap, …). */
function resources(): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of process.getActiveResourcesInfo()) out[r] = (out[r] ?? 0) + 1;
  return out;
}

describe('a publisher whose network vanishes', () => {
  it('is detected by publisher-timeout-ms: its key is freed, viewers get a clean end, and the key can be published again', async () => {
    const gw = await gateway({ 'publisher-timeout-ms': 2_000 });
    const proxy = await startTcpProxy(gw.rtmpPort);
    proxies.push(proxy);
    publisher(`rtmp://127.0.0.1:${proxy.port}/live/cable`);
    await waitFor('publish through the proxy', () => gw.hub.get('live/cable')?.ready === true);
    const ws = viewer(wsViewer(gw.wsUrl('/live/cable.flv')));
    const http = viewer(httpViewer(gw.httpUrl('/live/cable.flv')));
    await waitFor('viewers receiving', () => ws.flv.videoFrames().length > 5 && http.flv.videoFrames().length > 5);

    proxy.blackhole(); // pull the cable: no FIN, no RST, no bytes either way
    const end = await ws.ended;
    expect(end.code).toBe(1000);
    expect((await http.ended).code).toBe('end');
    expect(gw.hub.get('live/cable')).toBeUndefined();
    expect(await refusals(gw, 'publisher-timeout')).toBe(1);
    expect(ws.flv.problems()).toEqual([]);

    // the key is free: a new encoder (on a working path) publishes it and is watched
    publisher(gw.rtmpUrl('live/cable'));
    await waitFor('republished', () => gw.hub.get('live/cable')?.ready === true);
    const again = viewer(wsViewer(gw.wsUrl('/live/cable.flv')));
    await waitFor('viewer of the new publish', () => again.flv.videoFrames().length > 5);
    expect(again.flv.problems()).toEqual([]);
    // the dead connection's session is gone too (its socket was destroyed after the goodbye could not flush)
    await waitFor('dead session released', () => gw.rtmp.sessions.size === 1);
  });
});

describe('a flapping publisher', () => {
  const FLAPS = 5;

  it('with a grace period, viewers stay on one timeline across 5 flaps, and nothing is left over', async () => {
    const gw = await gateway({ 'grace-ms': 8_000 });
    let p = publisher(gw.rtmpUrl('live/flap'));
    await waitFor('first publish', () => gw.hub.get('live/flap')?.ready === true);
    const ws = viewer(wsViewer(gw.wsUrl('/live/flap.flv')));
    const http = viewer(httpViewer(gw.httpUrl('/live/flap.flv')));
    await waitFor('viewers receiving', () => ws.flv.videoFrames().length > 5 && http.flv.videoFrames().length > 5);
    const baseline = resources();

    for (let i = 0; i < FLAPS; i++) {
      await p.stop();
      await waitFor(`flap ${i}: stream idle`, () => gw.hub.get('live/flap')?.state === 'idle');
      const before = { ws: ws.flv.videoFrames().length, http: http.flv.videoFrames().length };
      p = publisher(gw.rtmpUrl('live/flap'));
      await waitFor(`flap ${i}: frames after the return`, () =>
        ws.flv.videoFrames().length > before.ws + 5 && http.flv.videoFrames().length > before.http + 5);
      expect(gw.hub.get('live/flap')!.state).toBe('live');
    }

    // one stream, exactly our two viewers, one publisher session; timestamps never went back
    expect([...gw.hub.streams.keys()]).toEqual(['live/flap']);
    const stream = gw.hub.get('live/flap')!;
    expect(stream.subscribers.size).toBe(2);
    expect(stream.waiting.size).toBe(0);
    await waitFor('old publisher sessions released', () => gw.rtmp.sessions.size === 1);
    expect(ws.flv.problems()).toEqual([]);
    expect(http.flv.problems()).toEqual([]);
    expect(ws.flv.header).toEqual({ hasAudio: true, hasVideo: true });
    // no timer or socket left behind by the flaps (closing sockets keep a short destroy timer: wait for it)
    await waitFor('timers and sockets back to the baseline', () => {
      const now = resources();
      return (now['Timeout'] ?? 0) <= (baseline['Timeout'] ?? 0) && (now['TCPSocketWrap'] ?? 0) <= (baseline['TCPSocketWrap'] ?? 0);
    });
    // and once viewers leave, no subscriber is left
    for (const v of viewers.splice(0)) v.close();
    await waitFor('viewers gone', () => stream.subscribers.size === 0);
  });

  it('without a grace period, each flap ends viewers cleanly and the key is free again at once', async () => {
    const gw = await gateway({});
    for (let i = 0; i < FLAPS; i++) {
      const p = publisher(gw.rtmpUrl('live/flip'));
      await waitFor(`flap ${i}: published`, () => gw.hub.get('live/flip')?.ready === true);
      const ws = viewer(wsViewer(gw.wsUrl('/live/flip.flv')));
      const http = viewer(httpViewer(gw.httpUrl('/live/flip.flv')));
      await waitFor(`flap ${i}: viewers receiving`, () => ws.flv.videoFrames().length > 2 && http.flv.videoFrames().length > 2);
      expect(gw.hub.viewersByProtocol(gw.hub.get('live/flip')!)).toMatchObject({ ws: 1, http: 1, total: 2 });
      await p.stop();
      expect((await ws.ended).code).toBe(1000);
      expect((await http.ended).code).toBe('end');
      expect(ws.flv.problems()).toEqual([]);
      expect(gw.hub.streams.size).toBe(0);
    }
    await waitFor('no sessions left', () => gw.rtmp.sessions.size === 0);
    const api = (await (await fetch(gw.httpUrl('/api/streams'))).json()) as { streams: unknown[] };
    expect(api.streams).toEqual([]);
  });
});

describe('a second publisher of a live key', () => {
  it('takes over with duplicate-publish "takeover": the first encoder is disconnected and the viewer keeps receiving', async () => {
    const gw = await gateway({ 'duplicate-publish': 'takeover' });
    const first = publisher(gw.rtmpUrl('live/take'));
    await waitFor('first publisher live', () => gw.hub.get('live/take')?.ready === true);
    const firstId = gw.hub.get('live/take')!.publisher!.id;
    const ws = viewer(wsViewer(gw.wsUrl('/live/take.flv')));
    await waitFor('viewer receiving', () => ws.flv.videoFrames().length > 5);

    publisher(gw.rtmpUrl('live/take'));
    await first.exited; // the gateway closed the first encoder's connection
    const stream = gw.hub.get('live/take')!;
    expect(stream.publisher).not.toBeNull();
    expect(stream.publisher!.id).not.toBe(firstId);
    const count = ws.flv.videoFrames().length;
    await waitFor('frames from the new publisher', () => ws.flv.videoFrames().length > count + 15);
    expect(stream.subscribers.size).toBe(1);
    expect(ws.flv.problems()).toEqual([]);
    await waitFor('first session released', () => gw.rtmp.sessions.size === 1);
  });

  it('is refused by default, and the first encoder and its viewer carry on', async () => {
    const gw = await gateway({});
    publisher(gw.rtmpUrl('live/mine'));
    await waitFor('first publisher live', () => gw.hub.get('live/mine')?.ready === true);
    const firstId = gw.hub.get('live/mine')!.publisher!.id;
    const ws = viewer(wsViewer(gw.wsUrl('/live/mine.flv')));
    await waitFor('viewer receiving', () => ws.flv.videoFrames().length > 5);
    const second = publisher(gw.rtmpUrl('live/mine'));
    expect(await second.exited).not.toBe(0);
    expect(gw.hub.get('live/mine')!.publisher!.id).toBe(firstId);
    const count = ws.flv.videoFrames().length;
    await waitFor('frames keep coming', () => ws.flv.videoFrames().length > count + 10);
    expect(ws.flv.problems()).toEqual([]);
  });
});
