// Issue 13 §1, what a worker that only copies a stream must not get wrong:
// /api/streams, the stream detail and /metrics describe the whole gateway
// whichever worker answers (a stream counted once, on its owner; the internal
// link is no viewer), and ?rewind= works on the copy's worker too, although
// the copy only starts at the pull. A real primary with two workers; every API
// request on a connection of its own, so the primary's round robin hands the
// requests to both workers.
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publish, type Proc } from '../support/ffmpeg.js';
import { httpViewer, wsViewer, type TestViewer } from '../support/viewers.js';
import { waitFor } from '../support/wait.js';
import { lowRateSource, startNode, type Node } from './processes.js';

const TEST_MS = 180_000;
const REWIND_S = 10;

interface Share {
  worker: number;
  viewers: number;
  owner: boolean;
  internalLinks: number;
}

interface Stream {
  name: string;
  publisher: { protocol: string } | null;
  viewers: { http: number; ws: number; total: number };
  internalLinks: number;
  workers: Share[];
  clients?: { protocol: string }[];
}

/** A GET on a new connection (no keep-alive): each one is handed to a worker by the primary's round robin. */
function freshGet(node: Node, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port: node.httpPort, path, agent: false, headers: { Connection: 'close' } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve(body));
    });
    req.on('error', reject);
  });
}

async function streamsOf(node: Node): Promise<Stream[]> {
  return ((JSON.parse(await freshGet(node, '/api/streams')) as { streams: Stream[] }).streams);
}

function metric(text: string, line: string): number {
  const m = new RegExp(`^${line.replace(/[{}"=]/g, (c) => `\\${c}`)} (\\S+)$`, 'm').exec(text);
  if (m === null) throw new Error(`no ${line} in /metrics`);
  return Number(m[1]);
}

