// Issue: rewind (DVR) and recordings on the demo page, in a real browser. While ffmpeg publishes a
// 1280x720 H.264 + AAC stream to a gateway with a 30 s rewind window and a recording directory,
// headless Chromium opens `/?stream=…&rewind=5`: it plays behind live as the server's one rewind
// viewer, without chasing the live edge, and "Go live" makes it a normal live viewer again. A
// recording started and stopped through the API shows up in the Recordings panel (with a REC badge
// while it is written), and plays as on-demand video from the panel and from `/?recording=…`.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { launchBrowser, screenshotPath, type TestBrowser, type TestPage } from '../support/browser.js';
import { publish, testSource, type Proc } from '../support/ffmpeg.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { waitFor } from '../support/wait.js';

/** What `window.__player.stats()` returns (the part these tests read). */
interface PlayerStats {
  state: string;
  url: string;
  decodedFrames: number;
  currentTime: number;
  bufferedAhead: number;
  videoWidth: number;
  videoHeight: number;
  playbackRate: number;
  /** live player only */
  rewind?: number;
  behindLive?: number;
  /** recording player only */
  recording?: string;
  duration?: number;
  ended?: boolean;
}

interface RecordingInfo {
  name: string;
  stream: string;
  recording: boolean;
  duration: number;
  bytes: number;
  url: string;
}

const NAME = 'live/x';
const WAIT_MS = 30_000;
const POLL_MS = 100;

let gw: TestGateway;
let browser: TestBrowser;
let pub: Proc;
let recordDir: string;
const pages: TestPage[] = [];

async function open(pathAndQuery: string): Promise<TestPage> {
  const tp = await browser.open(gw.httpUrl(pathAndQuery), { viewport: { width: 1280, height: 800 } });
  pages.push(tp);
  return tp;
}

function stats(page: Page): Promise<PlayerStats | null> {
  return page.evaluate('window.__player ? window.__player.stats() : null') as Promise<PlayerStats | null>;
}

function describeState(tp: TestPage, s: unknown): string {
  return JSON.stringify({ stats: s, pageErrors: tp.errors.map((e) => e.message), console: tp.console.slice(-5) });
}

/** Wait until `accept` holds for the player's stats and decoded frames and currentTime have risen past a first sample. */
async function expectAdvancing(tp: TestPage, accept: (s: PlayerStats) => boolean): Promise<PlayerStats> {
  let last: PlayerStats | null = null;
  try {
    const first = await waitFor('the player to show pictures', async () => {
      last = await stats(tp.page);
      return last !== null && accept(last) && last.decodedFrames > 0 && last.videoWidth > 0 ? last : undefined;
    }, WAIT_MS, POLL_MS);
    return await waitFor('decoded frames and currentTime to advance', async () => {
      last = await stats(tp.page);
      return last !== null && accept(last) && last.decodedFrames > first.decodedFrames + 10 && last.currentTime > first.currentTime + 0.3
        ? last : undefined;
    }, WAIT_MS, POLL_MS);
  } catch (err) {
    throw new Error(`${(err as Error).message}: ${describeState(tp, last)}`);
  }
}

/** Viewers of the stream on the server, by kind (the recorder is a subscriber too, with protocol 'record'). */
function viewers(): { ws: number; rewinders: number } {
  const s = gw.hub.get(NAME)!;
  return {
    ws: [...s.subscribers].filter((sub) => sub.sink.protocol === 'ws').length,
    rewinders: s.rewinders.size,
  };
}

beforeAll(async () => {
  testSource();
  recordDir = mkdtempSync(path.join(os.tmpdir(), 'gw-web-dvr-'));
  gw = await startTestGateway({ 'rewind-seconds': 30, 'record-dir': recordDir });
  browser = await launchBrowser();
  pub = publish(gw.rtmpUrl(NAME));
  await waitFor(`${NAME} ready`, () => gw.hub.get(NAME)?.ready === true, WAIT_MS);
});

afterEach(async () => {
  await Promise.all(pages.splice(0).map((p) => p.close()));
});

afterAll(async () => {
  await browser?.close();
  await pub?.stop();
  await gw?.close();
  if (recordDir) rmSync(recordDir, { recursive: true, force: true });
});

