// Issue 14: the demo and embed pages in WebKitGTK (Safari's engine) through the
// engine-neutral driver: MiniBrowser under WebKitWebDriver on a private Xvfb
// display with a private PulseAudio sink. A freeze that shows in about one page
// play of three must show here: the four-page run is repeated twice and the
// MediaSource-hidden run plays the four pages again, twelve plays in all (a
// one-in-three freeze would pass unseen less than once in a hundred). With
// MediaSource hidden before the page's scripts (as on an iPhone) the page must
// play through ManagedMediaSource. Every page is a MiniBrowser under a
// WebKitWebDriver of its own, so a driver that stops answering takes one page
// along (that page is played again once in a fresh browser, with a RETRY line on
// the console; a page that fails a check, or whose own process stops answering
// while the browser still does, is never retried), and each test has a gateway
// and display of its own.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  EngineFixture, expectAllCombosPlay, PLAY_SECONDS, retryOnceOnDriverFailure,
} from '../support/engines/page-suite.js';

const RUNS = [1, 2];
/** Two pages at a time: two software decoders with audio is what two shared cores carry. */
const AT_ONCE = 2;
/** What an iPhone before iOS 17.1's MediaSource looks like to a page: absent. */
const HIDE_MEDIA_SOURCE = 'delete window.MediaSource; delete window.WebKitMediaSource;';

let fx: EngineFixture | undefined;

beforeEach(async () => {
  fx = await EngineFixture.start('webkit');
});
afterEach(async () => {
  await fx?.close();
  fx = undefined;
});

describe('WebKitGTK', () => {
  it.each(RUNS)(`run %i of ${RUNS.length}: plays the demo and embed pages over WS-FLV and HTTP-FLV for ${PLAY_SECONDS} s with audio, two at a time`, async (run) => {
    await expectAllCombosPlay(fx!, run === 1 ? { atOnce: AT_ONCE, screenshot: 'engines-webkit-demo' } : { atOnce: AT_ONCE });
  }, 240_000);


  it('with MediaSource hidden before the page runs, plays through ManagedMediaSource where the engine has it', async () => {
    const found = await retryOnceOnDriverFailure('webkit MediaSource probe', async () => {
      const probe = await fx!.browser.open(fx!.gw.httpUrl('/embed.html'), { initScript: HIDE_MEDIA_SOURCE });
      try {
        return await probe.evaluate<{ mse: boolean; mms: boolean }>(
          "({ mse: 'MediaSource' in window || 'WebKitMediaSource' in window, mms: 'ManagedMediaSource' in window })");
      } finally {
        await probe.close();
      }
    });
    expect(found.mse).toBe(false);
    if (found.mms) {
      const opened = await expectAllCombosPlay(fx!, { initScript: HIDE_MEDIA_SOURCE, atOnce: AT_ONCE });
      for (const o of opened) expect(await o.page.evaluate("typeof window.MediaSource")).toBe('undefined');
    } else {
      // Neither: this engine has no way to play FLV, and the page must say so.
      const o = await fx!.openCombo({ page: 'embed', proto: 'ws' }, HIDE_MEDIA_SOURCE);
      await o.page.waitForFunction("document.body.dataset.state === 'unsupported'", { what: 'the page to say unsupported' });
    }
  }, 240_000);
});
