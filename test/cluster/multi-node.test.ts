// Issue 13 §2–3: three gateway processes sharing one real redis-server, behind
// a real nginx running the shipped deploy/nginx-cluster.conf. A stream
// published on one node is served by every node (one internal pull per node),
// survives a 10 s Redis outage, moves when its owner is killed, and a key raced
// by two publishers on two nodes has exactly one owner.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser } from '../support/browser.js';
import { ffprobe, publish, testSource, type Proc, type SourceSpec } from '../support/ffmpeg.js';
import type { Nginx } from '../support/nginx.js';
import { httpViewer, wsViewer, type TestViewer } from '../support/viewers.js';
import { waitFor } from '../support/wait.js';
import { clusterFlags, startClusterNginx, startNode, startRedis, type Node, type Redis } from './processes.js';

const SOURCE: SourceSpec = { width: 640, height: 360, fps: 25, gop: 25, seconds: 6, audio: true };
const SECRET = 'test-cluster-secret';
const TTL_MS = 3_000;

interface ClusterApi {
  self: string;
  health: { connected: boolean };
  nodes: { url: string; streams: string[]; pulls: string[]; viewers: number }[];
  streams: { name: string; owner: string }[];
  localPulls: { stream: string; from: string }[];
}

interface StreamsApi {
  streams: { name: string; publisher: { protocol: string } | null; viewers: { total: number } }[];
}

interface StreamDetail {
  clients: { address: string }[];
}

function videoFlowing(v: TestViewer, more = 25): Promise<number> {
  const start = v.flv.videoFrames().length;
  return waitFor(`${more} more video frames`, () => v.flv.videoFrames().length >= start + more && v.flv.videoFrames().length, 30_000);
}

