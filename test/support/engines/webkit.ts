// WebKitGTK (Safari's engine): WebKitWebDriver starts MiniBrowser under a private
// Xvfb display with a private PulseAudio null sink. Every page is loaded through
// an injecting proxy, which is how a script runs before the page's own and how
// page errors are recorded (WebDriver classic has no events).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net, { type AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { CACHE_DIR } from '../ffmpeg.js';
import { waitFor } from '../wait.js';
import { startPulseAudio, startXvfb, type Helper } from './display.js';
import { startInjectingProxy, type InjectingProxy } from './inject-proxy.js';
import { pollPage, type EngineBrowser, type EnginePage } from './types.js';
import { WebDriverClient, type WebDriverSession } from './webdriver.js';

export const WEBKIT_DRIVER = 'WebKitWebDriver';
export const MINIBROWSER_PATH = '/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser';

/** Keeps what Chromium's and Firefox's drivers report by events: uncaught errors, rejections, console errors. */
export const ERROR_RECORDER = `(function () {
  var errors = window.__engineErrors = [];
  var lines = window.__engineConsole = [];
  window.addEventListener('error', function (e) { errors.push(String(e.message || e.error)); });
  window.addEventListener('unhandledrejection', function (e) {
    var r = e.reason;
    errors.push('unhandled rejection: ' + String(r && r.message || r));
  });
  ['error', 'warn'].forEach(function (kind) {
    var original = console[kind];
    console[kind] = function () {
      lines.push(kind + ': ' + Array.prototype.map.call(arguments, String).join(' '));
      return original.apply(console, arguments);
    };
  });
})();`;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

export async function launchWebKit(): Promise<EngineBrowser> {
  const stops: (() => Promise<void>)[] = [];
  const stopAll = async () => {
    for (const stop of stops.splice(0).reverse()) await stop().catch(() => undefined);
  };
  try {
    const xvfb: Helper = await startXvfb();
    stops.push(xvfb.stop);
    const pulse: Helper = await startPulseAudio();
    stops.push(pulse.stop);
    const home = mkdtempSync(path.join(os.tmpdir(), 'gw-webkit-'));
    stops.push(async () => rmSync(home, { recursive: true, force: true }));
    mkdirSync(CACHE_DIR, { recursive: true });

    const port = await freePort();
    const env: NodeJS.ProcessEnv = {
      ...process.env, ...xvfb.env, ...pulse.env,
      HOME: home, XDG_RUNTIME_DIR: home, XDG_CACHE_HOME: path.join(home, 'cache'),
      XDG_DATA_HOME: path.join(home, 'data'), XDG_CONFIG_HOME: path.join(home, 'config'),
      // GStreamer's plugin registry takes seconds to build: keep it between runs.
      GST_REGISTRY: path.join(CACHE_DIR, 'gst-registry-webkit.bin'),
      GDK_BACKEND: 'x11', NO_AT_BRIDGE: '1',
    };
    delete env.WAYLAND_DISPLAY;
    const driver: ChildProcess = spawn(WEBKIT_DRIVER, [`--port=${port}`], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let driverLog = '';
    driver.stderr!.setEncoding('utf8').on('data', (d: string) => (driverLog = (driverLog + d).slice(-4_000)));
    const driverExited = new Promise<void>((resolve) => driver.once('exit', () => resolve()));
    stops.push(async () => {
      if (driver.exitCode !== null || driver.signalCode !== null) return;
      const kill = setTimeout(() => driver.kill('SIGKILL'), 3_000);
      driver.kill('SIGTERM');
      await driverExited;
      clearTimeout(kill);
    });

    const client = new WebDriverClient(`http://127.0.0.1:${port}`);
    await waitFor('WebKitWebDriver to answer', async () => {
      if (driver.exitCode !== null) throw new Error(`WebKitWebDriver exited ${driver.exitCode}: ${driverLog}`);
      return client.ready();
    }, 20_000, 100);
    const session = await client.newSession({
      // MiniBrowser keeps its default autoplay policy (sound needs a gesture), as Safari does.
      'webkitgtk:browserOptions': { binary: MINIBROWSER_PATH, args: ['--automation'] },
    });
    stops.push(() => session.delete().catch(() => undefined));
    await session.setTimeouts({ script: 120_000, pageLoad: 60_000 });
    // The session's first window stays open on about:blank: "new window" needs a
    // current window that still exists, and test pages come and go.
    const firstWindow = await session.currentWindow();
    const caps = session.capabilities;
    const version = `${String(caps.browserName)}/${String(caps.browserVersion)}`;

    const pages = new Set<EnginePage>();
    let closed = false;
    return {
      engine: 'webkit',
      version,
      async open(url, opts = {}) {
        const handle = await session.exclusive(firstWindow, () => session.newWindow());
        const page = webkitPage(session, handle, opts.initScript ?? '', () => pages.delete(page));
        pages.add(page);
        try {
          if (opts.viewport) await session.exclusive(handle, () => session.setWindowRect(opts.viewport!));
          await page.goto(url);
        } catch (err) {
          await page.close();
          throw err;
        }
        return page;
      },
      async close() {
        if (closed) return;
        closed = true;
        await Promise.allSettled([...pages].map((p) => p.close()));
        await stopAll();
      },
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

function webkitPage(session: WebDriverSession, handle: string, initScript: string, onClose: () => void): EnginePage {
  let proxy: InjectingProxy | null = null;
  let proxiedOrigin = '';
  let closed = false;
  const evaluate = <T>(expression: string) =>
    session.exclusive(handle, () => session.execute<T>(`return (${expression});`));
  return {
    engine: 'webkit',
    async goto(url) {
      const u = new URL(url);
      if (!proxy || proxiedOrigin !== u.origin) {
        await proxy?.close();
        proxy = await startInjectingProxy(u.origin, ERROR_RECORDER + initScript);
        proxiedOrigin = u.origin;
      }
      const through = proxy.origin + u.pathname + u.search + u.hash;
      await session.exclusive(handle, () => session.navigate(through));
    },
    evaluate,
    waitForFunction: (expression, opts) => pollPage(evaluate, expression, opts),
    async screenshot(file) {
      const png = await session.exclusive(handle, () => session.screenshot());
      writeFileSync(file, png);
    },
    errors: () => evaluate<string[]>('window.__engineErrors || []'),
    consoleLines: () => evaluate<string[]>('window.__engineConsole || []'),
    async close() {
      if (closed) return;
      closed = true;
      onClose();
      await session.exclusive(handle, () => session.closeWindow()).catch(() => undefined);
      await proxy?.close();
    },
  };
}
