// Chromium through the existing playwright-core launcher (test/support/browser.ts).
import { execFileSync } from 'node:child_process';
import { CHROMIUM_PATH, launchBrowser, type TestPage } from '../browser.js';
import { pollPage, type EngineBrowser, type EnginePage } from './types.js';

export async function launchChromium(): Promise<EngineBrowser> {
  const browser = await launchBrowser();
  const version = `chromium/${execFileSync(CHROMIUM_PATH, ['--version'], { encoding: 'utf8' }).trim()}`;
  return {
    engine: 'chromium',
    version,
    async open(url, opts = {}) {
      return chromiumPage(await browser.open(url, opts));
    },
    close: () => browser.close(),
  };
}

function chromiumPage(tp: TestPage): EnginePage {
  const evaluate = <T>(expression: string) => tp.page.evaluate(expression) as Promise<T>;
  return {
    engine: 'chromium',
    async goto(url) {
      await tp.page.goto(url, { waitUntil: 'load', timeout: 30_000 });
    },
    evaluate,
    waitForFunction: (expression, opts) => pollPage(evaluate, expression, opts),
    async screenshot(file) {
      await tp.page.screenshot({ path: file });
    },
    errors: async () => tp.errors.map((e) => e.message),
    consoleLines: async () => tp.console.slice(),
    close: () => tp.close(),
  };
}
