// End-to-end latency: `npm run bench:e2e -- [options]`, see --help.
//
// The bench's own publisher (publisher.ts) reports the send time and RTMP timestamp of every frame.
// A real Chromium plays the stream and records, for every presented frame, its media time and
// presentation time (requestVideoFrameCallback: mediaTime, expectedDisplayTime). mpegts.js rebases
// timestamps so the first frame it receives plays at media time 0; a page script reads that first
// frame's timestamp from the bytes as they arrive (a wrapper around WebSocket and fetch that only
// looks), so media time t is timestamp first + t on the server's timeline, which for both servers is
// the publisher's own timestamps. Matching by timestamp gives send -> presented for every frame.
// The publisher's clock is CLOCK_MONOTONIC (bench/common.ts), the page's is the wall clock: both
// are read side by side in this process to convert.
import http from 'node:http';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { chromium, type Browser } from 'playwright-core';
import { nowMs, percentile, ROOT, sleep, type PublisherMsg } from './common.js';
import { ensureSource } from './media.js';
import { writeResults } from './report.js';
import { forkBench, installCleanup, killAll, startServer, stopChild, type RunningServer } from './servers.js';

const HELP = `npm run bench:e2e -- [options]

  --seconds N      measurement window per run, after a 4 s settle (default 20)
  --runs LIST      comma-separated SERVER:PAGE:PROTO, PAGE being demo (the project's page) or bare
                   (mpegts.js alone with the player's mpegts settings); default
                   gateway:demo:ws,gateway:demo:http,gateway:bare:ws,gateway:bare:http,nms:bare:ws,nms:bare:http
  --write          put the table into bench/RESULTS.md (block "e2e-latency")
  --help`;

const { values: cli } = parseArgs({
  options: { seconds: { type: 'string' }, runs: { type: 'string' }, write: { type: 'boolean' }, help: { type: 'boolean' } },
});
if (cli.help) {
  console.log(HELP);
  process.exit(0);
}
const SECONDS = Number(cli.seconds ?? 20);
const RUNS = (cli.runs ?? 'gateway:demo:ws,gateway:demo:http,gateway:bare:ws,gateway:bare:http,nms:bare:ws,nms:bare:http')
  .split(',').map((r) => {
    const [server, page, proto] = r.split(':');
    if ((server !== 'gateway' && server !== 'nms') || (page !== 'demo' && page !== 'bare') || (proto !== 'ws' && proto !== 'http')) {
      throw new Error(`bad run ${r}`);
    }
    if (server === 'nms' && page === 'demo') throw new Error('the demo page needs the gateway');
    return { server, page, proto } as const;
  });

/** Runs in the page before anything else: records the first media tag's timestamp and every presented frame. */
const PAGE_PROBE = `(() => {
  window.__e2e = { first: null, frames: [], deliveries: 0 };
  // FLV parsing just far enough to find the first audio/video frame (not a sequence header).
  let buf = new Uint8Array(0), pos = 13, minTs = null, seenA = false, seenV = false;
  // A new connection (the player reconnected) starts a new media timeline.
  function restart() { window.__e2e.first = null; buf = new Uint8Array(0); pos = 13; minTs = null; seenA = false; seenV = false; }
  function feed(chunk) {
    if (window.__e2e.first !== null) return;
    const next = new Uint8Array(buf.length + chunk.length); next.set(buf); next.set(chunk, buf.length); buf = next;
    while (pos + 11 <= buf.length) {
      const type = buf[pos], size = (buf[pos + 1] << 16) | (buf[pos + 2] << 8) | buf[pos + 3];
      if (pos + 11 + size + 4 > buf.length) return;
      const ts = ((buf[pos + 7] << 24) | (buf[pos + 4] << 16) | (buf[pos + 5] << 8) | buf[pos + 6]) >>> 0;
      const b0 = buf[pos + 11], b1 = buf[pos + 12];
      const isConfig = type === 9 ? ((b0 & 0x80) ? (b0 & 0x0f) === 0 : b1 === 0) : type === 8 ? ((b0 >> 4) === 10 && b1 === 0) : true;
      if (!isConfig) {
        if (type === 8) seenA = true; else seenV = true;
        minTs = minTs === null ? ts : Math.min(minTs, ts);
        if (seenV) { window.__e2e.first = minTs; return; }
      }
      pos += 11 + size + 4;
    }
  }
  const WS = window.WebSocket;
  window.WebSocket = class extends WS {
    constructor(...a) { super(...a); restart(); this.addEventListener('message', (e) => { window.__e2e.deliveries++; if (e.data instanceof ArrayBuffer) feed(new Uint8Array(e.data)); }); }
  };
  const f = window.fetch;
  window.fetch = async (...a) => {
    const res = await f(...a);
    if (!/\\.flv(\\?|$)/.test(String(a[0] && a[0].url || a[0])) || !res.body) return res;
    restart();
    const [mine, theirs] = res.body.tee();
    (async () => { const r = mine.getReader(); for (;;) { const { done, value } = await r.read(); if (done) return; window.__e2e.deliveries++; feed(value); } })();
    const out = new Response(theirs, { status: res.status, statusText: res.statusText, headers: res.headers });
    Object.defineProperty(out, 'url', { value: res.url });
    return out;
  };
  const hook = () => {
    const v = document.querySelector('video');
    if (!v) return setTimeout(hook, 20);
    const cb = (now, m) => { if (window.__e2e.first !== null) window.__e2e.frames.push([m.mediaTime, performance.timeOrigin + m.expectedDisplayTime, window.__e2e.first]); v.requestVideoFrameCallback(cb); };
    v.requestVideoFrameCallback(cb);
  };
  hook();
})();`;

