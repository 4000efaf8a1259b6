// Issue 13 §1 with the true-latency anchor: a viewer on the worker that holds
// only a copy of the stream gets an /api/time answer on the copy's timeline that
// puts every frame at the moment the owner received it. The copy's timeline
// starts at its pull, seconds after the owner's: the test finds that offset from
// the frames both workers send, and checks that the two answers place the same
// frame at the same wall-clock moment.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publish, type Proc } from '../support/ffmpeg.js';
import { httpViewer, type TestViewer } from '../support/viewers.js';
import { waitFor } from '../support/wait.js';
import { lowRateSource, startNode, type Node } from './processes.js';

const TEST_MS = 180_000;
/** the owner's timeline is at least this far along when the copy starts (its timeline then starts at 0) */
const OWNER_AHEAD_MS = 3_000;
/**
 * Two answers agree to within this: the owner's line moves by its publisher's jitter between the
 * anchor the link carried and the owner's own answer. A copy answering on the wrong timeline is
 * off by OWNER_AHEAD_MS or more.
 */
const AGREE_MS = 250;

interface ClusterApi {
  nodes: { id: string; url: string; streams: string[] }[];
}

interface TimeAnswer {
  now: number;
  stream: { name: string; timestamp: number; receivedAt: number } | null;
}

async function timeAt(base: string): Promise<NonNullable<TimeAnswer['stream']>> {
  const r = (await (await fetch(`${base}/api/time?stream=live/time`)).json()) as TimeAnswer;
  if (r.stream === null) throw new Error(`${base} does not hold live/time`);
  return r.stream;
}

describe('/api/time on a worker that holds a copy', () => {
  let node: Node;
  let pub: Proc;
  const viewers: TestViewer[] = [];

  beforeAll(async () => {
    node = await startNode(['--workers', '2'], { readyLines: 2 });
    pub = publish(`rtmp://127.0.0.1:${node.rtmpPort}/live/time`, lowRateSource());
  }, TEST_MS);

  afterAll(async () => {
    if (process.env['CLUSTER_TEST_LOG'] !== undefined) process.stderr.write(node?.output() ?? '');
    for (const v of viewers) v.close();
    await pub?.stop();
    await node?.kill('SIGTERM');
  }, TEST_MS);

  it('places each frame where the owner received it', async () => {
    const view = await waitFor('an owner and another worker', async () => {
      const c = await node.api<ClusterApi>('/api/cluster');
      return c.nodes.length === 2 && c.nodes.every((n) => n.url !== '') && c.nodes.some((n) => n.streams.includes('live/time')) ? c : undefined;
    }, 60_000);
    const owner = view.nodes.find((n) => n.streams.includes('live/time'))!;
    const copy = view.nodes.find((n) => n !== owner)!;
    await waitFor('the owner well into its timeline', async () => ((await timeAt(owner.url).catch(() => null))?.timestamp ?? 0) >= OWNER_AHEAD_MS, 60_000, 250);

    // Each worker's own port answers like the public one: one viewer on each, as published.
    const onOwner = httpViewer(`${owner.url}/live/time.flv?untouched=1`);
    const onCopy = httpViewer(`${copy.url}/live/time.flv?untouched=1`);
    viewers.push(onOwner, onCopy);
    await waitFor('both viewers have video', () => onOwner.flv.videoFrames().length >= 25 && onCopy.flv.videoFrames().length >= 25, 60_000);

    // The same frame on both timelines (the source loops every 6 s, so a second of frames matches once).
    const ownerFrames = onOwner.flv.videoFrames();
    const pair = onCopy.flv.videoFrames().map((c) => ({ c, o: ownerFrames.filter((o) => o.payload.equals(c.payload)) })).find((p) => p.o.length === 1);
    expect(pair).toBeDefined();
    const offset = pair!.c.timestamp - pair!.o[0]!.timestamp;
    // The copy takes the owner's anchor out of its pull: no viewer ever sees it.
    expect(onCopy.flv.tags.filter((t) => t.payload.includes('|gatewayArrival'))).toEqual([]);
    expect(offset).toBeLessThanOrEqual(-OWNER_AHEAD_MS);

    // Where each answer puts a frame of owner timestamp t: receivedAt + (t - timestamp), with t + offset on the copy.
    const disagreement = async (): Promise<number> => {
      const [o, c] = await Promise.all([timeAt(owner.url), timeAt(copy.url)]);
      return c.receivedAt - c.timestamp - (o.receivedAt - o.timestamp) + offset;
    };
    // The owner's line may move between the anchor the link carried and its answer: a few samples.
    let last = NaN;
    await waitFor(`answers agreeing to ${AGREE_MS} ms`, async () => Math.abs((last = await disagreement())) <= AGREE_MS, 20_000, 200).catch(() => {
      throw new Error(`the copy's /api/time places frames ${last} ms away from the owner's`);
    });
  }, TEST_MS);
});
