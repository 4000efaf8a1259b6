// Soak test: a gateway process, real ffmpeg publishers and a churning viewer
// population for a given time; fails if memory, descriptors or event-loop lag
// trend upward, if a publisher or the gateway dies, or if viewers are left over.
//
//   npm run soak -- --minutes 30
//   npm run soak -- --minutes 1                       # CI-sized
//   npm run soak -- --minutes 5 --publishers 3 --viewers 60 --interval 10
//
// The gateway runs as its own process (`node --import tsx server/main.ts
// --rtmp-port P --http-port Q --host 127.0.0.1 --log-level warn`); its RSS and
// file descriptors come from /proc/PID, heap and event-loop lag from /metrics.
//
// Trend rule (per metric, on samples after warm-up): the median of the last
// third is compared with the median of the first third; the run fails when it
// grew by more than both an absolute and a relative tolerance:
//   RSS   +64 MiB and +30 %      heap  +48 MiB and +40 %
//   fds   +24 and +30 %          event-loop lag p99  +50 ms and ×3
// Warm-up is the first 20 % of the run (at least one sample). Needs >= 6 samples
// after warm-up to judge a trend; shorter runs only check liveness and leftovers.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, readdirSync, readFileSync, mkdirSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { publish, testSource, type Proc } from '../test/support/ffmpeg.js';
import { freePort } from '../test/support/nginx.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

interface Args {
  minutes: number;
  publishers: number;
  viewers: number;
  /** seconds between samples */
  interval: number;
}

function parseArgs(argv: string[]): Args {
  const a: Args = { minutes: 30, publishers: 2, viewers: 40, interval: 0 };
  for (let i = 0; i < argv.length; i++) {
    const name = argv[i]!;
    const v = Number(argv[++i]);
    if (!Number.isFinite(v) || v <= 0) throw new Error(`${name} needs a positive number`);
    if (name === '--minutes') a.minutes = v;
    else if (name === '--publishers') a.publishers = Math.floor(v);
    else if (name === '--viewers') a.viewers = Math.floor(v);
    else if (name === '--interval') a.interval = v;
    else throw new Error(`unknown argument ${name} (--minutes, --publishers, --viewers, --interval)`);
  }
  // every minute for long runs, about 12 samples for short ones
  if (a.interval === 0) a.interval = a.minutes >= 10 ? 60 : Math.max(5, Math.round((a.minutes * 60) / 12));
  return a;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function waitUntil(what: string, probe: () => Promise<boolean> | boolean, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await Promise.resolve().then(probe).catch(() => false))) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

// ---------------------------------------------------------------------------
// Viewers: light ones (count bytes, check the FLV signature), not the validating test viewers

interface Viewer {
  close(): void;
  bytes: number;
}

interface Population {
  joined: number;
  left: number;
  bytes: number;
  errors: string[];
  live: Set<Viewer>;
}

function openViewer(kind: 'ws' | 'http', url: string, pop: Population): Viewer {
  let first = true;
  let closing = false;
  const v: Viewer = { bytes: 0, close: () => {} };
  const onData = (d: Buffer): void => {
    if (first) {
      first = false;
      if (d.subarray(0, 3).toString('latin1') !== 'FLV') pop.errors.push(`${kind} viewer: stream does not start with FLV`);
    }
    v.bytes += d.length;
    pop.bytes += d.length;
  };
  const gone = (why: string | null): void => {
    if (!pop.live.delete(v)) return;
    pop.left++;
    if (why !== null && !closing) pop.errors.push(`${kind} viewer ended early: ${why}`);
  };
  if (kind === 'ws') {
    const ws = new WebSocket(url);
    ws.on('message', (d: Buffer) => onData(d));
    ws.on('error', (e) => gone(`error ${e.message}`));
    ws.on('close', (code) => gone(code === 1000 || code === 1005 ? null : `close ${code}`));
    v.close = () => {
      closing = true;
      ws.close();
    };
  } else {
    const req = http.get(url, (res) => {
      if (res.statusCode !== 200) pop.errors.push(`http viewer: status ${res.statusCode}`);
      res.on('data', onData);
      res.on('end', () => gone('end of response'));
      res.on('error', () => gone(null));
    });
    req.on('error', (e) => gone(closing ? null : `error ${e.message}`));
    req.on('close', () => gone(null));
    v.close = () => {
      closing = true;
      req.destroy();
    };
  }
  pop.joined++;
  pop.live.add(v);
  return v;
}

// ---------------------------------------------------------------------------
// Samples

