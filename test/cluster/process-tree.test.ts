// Issue 13 §1: the process tree of `--workers 2` never leaves a process behind.
// A worker stops by itself when its primary is killed; the primary stops every
// worker on SIGTERM and exits 0; a worker stuck in its shutdown is killed after
// a grace instead of holding the primary. Real processes, real signals; the
// tests wait for exits (each with a generous deadline), they never time them.
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { publish, type Proc } from '../support/ffmpeg.js';
import { httpViewer, wsViewer, type TestViewer } from '../support/viewers.js';
import { waitFor } from '../support/wait.js';
import { lowRateSource, startNode, type Node } from './processes.js';

const TEST_MS = 180_000;
/** WebSocket close codes of an orderly end: the stream ended (1000) or the server went away (1001) */
const CLEAN_CLOSE = [1000, 1001];

interface ClusterApi {
  nodes: { id: string; pid?: number }[];
}

interface StreamsApi {
  streams: { name: string; publisher: unknown; workers: { viewers: number }[] }[];
}

/** Alive: the pid exists and is not a zombie waiting for its (new) parent to reap it. */
function alive(pid: number): boolean {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return false;
  }
  // "pid (comm) S ...": the state follows the last ')', since comm may hold spaces and parentheses.
  return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
}

describe('--workers 2 process tree', () => {
  let node: Node | undefined;
  let pub: Proc | undefined;
  let workerPids: number[] = [];
  let viewers: TestViewer[] = [];

  afterEach(async () => {
    if (process.env['CLUSTER_TEST_LOG'] !== undefined) process.stderr.write(node?.output() ?? '');
    for (const v of viewers) v.close();
    await pub?.stop();
    // Whatever a failed test left: nothing may outlive it.
    for (const pid of workerPids) if (alive(pid)) process.kill(pid, 'SIGKILL');
    await node?.kill('SIGKILL');
    node = undefined;
    pub = undefined;
    workerPids = [];
    viewers = [];
  }, TEST_MS);

  /** Two workers, a publisher, and viewers over HTTP-FLV and WS-FLV on both workers. */
  async function startWatchedNode(): Promise<Node> {
    const n = await startNode(['--workers', '2'], { readyLines: 2 });
    node = n;
    workerPids = await workersOf(n);
    pub = publish(`rtmp://127.0.0.1:${n.rtmpPort}/live/tree`, lowRateSource());
    await waitFor('stream live', async () => (await n.api<StreamsApi>('/api/streams')).streams.some((s) => s.publisher !== null), 30_000);
    for (let i = 0; i < 8; i++) {
      const url = `127.0.0.1:${n.httpPort}/live/tree.flv`;
      viewers.push(i % 2 === 0 ? httpViewer(`http://${url}`) : wsViewer(`ws://${url}`));
    }
    await waitFor('every viewer has video', () => viewers.every((v) => v.flv.videoFrames().length >= 5), 60_000);
    const s = await n.api<StreamsApi>('/api/streams');
    // The connections are handed out round robin: both workers serve some of them.
    expect(s.streams[0]!.workers.filter((w) => w.viewers > 0)).toHaveLength(2);
    return n;
  }

  async function workersOf(n: Node): Promise<number[]> {
    const view = await waitFor('both workers known', async () => {
      const c = await n.api<ClusterApi>('/api/cluster');
      return c.nodes.length === 2 && c.nodes.every((w) => w.pid !== undefined) ? c : undefined;
    }, 30_000);
    return view.nodes.map((w) => w.pid!);
  }

  const wsViewers = (): TestViewer[] => viewers.filter((_, i) => i % 2 === 1);

  it('SIGKILL on the primary: every worker ends its viewers cleanly and exits by itself', async () => {
    const n = await startWatchedNode();
    expect(workerPids.every(alive)).toBe(true);
    await n.kill('SIGKILL');
    await waitFor('every worker has exited', () => workerPids.every((pid) => !alive(pid)), 60_000, 100);
    // A clean end (1001 going away, or 1000 on the copy once its owner ended), not a dropped connection (1006).
    for (const v of wsViewers()) expect(CLEAN_CLOSE).toContain((await v.ended).code);
    await Promise.all(viewers.map((v) => v.ended));
    await pub!.exited;
    expect(n.output().match(/"signal":"primary gone"/g)).toHaveLength(2);
  }, TEST_MS);

  it('SIGTERM on the primary with a publisher and viewers attached: everything exits, code 0', async () => {
    const n = await startWatchedNode();
    await n.kill('SIGTERM');
    expect(n.child.exitCode).toBe(0);
    // The primary waited for (and reaped) its workers before it exited.
    expect(workerPids.filter(alive)).toEqual([]);
    for (const v of wsViewers()) expect(CLEAN_CLOSE).toContain((await v.ended).code);
    await Promise.all(viewers.map((v) => v.ended));
    await pub!.exited;
    expect(n.output()).not.toMatch(/did not stop in time/);
  }, TEST_MS);

  it('a worker that cannot run its shutdown is killed after the grace and the primary still exits', async () => {
    const n = await startNode(['--workers', '2'], { readyLines: 2 });
    node = n;
    workerPids = await workersOf(n);
    // A stopped process handles no signal but SIGKILL, like a worker whose event loop is blocked.
    process.kill(workerPids[0]!, 'SIGSTOP');
    await n.kill('SIGTERM');
    // Non-zero: a worker had to be killed.
    expect(n.child.exitCode).toBe(1);
    expect(workerPids.filter(alive)).toEqual([]);
    expect(n.output()).toMatch(new RegExp(`"pid":${workerPids[0]},"graceMs":\\d+,"msg":"worker did not stop in time; killing it"`));
  }, TEST_MS);
});
