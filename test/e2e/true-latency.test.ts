// Issue 15: the page shows true latency (gateway receipt -> frame on screen) beside the buffer ahead,
// and a new viewer starts at the latency it keeps: no latency-chase seeks in its first seconds.
// ffmpeg publishes H.264 + AAC in real time; Chromium plays the demo page over both protocols.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, type TestBrowser } from '../support/browser.js';
import { publish, type Proc } from '../support/ffmpeg.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { waitFor } from '../support/wait.js';

let gw: TestGateway;
let browser: TestBrowser;
let ffmpeg: Proc;
const NAME = 'live/true-latency';

beforeAll(async () => {
  gw = await startTestGateway();
  ffmpeg = publish(gw.rtmpUrl(NAME));
  await waitFor('stream ready', () => gw.hub.get(NAME)?.ready, 30_000);
  browser = await launchBrowser();
  // Record the seeks of the video element in the first 2 s after it started playing, where mpegts.js's
  // latency chaser used to cut the join burst (the join's own positioning seek comes before playback).
  await browser.context.addInitScript(`
    document.addEventListener('playing', () => { window.__playedAt = window.__playedAt || performance.now(); }, true);
    document.addEventListener('seeking', (e) => {
      if (window.__playedAt && performance.now() - window.__playedAt < 2000) (window.__joinSeeks = window.__joinSeeks || []).push(e.target.currentTime);
    }, true);`);
});
afterAll(async () => {
  await browser?.close();
  await ffmpeg?.stop();
  await gw?.close();
});

interface Stats {
  state: string;
  trueLatency: number | null;
  bufferedAhead: number;
  decodedFrames: number;
}

describe('true latency on the demo page', () => {
  it.each(['ws', 'http'])('over %s: stats() and the page show a true latency that is positive, finite and above the buffer ahead; the join makes no seek', async (proto) => {
    const tp = await browser.open(gw.httpUrl(`/?stream=${NAME}&proto=${proto}`));
    const stats = () => tp.page.evaluate('window.__player ? window.__player.stats() : null') as Promise<Stats | null>;
    const seen = await waitFor('a true latency', async () => {
      const s = await stats();
      return s !== null && s.state === 'playing' && s.trueLatency !== null && s.decodedFrames > 30 ? s : undefined;
    }, 30_000, 100).catch(async (e: Error) => { throw new Error(`${e.message}: ${JSON.stringify(await stats())} ${tp.console.slice(-5).join(' | ')}`); });
    expect(Number.isFinite(seen.trueLatency)).toBe(true);
    expect(seen.trueLatency!).toBeGreaterThan(0);
    // The buffer is one part of the delay: the gateway -> browser path and the decoder add to it.
    // The two figures are read at slightly different moments (true latency at the last presented
    // frame, buffer ahead when stats() runs, a fetch chunk may land between), so compare medians
    // over twenty readings rather than one pair.
    const samples: Stats[] = [];
    await waitFor('twenty readings', async () => {
      const s = await stats();
      if (s !== null && s.trueLatency !== null && (samples.length === 0 || s.decodedFrames > samples[samples.length - 1]!.decodedFrames)) samples.push(s);
      return samples.length >= 20 ? true : undefined;
    }, 30_000, 100);
    const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    expect(samples.every((s) => Number.isFinite(s.trueLatency) && s.trueLatency! > 0)).toBe(true);
    expect(median(samples.map((s) => s.trueLatency!))).toBeGreaterThan(median(samples.map((s) => s.bufferedAhead)));
    const shown = await tp.page.locator('[data-stat="true-latency"]').textContent();
    expect(shown).toMatch(/^\d+\.\d\d s/);
    expect(await tp.page.locator('#stat-latency-label').textContent()).toBe('Buffer ahead');
    // The join started at the end of the burst: no latency-chase seek in the first 2 s of playback.
    expect(await tp.page.evaluate('window.__joinSeeks || []')).toEqual([]);
    expect(tp.errors.map((e) => e.message)).toEqual([]);
    await tp.close();
  });
});