describe('three nodes, one Redis, nginx in front', () => {
  let redis: Redis;
  let nodes: Node[] = [];
  let nginx: Nginx;
  let front: { http: string; rtmp: string };
  const pubs: Proc[] = [];
  const viewers: TestViewer[] = [];
  let owner: Node;
  let others: Node[];
  let raceWinner: Proc;

  beforeAll(async () => {
    const source = testSource(SOURCE);
    redis = await startRedis();
    nodes = await Promise.all([0, 1, 2].map(() => startNode([...clusterFlags(redis, SECRET, TTL_MS), '--rewind-seconds', '30'])));
    const started = await startClusterNginx(nodes);
    nginx = started.nginx;
    front = started;
    // The encoder goes through nginx's stream {} block and lands on some node.
    pubs.push(publish(`rtmp://${front.rtmp}/live/main`, source));
    const entry = await waitFor('live/main registered', async () => {
      const c = await nodes[0]!.api<ClusterApi>('/api/cluster');
      return c.streams.find((s) => s.name === 'live/main');
    });
    owner = nodes.find((n) => n.url === entry.owner)!;
    others = nodes.filter((n) => n !== owner);
    expect(owner).toBeDefined();
  }, 120_000);

  afterAll(async () => {
    for (const v of viewers) v.close();
    await Promise.all(pubs.map((p) => p.stop()));
    await nginx?.stop();
    await Promise.all(nodes.map((n) => n.kill('SIGTERM')));
    await redis?.stop();
  });

  it('viewers through nginx and on every node get valid FLV, with one internal pull per node', async () => {
    const viaNginx = [httpViewer(`http://${front.http}/live/main.flv`), wsViewer(`ws://${front.http}/live/main.flv`)];
    // Two viewers on each node directly: still one internal pull per node.
    const direct = nodes.flatMap((n) => [httpViewer(`${n.url}/live/main.flv`), wsViewer(`ws://127.0.0.1:${n.httpPort}/live/main.flv`)]);
    viewers.push(...viaNginx, ...direct);
    await Promise.all([...viaNginx, ...direct].map((v) => videoFlowing(v)));
    for (const v of [...viaNginx, ...direct]) {
      expect(v.flv.header).toEqual({ hasAudio: true, hasVideo: true });
      expect(v.flv.problems()).toEqual([]);
    }
    const probed = await ffprobe(`${others[0]!.url}/live/main.flv`);
    expect(probed.streams.map((s) => s.codec_name).sort()).toEqual(['aac', 'h264']);
    const viaFront = await ffprobe(`http://${front.http}/live/main.flv`);
    expect(viaFront.streams.find((s) => s.codec_type === 'video')?.width).toBe(640);

    const detail = await owner.api<StreamDetail>('/api/streams/live/main');
    const internal = detail.clients.filter((c) => c.address.startsWith('cluster:'));
    expect(internal.map((c) => c.address).sort()).toEqual(others.map((n) => `cluster:${n.url}`).sort());
  });

  it('/api/cluster names the owner and which nodes pull', async () => {
    const view = await waitFor('heartbeats with the pulls', async () => {
      const c = await others[1]!.api<ClusterApi>('/api/cluster');
      return c.nodes.filter((n) => n.pulls.includes('live/main')).length === 2 ? c : undefined;
    });
    expect(view.health.connected).toBe(true);
    expect(view.nodes.map((n) => n.url).sort()).toEqual(nodes.map((n) => n.url).sort());
    expect(view.streams).toContainEqual({ name: 'live/main', owner: owner.url });
    expect(view.nodes.find((n) => n.url === owner.url)?.streams).toEqual(['live/main']);
    expect(view.localPulls.map((p) => p.from)).toEqual([`${owner.url}/live/main.flv`]);
  });

  it('/api/cluster counts each node\'s viewers, which add up to the whole cluster\'s', async () => {
    // Two direct viewers on every node, two through nginx; the internal links are not viewers.
    const view = await waitFor('heartbeats with every viewer', async () => {
      const c = await owner.api<ClusterApi>('/api/cluster');
      return c.nodes.reduce((n, node) => n + node.viewers, 0) === viewers.length ? c : undefined;
    });
    for (const node of view.nodes) expect(node.viewers).toBeGreaterThanOrEqual(2);
    for (const node of nodes) {
      const own = (await node.api<StreamsApi>('/api/streams')).streams.find((s) => s.name === 'live/main')!.viewers.total;
      expect(view.nodes.find((n) => n.url === node.url)?.viewers).toBe(own);
    }
  });

  it('a ?rewind= viewer on a node that only copies the stream is fed from the owner\'s window', async () => {
    const node = others[0]!;
    // The copy keeps no window of its own; it reports the owner's, which the page's rewind bar reads.
    const here = await waitFor('a rewind window on the copy\'s node', async () => {
      const d = await node.api<{ rewindSeconds: number; publisher: { protocol: string } | null }>('/api/streams/live/main');
      return d.rewindSeconds >= 8 ? d : undefined;
    }, 60_000, 250);
    expect(here.publisher?.protocol).toBe('relay');
    const live = (await owner.api<{ stream: { timestamp: number } }>('/api/time?stream=live/main')).stream.timestamp;
    const at = Date.now();
    const v = httpViewer(`${node.url}/live/main.flv?rewind=6`);
    try {
      await waitFor('rewound video', () => v.flv.videoFrames().length >= 10, 30_000);
      expect(v.flv.problems()).toEqual([]);
      // On the owner's timeline, 6 s behind live (keyframes 1 s apart); live moves at most as fast as the clock.
      const first = v.flv.firstVideoFrame()!.timestamp;
      expect(first).toBeGreaterThanOrEqual(live - 6_000 - 1_500);
      expect(first).toBeLessThanOrEqual(live + (Date.now() - at) - 6_000 + 1_500);
    } finally {
      v.close();
    }
  });

  it('an internal link with a wrong secret is refused', async () => {
    const r = await fetch(`${owner.url}/live/main.flv`, { headers: { 'x-gateway-cluster-secret': 'guess' } });
    expect(r.status).toBe(403);
    await r.body?.cancel();
  });

  it('Chromium plays the demo page through nginx', async () => {
    const browser = await launchBrowser();
    try {
      const tab = await browser.open(`http://${front.http}/?stream=live/main&proto=ws`);
      const stats = () => tab.page.evaluate('window.__player ? window.__player.stats() : null') as Promise<{ state: string; decodedFrames: number } | null>;
      const first = await waitFor('the page plays', async () => {
        const s = await stats();
        return s !== null && s.state === 'playing' && s.decodedFrames > 0 ? s : undefined;
      }, 30_000);
      await waitFor('frames keep decoding', async () => ((await stats())?.decodedFrames ?? 0) > first.decodedFrames + 10, 30_000);
      expect(tab.errors).toEqual([]);
      await tab.close();
    } finally {
      await browser.close();
    }
  });

  it('ffmpeg publishes over rtmpt:// through nginx: one node holds the tunnel, another serves the stream', async () => {
    // Every tunnel request of the session must reach one node, although each has a path of its own.
    const tunnel = publish(`rtmpt://${front.http}/live/tunnel`, testSource(SOURCE));
    pubs.push(tunnel);
    const entry = await waitFor('live/tunnel registered', async () => {
      const c = await nodes[0]!.api<ClusterApi>('/api/cluster');
      return c.streams.find((s) => s.name === 'live/tunnel');
    }, 60_000);
    const holder = nodes.find((n) => n.url === entry.owner)!;
    const list = await holder.api<StreamsApi>('/api/streams');
    expect(list.streams.find((s) => s.name === 'live/tunnel')?.publisher?.protocol).toBe('rtmpt');
    const probed = await ffprobe(`${nodes.find((n) => n !== holder)!.url}/live/tunnel.flv`);
    expect(probed.streams.map((s) => s.codec_name).sort()).toEqual(['aac', 'h264']);
    // Gone before the Redis test counts the keys.
    await tunnel.stop();
    await waitFor('its key released', async () => (await redis.cli('exists', 'gateway:stream:live/tunnel')) === '0', 30_000);
  });

  it('Redis gone for 10 s ends no viewer; the registry is whole again when it returns', async () => {
    const watching = [httpViewer(`${others[0]!.url}/live/main.flv`), wsViewer(`ws://127.0.0.1:${others[1]!.httpPort}/live/main.flv`)];
    viewers.push(...watching);
    await Promise.all(watching.map((v) => videoFlowing(v)));
    let endedEarly = false;
    for (const v of watching) void v.ended.then(() => (endedEarly = true));

    await redis.stop();
    await waitFor('every node reports the registry down', async () => {
      const h = await Promise.all(nodes.map((n) => n.api<{ cluster: { connected: boolean } }>('/api/health')));
      return h.every((x) => x.cluster.connected === false);
    });
    const metrics = await (await fetch(`${owner.url}/metrics`)).text();
    expect(metrics).toMatch(/^gateway_cluster_registry_up 0$/m);
    // The outage lasts 10 s (the scenario, not an assertion); video keeps flowing through it.
    const outageEnds = Date.now() + 10_000;
    while (Date.now() < outageEnds) await Promise.all(watching.map((v) => videoFlowing(v, 10)));
    expect(endedEarly).toBe(false);

    await redis.restart();
    await waitFor('stream and all three nodes registered again', async () => {
      const keys = (await redis.cli('--raw', 'keys', 'gateway:*')).split('\n').sort();
      return keys.length === 4 && keys.includes('gateway:stream:live/main');
    }, 20_000);
    expect(await redis.cli('get', 'gateway:stream:live/main')).toBe(owner.url);
    await Promise.all(watching.map((v) => videoFlowing(v)));
    expect(endedEarly).toBe(false);
    for (const v of watching) expect(v.flv.problems()).toEqual([]);
  });

  it('two publishers racing for one key on two nodes: exactly one wins', async () => {
    const source = testSource(SOURCE);
    const racers = others.map((n) => publish(`rtmp://127.0.0.1:${n.rtmpPort}/live/race`, source));
    pubs.push(...racers);
    // The loser is refused (ffmpeg exits); the winner keeps publishing.
    const loserCode = await Promise.race(racers.map((r) => r.exited));
    expect(loserCode).not.toBe(0);
    const holders = await waitFor('one registered owner', async () => {
      const lists = await Promise.all(others.map((n) => n.api<StreamsApi>('/api/streams')));
      const h = lists.map((l) => l.streams.filter((s) => s.name === 'live/race' && s.publisher?.protocol === 'rtmp').length);
      return h.reduce((a, b) => a + b, 0) === 1 ? h : undefined;
    });
    const winner = others[holders.indexOf(1)]!;
    expect(await redis.cli('get', 'gateway:stream:live/race')).toBe(winner.url);
    const stillRunning = racers.filter((r) => r.child.exitCode === null);
    expect(stillRunning).toHaveLength(1);
    raceWinner = stillRunning[0]!;
  });

  it('DELETE /api/streams/APP/KEY on a node without the stream kicks its publisher on the owner', async () => {
    const holder = await redis.cli('get', 'gateway:stream:live/race');
    // The node that owns live/main holds no copy of live/race.
    expect(holder).not.toBe(owner.url);
    const r = await fetch(`${owner.url}/api/streams/live/race`, { method: 'DELETE' });
    expect(r.status).toBe(204);
    await raceWinner.exited;
    await waitFor('its key released', async () => (await redis.cli('exists', 'gateway:stream:live/race')) === '0');
  });

  it('SIGKILL of the owner: its viewers end, the key lapses within the TTL, a new publish elsewhere is found by reconnects', async () => {
    const onOwner = httpViewer(`${owner.url}/live/main.flv`);
    const onOther = httpViewer(`${others[0]!.url}/live/main.flv`);
    viewers.push(onOwner, onOther);
    await Promise.all([videoFlowing(onOwner), videoFlowing(onOther)]);

    await owner.kill('SIGKILL');
    const killedAt = Date.now();
    expect(['aborted', 'error', 'end']).toContain((await onOwner.ended).code);
    // Free within the TTL (plus a second of polling slack).
    await waitFor('the key lapses', async () => (await redis.cli('exists', 'gateway:stream:live/main')) === '0', TTL_MS + 1_000 - (Date.now() - killedAt));
    // The other node's viewer is ended once the registry no longer names an owner.
    await onOther.ended;

    pubs.push(publish(`rtmp://127.0.0.1:${others[1]!.rtmpPort}/live/main`, testSource(SOURCE)));
    // A reconnecting viewer (as the page does) on the remaining nodes finds the stream on its new owner.
    const reconnected = await waitFor('a reconnect finds the new publish', async () => {
      const v = httpViewer(`${others[0]!.url}/live/main.flv`);
      const res = await v.status.catch(() => null);
      if (res?.statusCode === 200) return v;
      v.close();
      return undefined;
    }, 30_000, 500);
    viewers.push(reconnected);
    await videoFlowing(reconnected);
    expect(reconnected.flv.problems()).toEqual([]);
    const view = await others[0]!.api<ClusterApi>('/api/cluster');
    expect(view.streams).toContainEqual({ name: 'live/main', owner: others[1]!.url });
    expect(view.nodes.map((n) => n.url)).not.toContain(owner.url);
  });
});
