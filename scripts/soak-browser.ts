// Browser soak: the demo page plays a live stream in Chromium for N minutes while the page goes to
// the background and back every few minutes and the network to the gateway is cut for 5 s twice.
//
//   npm run soak:browser -- --minutes 10
//   npm run soak:browser -- --minutes 2            # CI-sized
//
// The gateway runs in this process; ffmpeg publishes 720p30 H.264 + AAC straight to it; the page
// reaches it only through a loopback TCP proxy this script controls. Cut 1 stalls every
// connection (nothing forwarded, nothing closed: a pulled cable) and lets them carry on after 5 s;
// cut 2 resets every connection and refuses new ones for 5 s. "Background" is what a hidden tab
// gets: document.hidden with a visibilitychange, and the page frozen (CDP Page.setWebLifecycleState).
//
// Recorded every second: true latency and buffer ahead (player.stats()), presented frame rate,
// dropped frames; printed per minute. Fails on: an upward latency trend (median true latency of the
// last third of the undisturbed samples, i.e. outside each background/cut and the 10 s after it,
// more than 0.25 s and 50 % above the first third's, or fewer than 10 such samples); playback not back at
// the live edge (playing, buffer ahead <= 1 s) within 3 s of becoming visible; playback not resumed
// (playing, frames advancing) within 5 s of the network returning.
import net from 'node:net';
import { parseArgs } from 'node:util';
import { chromium, type Page } from 'playwright-core';
import { startGateway } from '../server/gateway.js';
import { silentLogger } from '../server/log.js';
import { publish, testSource, type Proc } from '../test/support/ffmpeg.js';

const { values: cli } = parseArgs({ options: { minutes: { type: 'string', default: '10' }, proto: { type: 'string', default: 'ws' } } });
const MINUTES = Number(cli.minutes);
if (!(MINUTES >= 1)) throw new Error('--minutes must be at least 1');
const PROTO = cli.proto === 'http' ? 'http' : 'ws';
const STREAM = 'live/soak';
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A loopback proxy with a switch: 'up', 'stalled' (nothing forwarded, sockets kept) or 'reset' (closed, refused). */
class CuttableProxy {
  mode: 'up' | 'stalled' | 'reset' = 'up';
  readonly #pairs = new Set<[net.Socket, net.Socket]>();
  readonly #server: net.Server;

  constructor(target: number) {
    this.#server = net.createServer((client) => {
      if (this.mode === 'reset') return void client.destroy();
      const upstream = net.connect(target, '127.0.0.1');
      const pair: [net.Socket, net.Socket] = [client, upstream];
      this.#pairs.add(pair);
      client.pipe(upstream);
      upstream.pipe(client);
      if (this.mode === 'stalled') this.#pause(pair);
      const done = (): void => {
        this.#pairs.delete(pair);
        client.destroy();
        upstream.destroy();
      };
      client.on('close', done).on('error', done);
      upstream.on('close', done).on('error', done);
    });
  }

  listen(): Promise<number> {
    return new Promise((r) => this.#server.listen(0, '127.0.0.1', () => r((this.#server.address() as net.AddressInfo).port)));
  }

  #pause([a, b]: [net.Socket, net.Socket]): void {
    a.unpipe(b);
    b.unpipe(a);
    a.pause();
    b.pause();
  }

  set(mode: 'up' | 'stalled' | 'reset'): void {
    this.mode = mode;
    for (const pair of this.#pairs) {
      if (mode === 'stalled') this.#pause(pair);
      else if (mode === 'reset') pair.forEach((s) => s.destroy());
      else {
        pair[0].pipe(pair[1]);
        pair[1].pipe(pair[0]);
      }
    }
  }

  close(): void {
    this.set('reset');
    this.#server.close();
  }
}

interface Sample {
  t: number;
  state: string;
  trueLatency: number | null;
  bufferedAhead: number;
  decoded: number;
  dropped: number;
  currentTime: number;
}