/** The bare page: mpegts.js alone, with the settings the project's player hands it. */
function barePage(streamUrl: string, proto: string): string {
  return `<!doctype html><meta charset="utf-8"><video muted autoplay playsinline style="width:640px"></video>
<script src="/vendor/mpegts.js"></script><script src="/player.js"></script>
<script>
  const cfg = Object.assign({}, LiveGateway.mpegtsConfig);
  const p = mpegts.createPlayer({ type: 'flv', isLive: true, url: ${JSON.stringify(streamUrl)}, cors: true }, cfg);
  p.attachMediaElement(document.querySelector('video')); p.load(); p.play();
  window.__proto = ${JSON.stringify(proto)};
</script>`;
}

/** Serves the bare page, mpegts.js and the built player.js on a loopback port. */
async function pageServer(): Promise<{ url: (streamUrl: string, proto: string) => string; close: () => void }> {
  const mpegts = readFileSync(path.join(ROOT, 'node_modules/mpegts.js/dist/mpegts.js'));
  const player = readFileSync(path.join(ROOT, 'web/player.js'));
  const server = http.createServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://x');
    if (u.pathname === '/vendor/mpegts.js') return void res.end(mpegts);
    if (u.pathname === '/player.js') return void res.end(player);
    res.setHeader('Content-Type', 'text/html');
    res.end(barePage(u.searchParams.get('src') ?? '', u.searchParams.get('proto') ?? ''));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return {
    url: (src, proto) => `http://127.0.0.1:${port}/?src=${encodeURIComponent(src)}&proto=${proto}`,
    close: () => server.close(),
  };
}

interface RunResult {
  label: string;
  frames: number;
  matched: number;
  p50: number;
  p95: number;
  max: number;
  fps: number;
  /** WebSocket messages or fetch chunks the page's loader received per second */
  deliveries: number;
}

