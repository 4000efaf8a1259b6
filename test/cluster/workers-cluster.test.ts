// Issue 13: `--workers 2` on each of two nodes sharing one real redis-server.
// The primary of each node is its member of the cluster; a stream published on
// one worker of node A plays on A's other worker (pulled inside the node) and
// on both workers of node B (pulled from A's public URL); a second publisher is
// refused on every worker of both nodes; killing node A's whole process tree
// frees the key within the TTL and a publish on B is found again.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ffprobe, publish, type Proc } from '../support/ffmpeg.js';
import { httpViewer, type TestViewer } from '../support/viewers.js';
import { waitFor } from '../support/wait.js';
import { clusterFlags, lowRateSource, startNode, startRedis, type Node, type Redis } from './processes.js';

const SECRET = 'test-cluster-secret';
const TTL_MS = 3_000;
const SLOW_TEST_MS = 180_000;

interface WorkerView {
  id: string;
  url: string;
  pid?: number;
  streams: string[];
  pulls: string[];
}

interface NodeClusterApi {
  self: string;
  health: { backend: string; connected: boolean };
  nodes: { url: string; streams: string[]; pulls: string[] }[];
  streams: { name: string; owner: string }[];
  workers: WorkerView[];
  localOwners: { name: string; owner: string }[];
}

function videoFlowing(v: TestViewer, more = 25): Promise<number> {
  const start = v.flv.videoFrames().length;
  return waitFor(`${more} more video frames`, () => v.flv.videoFrames().length >= start + more && v.flv.videoFrames().length, 60_000);
}

/** Both workers up and refreshed (their internal URLs known). */
function workersOf(node: Node): Promise<NodeClusterApi> {
  return waitFor('both workers known', async () => {
    const c = await node.api<NodeClusterApi>('/api/cluster');
    return c.workers?.length === 2 && c.workers.every((w) => w.url !== '' && w.pid !== undefined) ? c : undefined;
  }, 30_000, 250);
}

