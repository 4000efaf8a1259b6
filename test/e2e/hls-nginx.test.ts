// Issue 14: 200 HLS clients through the shipped nginx config (its cached HLS locations) cost the
// gateway about one request per part and segment. A counting HTTP proxy between nginx and the
// gateway sees every upstream request; each client follows the live edge with blocking reloads
// and fetches every new part, bounded in rounds and time.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publish, testSource, type Proc } from '../support/ffmpeg.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { waitFor } from '../support/wait.js';
import { parsePlaylist } from '../hls/helpers.js';
import { startProxy, type Nginx } from '../support/nginx.js';

const CLIENTS = 200;
const ROUNDS = 8;

/** Forwards to the gateway and counts requests by path and query. */
async function countingProxy(target: number): Promise<{ port: number; counts: Map<string, number>; close(): Promise<void> }> {
  const counts = new Map<string, number>();
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  const server = http.createServer((req, res) => {
    counts.set(req.url!, (counts.get(req.url!) ?? 0) + 1);
    const up = http.request({ host: '127.0.0.1', port: target, path: req.url, method: req.method, headers: req.headers, agent }, (r) => {
      res.writeHead(r.statusCode!, r.headers);
      r.pipe(res);
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    port: (server.address() as AddressInfo).port,
    counts,
    close: () => {
      agent.destroy();
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

function get(agent: http.Agent, url: string): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.setTimeout(20_000, () => req.destroy(new Error(`timeout ${url}`)));
  });
}

/** One LL-HLS client: playlist, init, then per round a blocking reload and every new part. */
async function client(base: string, deadline: number): Promise<{ parts: number; failures: string[] }> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const seen = new Set<string>();
  const failures: string[] = [];
  try {
    let p = parsePlaylist((await get(agent, `${base}/index.m3u8`)).body.toString());
    const init = await get(agent, `${base}/${p.epoch}/init.mp4`);
    if (init.status !== 200) failures.push(`init ${init.status}`);
    // the newest complete segment, as a client starting on segments would
    const seg = p.segments[p.segments.length - 1]!;
    const s = await get(agent, `${base}/${seg.uri}`);
    if (s.status !== 200) failures.push(`${seg.uri} ${s.status}`);
    for (const part of p.parts) seen.add(part.uri);
    for (let round = 0; round < ROUNDS && Date.now() < deadline; round++) {
      const hint = p.hint!;
      const r = await get(agent, `${base}/index.m3u8?_HLS_msn=${hint.msn}&_HLS_part=${hint.index}`);
      if (r.status !== 200) {
        failures.push(`reload ${r.status}`);
        continue;
      }
      p = parsePlaylist(r.body.toString());
      for (const part of p.parts) {
        if (seen.has(part.uri)) continue;
        seen.add(part.uri);
        const x = await get(agent, `${base}/${part.uri}`);
        if (x.status !== 200) failures.push(`${part.uri} ${x.status}`);
      }
    }
    return { parts: seen.size, failures };
  } finally {
    agent.destroy();
  }
}

describe('200 HLS clients through the shipped nginx config', () => {
  let gw: TestGateway;
  let pub: Proc;
  let nginx: Nginx;
  let base: string;
  let counter: Awaited<ReturnType<typeof countingProxy>>;

  beforeAll(async () => {
    testSource();
    gw = await startTestGateway();
    pub = publish(gw.rtmpUrl('live/cached'));
    await waitFor('stream ready', () => gw.hub.get('live/cached')?.ready === true);
    counter = await countingProxy(gw.httpPort);
    ({ nginx, base } = await startProxy(counter.port));
  });
  afterAll(async () => {
    await nginx?.stop();
    await counter?.close();
    await pub?.stop();
    await gw?.close();
  });

  it('each part, segment and init segment costs the gateway at most a few requests', async () => {
    const streamBase = `http://${base}/live/cached`;
    // warm the muxer so every client starts on the same live stream
    expect((await fetch(`${streamBase}/index.m3u8`)).status).toBe(200);
    const deadline = Date.now() + 40_000;
    const results = await Promise.all(Array.from({ length: CLIENTS }, () => client(streamBase, deadline)));
    const failures = results.flatMap((r) => r.failures);
    expect(failures).toEqual([]);
    expect(Math.min(...results.map((r) => r.parts))).toBeGreaterThan(ROUNDS);

    const perResource = (re: RegExp) => [...counter.counts].filter(([u]) => re.test(u)).map(([, n]) => n);
    const parts = perResource(/\/part\d+\.\d+\.m4s$/);
    const segments = perResource(/\/seg\d+\.m4s$/);
    const inits = perResource(/\/init\.mp4$/);
    const reloads = perResource(/index\.m3u8\?_HLS_msn=/);
    const clientRequests = results.reduce((n, r) => n + r.parts, 0);
    const summary = {
      clients: CLIENTS,
      partsFetchedByClients: clientRequests,
      distinctParts: parts.length,
      gatewayRequestsPerPart: { max: Math.max(...parts), mean: parts.reduce((a, b) => a + b, 0) / parts.length },
      gatewayRequestsPerSegment: { max: Math.max(...segments), distinct: segments.length },
      gatewayRequestsForInit: inits,
      gatewayRequestsPerBlockingReload: { max: Math.max(...reloads), distinct: reloads.length },
      // one per client: the live edge right now is never cached
      gatewayRequestsForPlainPlaylists: counter.counts.get('/live/cached/index.m3u8'),
    };
    console.log(`HLS through nginx: ${JSON.stringify(summary)}`);
    expect(parts.length).toBeGreaterThan(ROUNDS);
    expect(Math.max(...parts)).toBeLessThanOrEqual(3);
    expect(Math.max(...segments)).toBeLessThanOrEqual(3);
    expect(inits.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(3);
    expect(Math.max(...reloads)).toBeLessThanOrEqual(3);
    expect(nginx.log()).not.toMatch(/\[emerg\]|\[alert\]/);
  });
});
