// Firefox ESR driven by puppeteer-core over WebDriver BiDi (Debian's firefox-esr;
// puppeteer makes and removes a temporary profile itself).
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { pollPage, type EngineBrowser, type EnginePage } from './types.js';

export const FIREFOX_PATH = '/usr/bin/firefox-esr';

/** On top of puppeteer's own test profile: autoplay allowed, nothing fetched in the background. */
export const FIREFOX_PREFS: Record<string, unknown> = {
  'media.autoplay.default': 0,
  'media.autoplay.blocking_policy': 0,
  'app.normandy.enabled': false,
  'browser.region.update.enabled': false,
  'browser.region.network.url': '',
  'extensions.blocklist.enabled': false,
  'network.captive-portal-service.enabled': false,
  'network.connectivity-service.enabled': false,
  'network.dns.disablePrefetch': true,
  'network.prefetch-next': false,
  'network.trr.mode': 5,
  'services.settings.server': 'data:,#remote-settings-dummy/v1',
  'toolkit.telemetry.enabled': false,
  'toolkit.telemetry.server': '',
};

export async function launchFirefox(): Promise<EngineBrowser> {
  const browser: Browser = await puppeteer.launch({
    browser: 'firefox',
    protocol: 'webDriverBiDi',
    executablePath: FIREFOX_PATH,
    headless: true,
    extraPrefsFirefox: FIREFOX_PREFS,
    timeout: 60_000,
  });
  const version = await browser.version();
  const pages = new Set<EnginePage>();
  let closed = false;
  return {
    engine: 'firefox',
    version,
    async open(url, opts = {}) {
      // Its own window: a background tab would be a hidden document.
      const page = await browser.newPage({ type: 'window' });
      const ep = firefoxPage(page, () => pages.delete(ep));
      pages.add(ep);
      try {
        if (opts.viewport) await page.setViewport(opts.viewport);
        if (opts.initScript) await page.evaluateOnNewDocument(opts.initScript);
        await ep.goto(url);
      } catch (err) {
        await ep.close();
        throw err;
      }
      return ep;
    },
    async close() {
      if (closed) return;
      closed = true;
      await Promise.allSettled([...pages].map((p) => p.close()));
      await browser.close();
    },
  };
}

function firefoxPage(page: Page, onClose: () => void): EnginePage {
  const errors: string[] = [];
  const consoleLines: string[] = [];
  page.on('pageerror', (err) => errors.push(err instanceof Error ? err.message : String(err)));
  page.on('console', (msg) => {
    if (msg.type() === 'error' || msg.type() === 'warn') consoleLines.push(`${msg.type()}: ${msg.text()}`);
  });
  const evaluate = <T>(expression: string) => page.evaluate(expression) as Promise<T>;
  return {
    engine: 'firefox',
    async goto(url) {
      await page.goto(url, { waitUntil: 'load', timeout: 30_000 });
    },
    evaluate,
    waitForFunction: (expression, opts) => pollPage(evaluate, expression, opts),
    async screenshot(file) {
      await page.screenshot({ path: file as `${string}.png` });
    },
    errors: async () => errors.slice(),
    consoleLines: async () => consoleLines.slice(),
    async close() {
      onClose();
      if (!page.isClosed()) await page.close();
    },
  };
}
