// Issue: Enhanced RTMP (E-RTMP v1/v2). A publisher built from the gateway's own RTMP modules sends
// ExHeader video (hvc1, av01) and audio (Opus) built from ffmpeg-encoded elementary streams; WS-FLV,
// HTTP-FLV and RTMP viewers must get every body byte for byte, the API must name the codecs, and
// an AV1 + Opus stream must play in headless Chromium through mpegts.js.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { launchBrowser, type TestBrowser, type TestPage } from '../support/browser.js';
import {
  interleave, opusFrameMessages, opusSequenceStart, videoFrameMessages, videoSequenceStart,
} from '../support/enhanced-publisher.js';
import { waitFor } from '../support/wait.js';
import { gw, av1, opus, metadataFor, publish, useEnhancedRtmpBed } from '../support/enhanced-rtmp/e2e-bed.js';

useEnhancedRtmpBed();

interface PlayerStats {
  state: string;
  decodedFrames: number;
  currentTime: number;
  videoWidth: number;
  videoHeight: number;
}

describe('Enhanced RTMP playback in the browser', () => {
  let browser: TestBrowser;
  const pages: TestPage[] = [];
  beforeAll(async () => {
    browser = await launchBrowser();
    // Record the MIME types mpegts.js asks MSE for, to see which codecs it found in the stream.
    await browser.context.addInitScript(`(() => {
      window.__sourceBufferTypes = [];
      const add = MediaSource.prototype.addSourceBuffer;
      MediaSource.prototype.addSourceBuffer = function (type) {
        window.__sourceBufferTypes.push(type);
        return add.call(this, type);
      };
    })();`);
  });
  afterAll(async () => {
    await browser?.close();
  });
  afterEach(async () => {
    await Promise.all(pages.splice(0).map((p) => p.close()));
  });

  const stats = (page: Page): Promise<PlayerStats | null> =>
    page.evaluate('window.__player ? window.__player.stats() : null') as Promise<PlayerStats | null>;

  it.each([['WS-FLV', 'ws'], ['HTTP-FLV', 'http']])('AV1 + Opus published over Enhanced RTMP plays through mpegts.js on the demo page (%s)', async (_label, proto) => {
    const name = `live/av1-${proto}`;
    const publisher = await publish(name, metadataFor(av1, opus));
    await publisher.send([videoSequenceStart(av1), opusSequenceStart(opus)]);
    // Loop the 4 s clip in real time; audio trimmed to the video's length so the loops abut.
    const period = av1.durationMs;
    publisher.loop(interleave(videoFrameMessages(av1), opusFrameMessages(opus).filter((m) => m.timestamp < period)), period);
    await waitFor(`${name} ready`, () => gw.hub.get(name)?.ready);

    const tp = await browser.open(gw.httpUrl(`/?stream=${name}&proto=${proto}`));
    pages.push(tp);
    let last: PlayerStats | null = null;
    const describeState = (): string => JSON.stringify({ stats: last, pageErrors: tp.errors.map((e) => e.message), console: tp.console.slice(-8) });
    try {
      last = await waitFor('the player to decode AV1 frames', async () => {
        const s = await stats(tp.page);
        last = s;
        return s !== null && s.state === 'playing' && s.decodedFrames > 0 && s.videoWidth > 0 ? s : undefined;
      }, 30_000, 100);
      const first = last;
      // Decoding keeps going: at least 30 more frames (1 s of video) and the playhead moves.
      last = await waitFor('decoded frames to rise', async () => {
        const s = await stats(tp.page);
        last = s;
        return s !== null && s.decodedFrames >= first.decodedFrames + 30 && s.currentTime > first.currentTime + 0.5 ? s : undefined;
      }, 20_000, 100);
    } catch (err) {
      throw new Error(`${(err as Error).message}: ${describeState()}`);
    }
    expect(last.videoWidth, describeState()).toBe(640);
    expect(last.videoHeight).toBe(360);
    // mpegts.js 1.8 never emits MEDIA_INFO for AV1 (width/height only arrive with the first keyframe,
    // after its completeness checks ran), so stats() has no codec names: read what reached MSE instead.
    const types = (await tp.page.evaluate('window.__sourceBufferTypes')) as string[];
    expect(types.some((t) => /^video\/mp4;\s*codecs="?av01\./.test(t)), JSON.stringify(types)).toBe(true);
    expect(types.some((t) => /^audio\/mp4;\s*codecs="?opus/.test(t)), JSON.stringify(types)).toBe(true);
    // The Opus track decodes too (Chromium's per-element counter of decoded audio bytes rises).
    const audioBytes = (): Promise<number> =>
      tp.page.evaluate('document.querySelector("video").webkitAudioDecodedByteCount') as Promise<number>;
    const a0 = await audioBytes();
    await waitFor('decoded audio bytes to rise', async () => (await audioBytes()) > a0, 10_000, 100);
    expect(tp.errors.map((e) => e.message)).toEqual([]);
  });
});
