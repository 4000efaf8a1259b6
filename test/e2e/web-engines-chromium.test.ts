// Issue 14: the demo and embed pages in Chromium through the engine-neutral
// driver — the same checks as in Firefox and WebKit (web-engines-*.test.ts).
import { afterAll, afterEach, beforeAll, describe, it } from 'vitest';
import { EngineFixture, expectAllCombosPlay, expectResumesAfterOutsidePause, PLAY_SECONDS } from '../support/engines/page-suite.js';

let fx: EngineFixture;

beforeAll(async () => {
  fx = await EngineFixture.start('chromium');
});
afterEach(async () => {
  await fx?.cleanup();
});
afterAll(async () => {
  await fx?.close();
});

describe('Chromium', () => {
  it(`plays the demo and embed pages over WS-FLV and HTTP-FLV for ${PLAY_SECONDS} s with audio, all four at once`, async () => {
    await expectAllCombosPlay(fx, { screenshot: 'engines-chromium-demo' });
  }, 150_000);

  it('notices a pause it did not ask for and plays again', async () => {
    await expectResumesAfterOutsidePause(fx);
  }, 90_000);
});
