// What every engine's web test does: the demo and embed pages over WS-FLV and
// HTTP-FLV, four pages at once (or fewer at a time), each watched from outside
// for 30 s; and a pause the page did not ask for.
import { expect } from 'vitest';
import { screenshotPath } from '../browser.js';
import { publish, testSource, type Proc, type SourceSpec } from '../ffmpeg.js';
import { startTestGateway, type TestGateway } from '../gateway.js';
import { waitFor } from '../wait.js';
import { launchEngine } from './index.js';
import { PlaybackWatcher } from './playback-checks.js';
import type { EngineBrowser, EngineName, EnginePage } from './types.js';
import { isDriverFailure } from './webdriver.js';

/** Small enough that four software decoders share two cores; an AAC track as in real streams. */
export const ENGINE_SOURCE: SourceSpec = { width: 640, height: 360, fps: 30, gop: 30, seconds: 6, audio: true };

export const PLAY_SECONDS = 30;

export type PageKind = 'demo' | 'embed';
export type Proto = 'ws' | 'http';
export interface Combo {
  page: PageKind;
  proto: Proto;
}
export const COMBOS: Combo[] = [
  { page: 'demo', proto: 'ws' },
  { page: 'demo', proto: 'http' },
  { page: 'embed', proto: 'ws' },
  { page: 'embed', proto: 'http' },
];

export function comboLabel(c: Combo): string {
  return `${c.page} page over ${c.proto === 'ws' ? 'WS-FLV' : 'HTTP-FLV'}`;
}

function pagePath(c: Combo, stream: string): string {
  return c.page === 'demo' ? `/?stream=${stream}&proto=${c.proto}` : `/embed.html?stream=${stream}&proto=${c.proto}`;
}

const VIEWPORT: Record<PageKind, { width: number; height: number }> = {
  demo: { width: 1280, height: 800 },
  embed: { width: 640, height: 360 },
};

export interface OpenedCombo {
  combo: Combo;
  stream: string;
  page: EnginePage;
  watcher: PlaybackWatcher;
}

export class EngineFixture {
  private procs: Proc[] = [];
  private pages: EnginePage[] = [];
  private seq = 0;

  private constructor(readonly engine: EngineName, readonly gw: TestGateway, readonly browser: EngineBrowser) {}

  static async start(engine: EngineName): Promise<EngineFixture> {
    testSource(ENGINE_SOURCE);
    const gw = await startTestGateway();
    try {
      return new EngineFixture(engine, gw, await launchEngine(engine));
    } catch (err) {
      await gw.close();
      throw err;
    }
  }

  /** Publish a fresh stream and wait until the gateway has it ready. */
  async publish(label: string): Promise<string> {
    const name = `live/${this.engine}-${label}-${++this.seq}`;
    this.procs.push(publish(this.gw.rtmpUrl(name), testSource(ENGINE_SOURCE)));
    await waitFor(`${name} ready`, () => this.gw.hub.get(name)?.ready === true, 30_000);
    return name;
  }

  /** Publish a stream for the combination and open its page; does not wait for playback. */
  async openCombo(c: Combo, initScript?: string): Promise<OpenedCombo> {
    const stream = await this.publish(`${c.page}-${c.proto}`);
    const page = await this.browser.open(this.gw.httpUrl(pagePath(c, stream)), {
      viewport: VIEWPORT[c.page],
      ...(initScript ? { initScript } : {}),
    });
    this.pages.push(page);
    return { combo: c, stream, page, watcher: new PlaybackWatcher(page, `${this.engine} ${comboLabel(c)}`) };
  }

  /** Close one page now (the retry of a page that failed needs the room). */
  async closePage(page: EnginePage): Promise<void> {
    this.pages = this.pages.filter((p) => p !== page);
    await page.close();
  }

  /** Close this test's pages and publishers (the browser and gateway stay). */
  async cleanup(): Promise<void> {
    await Promise.allSettled(this.pages.splice(0).map((p) => p.close()));
    await Promise.allSettled(this.procs.splice(0).map((p) => p.stop()));
  }

  async close(): Promise<void> {
    await this.cleanup();
    try {
      await this.browser.close();
    } finally {
      await this.gw.close();
    }
  }

  /** The checks every playing page must pass, after its watch. */
  async expectHealthy(o: OpenedCombo): Promise<void> {
    // A tiny live buffer dips into "buffering" now and then on a busy machine;
    // the page must be back to playing soon after (freezes are caught by the watch).
    const s = await o.watcher.waitPlaying(30_000);
    const why = await o.watcher.describe();
    expect(s.statusState, why).toBe('playing');
    expect(s.proto, why).toBe(o.combo.proto);
    expect(s.hasAudio, why).toBe(true);
    expect(s.videoWidth, why).toBe(ENGINE_SOURCE.width);
    const viewers = [...(this.gw.hub.get(o.stream)?.subscribers ?? [])].map((v) => v.sink.protocol);
    expect(viewers, why).toContain(o.combo.proto);
    expect(await o.page.errors(), why).toEqual([]);
  }
}

/** Run fn on every item at once; if any fail, one error names them all. */
export async function allOrReport<T, R>(items: T[], label: (t: T) => string, fn: (t: T) => Promise<R>): Promise<R[]> {
  const results = await Promise.allSettled(items.map(fn));
  const failed = results.flatMap((r, i) => (r.status === 'rejected' ? [`${label(items[i]!)}: ${(r.reason as Error).message}`] : []));
  if (failed.length) throw new Error(`${failed.length} of ${items.length} failed:\n${failed.join('\n')}`);
  return results.map((r) => (r as PromiseFulfilledResult<R>).value);
}