async function sample(page: Page): Promise<Sample> {
  const s = (await page.evaluate('window.__player ? window.__player.stats() : null')) as {
    state: string; trueLatency: number | null; bufferedAhead: number; decodedFrames: number; droppedFrames: number; currentTime: number;
  } | null;
  return {
    t: Date.now(), state: s?.state ?? 'none', trueLatency: s?.trueLatency ?? null, bufferedAhead: s?.bufferedAhead ?? 0,
    decoded: s?.decodedFrames ?? 0, dropped: s?.droppedFrames ?? 0, currentTime: s?.currentTime ?? 0,
  };
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor(s.length / 2)]! : NaN;
};

async function main(): Promise<void> {
  const gw = await startGateway({ host: '127.0.0.1', 'rtmp-port': 0, 'http-port': 0 }, silentLogger());
  const proxy = new CuttableProxy(gw.httpPort);
  const port = await proxy.listen();
  let ffmpeg: Proc | null = publish(`rtmp://127.0.0.1:${gw.rtmpPort}/${STREAM}`, testSource());
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium', headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--autoplay-policy=no-user-gesture-required', '--disable-background-networking'],
  });
  const failures: string[] = [];
  const samples: Sample[] = [];
  const events: string[] = [];
  /** [from, to] wall times of disturbances plus 10 s of settling, left out of the trend */
  const disturbed: [number, number][] = [];
  const startedAt = Date.now();
  const at = (): string => `${((Date.now() - startedAt) / 1000).toFixed(0)} s`;
  try {
    for (let i = 0; i < 300 && gw.hub.get(STREAM)?.ready !== true; i++) await sleep(100);
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    const cdp = await context.newCDPSession(page);
    await page.goto(`http://127.0.0.1:${port}/?stream=${STREAM}&proto=${PROTO}`);

    /** Poll until `ok` holds (true) or `ms` pass (false). */
    const within = async (ms: number, ok: (s: Sample) => boolean): Promise<Sample | null> => {
      const end = Date.now() + ms;
      while (Date.now() < end) {
        const s = await sample(page);
        if (ok(s)) return s;
        await sleep(100);
      }
      return null;
    };
    const setHidden = async (hidden: boolean): Promise<void> => {
      if (!hidden) await cdp.send('Page.setWebLifecycleState', { state: 'active' });
      await page.evaluate(`(() => {
        Object.defineProperty(document, 'hidden', { configurable: true, get: () => ${hidden} });
        Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => '${hidden ? 'hidden' : 'visible'}' });
        document.dispatchEvent(new Event('visibilitychange'));
      })()`);
      if (hidden) await cdp.send('Page.setWebLifecycleState', { state: 'frozen' });
    };

    // The schedule: background for 20 s every 3 minutes (from 60 s), cuts at 35 % and 70 % of the run.
    const totalMs = MINUTES * 60_000;
    const plan: { atMs: number; what: 'background' | 'stall' | 'reset' }[] = [];
    for (let t = 60_000; t + 25_000 < totalMs; t += 180_000) plan.push({ atMs: t, what: 'background' });
    plan.push({ atMs: Math.round(totalMs * 0.35), what: 'stall' }, { atMs: Math.round(totalMs * 0.7), what: 'reset' });
    plan.sort((a, b) => a.atMs - b.atMs);

    const record = async (): Promise<void> => {
      samples.push(await sample(page));
    };
    while (Date.now() - startedAt < totalMs) {
      const next = plan[0];
      if (next !== undefined && Date.now() - startedAt >= next.atMs) {
        plan.shift();
        if (next.what === 'background') {
          events.push(`${at()}: to the background for 20 s`);
          disturbed.push([Date.now(), Date.now() + 30_000]);
          await setHidden(true);
          await sleep(20_000);
          await setHidden(false);
          const back = await within(3000, (s) => s.state === 'playing' && s.bufferedAhead <= 1);
          if (back === null) failures.push(`${at()}: not back at the live edge within 3 s of becoming visible (${JSON.stringify(await sample(page))})`);
          else events.push(`${at()}: visible again, at the live edge (buffer ${back.bufferedAhead.toFixed(2)} s)`);
        } else {
          events.push(`${at()}: network ${next.what === 'stall' ? 'stalled (nothing forwarded)' : 'reset (connections closed, new ones refused)'} for 5 s`);
          disturbed.push([Date.now(), Date.now() + 15_000]);
          proxy.set(next.what === 'stall' ? 'stalled' : 'reset');
          for (let i = 0; i < 10; i++) {
            await record();
            await sleep(500);
          }
          proxy.set('up');
          const before = await sample(page);
          const resumed = await within(5000, (s) => s.state === 'playing' && s.decoded > before.decoded + 5 && s.currentTime > before.currentTime);
          if (resumed === null) failures.push(`${at()}: playback did not resume within 5 s of the network returning (${JSON.stringify(await sample(page))})`);
          else events.push(`${at()}: network back, playing again after ${((resumed.t - before.t) / 1000).toFixed(1)} s`);
        }
        continue;
      }
      await record();
      await sleep(1000);
    }

    // Per minute: true latency, buffer ahead, presented frame rate, dropped frames.
    console.log(`browser soak, ${MINUTES} min, ${PROTO === 'ws' ? 'WS-FLV' : 'HTTP-FLV'}, demo page in Chromium through a cuttable proxy`);
    console.log('| minute | true latency p50 / max s | buffer ahead p50 / max s | fps | dropped frames |');
    console.log('|---:|---|---|---:|---:|');
    for (let m = 0; m < MINUTES; m++) {
      const inMin = samples.filter((s) => s.t - startedAt >= m * 60_000 && s.t - startedAt < (m + 1) * 60_000);
      if (inMin.length < 2) continue;
      const lat = inMin.map((s) => s.trueLatency).filter((x): x is number => x !== null);
      const ahead = inMin.map((s) => s.bufferedAhead);
      const first = inMin[0]!;
      const last = inMin.at(-1)!;
      const fps = Math.max(0, last.decoded - first.decoded) / ((last.t - first.t) / 1000);
      console.log(`| ${m + 1} | ${lat.length ? `${median(lat).toFixed(2)} / ${Math.max(...lat).toFixed(2)}` : '—'} | ` +
        `${median(ahead).toFixed(2)} / ${Math.max(...ahead).toFixed(2)} | ${fps.toFixed(1)} | ${Math.max(0, last.dropped - first.dropped)} |`);
    }
    for (const e of events) console.log(`- ${e}`);

    // Trend: samples while playing, outside each disturbance and the 10 s after it, first third against last third.
    const steady = samples
      .filter((s) => s.state === 'playing' && s.trueLatency !== null && !disturbed.some(([a, b]) => s.t >= a && s.t <= b))
      .map((s) => s.trueLatency!);
    if (steady.length < 10) {
      failures.push(`only ${steady.length} undisturbed samples with a true latency while playing`);
    } else {
      const third = Math.floor(steady.length / 3);
      const a = median(steady.slice(0, third));
      const b = median(steady.slice(-third));
      console.log(`true latency trend (${steady.length} undisturbed samples): first third median ${a.toFixed(3)} s, last third ${b.toFixed(3)} s`);
      if (b - a > 0.25 && b > a * 1.5) failures.push(`true latency crept up: median ${a.toFixed(3)} s -> ${b.toFixed(3)} s`);
    }
    await context.close();
  } finally {
    await browser.close();
    await ffmpeg?.stop();
    ffmpeg = null;
    proxy.close();
    await gw.close();
  }
  if (failures.length > 0) {
    for (const f of failures) console.error(`FAIL: ${f}`);
    process.exit(1);
  }
  console.log('browser soak passed');
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
