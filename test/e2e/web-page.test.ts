// Issue: the web pages in a real browser. While ffmpeg publishes a 1280x720
// H.264 + AAC stream, headless Chromium plays it on the demo page and on the
// embed page over HTTP-FLV and WS-FLV, holds under a second of buffer, and
// follows the stream list through an unpublish and a republish.
import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { screenshotPath, type TestPage } from '../support/browser.js';
import { publish, type Proc } from '../support/ffmpeg.js';
import { pageTestbed } from '../support/page-testbed.js';
import { waitFor } from '../support/wait.js';

/** What `window.__player.stats()` returns (the part these tests read). */
interface PlayerStats {
  state: string;
  message: string;
  stream: string;
  proto: string;
  url: string;
  decodedFrames: number;
  droppedFrames: number;
  currentTime: number;
  bufferedAhead: number;
  videoWidth: number;
  videoHeight: number;
}

type Proto = 'ws' | 'http';
/** [label for the test name, proto parameter] */
const PROTOS: [string, Proto][] = [
  ['HTTP-FLV', 'http'],
  ['WS-FLV', 'ws'],
];

const WAIT_MS = 30_000;

const bed = pageTestbed();
const { procs, pages } = bed;
const POLL_MS = 100;


let keySeq = 0;

/** A stream name no other test uses (the gateway belongs to this file alone). */
function uniqueStream(label: string): string {
  return `live/${label}-${++keySeq}`;
}

async function publishAndWait(name: string): Promise<Proc> {
  const p = publish(bed.gw.rtmpUrl(name));
  procs.push(p);
  await waitFor(`${name} ready`, () => bed.gw.hub.get(name)?.ready === true, WAIT_MS);
  return p;
}

async function open(path: string, viewport?: { width: number; height: number }): Promise<TestPage> {
  const tp = await bed.browser.open(bed.gw.httpUrl(path), viewport ? { viewport } : {});
  pages.push(tp);
  return tp;
}

function stats(page: Page): Promise<PlayerStats | null> {
  return page.evaluate('window.__player ? window.__player.stats() : null') as Promise<PlayerStats | null>;
}

function describeState(tp: TestPage, s: PlayerStats | null): string {
  return JSON.stringify({ stats: s, pageErrors: tp.errors.map((e) => e.message), console: tp.console.slice(-5) });
}

/** Wait until the player is playing with decoded pictures; returns the stats then. */
async function waitPlaying(tp: TestPage): Promise<PlayerStats> {
  let last: PlayerStats | null = null;
  try {
    return await waitFor('the player to play', async () => {
      last = await stats(tp.page);
      return last !== null && last.state === 'playing' && last.decodedFrames > 0 && last.videoWidth > 0 ? last : undefined;
    }, WAIT_MS, POLL_MS);
  } catch (err) {
    throw new Error(`${(err as Error).message}: ${describeState(tp, last)}`);
  }
}

/** Sample twice: the decoded frame count and currentTime must both have grown. */
async function expectAdvancing(tp: TestPage): Promise<{ first: PlayerStats; second: PlayerStats }> {
  const first = await waitPlaying(tp);
  let last: PlayerStats | null = first;
  try {
    const second = await waitFor('decoded frames and currentTime to advance', async () => {
      last = await stats(tp.page);
      return last !== null && last.decodedFrames > first.decodedFrames + 10 && last.currentTime > first.currentTime + 0.3
        ? last : undefined;
    }, WAIT_MS, POLL_MS);
    // The wait above is the assertion: it fails, with the player's state, unless both advance.
    return { first, second };
  } catch (err) {
    throw new Error(`${(err as Error).message}: ${describeState(tp, last)}`);
  }
}

