// Long fuzzing run of every hostile-input property in test/reliability/fuzz/*.test.ts.
//
//   npm run fuzz                          # 1,000,000 cases per property, at most 30 minutes in all
//   npm run fuzz -- --runs 200000 --minutes 5
//   npm run fuzz -- --seed 12345          # replay a run (fast-check also prints seed and path on failure)
//   npm run fuzz -- --capture             # re-record test/fixtures/ffmpeg-publish.rtmp (needs ffmpeg)
//
// The test files read FUZZ_RUNS (cases per property), FUZZ_SECONDS (time cap per
// property), FUZZ_SEED and FUZZ_REPORT (a JSON-lines file they append one line per
// property to); CI runs them with none of them set, i.e. a short pass. This script
// sets them, runs vitest on those files one after the other and prints cases/s per property.
// Exit status: vitest's (non-zero when any property found a counterexample).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const FUZZ_DIR = 'test/reliability/fuzz/';
export const FIXTURE = path.join(root, 'test', 'fixtures', 'ffmpeg-publish.rtmp');
/** properties in FUZZ_DIR's files (kept in step with them: the time budget is split between them) */
const PROPERTY_COUNT = 17;

interface Args {
  runs: number;
  minutes: number;
  seed: number | null;
  capture: boolean;
}

function parseArgs(argv: string[]): Args {
  const a: Args = { runs: 1_000_000, minutes: 30, seed: null, capture: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const value = (): number => {
      const v = Number(argv[++i]);
      if (!Number.isFinite(v) || v <= 0) throw new Error(`${arg} needs a positive number`);
      return v;
    };
    if (arg === '--runs') a.runs = Math.floor(value());
    else if (arg === '--minutes') a.minutes = value();
    else if (arg === '--seed') a.seed = Math.floor(value());
    else if (arg === '--capture') a.capture = true;
    else if (arg === '--help' || arg === '-h') {
      process.stdout.write(readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\n').slice(0, 12).join('\n') + '\n');
      process.exit(0);
    } else throw new Error(`unknown argument ${arg}`);
  }
  return a;
}

interface ReportLine {
  name: string;
  runs: number;
  ms: number;
  failed: boolean;
  interrupted: boolean;
  seed: number;
}

async function fuzz(a: Args): Promise<number> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gw-fuzz-'));
  const report = path.join(dir, 'report.jsonl');
  const secondsPerProperty = Math.max(1, Math.floor((a.minutes * 60) / PROPERTY_COUNT));
  const env = {
    ...process.env,
    FUZZ_RUNS: String(a.runs),
    FUZZ_SECONDS: String(secondsPerProperty),
    FUZZ_REPORT: report,
    ...(a.seed !== null ? { FUZZ_SEED: String(a.seed) } : {}),
  };
  process.stdout.write(
    `fuzz: up to ${a.runs.toLocaleString('en')} cases per property, at most ${secondsPerProperty} s each (${a.minutes} min in all)\n`,
  );
  const started = Date.now();
  const code = await new Promise<number>((resolve) => {
    const child = spawn(path.join(root, 'node_modules', '.bin', 'vitest'), ['run', FUZZ_DIR, '--no-file-parallelism', '--reporter=verbose'], {
      cwd: root,
      env,
      stdio: 'inherit',
    });
    child.on('exit', (c) => resolve(c ?? 1));
  });
  const lines: ReportLine[] = existsSync(report)
    ? readFileSync(report, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as ReportLine)
    : [];
  rmSync(dir, { recursive: true, force: true });
  let total = 0;
  process.stdout.write('\nproperty                                                          cases      seconds   cases/s\n');
  for (const l of lines) {
    total += l.runs;
    const rate = l.ms > 0 ? Math.round((l.runs * 1000) / l.ms) : 0;
    process.stdout.write(
      `${l.name.slice(0, 62).padEnd(62)} ${String(l.runs).padStart(10)} ${(l.ms / 1000).toFixed(1).padStart(10)} ${String(rate).padStart(9)}` +
        `${l.failed ? '  FAILED' : ''}${l.interrupted ? '  (time cap)' : ''}\n`,
    );
  }
  const secs = (Date.now() - started) / 1000;
  process.stdout.write(`\n${total.toLocaleString('en')} cases in ${secs.toFixed(0)} s (${Math.round(total / secs)} cases/s overall)\n`);
  return code;
}

/**
 * Records what a real ffmpeg sends when it publishes the 720p test source: a recording TCP proxy sits
 * between ffmpeg and an in-process gateway for about two seconds. The capture (C0C1, C2, then the chunk
 * stream) is trimmed at a message boundary to stay under 256 KB.
 */
async function capture(): Promise<void> {
  const { startGateway } = await import('../server/gateway.js');
  const { startTcpProxy } = await import('../test/support/tcp-proxy.js');
  const { publish, testSource } = await import('../test/support/ffmpeg.js');
  const { waitFor } = await import('../test/support/wait.js');
  const { ChunkStreamReader } = await import('../server/rtmp/chunk-reader.js');
  const gw = await startGateway({ host: '127.0.0.1', 'rtmp-port': 0, 'http-port': 0 });
  const proxy = await startTcpProxy(gw.rtmpPort, { record: true });
  const p = publish(`rtmp://127.0.0.1:${proxy.port}/live/capture`, testSource());
  try {
    await waitFor('capture ready', () => gw.hub.get('live/capture')?.ready === true, 30_000);
    const conn = [...proxy.connections][0]!;
    await waitFor('600 KB captured', () => conn.sent.reduce((n, b) => n + b.length, 0) > 600_000, 30_000);
    const all = Buffer.concat(conn.sent);
    const HANDSHAKE = 1537 + 1536;
    // Find message boundaries by feeding the chunk stream one byte at a time.
    const ends: number[] = [];
    let at = 0;
    const reader = new ChunkStreamReader(() => ends.push(at));
    for (at = HANDSHAKE; at < all.length; at++) reader.push(all.subarray(at, at + 1));
    const LIMIT = 256 * 1024;
    const cut = ends.filter((e) => e + 1 <= LIMIT).at(-1)! + 1;
    mkdirSync(path.dirname(FIXTURE), { recursive: true });
    writeFileSync(FIXTURE, all.subarray(0, cut));
    process.stdout.write(`captured ${all.length} bytes; wrote ${cut} bytes (${ends.filter((e) => e < cut).length} messages) to ${path.relative(root, FIXTURE)}\n`);
  } finally {
    await p.stop();
    await proxy.close();
    await gw.close();
  }
}

async function main(): Promise<void> {
  const a = parseArgs(process.argv.slice(2));
  if (a.capture) {
    if (spawnSync('ffmpeg', ['-version']).status !== 0) throw new Error('ffmpeg is needed to capture');
    await capture();
    return;
  }
  process.exitCode = await fuzz(a);
}

main().catch((err: unknown) => {
  process.stderr.write(`fuzz: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
