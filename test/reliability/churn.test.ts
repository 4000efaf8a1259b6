// Issue: faults — viewer churn. Two thousand WS-FLV and HTTP-FLV viewers join
// and leave one live stream in waves, some before their first byte. Once they
// are gone, the API counts zero viewers and the process holds no more file
// descriptors, sockets or timers than before the first wave.
import { readdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publish, testSource, type Proc } from '../support/ffmpeg.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { httpViewer, wsViewer, type TestViewer } from '../support/viewers.js';
import { waitFor } from '../support/wait.js';

const fds = (): number => readdirSync('/proc/self/fd').length;

function resources(): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of process.getActiveResourcesInfo()) out[r] = (out[r] ?? 0) + 1;
  return out;
}

interface StreamsApi {
  streams: { name: string; viewers: { http: number; ws: number; rtmp: number; total: number } }[];
}

async function apiViewers(gw: TestGateway): Promise<number> {
  const api = (await (await fetch(gw.httpUrl('/api/streams'))).json()) as StreamsApi;
  return api.streams.reduce((n, s) => n + s.viewers.total, 0);
}

async function metricViewers(gw: TestGateway): Promise<number> {
  const text = await (await fetch(gw.httpUrl('/metrics'))).text();
  return text
    .split('\n')
    .filter((l) => l.startsWith('gateway_viewers{'))
    .reduce((n, l) => n + Number(l.split(' ').at(-1)), 0);
}

describe('viewer churn', () => {
  let gw: TestGateway;
  let pub: Proc;
  beforeAll(async () => {
    testSource();
    gw = await startTestGateway();
    pub = publish(gw.rtmpUrl('live/churn'));
    await waitFor('stream ready', () => gw.hub.get('live/churn')?.ready === true);
  });
  afterAll(async () => {
    await pub.stop();
    await gw.close();
  });

  /** One wave: `n` viewers, half WS half HTTP; every fourth leaves at once, the rest after their first frame. */
  async function wave(n: number): Promise<void> {
    const stream = gw.hub.get('live/churn')!;
    const vs: TestViewer[] = [];
    const early: TestViewer[] = [];
    for (let i = 0; i < n; i++) {
      const v = i % 2 === 0 ? wsViewer(gw.wsUrl('/live/churn.flv')) : httpViewer(gw.httpUrl('/live/churn.flv'));
      if ('status' in v) (v.status as Promise<unknown>).catch(() => {});
      if (i % 4 === 3) early.push(v);
      else vs.push(v);
    }
    // some leave at once, possibly before the gateway has even seen them
    for (const v of early) v.close();
    await waitFor('wave receiving video', () => vs.every((v) => v.flv.videoFrames().length > 0), 60_000);
    for (const v of vs) v.close();
    await waitFor('wave gone from the hub', () => stream.subscribers.size + stream.waiting.size === 0, 30_000);
    for (const v of vs) expect(v.flv.problems()).toEqual([]);
  }

  it('2000 viewers joining and leaving in waves leave no viewer, descriptor, socket or timer behind', async () => {
    // warm-up: lazily created things (agents, the WS server, JIT) exist before the baseline
    await wave(40);
    await waitFor('warm-up sockets closed', async () => (await apiViewers(gw)) === 0);
    const baseFds = fds();
    const base = resources();

    for (let i = 0; i < 8; i++) await wave(250);

    expect(await apiViewers(gw)).toBe(0);
    expect(await metricViewers(gw)).toBe(0);
    const stream = gw.hub.get('live/churn')!;
    expect(stream.subscribers.size + stream.waiting.size).toBe(0);
    // every socket of both ends is closed and every timer has run or been cleared
    await waitFor(
      'descriptors, sockets and timers back to the baseline',
      () => {
        const now = resources();
        return (
          fds() <= baseFds + 2 &&
          Object.entries(now).every(([kind, count]) => count <= (base[kind] ?? 0) + (kind === 'Timeout' ? 2 : 0))
        );
      },
      30_000,
    );
    // the publisher was never disturbed
    expect(stream.publisher).not.toBeNull();
    expect(gw.rtmp.sessions.size).toBe(1);
  });
});
