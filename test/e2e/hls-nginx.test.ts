// Issue 14: 200 HLS clients through the shipped nginx config (its cached HLS locations) cost the
// gateway about one request per part and segment. nginx's access log names the upstream of every
// request that reached the gateway; each client follows the live edge with blocking reloads and
// fetches every new part, bounded in rounds and time.
import { readFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publish, testSource, type Proc } from '../support/ffmpeg.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { waitFor } from '../support/wait.js';
import { parsePlaylist } from '../hls/helpers.js';
import { deployedSite, freePort, startNginx, type Nginx } from '../support/nginx.js';

const CLIENTS = 200;
const ROUNDS = 8;

/**
 * nginx with the shipped site and an access log naming, per request, the upstream it went to ("-" when
 * the cache answered): the lines with an upstream are the gateway's requests.
 */
async function startLoggingProxy(gatewayPort: number): Promise<{ nginx: Nginx; base: string; gatewayRequests: () => { lines: number; counts: Map<string, number> } }> {
  const port = await freePort();
  const nginx = await startNginx(
    `http {
  log_format upstream '$upstream_addr $request_uri';
  access_log logs/upstream.log upstream;
  client_body_temp_path temp/body;
  proxy_temp_path temp/proxy;
  fastcgi_temp_path temp/fastcgi;
  uwsgi_temp_path temp/uwsgi;
  scgi_temp_path temp/scgi;
  ${deployedSite(port, gatewayPort)}
}`,
    port,
  );
  const gatewayRequests = () => {
    const counts = new Map<string, number>();
    let lines = 0;
    for (const line of readFileSync(path.join(nginx.prefix, 'logs/upstream.log'), 'utf8').split('\n')) {
      const [upstream, uri] = line.split(' ');
      if (uri === undefined) continue;
      lines++;
      if (upstream === '-') continue;
      // the gateway sees the path without nginx's /live-gateway prefix
      const u = uri.replace(/^\/live-gateway/, '');
      counts.set(u, (counts.get(u) ?? 0) + 1);
    }
    return { lines, counts };
  };
  return { nginx, base: `127.0.0.1:${port}/live-gateway`, gatewayRequests };
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
    req.setTimeout(45_000, () => req.destroy(new Error(`timeout ${url}`)));
  });
}

/** One LL-HLS client: playlist, init, then per round a blocking reload and every new part. */
async function client(base: string, deadline: number): Promise<{ parts: number; requests: number; failures: string[] }> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const seen = new Set<string>();
  const failures: string[] = [];
  let requests = 0;
  const fetchOne = (url: string) => {
    requests++;
    return get(agent, url);
  };
  try {
    let p = parsePlaylist((await fetchOne(`${base}/index.m3u8`)).body.toString());
    const init = await fetchOne(`${base}/${p.epoch}/init.mp4`);
    if (init.status !== 200) failures.push(`init ${init.status}`);
    // the newest complete segment, as a client starting on segments would
    const seg = p.segments[p.segments.length - 1]!;
    const s = await fetchOne(`${base}/${seg.uri}`);
    if (s.status !== 200) failures.push(`${seg.uri} ${s.status}`);
    for (const part of p.parts) seen.add(part.uri);
    for (let round = 0; round < ROUNDS && Date.now() < deadline; round++) {
      const hint = p.hint!;
      const r = await fetchOne(`${base}/index.m3u8?_HLS_msn=${hint.msn}&_HLS_part=${hint.index}`);
      if (r.status !== 200) {
        failures.push(`reload ${r.status}`);
        continue;
      }
      p = parsePlaylist(r.body.toString());
      for (const part of p.parts) {
        if (seen.has(part.uri)) continue;
        seen.add(part.uri);
        const x = await fetchOne(`${base}/${part.uri}`);
        if (x.status !== 200) failures.push(`${part.uri} ${x.status}`);
      }
    }
    return { parts: seen.size, requests, failures };
  } finally {
    agent.destroy();
  }
}

describe('200 HLS clients through the shipped nginx config', () => {
  let gw: TestGateway;
  let pub: Proc;
  let nginx: Nginx;
  let base: string;
  let gatewayRequests: () => { lines: number; counts: Map<string, number> };

  beforeAll(async () => {
    testSource();
    gw = await startTestGateway();
    pub = publish(gw.rtmpUrl('live/cached'));
    await waitFor('stream ready', () => gw.hub.get('live/cached')?.ready === true);
    ({ nginx, base, gatewayRequests } = await startLoggingProxy(gw.httpPort));
  });
  afterAll(async () => {
    await nginx?.stop();
    await pub?.stop();
    await gw?.close();
  });

  // Bounded in rounds and in time; generous because the machine running it may be shared.
  it('each part, segment and init segment costs the gateway at most a few requests', { timeout: 150_000 }, async () => {
    const streamBase = `http://${base}/live/cached`;
    // warm the muxer so every client starts on the same live stream
    expect((await fetch(`${streamBase}/index.m3u8`)).status).toBe(200);
    const deadline = Date.now() + 60_000;
    const results = await Promise.all(Array.from({ length: CLIENTS }, () => client(streamBase, deadline)));
    const failures = results.flatMap((r) => r.failures);
    expect(failures).toEqual([]);
    expect(Math.min(...results.map((r) => r.parts))).toBeGreaterThan(ROUNDS);

    // nginx logs a request just after its response: wait until every request made is in the log
    const made = 1 + results.reduce((n, r) => n + r.requests, 0);
    const { counts } = await waitFor('every request logged', () => (gatewayRequests().lines >= made ? gatewayRequests() : undefined));
    const perResource = (re: RegExp) => [...counts].filter(([u]) => re.test(u)).map(([, n]) => n);
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
      gatewayRequestsForPlainPlaylists: counts.get('/live/cached/index.m3u8'),
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
