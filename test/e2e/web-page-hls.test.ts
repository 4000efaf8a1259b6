// Issue 14, "the page chooses": the embed page plays the gateway's LL-HLS through hls.js (loaded on
// demand from vendor/hls.js) when asked with proto=hls, frames and currentTime advancing and the
// player saying "hls"; and with proto=auto in a browser with neither Media Source Extensions
// (window.MediaSource deleted before the page loads) nor native HLS (this Chromium answers "maybe"
// for HLS, so canPlayType is hidden too) the page says clearly that it cannot play; with only
// MediaSource deleted, proto=auto plays through Chromium's own HLS.
import { describe, expect, it } from 'vitest';
import type { TestPage } from '../support/browser.js';
import { publish } from '../support/ffmpeg.js';
import { pageTestbed } from '../support/page-testbed.js';
import { waitFor } from '../support/wait.js';

interface PlayerStats {
  state: string;
  message: string;
  proto: string;
  url: string;
  decodedFrames: number;
  currentTime: number;
  videoWidth: number;
}

const WAIT_MS = 40_000;

const bed = pageTestbed();
const { procs, pages } = bed;
const CANNOT_PLAY = 'This browser cannot play live video: it has neither Media Source Extensions nor native HLS.';
const NO_MSE = 'delete window.MediaSource; delete window.ManagedMediaSource;';
// Chromium answers "maybe" for HLS; a browser without native HLS answers "".
const NO_NATIVE_HLS = `(() => {
  const real = HTMLMediaElement.prototype.canPlayType;
  HTMLMediaElement.prototype.canPlayType = function (t) { return /mpegurl/i.test(t) ? '' : real.call(this, t); };
})();`;


function stats(tp: TestPage): Promise<PlayerStats | null> {
  return tp.page.evaluate('window.__player ? window.__player.stats() : null') as Promise<PlayerStats | null>;
}

/** Frames the element really presented (getVideoPlaybackQuality), not what the player reports. */
function presentedFrames(tp: TestPage): Promise<number> {
  return tp.page.evaluate('document.getElementById("video").getVideoPlaybackQuality().totalVideoFrames') as Promise<number>;
}

describe('the embed page chooses its protocol', () => {
  it('plays LL-HLS through hls.js with proto=hls, and says so', async () => {
    const name = 'live/embed-hls';
    procs.push(publish(bed.gw.rtmpUrl(name)));
    await waitFor(`${name} ready`, () => bed.gw.hub.get(name)?.ready === true, WAIT_MS);
    const tp = await bed.browser.open(bed.gw.httpUrl(`/embed.html?stream=${name}&proto=hls`), { viewport: { width: 640, height: 360 } });
    pages.push(tp);
    let last: PlayerStats | null = null;
    const describe = () => JSON.stringify({ stats: last, errors: tp.errors.map((e) => e.message), console: tp.console.slice(-5) });
    const first = await waitFor('the player to play over HLS', async () => {
      last = await stats(tp);
      return last?.state === 'playing' && last.decodedFrames > 0 ? last : undefined;
    }, WAIT_MS).catch((err: Error) => { throw new Error(`${err.message}: ${describe()}`); });
    const framesBefore = await presentedFrames(tp);
    const second = await waitFor('frames and currentTime to advance', async () => {
      last = await stats(tp);
      const frames = await presentedFrames(tp);
      return last && frames > framesBefore + 10 && last.currentTime > first.currentTime + 0.5 ? last : undefined;
    }, WAIT_MS).catch((err: Error) => { throw new Error(`${err.message}: ${describe()}`); });

    expect(second.proto).toBe('hls');
    expect(second.url).toBe(bed.gw.httpUrl(`/${name}/index.m3u8`));
    expect(second.videoWidth).toBe(1280);
    expect(second.message).toContain('LL-HLS, hls.js');
    expect(await tp.page.getByTestId('status').textContent()).toContain('LL-HLS');
    // hls.js came from the gateway on demand, and the gateway serves this page over HLS.
    expect(await tp.page.evaluate('typeof window.Hls')).toBe('function');
    expect(bed.gw.hub.viewersByProtocol(bed.gw.hub.get(name)!).hls).toBeGreaterThanOrEqual(1);
    expect(tp.errors).toEqual([]);
  });

  it('plays through Chromium\'s own HLS with proto=auto when the browser has no MSE', async () => {
    const name = 'live/embed-native';
    procs.push(publish(bed.gw.rtmpUrl(name)));
    await waitFor(`${name} ready`, () => bed.gw.hub.get(name)?.ready === true, WAIT_MS);
    // A full live playlist first: on a playlist of one or two segments, right after the stream
    // starts, Chromium's own HLS gives up (DEMUXER_ERROR_COULD_NOT_PARSE after its second playlist
    // read; hls.js and WebKit play those). It starts with the first listed segment, which the
    // gateway keeps serving after it leaves the playlist (RFC 8216 §6.2.2, unit-tested in segmenter).

    const listed = () => bed.gw.hls.muxer(name)?.segmenter?.segments.filter((x) => x.complete).length ?? 0;
    await waitFor('a full playlist', async () => {
      await (await fetch(bed.gw.httpUrl(`/${name}/index.m3u8`))).text();
      return listed() >= bed.gw.hls.options.segmenter.maxSegments ? true : undefined;
    }, WAIT_MS, 500);
    const tp = await bed.browser.open(bed.gw.httpUrl(`/embed.html?stream=${name}`), { viewport: { width: 640, height: 360 }, initScript: NO_MSE });
    pages.push(tp);
    expect(await tp.page.evaluate('typeof window.MediaSource')).toBe('undefined');
    const video = () => tp.page.evaluate('({ t: video.currentTime, w: video.videoWidth, src: video.currentSrc, err: video.error && video.error.message })') as
      Promise<{ t: number; w: number; src: string; err: string | null }>;
    const first = await waitFor('native HLS to play', async () => {
      const v = await video();
      return v.t > 0 && v.w > 0 ? v : undefined;
    }, WAIT_MS).catch(async (err: Error) => { throw new Error(`${err.message}: ${JSON.stringify(await video())}`); });
    expect(first.src).toBe(bed.gw.httpUrl(`/${name}/index.m3u8`));
    await waitFor('currentTime to advance 2 s', async () => ((await video()).t > first.t + 2 ? true : undefined), WAIT_MS);
    const s = (await stats(tp))!;
    expect(s.proto).toBe('hls');
    expect(s.message).toContain('LL-HLS, native');
    expect((await video()).err).toBeNull();
    expect(tp.errors).toEqual([]);
  });

  it('says it cannot play with proto=auto when the browser has neither MSE nor native HLS', async () => {
    const name = 'live/embed-no-mse';
    procs.push(publish(bed.gw.rtmpUrl(name)));
    await waitFor(`${name} ready`, () => bed.gw.hub.get(name)?.ready === true, WAIT_MS);
    const tp = await bed.browser.open(bed.gw.httpUrl(`/embed.html?stream=${name}&proto=auto`), {
      initScript: NO_MSE + NO_NATIVE_HLS,
    });
    pages.push(tp);
    expect(await tp.page.evaluate('typeof window.MediaSource')).toBe('undefined');
    const status = tp.page.getByTestId('status');
    await waitFor('the cannot-play status', async () => ((await status.textContent()) === CANNOT_PLAY ? true : undefined), WAIT_MS);
    expect(await status.getAttribute('data-state')).toBe('unsupported');
    expect(((await stats(tp)) as PlayerStats).proto).toBe('hls');
    expect(tp.errors).toEqual([]);
  });
});
