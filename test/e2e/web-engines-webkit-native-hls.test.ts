// Issue 14, the iPhone path without Media Source Extensions: a browser with neither MediaSource
// nor ManagedMediaSource, given proto=auto, plays the gateway's LL-HLS playlist with its own HLS
// (video.src = …/index.m3u8). WebKitGTK plays HLS through GStreamer's hlsdemux; both MSE classes are
// deleted before the page's scripts run (as on an iPhone before iOS 17.1, or a TV).
// WebKitGTK turned its native HLS off by default in 2.40 (GStreamer's hlsdemux is little maintained,
// and WebKit sites fall back to MSE); WEBKIT_GST_ENABLE_HLS_SUPPORT=1 turns it back on, and the
// driver's MiniBrowser inherits this process's environment. Without it canPlayType answers "" and
// the page says it cannot play (the Chromium test in web-page-hls covers that answer).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EngineFixture } from '../support/engines/page-suite.js';

const HIDE_ALL_MSE = 'delete window.MediaSource; delete window.WebKitMediaSource; delete window.ManagedMediaSource;';

interface Seen {
  proto: string;
  state: string;
  message: string;
  src: string;
  currentTime: number;
  frames: number;
  width: number;
  mse: boolean;
  /** the demo page's Protocol figure */
  shown: string;
}

const SEEN = `(function () {
  var v = document.getElementById('video');
  var s = window.__player ? window.__player.stats() : null;
  var st = document.getElementById('status');
  var protoStat = document.querySelector('[data-stat="proto"]');
  var q = v.getVideoPlaybackQuality ? v.getVideoPlaybackQuality() : { totalVideoFrames: 0 };
  return { proto: s ? s.proto : '', state: st.dataset.state || '', message: st.textContent || '', shown: protoStat ? protoStat.textContent : '',
    src: v.currentSrc || v.src || '', currentTime: v.currentTime, frames: q.totalVideoFrames, width: v.videoWidth,
    mse: 'MediaSource' in window || 'ManagedMediaSource' in window || 'WebKitMediaSource' in window };
})()`;

let fx: EngineFixture | undefined;

beforeEach(async () => {
  process.env.WEBKIT_GST_ENABLE_HLS_SUPPORT = '1';
  fx = await EngineFixture.start('webkit');
});
afterEach(async () => {
  delete process.env.WEBKIT_GST_ENABLE_HLS_SUPPORT;
  await fx?.close();
  fx = undefined;
});

describe('WebKitGTK without MediaSource and ManagedMediaSource', () => {
  it.each(['embed', 'demo'])('plays native HLS on the %s page with no proto given (auto), currentTime advancing', async (kind) => {
    const stream = await fx!.publish(`native-hls-${kind}`);
    const path = kind === 'embed' ? `/embed.html?stream=${stream}` : `/?stream=${stream}`;
    const page = await fx!.browser.open(fx!.gw.httpUrl(path), { viewport: { width: 1280, height: 800 }, initScript: HIDE_ALL_MSE });
    const read = () => page.evaluate<Seen>(SEEN);
    const first = await page.waitForFunction<Seen>(`(function (s) { return s.state === 'playing' && s.currentTime > 0 && s.width > 0 ? s : null; })(${SEEN})`,
      { what: 'native HLS to play', timeoutMs: 60_000, intervalMs: 250 }).catch(async (err) => {
      throw new Error(`${(err as Error).message}: ${JSON.stringify(await read())} ${JSON.stringify(await page.consoleLines())}`);
    });
    expect(first.mse).toBe(false);
    expect(first.proto).toBe('hls');
    // the page is loaded through the harness's injecting proxy: its origin is the proxy's
    expect(new URL(first.src).pathname).toBe(`/${stream}/index.m3u8`);
    expect(first.message).toContain('LL-HLS, native');
    if (kind === 'demo') {
      await page.waitForFunction(`document.querySelector('[data-stat="proto"]').textContent === 'LL-HLSchosen by Auto · native'`,
        { what: 'the Protocol figure to say Auto chose native LL-HLS' });
    }
    const later = await page.waitForFunction<Seen>(
      `(function (s) { return s.currentTime > ${first.currentTime + 3} ? s : null; })(${SEEN})`,
      { what: 'currentTime to advance 3 s', timeoutMs: 60_000, intervalMs: 250 });
    expect(later.state).toBe('playing');
    expect(fx!.gw.hub.viewersByProtocol(fx!.gw.hub.get(stream)!).hls).toBeGreaterThanOrEqual(1);
    expect(await page.errors()).toEqual([]);
  }, 180_000);
});
