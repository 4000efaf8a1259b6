// HLS latency bench: publisher send -> frame presented by hls.js in Chromium, with LL-HLS
// (lowLatencyMode) and as plain HLS, plus the HLS memory a stream holds.
//
// The bench publisher (bench/publisher.ts, forked) sends the bench source at real-time pace and
// reports each video payload's send time on the machine-wide monotonic clock. The gateway runs in
// this process; a hub sink maps each video frame's presentation time to its payload id. In the
// page, requestVideoFrameCallback gives each presented frame's media time and expected display
// time; hls.js passes fMP4 timestamps through, so the media time is the frame's stream time.
// latency = display time (wall clock) - send time (monotonic, converted with one offset).
//
// Usage: npx tsx bench/hls-latency.ts [--seconds 30] [--warmup 8] [--json FILE]
import { fork } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';
import { startGateway } from '../server/gateway.js';
import type { MediaTag } from '../server/hub/media-tag.js';
import type { Sink } from '../server/hub/subscriber.js';
import { parseVideoTagHeader } from '../server/media/video.js';
import { nowMs, payloadId, ROOT, stats, type PublisherMsg } from './common.js';
import { ensureSource } from './media.js';

const { values: opt } = parseArgs({
  options: {
    seconds: { type: 'string', default: '30' },
    warmup: { type: 'string', default: '8' },
    json: { type: 'string' },
  },
});
const seconds = Number(opt.seconds);
const warmup = Number(opt.warmup);
const require = createRequire(import.meta.url);
const HLS_JS = readFileSync(require.resolve('hls.js/dist/hls.min.js'));

/** Maps each video frame's presentation time (ms) to its payload id. */
class FrameIndex implements Sink {
  readonly protocol = 'record' as const;
  readonly bufferedBytes = 0;
  readonly byPts = new Map<number, string>();
  begin(): void {}
  end(): void {}
  write(tag: MediaTag): void {
    if (tag.type !== 9 || tag.config) return;
    const h = parseVideoTagHeader(tag.body);
    this.byPts.set(tag.timestamp + h.compositionTime, payloadId(tag.body));
    if (this.byPts.size > 20_000) this.byPts.delete(this.byPts.keys().next().value!);
  }
}

const PAGE = (lowLatency: boolean) => `<!doctype html><video id="v" muted autoplay playsinline></video>
<script src="/hls.min.js"></script><script>
const v = document.getElementById('v');
// Up to 1.5x playback to get back to the target latency after a stall (hls.js's default is 1: never).
const hls = new Hls({ lowLatencyMode: ${lowLatency}, maxLiveSyncPlaybackRate: 1.5 });
hls.loadSource(new URLSearchParams(location.search).get('src'));
hls.attachMedia(v);
v.play().catch(() => {});
window.__frames = [];
window.__initPts = null;
// hls.js shifts fMP4 timestamps by initPTS (stream time of the playlist's start): undo it per frame.
hls.on(Hls.Events.INIT_PTS_FOUND, (_e, d) => { window.__initPts = d.initPTS / d.timescale; });
const onFrame = (_now, m) => { if (window.__initPts !== null) window.__frames.push([m.mediaTime + window.__initPts, performance.timeOrigin + m.expectedDisplayTime]); v.requestVideoFrameCallback(onFrame); };
v.requestVideoFrameCallback(onFrame);
window.__latency = () => hls.latency;
window.__target = () => hls.targetLatency;
</script>`;

