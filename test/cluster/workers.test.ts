// Issue 13 §1: `--workers 2`, a real primary and two workers sharing the public
// ports. One publish, 200 viewers spread over both workers by the primary's
// round robin; the worker without the publisher serves its viewers from one
// internal pull. Killing a worker restarts it; the other's viewers keep playing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publish, type Proc } from '../support/ffmpeg.js';
import { httpViewer, wsViewer, type TestViewer } from '../support/viewers.js';
import { waitFor } from '../support/wait.js';
import { lowRateSource, startNode, type Node } from './processes.js';

const VIEWERS = 200;
/** per test: 200 viewers in one test process on a shared, busy machine */
const SLOW_TEST_MS = 240_000;

interface StreamsApi {
  streams: {
    name: string;
    publisher: { protocol: string } | null;
    viewers: { total: number };
    workers: { worker: number; viewers: number; owner: boolean }[];
  }[];
}

interface ClusterApi {
  nodes: { id: string; url: string; pid?: number; streams: string[]; pulls: string[]; viewers: number }[];
  streams: { name: string; owner: string }[];
}

describe('--workers 2', () => {
  let node: Node;
  let pub: Proc;
  const viewers: TestViewer[] = [];

  beforeAll(async () => {
    // A loaded test machine may read slowly: the test is about workers, not slow-viewer policy.
    node = await startNode(['--workers', '2', '--slow-max-skip-ms', '600000'], { readyLines: 2 });
    pub = publish(`rtmp://127.0.0.1:${node.rtmpPort}/live/main`, lowRateSource());
    await waitFor('stream live', async () => {
      const s = await node.api<StreamsApi>('/api/streams');
      return s.streams.find((x) => x.name === 'live/main' && x.publisher !== null);
    }, 30_000);
  }, 120_000);

  afterAll(async () => {
    if (process.env['CLUSTER_TEST_LOG'] !== undefined) process.stderr.write(node?.output() ?? '');
    for (const v of viewers) v.close();
    await pub?.stop();
    await node?.kill('SIGTERM');
  }, SLOW_TEST_MS);

  it('200 viewers over both workers all get valid FLV starting at the cached keyframe', async () => {
    for (let i = 0; i < VIEWERS; i++) {
      const url = `127.0.0.1:${node.httpPort}/live/main.flv`;
      viewers.push(i % 2 === 0 ? httpViewer(`http://${url}`) : wsViewer(`ws://${url}`));
    }
    await waitFor('every viewer has video', () => viewers.every((v) => v.flv.videoFrames().length >= 10), 120_000, 1_000);
    for (const v of viewers) {
      expect(v.flv.header).toEqual({ hasAudio: true, hasVideo: true });
      // problems() checks the sequence headers come first and the first frame is a keyframe.
      expect(v.flv.problems()).toEqual([]);
    }
    const s = await waitFor('the whole gateway counts every viewer', async () => {
      const list = await node.api<StreamsApi>('/api/streams');
      const main = list.streams.find((x) => x.name === 'live/main');
      return main !== undefined && main.viewers.total === VIEWERS ? main : undefined;
    }, 120_000, 1_000);
    expect(s.workers).toHaveLength(2);
    for (const w of s.workers) expect(w.viewers).toBeGreaterThan(0);
    expect(s.workers.filter((w) => w.owner)).toHaveLength(1);
    expect(s.publisher?.protocol).toBe('rtmp');

    // Each worker's viewers, as of its last refresh, match its share in /api/streams.
    const view = await waitFor('every worker\'s viewers in /api/cluster', async () => {
      const c = await node.api<ClusterApi>('/api/cluster');
      return c.nodes.reduce((n, w) => n + w.viewers, 0) === VIEWERS ? c : undefined;
    }, 30_000, 250);
    for (const w of s.workers) expect(view.nodes.find((n) => n.id === `worker ${w.worker}`)?.viewers).toBe(w.viewers);
    expect(view.streams).toHaveLength(1);
    const puller = view.nodes.find((n) => n.pulls.includes('live/main'));
    expect(puller).toBeDefined();
    expect(view.nodes.find((n) => n.streams.includes('live/main'))?.id).toBe(view.streams[0]!.owner);
  }, SLOW_TEST_MS);

  it('the metrics describe both workers', async () => {
    // Summed over the workers: each has a registry link up, one of them pulls.
    const text = await waitFor('metrics of both workers', async () => {
      const t = await (await fetch(`http://127.0.0.1:${node.httpPort}/metrics`)).text();
      return /^gateway_cluster_registry_up 2$/m.test(t) ? t : undefined;
    }, 120_000, 1_000);
    expect(text).toMatch(/^gateway_cluster_pulls 1$/m);
  }, SLOW_TEST_MS);

  it('a second publisher of the key is refused whichever worker it lands on', async () => {
    for (let i = 0; i < 2; i++) {
      const dup = publish(`rtmp://127.0.0.1:${node.rtmpPort}/live/main`, lowRateSource());
      expect(await dup.exited).not.toBe(0);
    }
    const list = await node.api<StreamsApi>('/api/streams');
    expect(list.streams.find((x) => x.name === 'live/main')?.publisher).not.toBeNull();
  }, SLOW_TEST_MS);

  it('a killed worker is restarted and the other worker keeps its viewers playing', async () => {
    const view = await node.api<ClusterApi>('/api/cluster');
    const victim = view.nodes.find((n) => n.pulls.includes('live/main'))!;
    const before = await node.api<StreamsApi>('/api/streams');
    const victimViewers = before.streams[0]!.workers.find((w) => `worker ${w.worker}` === victim.id)!.viewers;
    const ended = new Set<TestViewer>();
    for (const v of viewers) void v.ended.then(() => ended.add(v));

    process.kill(victim.pid!, 'SIGKILL');
    await waitFor('the killed worker\'s viewers end', () => ended.size === victimViewers, 20_000);
    const survivors = viewers.filter((v) => !ended.has(v));
    expect(survivors).toHaveLength(VIEWERS - victimViewers);
    const counts = survivors.map((v) => v.flv.videoFrames().length);
    await waitFor('survivors keep receiving video', () => survivors.every((v, i) => v.flv.videoFrames().length >= counts[i]! + 25), 60_000, 1_000);
    for (const v of survivors) expect(v.flv.problems()).toEqual([]);

    const restarted = await waitFor('a new worker', async () => {
      const c = await node.api<ClusterApi>('/api/cluster');
      return c.nodes.length === 2 && c.nodes.every((n) => n.id !== victim.id && n.pid !== undefined && n.url !== '') ? c : undefined;
    }, 60_000, 250);
    expect(restarted.nodes.map((n) => n.pid)).not.toContain(victim.pid);
    // New viewers play again from both workers.
    const fresh = Array.from({ length: 6 }, () => httpViewer(`http://127.0.0.1:${node.httpPort}/live/main.flv`));
    viewers.push(...fresh);
    await waitFor('fresh viewers play', () => fresh.every((v) => v.flv.videoFrames().length >= 10), 30_000);
    for (const v of fresh) expect(v.flv.problems()).toEqual([]);
  }, SLOW_TEST_MS);

  it('DELETE /api/streams/APP/KEY kicks the publisher whichever worker holds it', async () => {
    const r = await fetch(`http://127.0.0.1:${node.httpPort}/api/streams/live/main`, { method: 'DELETE' });
    expect(r.status).toBe(204);
    await pub.exited;
    await waitFor('stream gone from every worker', async () => (await node.api<StreamsApi>('/api/streams')).streams.length === 0);
  }, SLOW_TEST_MS);
});