/** The full "it plays" check shared by the demo and embed pages. */
async function expectPlays(tp: TestPage, name: string, proto: Proto): Promise<PlayerStats> {
  const { second } = await expectAdvancing(tp);
  expect(second.stream).toBe(name);
  expect(second.proto).toBe(proto);
  expect(second.url).toBe(proto === 'ws' ? bed.gw.wsUrl(`/${name}.flv`) : bed.gw.httpUrl(`/${name}.flv`));
  expect(second.videoWidth).toBe(1280);
  expect(second.videoHeight).toBe(720);
  expect(await tp.page.getByTestId('status').getAttribute('data-state')).toBe('playing');
  // The gateway really serves this browser over the chosen protocol.
  const viewers = [...bed.gw.hub.get(name)!.subscribers].map((s) => s.sink.protocol);
  expect(viewers).toContain(proto);
  expect(tp.errors).toEqual([]);
  return second;
}

describe('the demo page in Chromium', () => {
  it.each(PROTOS)('plays a 1280x720 H.264 + AAC stream over %s from its URL parameters', async (_label, proto) => {
    const name = uniqueStream(`demo-${proto}`);
    await publishAndWait(name);
    const tp = await open(`/?stream=${name}&proto=${proto}`, { width: 1280, height: 800 });
    await expectPlays(tp, name, proto);
    expect(await tp.page.locator(`#proto-${proto}`).isChecked()).toBe(true);
    if (proto === 'ws') {
      // Screenshot once the panels have caught up: the stats render every 500 ms,
      // and api/streams (polled every 2 s) counts this page as a viewer.
      await waitFor('the panels to show the resolution and this viewer', async () =>
        (await tp.page.locator('[data-stat="resolution"]').textContent()) === '1280×720' &&
        /^1(?!\d)/.test((await tp.page.locator('[data-stat="viewers"]').textContent()) ?? '') &&
        (await tp.page.locator(`[data-testid="stream-item"][data-stream="${name}"] .stream-viewers`).textContent()) === '1 viewer',
      WAIT_MS, POLL_MS);
      await tp.page.screenshot({ path: screenshotPath('demo-playing-1280x800') });
    }
  });

  it('plays with no proto given (Auto, the default), says which protocol Auto chose, links carry the choice, and switches to LL-HLS', async () => {
    const name = uniqueStream('demo-auto');
    await publishAndWait(name);
    const tp = await open(`/?stream=${name}`, { width: 1280, height: 800 });
    // Chromium has Media Source Extensions: Auto plays WS-FLV.
    await expectPlays(tp, name, 'ws');
    expect(await tp.page.locator('#proto-auto').isChecked()).toBe(true);
    const protoStat = tp.page.locator('[data-stat="proto"]');
    await waitFor('the stats to name the chosen protocol', async () =>
      (await protoStat.getAttribute('data-proto')) === 'ws' && /^WS-FLVchosen by Auto$/.test((await protoStat.textContent()) ?? ''),
    WAIT_MS, POLL_MS);
    expect(new URL(await tp.page.locator('#url-page').inputValue()).searchParams.get('proto')).toBe('auto');
    expect(await tp.page.locator('#embed-iframe').inputValue()).toContain(`embed.html?stream=${name}&proto=auto`);
    expect(await tp.page.locator('#url-hls').inputValue()).toBe(bed.gw.httpUrl(`/${name}/index.m3u8`));

    // The LL-HLS button: hls.js plays the stream, the stats and links say so.
    await tp.page.getByTestId('proto-hls').click();
    await waitFor('the player to play LL-HLS', async () => {
      const s = await stats(tp.page);
      return s !== null && s.proto === 'hls' && s.state === 'playing' && s.decodedFrames > 0;
    }, WAIT_MS, POLL_MS);
    await waitFor('the stats to say LL-HLS through hls.js', async () =>
      (await protoStat.getAttribute('data-proto')) === 'hls' && (await protoStat.textContent()) === 'LL-HLShls.js',
    WAIT_MS, POLL_MS);
    expect(new URL(tp.page.url()).searchParams.get('proto')).toBe('hls');
    expect(new URL(await tp.page.locator('#url-page').inputValue()).searchParams.get('proto')).toBe('hls');
    expect(tp.errors).toEqual([]);
  });

  it.each(PROTOS)('holds under one second of buffer ahead while playing over %s', async (_label, proto) => {
    const name = uniqueStream(`buffer-${proto}`);
    await publishAndWait(name);
    const tp = await open(`/?stream=${name}&proto=${proto}`);
    const start = await waitPlaying(tp);
    // Let it play a few seconds so the start-up burst (a whole cached GOP) is behind it.
    await waitFor('three seconds of playback', async () => {
      const s = await stats(tp.page);
      return s !== null && s.state === 'playing' && s.currentTime > start.currentTime + 3;
    }, WAIT_MS, POLL_MS);
    // Ten samples ~300 ms apart, timed inside the page.
    const samples = await tp.page.evaluate(async () => {
      const out: { bufferedAhead: number; currentTime: number; state: string }[] = [];
      const g = globalThis as unknown as { __player: { stats(): PlayerStats } };
      for (let i = 0; i < 10; i++) {
        await new Promise((r) => setTimeout(r, 300));
        const s = g.__player.stats();
        out.push({ bufferedAhead: s.bufferedAhead, currentTime: s.currentTime, state: s.state });
      }
      return out;
    });
    const ahead = samples.map((s) => s.bufferedAhead);
    expect(ahead.every((a) => a < 1.0), `buffered ahead: ${ahead.map((a) => a.toFixed(3)).join(', ')}`).toBe(true);
    expect(samples.at(-1)!.currentTime).toBeGreaterThan(samples[0]!.currentTime);
    expect(tp.errors).toEqual([]);
  });

  it('lists a live stream, drops it after the publisher stops, and resumes by itself when it is published again', async () => {
    const name = uniqueStream('list');
    const first = await publishAndWait(name);
    const tp = await open('/?proto=ws');
    const page = tp.page;
    const item = page.locator(`[data-testid="stream-list"] [data-testid="stream-item"][data-stream="${name}"]`);
    await item.waitFor({ state: 'visible', timeout: WAIT_MS });
    await item.locator('button').click();
    await expectPlays(tp, name, 'ws');
    expect(await item.locator('button').getAttribute('aria-current')).toBe('true');

    // Unpublish: the item goes away and the status says the publisher stopped.
    await first.stop();
    await item.waitFor({ state: 'detached', timeout: WAIT_MS });
    const status = page.getByTestId('status');
    await waitFor('the status to say the publisher stopped', async () =>
      (await status.getAttribute('data-state')) === 'offline' && /publisher stopped/i.test((await status.textContent()) ?? ''),
    WAIT_MS, POLL_MS);
    expect((await stats(page))!.state).toBe('offline');
    // The empty-list message shows exactly when no other stream is live.
    await page.getByTestId('stream-empty').waitFor({ state: bed.gw.hub.streams.size === 0 ? 'visible' : 'hidden', timeout: WAIT_MS });

    // Republish: the item comes back and playback resumes without any click.
    await publishAndWait(name);
    await item.waitFor({ state: 'visible', timeout: WAIT_MS });
    await expectPlays(tp, name, 'ws');
  });
});

describe('the embed page in Chromium', () => {
  it.each(PROTOS)('plays a 1280x720 H.264 + AAC stream over %s', async (_label, proto) => {
    const name = uniqueStream(`embed-${proto}`);
    await publishAndWait(name);
    const tp = await open(`/embed.html?stream=${name}&proto=${proto}`, { width: 640, height: 360 });
    await expectPlays(tp, name, proto);
    expect(await tp.page.evaluate('document.body.dataset.state')).toBe('playing');
    if (proto === 'ws') await tp.page.screenshot({ path: screenshotPath('embed-playing-640x360') });
  });
});