async function main(): Promise<void> {
  const source = ensureSource();
  const gw = await startGateway({ host: '127.0.0.1', 'rtmp-port': 0, 'http-port': 0, 'log-level': 'warn' });
  // The source loops, so a payload recurs every loop: keep each send, pick the last one before display.
  const sendTimes = new Map<string, number[]>();
  const pub = fork(path.join(ROOT, 'bench', 'publisher.ts'), ['--port', String(gw.rtmpPort), '--app', 'live', '--key', 'hlsbench', '--file', source], {
    cwd: ROOT,
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  pub.on('message', (m: PublisherMsg) => {
    if (m.k !== 'tags') return;
    for (const t of m.tags) {
      if (t.h === null) continue;
      const list = sendTimes.get(t.h);
      if (list === undefined) sendTimes.set(t.h, [t.t]);
      else list.push(t.t);
    }
  });
  const page = http.createServer((req, res) => {
    const p = (req.url ?? '/').split('?')[0];
    if (p === '/hls.min.js') res.writeHead(200, { 'Content-Type': 'text/javascript' }).end(HLS_JS);
    else res.writeHead(200, { 'Content-Type': 'text/html' }).end(PAGE(p === '/ll'));
  });
  await new Promise<void>((r) => page.listen(0, '127.0.0.1', () => r()));
  const pagePort = (page.address() as AddressInfo).port;
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: ['--no-sandbox', '--autoplay-policy=no-user-gesture-required'] });
  const results: Record<string, unknown> = {};
  try {
    while (gw.hub.get('live/hlsbench')?.ready !== true) await new Promise((r) => setTimeout(r, 100));
    const index = new FrameIndex();
    gw.hub.subscribe('live/hlsbench', index);
    let maxHlsBytes = 0;
    const memTimer = setInterval(() => {
      const s = gw.hls.muxer('live/hlsbench')?.segmenter;
      if (s) maxHlsBytes = Math.max(maxHlsBytes, s.bytes + s.retiredBytes);
    }, 200);
    for (const mode of ['ll', 'plain'] as const) {
      const tab = await browser.newPage();
      await tab.goto(`http://127.0.0.1:${pagePort}/${mode}?src=${encodeURIComponent(`http://127.0.0.1:${gw.httpPort}/live/hlsbench/index.m3u8`)}`);
      await new Promise((r) => setTimeout(r, warmup * 1000));
      await tab.evaluate('window.__frames.length = 0');
      await new Promise((r) => setTimeout(r, seconds * 1000));
      const frames = (await tab.evaluate('window.__frames')) as [number, number][];
      const hlsLatency = (await tab.evaluate('window.__latency()')) as number;
      const hlsTarget = (await tab.evaluate('window.__target()')) as number;
      // wall clock -> monotonic: one offset, read now (both clocks tick together for the run)
      const wallMinusMono = Date.now() - nowMs();
      const samples: number[] = [];
      let unmatched = 0;
      for (const [mediaTime, displayWall] of frames) {
        const ms = mediaTime * 1000;
        const id = index.byPts.get(Math.round(ms)) ?? index.byPts.get(Math.floor(ms)) ?? index.byPts.get(Math.ceil(ms));
        const shown = displayWall - wallMinusMono;
        const sent = id === undefined ? undefined : sendTimes.get(id)?.filter((t) => t <= shown).at(-1);
        if (sent === undefined) {
          unmatched++;
          continue;
        }
        samples.push(shown - sent);
      }
      const s = stats(samples);
      results[mode] = { frames: frames.length, matched: samples.length, unmatched, latencyMs: s, hlsJsLatencyS: hlsLatency, hlsJsTargetS: hlsTarget };
      console.log(`${mode === 'll' ? 'LL-HLS (lowLatencyMode)' : 'plain HLS'}: ${JSON.stringify(results[mode])}`);
      await tab.close();
    }
    clearInterval(memTimer);
    const seg = gw.hls.muxer('live/hlsbench')?.segmenter;
    results['memory'] = {
      maxSegmenterBytes: maxHlsBytes,
      keptSegments: seg?.segments.filter((x) => x.complete).length,
      segmentMs: seg?.maxSegmentMs,
      initBytes: gw.hls.muxer('live/hlsbench')?.init?.length,
      boundBytes: seg?.options.maxBytes,
    };
    console.log(`HLS memory per stream: ${JSON.stringify(results['memory'])}`);
    if (opt.json !== undefined) writeFileSync(opt.json, JSON.stringify(results, null, 2));
  } finally {
    await browser.close();
    page.close();
    pub.kill();
    await gw.close();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