async function runOne(browser: Browser, pages: Awaited<ReturnType<typeof pageServer>>, run: (typeof RUNS)[number]): Promise<RunResult> {
  const label = `${run.server === 'nms' ? 'node-media-server 4' : 'gateway'} · ${run.page === 'demo' ? 'demo page' : 'bare mpegts.js page'} · ${run.proto === 'ws' ? 'WS-FLV' : 'HTTP-FLV'}`;
  const srv: RunningServer = await startServer(run.server, { label: `e2e-${run.server}-${run.page}-${run.proto}` });
  const sentAt = new Map<number, number>(); // video RTMP timestamp -> send time (monotonic ms)
  const publisher = forkBench('publisher.ts', ['--port', String(srv.rtmpPort), '--app', 'live', '--key', 'bench', '--file', ensureSource()], `e2e-publisher`);
  let published = false;
  publisher.on('message', (m: PublisherMsg) => {
    if (m.k === 'published') published = true;
    if (m.k === 'tags') for (const t of m.tags) if (t.ty === 9) sentAt.set(t.ts, t.t);
  });
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  try {
    // The bare page does not retry: open it once the stream is published and has its first GOP.
    for (let i = 0; i < 300 && !published; i++) await sleep(100);
    await sleep(1000);
    await context.addInitScript(PAGE_PROBE);
    const page = await context.newPage();
    page.on('pageerror', (e) => console.error(`  page error: ${e.message}`));
    page.on('console', (m) => { if (m.type() === 'error') console.error(`  page console: ${m.text()}`); });
    const src = `${run.proto}://127.0.0.1:${srv.httpPort}/live/bench.flv`;
    await page.goto(run.page === 'demo' ? `http://127.0.0.1:${srv.httpPort}/?stream=live/bench&proto=${run.proto}` : pages.url(src, run.proto));
    await sleep(4000);
    await page.evaluate('window.__e2e.frames = []; window.__e2e.deliveries = 0');
    const from = Date.now();
    await sleep(SECONDS * 1000);
    const probe = (await page.evaluate('window.__e2e')) as { frames: [number, number, number][]; deliveries: number };
    const seconds = (Date.now() - from) / 1000;
    // The page's wall clock against the publisher's monotonic clock, read together here.
    const monoToWall = Date.now() - nowMs();
    const lat: number[] = [];
    for (const [mediaTime, shownAt, first] of probe.frames) {
      const ts = Math.round(first + mediaTime * 1000);
      let sent: number | undefined;
      for (let d = 0; d <= 3 && sent === undefined; d++) sent = sentAt.get(ts - d) ?? sentAt.get(ts + d);
      if (sent !== undefined) lat.push(shownAt - (sent + monoToWall));
    }
    lat.sort((a, b) => a - b);
    return {
      label, frames: probe.frames.length, matched: lat.length,
      p50: lat.length ? percentile(lat, 50) : NaN, p95: lat.length ? percentile(lat, 95) : NaN, max: lat.at(-1) ?? NaN,
      fps: probe.frames.length / seconds,
      deliveries: probe.deliveries / seconds,
    };
  } finally {
    await context.close();
    await stopChild(publisher);
    await stopChild(srv.child);
  }
}

async function main(): Promise<void> {
  installCleanup();
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium', headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--autoplay-policy=no-user-gesture-required', '--disable-background-networking'],
  });
  const pages = await pageServer();
  const results: RunResult[] = [];
  try {
    for (const run of RUNS) {
      const r = await runOne(browser, pages, run);
      results.push(r);
      console.log(`${r.label}: p50 ${r.p50.toFixed(0)} ms, p95 ${r.p95.toFixed(0)} ms, max ${r.max.toFixed(0)} ms, ${r.fps.toFixed(1)} fps presented (${r.matched}/${r.frames} frames matched), ${r.deliveries.toFixed(0)} deliveries/s`);
    }
  } finally {
    pages.close();
    await browser.close();
    killAll();
  }
  const cmd = `npm run bench:e2e -- ${process.argv.slice(2).join(' ')}`.trim();
  const table = [
    `Command: \`${cmd}\` (${new Date().toISOString()}, ${SECONDS} s per run, publisher 720p30 H.264 2.5 Mbit/s + AAC, GOP 2 s)`,
    '',
    '| server · page · protocol | publisher send → presented p50 ms | p95 ms | max ms | frames presented / s | frames matched | WS messages or fetch chunks / s |',
    '|---|---:|---:|---:|---:|---:|---:|',
    ...results.map((r) => `| ${r.label} | ${r.p50.toFixed(0)} | ${r.p95.toFixed(0)} | ${r.max.toFixed(0)} | ${r.fps.toFixed(1)} | ${r.matched} / ${r.frames} | ${r.deliveries.toFixed(0)} |`),
  ].join('\n');
  console.log(`\n${table}`);
  if (cli.write) writeResults('e2e-latency', table);
}

main().catch((err: unknown) => {
  console.error(err);
  killAll();
  process.exit(1);
});
