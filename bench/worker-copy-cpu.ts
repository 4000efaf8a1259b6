// What a worker's copy of a stream costs against the owner's own stream:
// `--workers 2`, one publisher, V HTTP-FLV viewers first on the owning worker,
// then on the other one (which then pulls a copy over the internal link). Each
// worker's CPU comes from /proc/PID/stat over the same window. Viewers reach a
// chosen worker through its own loopback port (the internal link's server,
// which serves public requests too).
//
//   npx tsx bench/worker-copy-cpu.ts [--viewers 20] [--seconds 20] [--source FILE.flv (default: the bench's 720p source)]
import { spawn } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { ensureSource } from './media.js';
import { readCpu } from './procstat.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values: cli } = parseArgs({
  options: {
    viewers: { type: 'string', default: '20' },
    seconds: { type: 'string', default: '20' },
    source: { type: 'string' },
  },
});
const source = cli.source ?? ensureSource();
const VIEWERS = Number(cli.viewers);
const SECONDS = Number(cli.seconds);

/** A free loopback port: the gateway's ports are its own choice in a bench as in the tests. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}
const [httpPort, rtmpPort] = [String(await freePort()), String(await freePort())];
const base = `http://127.0.0.1:${httpPort}`;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function api<T>(p: string): Promise<T> {
  return (await (await fetch(`${base}${p}`)).json()) as T;
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, ms = 120_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await sleep(500);
  }
}

interface Worker {
  id: string;
  url: string;
  pid: number;
  streams: string[];
}

function viewers(url: string, n: number): { bytes: () => number; close: () => void } {
  let bytes = 0;
  const reqs = Array.from({ length: n }, () =>
    http.get(url, { agent: false }, (res) => res.on('data', (d: Buffer) => (bytes += d.length))).on('error', () => {}),
  );
  return { bytes: () => bytes, close: () => reqs.forEach((r) => r.destroy()) };
}

async function window(label: string, workers: Worker[], serving: Worker, url: string): Promise<void> {
  const v = viewers(url, VIEWERS);
  await sleep(5_000);
  const before = workers.map((w) => readCpu(w.pid)!.total);
  const b0 = v.bytes();
  await sleep(SECONDS * 1000);
  const after = workers.map((w) => readCpu(w.pid)!.total);
  const mb = (v.bytes() - b0) / 1e6;
  v.close();
  const cells = workers.map((w, i) => `${w.streams.length > 0 ? 'owner' : 'other'} ${(((after[i]! - before[i]!) / SECONDS) * 100).toFixed(1)} %`);
  const i = workers.indexOf(serving);
  const perGb = (after[i]! - before[i]!) / (mb / 1000);
  console.log(`${label}: ${cells.join(', ')} CPU; viewers received ${(mb / SECONDS).toFixed(2)} MB/s; serving worker ${perGb.toFixed(2)} CPU s/GB`);
  await sleep(7_000);
}

const gw = spawn(
  process.execPath,
  ['--import', 'tsx', 'server/main.ts', '--host', '127.0.0.1', '--http-port', httpPort, '--rtmp-port', rtmpPort,
    '--workers', '2', '--log-level', 'warn'],
  { cwd: root, stdio: 'ignore' },
);
let pub: ReturnType<typeof spawn> | null = null;
try {
  await until('both workers listening', async () => {
    const c = await api<{ nodes: unknown[] }>('/api/cluster');
    return c.nodes.length === 2 ? true : undefined;
  });
  pub = spawn('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-re', '-stream_loop', '-1', '-i', source, '-c', 'copy', '-f', 'flv',
    `rtmp://127.0.0.1:${rtmpPort}/live/bench`], { stdio: 'ignore' });
  await until('the stream', async () => {
    const s = await api<{ streams: { name: string; publisher: unknown }[] }>('/api/streams');
    return s.streams.some((x) => x.publisher !== null) ? true : undefined;
  });
  const workers = await until('both workers', async () => {
    const c = await api<{ nodes: Worker[] }>('/api/cluster');
    return c.nodes.length === 2 && c.nodes.some((n) => n.streams.length > 0) && c.nodes.every((n) => n.pid !== undefined) ? c.nodes : undefined;
  });
  const owner = workers.find((w) => w.streams.length > 0)!;
  const other = workers.find((w) => w !== owner)!;
  console.log(`${VIEWERS} HTTP-FLV viewers, ${SECONDS} s windows, source ${path.basename(source)}`);
  await window(`viewers on the owner`, workers, owner, `${owner.url}/live/bench.flv`);
  await window(`viewers on the other worker (a copy)`, workers, other, `${other.url}/live/bench.flv`);
} finally {
  pub?.kill('SIGTERM');
  gw.kill('SIGTERM');
}