interface Sample {
  t: number;
  rssMb: number;
  heapMb: number;
  fds: number;
  lagMs: number;
  viewers: number;
}

function procRssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m === null ? NaN : Number(m[1]) / 1024;
}

function metricValue(text: string, name: string): number {
  let sum = 0;
  let found = false;
  for (const line of text.split('\n')) {
    if (line.startsWith(`${name} `) || line.startsWith(`${name}{`)) {
      sum += Number(line.split(' ').at(-1));
      found = true;
    }
  }
  return found ? sum : NaN;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

interface Rule {
  key: keyof Sample;
  label: string;
  abs: number;
  /** relative growth allowed (0.3 = +30 %) */
  rel: number;
}
const RULES: Rule[] = [
  { key: 'rssMb', label: 'RSS (MiB)', abs: 64, rel: 0.3 },
  { key: 'heapMb', label: 'heap (MiB)', abs: 48, rel: 0.4 },
  { key: 'fds', label: 'file descriptors', abs: 24, rel: 0.3 },
  { key: 'lagMs', label: 'event-loop lag p99 (ms)', abs: 50, rel: 2 },
];

function judge(samples: Sample[], warmupSeconds: number): { lines: string[]; failed: boolean; judged: boolean } {
  const after = samples.filter((s) => s.t >= warmupSeconds);
  if (after.length < 6) {
    return { lines: [`trend: only ${after.length} samples after warm-up (need 6): not judged`], failed: false, judged: false };
  }
  const third = Math.floor(after.length / 3);
  const first = after.slice(0, third);
  const last = after.slice(-third);
  let failed = false;
  const lines: string[] = [];
  for (const r of RULES) {
    const a = median(first.map((s) => s[r.key]));
    const b = median(last.map((s) => s[r.key]));
    const growth = b - a;
    const bad = growth > r.abs && growth > r.rel * a;
    failed ||= bad;
    lines.push(
      `${r.label.padEnd(26)} first third ${a.toFixed(1).padStart(8)}  last third ${b.toFixed(1).padStart(8)}  ` +
        `growth ${growth >= 0 ? '+' : ''}${growth.toFixed(1)} (limit +${r.abs} and +${Math.round(r.rel * 100)} %)  ${bad ? 'FAIL' : 'ok'}`,
    );
  }
  return { lines, failed, judged: true };
}

// ---------------------------------------------------------------------------

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const source = testSource();
  const rtmpPort = await freePort();
  const httpPort = await freePort();
  const logDir = path.join(root, 'test-artifacts', 'soak');
  mkdirSync(logDir, { recursive: true });
  const logFile = path.join(logDir, `gateway-${new Date().toISOString().replace(/[:.]/g, '-')}.log`);
  const log = createWriteStream(logFile);
  const gateway: ChildProcess = spawn(
    process.execPath,
    ['--import', 'tsx', 'server/main.ts', '--rtmp-port', String(rtmpPort), '--http-port', String(httpPort), '--host', '127.0.0.1', '--log-level', 'warn'],
    { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  gateway.stdout!.pipe(log);
  gateway.stderr!.pipe(log);
  let gatewayExit: number | null | undefined;
  gateway.on('exit', (code) => (gatewayExit = code));
  const base = `127.0.0.1:${httpPort}`;
  const getText = (p: string): Promise<string> =>
    new Promise((resolve, reject) => {
      http.get(`http://${base}${p}`, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => resolve(body));
      }).on('error', reject);
    });

  const publishers: Proc[] = [];
  const pop: Population = { joined: 0, left: 0, bytes: 0, errors: [], live: new Set() };
  let churn: NodeJS.Timeout | null = null;
  const failures: string[] = [];
  const started = Date.now();
  const elapsed = (): number => (Date.now() - started) / 1000;
  const samples: Sample[] = [];

  const shutdown = async (): Promise<void> => {
    if (churn !== null) clearInterval(churn);
    for (const v of [...pop.live]) v.close();
    await Promise.all(publishers.map((p) => p.stop()));
    if (gateway.exitCode === null) {
      gateway.kill('SIGTERM');
      await new Promise((r) => gateway.once('exit', r));
    }
    log.end();
  };
  process.on('SIGINT', () => {
    void shutdown().then(() => process.exit(130));
  });

  try {
    await waitUntil('gateway health', async () => JSON.parse(await getText('/api/health')).status === 'ok');
    const pid = gateway.pid!;
    const keys = Array.from({ length: args.publishers }, (_, i) => `soak${i}`);
    for (const key of keys) publishers.push(publish(`rtmp://127.0.0.1:${rtmpPort}/live/${key}`, source));
    await waitUntil('publishers live', async () => {
      const api = JSON.parse(await getText('/api/streams')) as { streams: { name: string; video: unknown }[] };
      return api.streams.filter((s) => s.video !== null).length === args.publishers;
    });

    process.stdout.write(
      `soak: ${args.minutes} min, ${args.publishers} publishers (720p H.264+AAC), ${args.viewers} churning viewers (WS+HTTP), ` +
        `sample every ${args.interval} s; gateway pid ${pid}, log ${path.relative(root, logFile)}\n`,
    );
    process.stdout.write('    t(s)   RSS MiB  heap MiB   fds  lag p99 ms  viewers   joined     left  MB received\n');

    // churn: keep the population at `viewers`, each living 3–15 s, on a random stream, half WS half HTTP
    const spawnViewer = (): void => {
      const key = keys[Math.floor(Math.random() * keys.length)]!;
      const kind = Math.random() < 0.5 ? 'ws' : 'http';
      const v = openViewer(kind, `${kind}://${base}/live/${key}.flv`, pop);
      const life = 3_000 + Math.random() * 12_000;
      setTimeout(() => v.close(), life).unref();
    };
    churn = setInterval(() => {
      for (let i = pop.live.size; i < args.viewers; i++) spawnViewer();
    }, 200);

    const end = started + args.minutes * 60_000;
    let next = Date.now() + args.interval * 1000;
    await getText('/metrics'); // reset the lag window
    while (Date.now() < end) {
      await sleep(Math.max(0, Math.min(next, end) - Date.now()));
      next += args.interval * 1000;
      if (gatewayExit !== undefined) throw new Error(`gateway exited with ${gatewayExit}`);
      const dead = publishers.filter((p) => p.child.exitCode !== null);
      if (dead.length > 0) throw new Error(`publisher exited: ${dead[0]!.stderr().slice(-500)}`);
      const text = await getText('/metrics');
      const s: Sample = {
        t: Math.round(elapsed()),
        rssMb: procRssMb(pid),
        heapMb: metricValue(text, 'gateway_process_nodejs_heap_size_used_bytes') / 2 ** 20,
        fds: readdirSync(`/proc/${pid}/fd`).length,
        lagMs: metricValue(text, 'gateway_event_loop_lag_seconds') * 1000,
        viewers: metricValue(text, 'gateway_viewers'),
      };
      samples.push(s);
      process.stdout.write(
        `${String(s.t).padStart(8)}${s.rssMb.toFixed(1).padStart(10)}${s.heapMb.toFixed(1).padStart(10)}${String(s.fds).padStart(6)}` +
          `${s.lagMs.toFixed(1).padStart(12)}${String(s.viewers).padStart(9)}${String(pop.joined).padStart(9)}${String(pop.left).padStart(9)}` +
          `${(pop.bytes / 1e6).toFixed(0).padStart(13)}\n`,
      );
    }

    // wind down: every viewer leaves; the gateway must count none, and its descriptors drop back
    if (churn !== null) clearInterval(churn);
    churn = null;
    for (const v of [...pop.live]) v.close();
    await waitUntil('viewers gone from the gateway', async () => {
      const api = JSON.parse(await getText('/api/streams')) as { streams: { viewers: { total: number } }[] };
      return api.streams.every((s) => s.viewers.total === 0);
    });
    const verdict = judge(samples, Math.max(args.interval, args.minutes * 60 * 0.2));
    process.stdout.write(`\n${verdict.lines.join('\n')}\n`);
    if (verdict.failed) failures.push('a metric trended upward beyond the tolerance');
    if (pop.errors.length > 0) {
      failures.push(`${pop.errors.length} viewer errors, e.g. ${[...new Set(pop.errors)].slice(0, 3).join('; ')}`);
    }
    if (pop.joined < args.viewers) failures.push('viewers never joined');
    process.stdout.write(
      `viewers: ${pop.joined} joined, ${pop.left} left, ${(pop.bytes / 1e9).toFixed(2)} GB received; ` +
        `machine: ${os.cpus().length} cores, load ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}\n`,
    );
  } catch (err) {
    failures.push((err as Error).message);
  } finally {
    await shutdown();
  }
  if (failures.length > 0) {
    process.stdout.write(`\nSOAK FAILED:\n- ${failures.join('\n- ')}\n(gateway log: ${path.relative(root, logFile)})\n`);
    process.exit(1);
  }
  process.stdout.write('\nsoak passed\n');
  process.exit(0);
}

main().catch((err: unknown) => {
  process.stderr.write(`soak: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