/**
 * Run attempt; if the browser's driver stopped answering or could not start
 * (never when the page failed a check), say so on one line and run it once
 * more. attempt must start from nothing: a fresh page in a fresh browser.
 */
export async function retryOnceOnDriverFailure<R>(what: string, attempt: () => Promise<R>): Promise<R> {
  try {
    return await attempt();
  } catch (err) {
    if (!isDriverFailure(err)) throw err;
    console.warn(`RETRY ${what} once in a fresh browser: ${(err as Error).message}`);
    return attempt();
  }
}

/** Open the combination's page and watch it play for PLAY_SECONDS; a failed attempt closes its page. */
async function playCombo(fx: EngineFixture, c: Combo, initScript: string | undefined): Promise<OpenedCombo> {
  return retryOnceOnDriverFailure(`${fx.engine} ${comboLabel(c)}`, async () => {
    const o = await fx.openCombo(c, initScript);
    try {
      await o.watcher.waitPlaying();
      await o.watcher.expectPlaysFor(PLAY_SECONDS);
      await fx.expectHealthy(o);
      return o;
    } catch (err) {
      await fx.closePage(o.page);
      throw err;
    }
  });
}

/**
 * The four page x protocol combinations, `atOnce` at a time (all four by
 * default), each in its own page: each must play (frames and currentTime
 * advancing in every 10 s) for PLAY_SECONDS, with audio and no page error.
 */
export async function expectAllCombosPlay(
  fx: EngineFixture,
  opts: { initScript?: string; screenshot?: string; atOnce?: number } = {},
): Promise<OpenedCombo[]> {
  const all: OpenedCombo[] = [];
  const atOnce = opts.atOnce ?? COMBOS.length;
  for (let i = 0; i < COMBOS.length; i += atOnce) {
    const opened = await allOrReport(COMBOS.slice(i, i + atOnce), comboLabel, (c) => playCombo(fx, c, opts.initScript));
    if (opts.screenshot && i === 0) await opened[0]!.page.screenshot(screenshotPath(opts.screenshot));
    all.push(...opened);
  }
  return all;
}

/** Records every state the status element shows from now on, in window.__statesSeen. */
const RECORD_STATUS = `(function () {
  var status = document.querySelector('[data-testid="status"]');
  var seen = window.__statesSeen = [];
  new MutationObserver(function (records) {
    records.forEach(function (r) { seen.push(r.target.getAttribute('data-state') || ''); });
  }).observe(status, { attributes: true, attributeFilter: ['data-state'] });
  return true;
})()`;

// WebKit refuses pause() without a user gesture on an audible element (its
// audio rate-change restriction), and WebKitGTK unmutes the element by itself
// now and then; so a refused pause() is tried again on the muted element.
const PAUSE_FROM_OUTSIDE = `(function () {
  var v = document.querySelector('video');
  v.pause();
  var mutedToPause = false;
  if (!v.paused) { v.muted = true; v.pause(); mutedToPause = true; }
  return { paused: v.paused, currentTime: v.currentTime, mutedToPause: mutedToPause };
})()`;

type PauseResult = { paused: boolean; currentTime: number; mutedToPause: boolean };

/**
 * Pause the <video> element behind the player's back (as an engine's autoplay
 * policy or an audio interruption does): the page must notice and play again
 * by itself.
 */
export async function expectResumesAfterOutsidePause(fx: EngineFixture): Promise<void> {
  const opened = [await fx.openCombo({ page: 'demo', proto: 'ws' }), await fx.openCombo({ page: 'embed', proto: 'http' })];
  await allOrReport(opened, (o) => comboLabel(o.combo), async (o) => {
    await o.watcher.waitPlaying();
    await o.page.evaluate(RECORD_STATUS);
    let before: PauseResult = await o.page.evaluate<PauseResult>(PAUSE_FROM_OUTSIDE);
    for (let tries = 1; !before.paused && tries < 10; tries++) {
      await new Promise((r) => setTimeout(r, 200));
      before = await o.page.evaluate<PauseResult>(PAUSE_FROM_OUTSIDE);
    }
    expect(before.paused, `the element did not pause: ${await o.watcher.describe()}`).toBe(true);
    const framesAtPause = (await o.watcher.sample()).frames;
    const deadline = Date.now() + 20_000;
    for (;;) {
      const s = await o.watcher.sample();
      if (!s.paused && s.state === 'playing' && s.currentTime > before.currentTime + 1 && s.frames > framesAtPause) break;
      if (Date.now() > deadline) {
        throw new Error(`did not play again within 20 s of a pause from outside${before.mutedToPause ? ' (muted to pause)' : ''}: ` +
          await o.watcher.describe());
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    await o.watcher.expectPlaysFor(10, 5);
    await fx.expectHealthy(o);
    // It noticed: the status showed the pause, then playing again.
    const seen = await o.page.evaluate<string[]>('window.__statesSeen');
    expect(seen, `status states after the pause: ${seen.join(', ')}`).toContain('paused');
    expect(seen.slice(seen.indexOf('paused'))).toContain('playing');
  });
}
