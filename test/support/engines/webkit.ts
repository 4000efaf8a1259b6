// WebKitGTK (Safari's engine): every page is a MiniBrowser of its own under a
// WebKitWebDriver of its own, sharing one private Xvfb display and one private
// PulseAudio null sink. A driver that stops answering under load (seen when a
// second window was opened in a shared session) then takes one page with it,
// and closing a page kills its whole process tree. Every page is loaded through
// an injecting proxy, which is how a script runs before the page's own and how
// page errors are recorded (WebDriver classic has no events).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net, { type AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { CACHE_DIR } from '../ffmpeg.js';
import { startPulseAudio, startXvfb, type Helper } from './display.js';
import { startInjectingProxy, type InjectingProxy } from './inject-proxy.js';
import { describeGroup, killProcessGroup, mainThreadsRun, trackProcessGroup } from './process-group.js';
import { pollPage, type EngineBrowser, type EnginePage } from './types.js';
import { writeStallReport } from './stall-report.js';
import { SESSION_NOT_CREATED, WebDriverClient, WebDriverError, type WebDriverSession } from './webdriver.js';

export const WEBKIT_DRIVER = 'WebKitWebDriver';
export const MINIBROWSER_PATH = '/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser';

/** The driver enforces these inside the page; our own request deadlines sit above them. */
const SCRIPT_TIMEOUT_MS = 20_000;
const PAGE_LOAD_TIMEOUT_MS = 30_000;
/** Warnings every WebKitGTK process prints here at start, which would crowd out the last lines that matter. */
const STDERR_NOISE = /dbus-launch|GL video sink/;
/** Processes whose stacks a stall report holds (comm, cut to 15 characters): the page's. */
const STALL_STACKS = ['WebKitWebProces'];
/** How long a closing page's driver gets to end its session before its processes are killed. */
const SESSION_END_GRACE_MS = 3_000;