describe('rewind on the demo page', () => {
  it('plays 5 s behind live from ?rewind=5 without chasing the live edge, and "Go live" returns to live', async () => {
    const stream = gw.hub.get(NAME)!;
    await waitFor('eight seconds in the rewind window', () => {
      const r = stream.rewind!;
      const oldest = r.at(r.oldest);
      return oldest !== undefined && r.newestTimestamp - oldest.timestamp >= 8_000;
    }, WAIT_MS);

    const tp = await open(`/?stream=${NAME}&proto=ws&rewind=5`);
    const page = tp.page;
    const behind = await expectAdvancing(tp, (s) => s.state === 'playing' && s.rewind === 5);
    expect(behind.url).toBe(gw.wsUrl(`/${NAME}.flv?rewind=5`));
    expect(behind.videoWidth).toBe(1280);
    // The server feeds this browser from the rewind window: one rewind viewer, no live one.
    await waitFor('one rewind viewer on the server', () => {
      const v = viewers();
      return v.rewinders === 1 && v.ws === 0;
    }, WAIT_MS, POLL_MS);

    // The page says it is behind live and offers the way back.
    const behindLabel = page.getByTestId('dvr-behind');
    await behindLabel.waitFor({ state: 'visible', timeout: WAIT_MS });
    const label = (await behindLabel.textContent()) ?? '';
    expect(label).toMatch(/^\u2212\d+ s behind live$/);
    expect(Number(/\d+/.exec(label)![0])).toBeGreaterThanOrEqual(5);
    expect(await page.getByTestId('go-live').isVisible()).toBe(true);
    expect(await page.locator('#live-pill').isVisible()).toBe(false);
    expect(await page.locator('#behind-pill').isVisible()).toBe(true);
    // −10/−30/−60 s, capped at the window the server keeps (8 s or more by now, at most 30 s).
    const steps = (await page.getByTestId('rewind-step').allTextContents()).map((t) => /^\u2212(\d+) s$/.exec(t)?.[1]);
    expect(steps.length).toBeGreaterThanOrEqual(1);
    for (const v of steps) {
      expect(Number(v)).toBeGreaterThanOrEqual(8);
      expect(Number(v)).toBeLessThanOrEqual(30);
    }
    expect(new URL(page.url()).searchParams.get('rewind')).toBe('5');

    // No catching up: over ~3 s the playhead moves at wall-clock pace (a chase would jump by a
    // second or more, since the server keeps ~1.5 s ahead of the playhead), at rate 1.
    const samples = await page.evaluate(async () => {
      const g = globalThis as unknown as { __player: { stats(): { currentTime: number; playbackRate: number; state: string } } };
      const out: { t: number; currentTime: number; playbackRate: number; state: string }[] = [];
      for (let i = 0; i < 10; i++) {
        const s = g.__player.stats();
        out.push({ t: performance.now() / 1000, currentTime: s.currentTime, playbackRate: s.playbackRate, state: s.state });
        await new Promise((r) => setTimeout(r, 300));
      }
      return out;
    });
    for (let i = 1; i < samples.length; i++) {
      const played = samples[i]!.currentTime - samples[i - 1]!.currentTime;
      const wall = samples[i]!.t - samples[i - 1]!.t;
      expect(played, JSON.stringify(samples)).toBeLessThanOrEqual(wall + 0.25);
    }
    expect(samples.every((s) => s.playbackRate === 1), JSON.stringify(samples)).toBe(true);
    expect(samples.at(-1)!.currentTime).toBeGreaterThan(samples[0]!.currentTime);
    await page.screenshot({ path: screenshotPath('demo-rewind-1280x800') });

    // Go live: a normal subscriber again, and no rewinder.
    await page.getByTestId('go-live').click();
    await waitFor('a live viewer and no rewinder on the server', () => {
      const v = viewers();
      return v.rewinders === 0 && v.ws === 1;
    }, WAIT_MS, POLL_MS);
    const live = await expectAdvancing(tp, (s) => s.state === 'playing' && s.rewind === 0);
    expect(live.url).toBe(gw.wsUrl(`/${NAME}.flv`));
    expect(live.videoWidth).toBe(1280);
    await page.locator('#live-pill').waitFor({ state: 'visible', timeout: WAIT_MS });
    expect(await behindLabel.isVisible()).toBe(false);
    expect(await page.getByTestId('go-live').isVisible()).toBe(false);
    expect(new URL(page.url()).searchParams.get('rewind')).toBeNull();
    expect(await page.getByTestId('status').getAttribute('data-state')).toBe('playing');
    expect(tp.errors).toEqual([]);
  });
});

