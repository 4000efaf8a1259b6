// A local test page that plays an HLS URL with hls.js from the project's own node_modules (no CDN),
// served by the test itself on loopback. The page exposes what it sees as window.__hlsStats().
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const HLS_JS = readFileSync(require.resolve('hls.js/dist/hls.min.js'));

export interface HlsPageStats {
  currentTime: number;
  frames: number;
  partsLoaded: number;
  fragsLoaded: number;
  errors: string[];
  latency: number;
  paused: boolean;
}

function page(lowLatency: boolean): string {
  return `<!doctype html><meta charset="utf-8"><title>hls.js test</title>
<video id="v" muted autoplay playsinline width="640" height="360"></video>
<script src="/hls.min.js"></script>
<script>
  const src = new URLSearchParams(location.search).get('src');
  const video = document.getElementById('v');
  const seen = { partsLoaded: 0, fragsLoaded: 0, errors: [] };
  const hls = new Hls({ lowLatencyMode: ${lowLatency}, liveSyncDurationCount: 2 });
  hls.on(Hls.Events.FRAG_LOADED, (_e, d) => { if (d.part) seen.partsLoaded++; else seen.fragsLoaded++; });
  hls.on(Hls.Events.ERROR, (_e, d) => { if (d.fatal) seen.errors.push(d.type + ':' + d.details); });
  hls.loadSource(src);
  hls.attachMedia(video);
  video.play().catch(() => {});
  window.__hls = hls;
  window.__hlsStats = () => ({
    currentTime: video.currentTime,
    frames: video.getVideoPlaybackQuality().totalVideoFrames,
    partsLoaded: seen.partsLoaded,
    fragsLoaded: seen.fragsLoaded,
    errors: seen.errors,
    latency: hls.latency,
    paused: video.paused,
  });
</script>`;
}

/** Serve the page (`/?src=URL`, `/plain.html?src=URL` without low-latency mode) and hls.js on loopback. */
export async function startHlsPage(): Promise<{ url: (src: string, lowLatency?: boolean) => string; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/hls.min.js') {
      res.writeHead(200, { 'Content-Type': 'text/javascript' }).end(HLS_JS);
    } else if (path === '/' || path === '/plain.html') {
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' }).end(page(path === '/'));
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as AddressInfo).port;
  return {
    url: (src, lowLatency = true) => `http://127.0.0.1:${port}/${lowLatency ? '' : 'plain.html'}?src=${encodeURIComponent(src)}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