/** Keeps what Chromium's and Firefox's drivers report by events: uncaught errors, rejections, console errors. */
export const ERROR_RECORDER = `(function () {
  var errors = window.__engineErrors = [];
  var lines = window.__engineConsole = [];
  window.addEventListener('error', function (e) { errors.push(String(e.message || e.error)); });
  window.addEventListener('unhandledrejection', function (e) {
    var r = e.reason;
    // WebKit's DOMExceptions say little ("The object is in an invalid state."): where it came from says more.
    var where = r && r.stack ? ' at ' + String(r.stack).split('\\n').slice(0, 3).join(' < ') : '';
    errors.push('unhandled rejection: ' + String(r && r.name ? r.name + ': ' : '') + String(r && r.message || r) + where);
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
    const root = mkdtempSync(path.join(os.tmpdir(), 'gw-webkit-'));
    stops.push(async () => rmSync(root, { recursive: true, force: true }));
    mkdirSync(CACHE_DIR, { recursive: true });

    const pages = new Set<EnginePage>();
    let version = 'webkit';
    let seq = 0;
    let closed = false;
    return {
      engine: 'webkit',
      /** Known once a page has opened (the browser reports it when a session starts). */
      get version() {
        return version;
      },
      async open(url, opts = {}) {
        if (closed) throw new Error('the WebKit browser is closed');
        // Each MiniBrowser gets its own profile: two of them on one data directory would share locks.
        const home = path.join(root, `page-${++seq}`);
        const browser = await startMiniBrowser({ ...xvfb.env, ...pulse.env }, home);
        version = browser.version;
        const page = webkitPage(browser, opts.initScript ?? '', () => pages.delete(page));
        pages.add(page);
        try {
          if (opts.viewport) await browser.session.setWindowRect(opts.viewport);
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

interface MiniBrowser {
  session: WebDriverSession;
  version: string;
  /** End the session if the driver still answers, then kill the driver's whole process tree. */
  stop(): Promise<void>;
}

/** A WebKitWebDriver in a process group of its own, and through it one MiniBrowser session. */
async function startMiniBrowser(display: Record<string, string>, home: string): Promise<MiniBrowser> {
  mkdirSync(home, { recursive: true });
  const env: NodeJS.ProcessEnv = {
    ...process.env, ...display,
    HOME: home, XDG_RUNTIME_DIR: home, XDG_CACHE_HOME: path.join(home, 'cache'),
    XDG_DATA_HOME: path.join(home, 'data'), XDG_CONFIG_HOME: path.join(home, 'config'),
    // GStreamer's plugin registry takes seconds to build: keep it between runs.
    GST_REGISTRY: path.join(CACHE_DIR, 'gst-registry-webkit.bin'),
    GDK_BACKEND: 'x11', NO_AT_BRIDGE: '1',
  };
  delete env.WAYLAND_DISPLAY;
  const port = await freePort();
  // detached: the driver leads a new process group, which MiniBrowser and its
  // web, network and GPU processes join, so one signal reaches all of them.
  const driver: ChildProcess = spawn(WEBKIT_DRIVER, [`--port=${port}`], {
    env, detached: true, stdio: ['ignore', 'ignore', 'pipe'],
  });
  trackProcessGroup(driver);
  let log = '';
  driver.stderr!.setEncoding('utf8').on('data', (d: string) => {
    const lines = d.split('\n').filter((l) => l.trim() && !STDERR_NOISE.test(l));
    if (lines.length) log = `${log} | ${lines.join(' | ')}`.slice(-1_200);
  });
  let spawnError: Error | null = null;
  driver.once('error', (err) => (spawnError = err));
  // A silent driver's message says what its processes were doing (state R spinning, S or D waiting) and printed last.
  const client = new WebDriverClient(`http://127.0.0.1:${port}`,
    () => `processes: ${describeGroup(driver.pid)}; stderr ends: ${log || '(nothing)'}`);

  let session: WebDriverSession | null = null;
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    if (session && driver.exitCode === null) await session.delete(SESSION_END_GRACE_MS).catch(() => undefined);
    await killProcessGroup(driver);
    rmSync(home, { recursive: true, force: true });
  };
  try {
    const deadline = Date.now() + 20_000;
    while (!(await client.ready())) {
      if (spawnError || driver.exitCode !== null || Date.now() > deadline) {
        throw new WebDriverError(SESSION_NOT_CREATED, `${WEBKIT_DRIVER} did not come up (${
          spawnError ? (spawnError as Error).message : driver.exitCode !== null ? `exited ${driver.exitCode}` : 'no answer in 20 s'}): ${log}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    session = await client.newSession({
      // MiniBrowser keeps its default autoplay policy (sound needs a gesture), as Safari does.
      'webkitgtk:browserOptions': { binary: MINIBROWSER_PATH, args: ['--automation'] },
    });
    await session.setTimeouts({ script: SCRIPT_TIMEOUT_MS, pageLoad: PAGE_LOAD_TIMEOUT_MS });
    // comm is cut to 15 characters.
    session.pageMainThreadRuns = () => mainThreadsRun(driver.pid, 'WebKitWebProces');
    session.describeStall = async () => {
      const { file, summary } = await writeStallReport(driver.pid, STALL_STACKS);
      return `${summary ? `${summary}; ` : ''}threads and stacks in ${file}`;
    };
    const caps = session.capabilities;
    return { session, version: `${String(caps.browserName)}/${String(caps.browserVersion)}`, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

function webkitPage(browser: MiniBrowser, initScript: string, onClose: () => void): EnginePage {
  const { session } = browser;
  let proxy: InjectingProxy | null = null;
  let proxiedOrigin = '';
  let closed = false;
  const evaluate = <T>(expression: string) => session.execute<T>(`return (${expression});`);
  return {
    engine: 'webkit',
    async goto(url) {
      const u = new URL(url);
      if (!proxy || proxiedOrigin !== u.origin) {
        await proxy?.close();
        proxy = await startInjectingProxy(u.origin, ERROR_RECORDER + initScript);
        proxiedOrigin = u.origin;
      }
      await session.navigate(proxy.origin + u.pathname + u.search + u.hash);
    },
    evaluate,
    waitForFunction: (expression, opts) => pollPage(evaluate, expression, opts),
    async screenshot(file) {
      writeFileSync(file, await session.screenshot());
    },
    async errors() {
      const seen = await evaluate<string[] | null>('window.__engineErrors || null');
      // No list means the recorder never ran (a broken injection), not a page without errors.
      if (!seen) throw new Error('the page error recorder is missing from this page');
      return seen;
    },
    consoleLines: () => evaluate<string[]>('window.__engineConsole || []'),
    async close() {
      if (closed) return;
      closed = true;
      onClose();
      await browser.stop();
      await proxy?.close();
    },
  };
}