describe('recordings on the demo page', () => {
  it('lists a recording (REC while written) and plays it as on-demand video, from the list and from ?recording=', async () => {
    const res = await fetch(gw.httpUrl(`/api/streams/${NAME}/record`), { method: 'POST' });
    expect(res.status).toBe(201);
    const started = (await res.json()) as RecordingInfo;
    expect(started.name).toMatch(/^live\/x\/\d{8}-\d{6}(-\d{1,4})?\.flv$/);

    // While it is written, the panel lists it with a REC badge.
    const tp = await open('/');
    const page = tp.page;
    const item = page.locator(`[data-testid="recording-item"][data-name="${started.name}"]`);
    await item.waitFor({ state: 'visible', timeout: WAIT_MS });
    await item.getByTestId('recording-live').waitFor({ state: 'visible', timeout: WAIT_MS });

    const rec = gw.recorder.get(NAME)!;
    await waitFor('3 s recorded', () => rec.lastTimestamp >= 3_000, WAIT_MS);
    const stop = await fetch(gw.httpUrl(`/api/streams/${NAME}/record`), { method: 'DELETE' });
    expect(stop.status).toBe(200);
    const done = (await stop.json()) as RecordingInfo;
    expect(done).toMatchObject({ name: started.name, recording: false });
    expect(done.duration).toBeGreaterThanOrEqual(3);

    // The page's next refresh drops the badge; the row has the stream, duration and links.
    await item.getByTestId('recording-live').waitFor({ state: 'hidden', timeout: WAIT_MS });
    expect(await item.locator('.rec-stream').textContent()).toBe(NAME);
    const mmss = `${Math.floor(done.duration / 60)}:${String(Math.floor(done.duration % 60)).padStart(2, '0')}`;
    await waitFor('the final duration in the row', async () =>
      (await item.locator('.rec-dur').textContent()) === mmss, WAIT_MS, POLL_MS);
    const playHref = await item.getByTestId('recording-play').getAttribute('href');
    expect(playHref).toBe(gw.httpUrl(`/?recording=${done.name}`));
    const downloadHref = await item.getByTestId('recording-download').getAttribute('href');
    expect(downloadHref).toBe(gw.httpUrl(`/recordings/${done.name}?download`));
    const download = await fetch(downloadHref!, { headers: { Range: 'bytes=0-2' } });
    expect(download.status).toBe(206);
    expect(download.headers.get('content-disposition')).toMatch(/attachment/);
    expect(Buffer.from(await download.arrayBuffer()).toString()).toBe('FLV');

    // Play from the list: the page switches to the recording in place.
    await item.getByTestId('recording-play').click();
    const fromList = await expectAdvancing(tp, (s) => s.recording === done.name && (s.state === 'playing' || s.state === 'ended'));
    expect(fromList.videoWidth).toBe(1280);
    expect(new URL(page.url()).searchParams.get('recording')).toBe(done.name);
    expect(await page.getByTestId('video').evaluate((v) => (v as unknown as { controls: boolean }).controls)).toBe(true);
    expect(await item.getAttribute('class')).toMatch(/\bselected\b/);
    await page.screenshot({ path: screenshotPath('demo-recording-1280x800') });
    expect(tp.errors).toEqual([]);

    // And straight from a link: /?recording=APP/KEY/FILE.flv
    const direct = await open(`/?recording=${done.name}`);
    const s = await expectAdvancing(direct, (st) => st.recording === done.name && (st.state === 'playing' || st.state === 'ended'));
    expect(s.videoWidth).toBe(1280);
    expect(s.videoHeight).toBe(720);
    expect(s.url).toBe(gw.httpUrl(`/recordings/${done.name}`));
    expect(Math.abs(s.duration! - done.duration)).toBeLessThanOrEqual(0.5);
    expect(await direct.page.getByTestId('video').evaluate((v) => (v as unknown as { controls: boolean }).controls)).toBe(true);
    expect(direct.errors).toEqual([]);
    // Neither page is a live viewer now (the first one left live/x for the recording).
    await waitFor('no live viewers on the server', () => viewers().ws + viewers().rewinders === 0, WAIT_MS, POLL_MS);
  });

  it('refuses a ?recording= value that is not a recording name, without loading anything', async () => {
    const tp = await open('/?recording=live/x/..%2F..%2Fpackage.json');
    const notice = tp.page.locator('#notice');
    await notice.waitFor({ state: 'visible', timeout: WAIT_MS });
    expect(await notice.textContent()).toMatch(/no valid recording/);
    expect(await tp.page.getByTestId('status').getAttribute('data-state')).toBe('error');
    expect(await stats(tp.page)).toBeNull();
    expect(tp.errors).toEqual([]);
  });
});
