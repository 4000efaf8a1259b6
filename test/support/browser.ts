// Real Chromium for end-to-end tests of the web pages, driven by playwright-core
// (no bundled browsers: the Debian chromium package is used).
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type ConsoleMessage, type Page } from 'playwright-core';
import { ARTIFACTS_DIR } from './ffmpeg.js';

// Debian's /usr/bin/chromium is a shell wrapper whose /etc/chromium.d snippets print shell
// errors on some machines; the real binary beside it takes the same flags.
export const CHROMIUM_PATH = existsSync('/usr/lib/chromium/chromium') ? '/usr/lib/chromium/chromium' : '/usr/bin/chromium';
export const SCREENSHOT_DIR = path.join(ARTIFACTS_DIR, 'screenshots');

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--autoplay-policy=no-user-gesture-required',
];

export interface TestBrowser {
  context: BrowserContext;
  /** the fresh profile directory, removed by close() */
  userDataDir: string;
  /** Open a page on url and collect its uncaught errors (and console errors, for diagnostics). */
  open(url: string, opts?: OpenOptions): Promise<TestPage>;
  /** Close every page and the browser, and remove the profile directory. */
  close(): Promise<void>;
}

export interface OpenOptions {
  viewport?: { width: number; height: number };
  /** JavaScript run before the page's own scripts (in every document the page loads). */
  initScript?: string;
}

export interface TestPage {
  page: Page;
  /** uncaught exceptions and unhandled rejections in the page (`pageerror` events) */
  errors: Error[];
  /** console.error / console.warn lines, only for failure messages */
  console: string[];
  close(): Promise<void>;
}

/** Launch headless Chromium with a fresh temporary profile. */
export async function launchBrowser(): Promise<TestBrowser> {
  const userDataDir = mkdtempSync(path.join(os.tmpdir(), 'gw-chromium-'));
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: { width: 1280, height: 800 },
      timeout: 30_000,
    });
  } catch (err) {
    rmSync(userDataDir, { recursive: true, force: true });
    throw err;
  }
  // A persistent context opens with one blank page; it is not used.
  await Promise.all(context.pages().map((p) => p.close()));

  let closed = false;
  return {
    context,
    userDataDir,
    async open(url, opts = {}) {
      const page = await context.newPage();
      const errors: Error[] = [];
      const consoleLines: string[] = [];
      page.on('pageerror', (err) => errors.push(err));
      page.on('console', (msg: ConsoleMessage) => {
        if (msg.type() === 'error' || msg.type() === 'warning') consoleLines.push(`${msg.type()}: ${msg.text()}`);
      });
      if (opts.viewport) await page.setViewportSize(opts.viewport);
      if (opts.initScript) await page.addInitScript(opts.initScript);
      await page.goto(url, { waitUntil: 'load', timeout: 30_000 });
      return {
        page,
        errors,
        console: consoleLines,
        close: async () => {
          if (!page.isClosed()) await page.close();
        },
      };
    },
    async close() {
      if (closed) return;
      closed = true;
      try {
        await context.close();
      } finally {
        rmSync(userDataDir, { recursive: true, force: true });
      }
    },
  };
}

/** Where a screenshot named `name` goes (test-artifacts/screenshots/NAME.png); creates the folder. */
export function screenshotPath(name: string): string {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  return path.join(SCREENSHOT_DIR, `${name}.png`);
}
