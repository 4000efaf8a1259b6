// Issue 14: hls.js (from the project's dependencies) in real Chromium plays the gateway's LL-HLS
// in low-latency mode, loading parts, with frames and currentTime advancing; and without
// low-latency mode it plays the same playlist as ordinary HLS, loading whole segments.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, screenshotPath, type TestBrowser } from '../support/browser.js';
import { publish, testSource, type Proc } from '../support/ffmpeg.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { waitFor } from '../support/wait.js';
import { startHlsPage, type HlsPageStats } from '../hls/hlsjs-page.js';

describe('hls.js in Chromium', () => {
  let gw: TestGateway;
  let pub: Proc;
  let browser: TestBrowser;
  let pageServer: Awaited<ReturnType<typeof startHlsPage>>;

  beforeAll(async () => {
    testSource();
    gw = await startTestGateway();
    pub = publish(gw.rtmpUrl('live/hlsjs'));
    await waitFor('stream ready', () => gw.hub.get('live/hlsjs')?.ready === true);
    pageServer = await startHlsPage();
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await pageServer?.close();
    await pub?.stop();
    await gw?.close();
  });

  for (const lowLatency of [true, false]) {
    it(`plays the stream ${lowLatency ? 'in low-latency mode, loading parts' : 'as ordinary HLS, loading segments'}`, async () => {
      const tab = await browser.open(pageServer.url(gw.httpUrl('/live/hlsjs/index.m3u8'), lowLatency));
      try {
        const stats = () => tab.page.evaluate('window.__hlsStats()') as Promise<HlsPageStats>;
        const first = await waitFor('first frames', async () => {
          const s = await stats();
          return s.frames > 0 && s.currentTime > 0 ? s : undefined;
        }, 40_000);
        const later = await waitFor('frames and time advance', async () => {
          const s = await stats();
          return s.frames > first.frames + 30 && s.currentTime > first.currentTime + 1 ? s : undefined;
        }, 40_000);
        expect(later.errors).toEqual([]);
        expect(later.paused).toBe(false);
        if (lowLatency) expect(later.partsLoaded).toBeGreaterThan(3);
        else expect(later.fragsLoaded).toBeGreaterThan(1);
        expect(tab.errors).toEqual([]);
        expect(gw.hub.viewersByProtocol(gw.hub.get('live/hlsjs')!).hls).toBeGreaterThanOrEqual(1);
        await tab.page.screenshot({ path: screenshotPath(`hlsjs-${lowLatency ? 'll' : 'plain'}`) });
      } finally {
        await tab.close();
      }
    });
  }
});