describe('--workers 2 on two nodes with --cluster-redis', () => {
  let redis: Redis;
  let a: Node;
  let b: Node;
  const pubs: Proc[] = [];
  const viewers: TestViewer[] = [];
  let aOwnerWorker: WorkerView;
  let aOtherWorker: WorkerView;
  let bWorkers: WorkerView[];
  /** the viewers on node B's workers and public port */
  let onB: TestViewer[] = [];

  beforeAll(async () => {
    redis = await startRedis();
    const flags = [...clusterFlags(redis, SECRET, TTL_MS), '--workers', '2', '--slow-max-skip-ms', '600000'];
    const started = await Promise.allSettled([startNode(flags, { readyLines: 2 }), startNode(flags, { readyLines: 2 })]);
    // One node that started is still stopped in afterAll when the other did not.
    [a, b] = started.map((r) => (r.status === 'fulfilled' ? r.value : undefined!));
    for (const r of started) if (r.status === 'rejected') throw r.reason;
    pubs.push(publish(`rtmp://127.0.0.1:${a!.rtmpPort}/live/main`, lowRateSource()));
    const view = await waitFor('live/main owned by a worker of node A', async () => {
      const c = await workersOf(a);
      const local = c.localOwners.find((o) => o.name === 'live/main');
      return local !== undefined && c.streams.some((s) => s.name === 'live/main') ? { c, local } : undefined;
    }, 30_000, 250);
    aOwnerWorker = view.c.workers.find((w) => w.id === view.local.owner)!;
    aOtherWorker = view.c.workers.find((w) => w.id !== view.local.owner)!;
    bWorkers = (await workersOf(b)).workers;
  }, 120_000);

  afterAll(async () => {
    if (process.env['CLUSTER_TEST_LOG'] !== undefined) process.stderr.write(`${a?.output() ?? ''}\n${b?.output() ?? ''}`);
    for (const v of viewers) v.close();
    await Promise.all(pubs.map((p) => p.stop()));
    await Promise.all([a, b].map((n) => n?.kill('SIGTERM')));
    await redis?.stop();
  }, SLOW_TEST_MS);

  it('registers node A (one URL for the node) as the owner in Redis', async () => {
    expect(aOwnerWorker).toBeDefined();
    expect(aOtherWorker).toBeDefined();
    expect(await redis.cli('get', 'gateway:stream:live/main')).toBe(a.url);
    const view = await b.api<NodeClusterApi>('/api/cluster');
    expect(view.health).toMatchObject({ backend: 'redis', connected: true });
    expect(view.streams).toContainEqual({ name: 'live/main', owner: a.url });
    expect(view.nodes.map((n) => n.url).sort()).toEqual([a.url, b.url].sort());
  });

  it('plays on the other worker of node A and on both workers of node B', async () => {
    // Each worker's own internal port serves the public app too: the viewer lands on the worker we mean.
    const targets = [aOtherWorker, ...bWorkers];
    const onWorkers = targets.map((w) => httpViewer(`${w.url}/live/main.flv`));
    const onPublicB = httpViewer(`${b.url}/live/main.flv`);
    viewers.push(...onWorkers, onPublicB);
    onB = [...onWorkers.slice(1), onPublicB];
    await Promise.all([...onWorkers, onPublicB].map((v) => videoFlowing(v)));
    for (const v of [...onWorkers, onPublicB]) {
      expect(v.flv.header).toEqual({ hasAudio: true, hasVideo: true });
      expect(v.flv.problems()).toEqual([]);
    }
    for (const w of [aOtherWorker, bWorkers[0]!]) {
      const probed = await ffprobe(`${w.url}/live/main.flv`);
      expect(probed.streams.map((s) => s.codec_name).sort()).toEqual(['aac', 'h264']);
    }
    // Every worker without the publisher holds one internal copy; node B's heartbeat in Redis names the pull.
    const aView = await waitFor('node A workers report the pull', async () => {
      const c = await a.api<NodeClusterApi>('/api/cluster');
      return c.workers.find((w) => w.id === aOtherWorker.id)?.pulls.includes('live/main') ? c : undefined;
    });
    expect(aView.workers.find((w) => w.id === aOwnerWorker.id)?.streams).toEqual(['live/main']);
    const bView = await waitFor('node B workers report their pulls', async () => {
      const c = await b.api<NodeClusterApi>('/api/cluster');
      return c.workers.every((w) => w.pulls.includes('live/main')) && c.nodes.find((n) => n.url === b.url)?.pulls.includes('live/main') ? c : undefined;
    });
    expect(bView.localOwners).toEqual([]);
  }, SLOW_TEST_MS);

  it('a second publisher of the key is refused on every worker of both nodes', async () => {
    // Two attempts per node: the primary's round robin hands them to both workers.
    for (const node of [a, b, a, b]) {
      const dup = publish(`rtmp://127.0.0.1:${node.rtmpPort}/live/main`, lowRateSource());
      pubs.push(dup);
      expect(await dup.exited).not.toBe(0);
    }
    expect(await redis.cli('get', 'gateway:stream:live/main')).toBe(a.url);
    const view = await a.api<NodeClusterApi>('/api/cluster');
    expect(view.localOwners).toEqual([{ name: 'live/main', owner: aOwnerWorker.id }]);
    await Promise.all(viewers.map((v) => videoFlowing(v, 10)));
  }, SLOW_TEST_MS);

  it('SIGKILL of node A\'s whole process tree: the key lapses within the TTL and a publish on node B is found again', async () => {
    const tree = (await a.api<NodeClusterApi>('/api/cluster')).workers.map((w) => w.pid!);
    for (const pid of tree) process.kill(pid, 'SIGKILL');
    await a.kill('SIGKILL');
    const killedAt = Date.now();
    await waitFor('the key lapses', async () => (await redis.cli('exists', 'gateway:stream:live/main')) === '0', TTL_MS + 1_000 - (Date.now() - killedAt));
    await Promise.all(onB.map((v) => v.ended));

    // The encoder reconnects to node B (as an encoder behind a balancer would).
    pubs.push(publish(`rtmp://127.0.0.1:${b.rtmpPort}/live/main`, lowRateSource()));
    await waitFor('node B owns the key', async () => (await redis.cli('get', 'gateway:stream:live/main')) === b.url, 30_000, 250);
    // A reconnecting viewer on each worker of B: one serves it from the publish, the other pulls it inside the node.
    const again = await Promise.all(bWorkers.map((w) => waitFor('a reconnect finds the new publish', async () => {
      const v = httpViewer(`${w.url}/live/main.flv`);
      const res = await v.status.catch(() => null);
      if (res?.statusCode === 200) return v;
      v.close();
      return undefined;
    }, 30_000, 500)));
    viewers.push(...again);
    await Promise.all(again.map((v) => videoFlowing(v)));
    for (const v of again) expect(v.flv.problems()).toEqual([]);
    const view = await b.api<NodeClusterApi>('/api/cluster');
    expect(view.streams).toContainEqual({ name: 'live/main', owner: b.url });
    expect(view.nodes.map((n) => n.url)).not.toContain(a.url);
    expect(view.localOwners).toHaveLength(1);
  }, SLOW_TEST_MS);
});
