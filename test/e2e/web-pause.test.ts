// A pause the page did not ask for (an engine's autoplay policy, an audio interruption, power
// saving; here: a script pausing the element behind the player's back) is noticed, shown and
// recovered: the page shows it, plays again by itself, and the picture moves again.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { launchBrowser, type TestBrowser, type TestPage } from '../support/browser.js';
import { publish, testSource, type Proc } from '../support/ffmpeg.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { waitFor } from '../support/wait.js';

const WAIT_MS = 30_000;
const NAME = 'live/pause';

let gw: TestGateway;
let browser: TestBrowser;
let pub: Proc;

interface Stats { state: string; currentTime: number; decodedFrames: number; paused: boolean }

beforeAll(async () => {
  testSource();
  gw = await startTestGateway();
  browser = await launchBrowser();
  pub = publish(gw.rtmpUrl(NAME));
  await waitFor(`${NAME} ready`, () => gw.hub.get(NAME)?.ready === true, WAIT_MS);
});

afterAll(async () => {
  await browser?.close();
  await pub?.stop();
  await gw?.close();
});

const stats = (tp: TestPage) => tp.page.evaluate('window.__player.stats()') as Promise<Stats>;

it.each([['the demo page', `/?stream=${NAME}&proto=ws`], ['the embed page', `/embed.html?stream=${NAME}&proto=http`]])(
  '%s notices a pause from outside the player, shows it and plays again',
  async (_label, path) => {
    const tp = await browser.open(gw.httpUrl(path));
    try {
      const playing = await waitFor('the player to play', async () => {
        const s = await stats(tp);
        return s.state === 'playing' && s.decodedFrames > 0 && s.currentTime > 1 ? s : undefined;
      }, WAIT_MS, 100);
      expect(playing.paused).toBe(false);

      // Record every state the status element takes, then pause the element directly.
      const pausedAt = await tp.page.evaluate(`(() => {
        const status = document.querySelector('[data-testid="status"]');
        const seen = window.__seen = [];
        new MutationObserver((records) => {
          for (const r of records) seen.push(r.target.dataset.state || '');
        }).observe(status, { attributes: true, attributeFilter: ['data-state'] });
        const video = document.querySelector('video');
        video.pause();
        return video.currentTime;
      })()`) as number;

      const resumed = await waitFor('playback to resume and the picture to move again', async () => {
        const s = await stats(tp);
        return s.state === 'playing' && !s.paused && s.currentTime > pausedAt + 1 ? s : undefined;
      }, WAIT_MS, 100);
      expect(resumed.currentTime).toBeGreaterThan(pausedAt + 1);
      const seen = await tp.page.evaluate('window.__seen') as string[];
      // The page showed the pause, then playing again.
      expect(seen).toContain('paused');
      expect(seen.slice(seen.indexOf('paused'))).toContain('playing');
      expect(await tp.page.locator('[data-testid="status"]').getAttribute('data-state')).toBe('playing');
      expect(tp.errors).toEqual([]);
    } finally {
      await tp.close();
    }
  },
);