describe('--workers 2: the whole gateway from any worker', () => {
  let node: Node;
  const pubs: Proc[] = [];
  const viewers: TestViewer[] = [];

  beforeAll(async () => {
    node = await startNode(['--workers', '2', '--rewind-seconds', '30', '--slow-max-skip-ms', '600000'], { readyLines: 2 });
    for (const key of ['main', 'rw']) pubs.push(publish(`rtmp://127.0.0.1:${node.rtmpPort}/live/${key}`, lowRateSource()));
    await waitFor('both streams live', async () => (await streamsOf(node)).filter((s) => s.publisher !== null).length === 2, 60_000, 250);
  }, TEST_MS);

  afterAll(async () => {
    if (process.env['CLUSTER_TEST_LOG'] !== undefined) process.stderr.write(node?.output() ?? '');
    for (const v of viewers) v.close();
    for (const p of pubs) await p.stop();
    await node?.kill('SIGTERM');
  }, TEST_MS);

  it('counts each stream once, only real viewers, the publisher from its owner, and the internal link apart', async () => {
    const url = `127.0.0.1:${node.httpPort}/live/main.flv`;
    // Viewers until both workers serve some (the round robin also hands out the API's connections).
    const main = await waitFor('viewers on both workers', async () => {
      if (viewers.length < 20) viewers.push(viewers.length % 2 === 0 ? httpViewer(`http://${url}`) : wsViewer(`ws://${url}`));
      const s = (await streamsOf(node)).find((x) => x.name === 'live/main');
      return s !== undefined && s.workers.length === 2 && s.workers.every((w) => w.viewers > 0) && s.viewers.total === viewers.length ? s : undefined;
    }, 90_000, 500);
    await waitFor('every viewer has video', () => viewers.every((v) => v.flv.videoFrames().length >= 5), 60_000, 500);
    const nHttp = Math.ceil(viewers.length / 2);
    const nWs = viewers.length - nHttp;
    expect(main.workers.filter((w) => w.owner)).toHaveLength(1);

    // Several answers, from both workers: all describe the same whole gateway.
    for (let i = 0; i < 6; i++) {
      const list = await streamsOf(node);
      expect(list.map((s) => s.name)).toEqual(['live/main', 'live/rw']);
      const s = list[0]!;
      expect(s.publisher?.protocol).toBe('rtmp');
      expect(s.viewers).toMatchObject({ http: nHttp, ws: nWs, total: viewers.length });
      // The copying worker pulls over one internal link, which the owner serves.
      expect(s.internalLinks).toBe(1);
      expect(s.workers.find((w) => w.owner)?.internalLinks).toBe(1);

      const one = JSON.parse(await freshGet(node, '/api/streams/live/main')) as Stream;
      expect(one.publisher?.protocol).toBe('rtmp');
      expect(one.viewers.total).toBe(viewers.length);
      // The internal link is listed too, as what it is.
      const expected = [...Array<string>(nHttp).fill('http'), 'internal', ...Array<string>(nWs).fill('ws')];
      expect(one.clients?.map((c) => c.protocol).sort()).toEqual(expected);

      const text = await freshGet(node, '/metrics');
      expect(metric(text, 'gateway_streams_live')).toBe(2);
      expect(metric(text, 'gateway_viewers{protocol="http"}')).toBe(nHttp);
      expect(metric(text, 'gateway_viewers{protocol="ws"}')).toBe(nWs);
      expect(metric(text, 'gateway_connections{protocol="http"}')).toBe(nHttp);
      expect(metric(text, 'gateway_internal_links')).toBe(1);
      expect(metric(text, 'gateway_internal_link_bytes_total{direction="in"}')).toBeGreaterThan(0);
      expect(metric(text, 'gateway_internal_link_bytes_total{direction="out"}')).toBeGreaterThan(0);
    }
  }, TEST_MS);

  it(`?rewind=${REWIND_S} starts as far behind live on the copying worker as on the owner`, async () => {
    await waitFor('live/rw has a rewind window', async () => {
      const s = JSON.parse(await freshGet(node, '/api/streams/live/rw')) as Stream & { rewindSeconds: number };
      return s.rewindSeconds >= REWIND_S + 5;
    }, 60_000, 500);
    // Where live is on the owner's timeline (only the owner holds live/rw yet; the other worker answers null).
    const anchor = await waitFor('the owner\'s live position', async () => {
      const t = JSON.parse(await freshGet(node, '/api/time?stream=live/rw')) as { stream: { timestamp: number } | null };
      return t.stream ?? undefined;
    }, 30_000, 100);
    const anchorAt = Date.now();
    const url = `127.0.0.1:${node.httpPort}/live/rw.flv?rewind=${REWIND_S}`;
    const rewinders: TestViewer[] = [];
    // Nobody watches live/rw live: the copying worker has no copy (nor history) until a rewind viewer arrives.
    const rw = await waitFor('rewind viewers on both workers', async () => {
      if (rewinders.length < 10) rewinders.push(rewinders.length % 2 === 0 ? httpViewer(`http://${url}`) : wsViewer(`ws://${url}`));
      const s = (await streamsOf(node)).find((x) => x.name === 'live/rw');
      return s !== undefined && s.workers.length === 2 && s.workers.every((w) => w.viewers > 0) && s.viewers.total === rewinders.length ? s : undefined;
    }, 90_000, 500);
    viewers.push(...rewinders);
    expect(rw.workers.filter((w) => w.owner)).toHaveLength(1);
    await waitFor('every rewind viewer has video', () => rewinders.every((v) => v.flv.videoFrames().length >= 10), 60_000, 500);
    // Live can have moved on at most as fast as the clock (the publisher sends at real-time pace).
    const liveBound = anchor.timestamp + (Date.now() - anchorAt);
    for (const v of rewinders) {
      expect(v.flv.problems()).toEqual([]);
      // The owner's arrival anchor rides only a copy's pull, never a viewer's rewind link.
      expect(v.flv.tags.filter((t) => t.payload.includes('|gatewayArrival'))).toEqual([]);
      const first = v.flv.firstVideoFrame()!.timestamp;
      // Rewound on the owner's timeline (keyframes are 1 s apart): a viewer served live from a copy
      // that had just started would begin near 0, on the copy's own timeline.
      expect(first).toBeGreaterThanOrEqual(anchor.timestamp - REWIND_S * 1000 - 1_500);
      expect(first).toBeLessThanOrEqual(liveBound - REWIND_S * 1000 + 1_500);
    }
  }, TEST_MS);
});
