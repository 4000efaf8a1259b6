// The setting of the page tests: one gateway and one Chromium for a whole test file, and the pages
// and ffmpeg publishers each test opens, closed after that test so the next starts clean.
import { afterAll, afterEach, beforeAll } from 'vitest';
import { launchBrowser, type TestBrowser, type TestPage } from './browser.js';
import { testSource, type Proc } from './ffmpeg.js';
import { startTestGateway, type TestGateway } from './gateway.js';

export interface PageTestbed {
  /** started before the file's first test */
  readonly gw: TestGateway;
  readonly browser: TestBrowser;
  /** publishers a test started: stopped after it */
  readonly procs: Proc[];
  /** pages a test opened: closed after it */
  readonly pages: TestPage[];
}

/** Registers the file's hooks; read gw and browser inside tests, once they are started. */
export function pageTestbed(): PageTestbed {
  let gw: TestGateway | undefined;
  let browser: TestBrowser | undefined;
  const procs: Proc[] = [];
  const pages: TestPage[] = [];

  beforeAll(async () => {
    testSource();
    gw = await startTestGateway();
    browser = await launchBrowser();
  });

  afterEach(async () => {
    await Promise.all(pages.splice(0).map((p) => p.close()));
    await Promise.all(procs.splice(0).map((p) => p.stop()));
  });

  afterAll(async () => {
    await browser?.close();
    await gw?.close();
  });

  return {
    get gw() {
      if (gw === undefined) throw new Error('the gateway starts in beforeAll');
      return gw;
    },
    get browser() {
      if (browser === undefined) throw new Error('the browser starts in beforeAll');
      return browser;
    },
    procs,
    pages,
  };
}
