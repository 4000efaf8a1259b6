// Benchmark orchestrator: `npm run bench -- [options]`, see --help.
//
// For every configuration (viewers × protocol), the servers run the very same procedure one after the
// other, interleaved (gateway, nms, gateway, nms… with --repeat), each in a fresh process:
//   1. start the server on free loopback ports;
//   2. fork the publisher (bench/publisher.ts): RTMP publish of the cached 720p30 source at real-time pace;
//   3. fork the load process (bench/load.ts) and ramp N bulk viewers in batches;
//   4. fork the probe process (bench/probe.ts) and open the latency probes; let things settle;
//   5. measurement window (--seconds): server CPU from /proc/PID/stat and RSS from /proc/PID/status,
//      bytes per viewer, latency of every video frame at the probes, TTFF probes joining one by one;
//   6. stop everything, next run.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { ChildProcess } from 'node:child_process';
import {
  CACHE_DIR, nowMs, ROOT, sleep, median,
  type LoadCmd, type LoadMsg, type ProbeCmd, type ProbeMsg, type ProbeReport, type Protocol, type PublisherMsg, type SentTag, type ServerKind,
} from './common.js';
import { ensureSource, SOURCE, sourceArgs } from './media.js';
import { foreignCpuPct, readCpu, readMem, readSystemBusy, readTreeCpu, RssSampler } from './procstat.js';
import { formatProfile, summarizeProfile, type ProfileSummary } from './profile-summary.js';
import {
  comparisonTable, machineDescription, nodeLine, nodesTable, resultsTable, runLine, targetsTable, writeResults, RESULTS_FILE, type RunResult,
} from './report.js';
import { forkBench, installCleanup, killAll, setNiceness, startRedis, startServer, stopChild, type RunningServer } from './servers.js';

const HELP = `npm run bench -- [options]

  --viewers LIST     bulk viewer counts, comma-separated (default 100,500)
  --protocols LIST   http,ws (default both)
  --servers LIST     gateway,nms (default both)
  --workers N        run the gateway with --workers N (CPU adds up the primary and its workers; RSS
                     columns are the primary's only); default 1
  --nodes N          multi-node mode (gateway only): redis-server and N gateway processes in cluster
                     mode (--cluster-redis), the publisher on node 1, viewers and probes spread over
                     the nodes in turn; adds CPU s/GB per node (owner vs pulling nodes); default 1
  --seconds N        measurement window per run (default 15)
  --repeat N         runs per server and configuration, interleaved (default 1)
  --probes N         latency probe viewers, on top of the bulk viewers (default 4)
  --ttff N           time-to-first-frame probes per run, spread over the window (default 10)
  --batch N          viewers opened per ramp batch (default 50)
  --settle N         seconds between ramp and window (default 3)
  --wait-quiet N     before each run, wait up to N s for other processes to use < 25% of a core
                     (default 300, 0 with --smoke); the CPU others used during each window is reported
  --max-foreign P    rerun (up to 3 tries) a run during which other processes used more than P% of a
                     core (default 25, 0 = never rerun; off with --smoke)
  --nice=N           scheduling priority of the bench's own processes, e.g. --nice=-5 on a machine shared
                     with other work (negative values need root; default 0)
  --smoke            20 viewers, 5 s, both protocols and servers; exit 0 iff both servers delivered data
  --cpu-prof         run the gateway under node --cpu-prof and summarise the hottest functions
  --write            put the tables, machine and command into bench/RESULTS.md (the generated block
                     "results", or "profile-PROTOCOLS-VIEWERS" with --cpu-prof, "smoke" with --smoke;
                     "-workersN" / "-nodesN" appended with --workers / --nodes)
  --report FILE      print (and with --write, put into RESULTS.md) the tables of a saved run
                     (bench/.cache/results/*.json) without running anything
  --help`;

const argv = process.argv.slice(2);
const { values: cli } = parseArgs({
  args: argv,
  options: {
    viewers: { type: 'string' },
    protocols: { type: 'string' },
    servers: { type: 'string' },
    seconds: { type: 'string' },
    repeat: { type: 'string' },
    probes: { type: 'string' },
    ttff: { type: 'string' },
    batch: { type: 'string' },
    settle: { type: 'string' },
    'wait-quiet': { type: 'string' },
    'max-foreign': { type: 'string' },
    nice: { type: 'string' },
    workers: { type: 'string' },
    nodes: { type: 'string' },
    report: { type: 'string' },
    smoke: { type: 'boolean', default: false },
    'cpu-prof': { type: 'boolean', default: false },
    write: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});
if (cli.help) {
  console.log(HELP);
  process.exit(0);
}

function list<T extends string>(raw: string | undefined, allowed: readonly T[], dflt: T[], what: string): T[] {
  if (raw === undefined) return dflt;
  const items = raw.split(',').map((s) => s.trim()).filter(Boolean);
  for (const i of items) if (!allowed.includes(i as T)) usage(`unknown ${what} ${JSON.stringify(i)} (expected ${allowed.join(', ')})`);
  return items as T[];
}

function int(raw: string | undefined, dflt: number, what: string, min = 0): number {
  if (raw === undefined) return dflt;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) usage(`--${what} must be a whole number ≥ ${min}`);
  return n;
}

function usage(msg: string): never {
  console.error(`bench: ${msg}\n\n${HELP}`);
  process.exit(2);
}

const smoke = cli.smoke;
const plan = {
  smoke,
  viewers: cli.viewers !== undefined ? cli.viewers.split(',').map((v) => int(v.trim(), 0, 'viewers', 1)) : smoke ? [20] : [100, 500],
  protocols: list<Protocol>(cli.protocols, ['http', 'ws'], ['http', 'ws'], 'protocol'),
  servers: list<ServerKind>(cli.servers, ['gateway', 'nms'], ['gateway', 'nms'], 'server'),
  seconds: int(cli.seconds, smoke ? 5 : 15, 'seconds', 1),
  repeat: int(cli.repeat, 1, 'repeat', 1),
  probes: int(cli.probes, smoke ? 2 : 4, 'probes', 1),
  ttff: int(cli.ttff, smoke ? 3 : 10, 'ttff', 0),
  batch: int(cli.batch, 50, 'batch', 1),
  settle: int(cli.settle, smoke ? 1 : 3, 'settle', 0),
  waitQuiet: int(cli['wait-quiet'], smoke ? 0 : 300, 'wait-quiet', 0),
  maxForeign: int(cli['max-foreign'], smoke ? 0 : 25, 'max-foreign', 0),
  nice: cli.nice === undefined ? 0 : Number(cli.nice),
  cpuProf: cli['cpu-prof'],
  workers: int(cli.workers, 1, 'workers', 1),
  nodes: int(cli.nodes, 1, 'nodes', 1),
};
if (plan.nodes > 1 && plan.servers.includes('nms')) usage('--nodes is a gateway mode: add --servers gateway');
const STREAM_PATH = '/live/bench.flv';

// -- child messaging helpers ------------------------------------------------------
function nextMessage<T extends { k: string }>(child: ChildProcess, pred: (m: T) => boolean, timeoutMs: number, what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMsg = (m: T): void => {
      if (m.k === 'error') return done(new Error(`${what}: ${(m as unknown as { message: string }).message}`));
      if (pred(m)) done(null, m);
    };
    const onExit = (code: number | null, sig: string | null): void => done(new Error(`${what}: the process exited (${code ?? sig})`));
    const timer = setTimeout(() => done(new Error(`${what}: no answer within ${timeoutMs} ms`)), timeoutMs);
    const done = (err: Error | null, m?: T): void => {
      clearTimeout(timer);
      child.off('message', onMsg);
      child.off('exit', onExit);
      if (err !== null) reject(err);
      else resolve(m!);
    };
    child.on('message', onMsg);
    child.on('exit', onExit);
  });
}

const cpuOf = (child: ChildProcess | RunningServer): number => readCpu(child.pid!)?.total ?? NaN;
/** The server's CPU: with --workers, the primary and every worker. */
const serverCpu = (srv: RunningServer): number => readTreeCpu(srv.pid)?.total ?? NaN;

// -- one run ---------------------------------------------------------------------------
interface RunContext {
  server: ServerKind;
  protocol: Protocol;
  viewers: number;
  rep: number;
  source: string;
}

interface RunOutput {
  result: RunResult;
  profile: ProfileSummary | null;
}

async function runOne(ctx: RunContext): Promise<RunOutput> {
  const label = `${ctx.server}-${ctx.protocol}-${ctx.viewers}-r${ctx.rep}`;
  const profDir = plan.cpuProf && ctx.server === 'gateway' ? path.join(CACHE_DIR, 'profiles', label) : undefined;
  if (profDir !== undefined) mkdirSync(profDir, { recursive: true });
  // Multi-node mode: a Redis and N gateway nodes; node 1 takes the publish, the others pull from it.
  const nodeCount = ctx.server === 'gateway' ? plan.nodes : 1;
  const redis = nodeCount > 1 ? await startRedis(`${label}-redis`) : null;
  const srvs: RunningServer[] = [];
  const children: ChildProcess[] = [];
  let serverDied: string | null = null;
  let rss: RssSampler | null = null;
  try {
    for (let i = 0; i < nodeCount; i++) {
      const s = await startServer(ctx.server, {
        label: nodeCount > 1 ? `${label}-node${i + 1}` : label,
        ...(profDir !== undefined && i === 0 ? { cpuProfDir: profDir } : {}),
        ...(ctx.server === 'gateway' ? { workers: plan.workers } : {}),
        ...(redis !== null ? { cluster: { redisUrl: redis.url, secret: 'bench-cluster-secret' } } : {}),
      });
      srvs.push(s);
      s.child.once('exit', (code, sig) => (serverDied = `${ctx.server} exited (${code ?? sig}) during the run, see ${path.relative(ROOT, s.log)}`));
    }
    const srv = srvs[0]!;
    rss = new RssSampler(srv.pid, 250, nowMs);
    const nodesCpu = (): number[] => srvs.map((s) => serverCpu(s));
    // publisher
    const sent: SentTag[] = [];
    let probe: ChildProcess | null = null;
    let publisherLag = 0;
    const publisher = forkBench('publisher.ts', ['--port', String(srv.rtmpPort), '--app', 'live', '--key', 'bench', '--file', ctx.source], `${label}-publisher`);
    children.push(publisher);
    publisher.on('message', (m: PublisherMsg) => {
      if (m.k === 'tags') {
        for (const t of m.tags) sent.push(t);
        const recs = m.tags.filter((t) => t.h !== null).map((t) => [t.h!, t.t] as [string, number]);
        // The probe may exit between the check and the send (end of a run): never let that crash the bench.
        if (probe !== null && probe.connected && recs.length > 0) probe.send({ k: 'records', recs } satisfies ProbeCmd, () => {});
      } else if (m.k === 'stats') publisherLag = Math.max(publisherLag, m.maxLagMs);
    });
    const published = await nextMessage<PublisherMsg>(publisher, (m) => m.k === 'published', 20_000, 'publisher');
    if (published.k !== 'published') throw new Error('unreachable');
    // Baseline RSS: publisher on, GOP cache full, no viewer yet (median of the last second).
    await sleep(2_500);
    const baseline = median(rss.samples.slice(-4).map((s) => s.rss)) || (readMem(srv.pid)?.rss ?? NaN);

    // load and probes
    const args = ['--port', srvs.map((s) => s.httpPort).join(','), '--path', STREAM_PATH, '--protocol', ctx.protocol];
    const load = forkBench('load.ts', args, `${label}-load`);
    const probeProc = forkBench('probe.ts', [...args, '--loop-ms', String(published.loopMs)], `${label}-probe`);
    // TTFF probes in a process of their own: a joining viewer's GOP burst must not delay the latency probes' reads.
    const ttffProc = forkBench('probe.ts', [...args, '--loop-ms', String(published.loopMs)], `${label}-ttff`);
    children.push(load, probeProc, ttffProc);
    await Promise.all([
      nextMessage<LoadMsg>(load, (m) => m.k === 'hello', 30_000, 'load process start'),
      nextMessage<ProbeMsg>(probeProc, (m) => m.k === 'hello', 30_000, 'probe process start'),
      nextMessage<ProbeMsg>(ttffProc, (m) => m.k === 'hello', 30_000, 'TTFF probe process start'),
    ]);
    probe = probeProc;
    // Records of what was sent before the probe process was up (the GOP cache a probe will receive first).
    const recent = sent.filter((t) => t.h !== null && t.t > nowMs() - published.loopMs / 2).map((t) => [t.h!, t.t] as [string, number]);
    probeProc.send({ k: 'records', recs: recent } satisfies ProbeCmd);
    const sendLoad = (c: LoadCmd): boolean => load.send(c);
    const sendProbe = (c: ProbeCmd): boolean => probeProc.send(c);

    sendLoad({ k: 'ramp', viewers: ctx.viewers, batch: plan.batch, batchPauseMs: 100 });
    const ramped = await nextMessage<LoadMsg>(load, (m) => m.k === 'ramped', 60_000 + ctx.viewers * 100, 'ramp');
    if (ramped.k !== 'ramped') throw new Error('unreachable');
    if (ramped.opened === 0) throw new Error(`no viewer could connect: ${ramped.errors.join('; ')}`);
    sendProbe({ k: 'latency', probes: plan.probes });
    await nextMessage<ProbeMsg>(probeProc, (m) => m.k === 'latencyReady', 30_000, 'latency probes');
    await sleep(plan.settle * 1000);
    if (serverDied !== null) throw new Error(serverDied);

    // measurement window
    const sys0 = readSystemBusy();
    const self0 = process.cpuUsage();
    const perNode0 = nodesCpu();
    const cpu0 = perNode0.reduce((a, b) => a + b, 0);
    const loadCpu0 = cpuOf(load);
    const probeCpu0 = cpuOf(probeProc) + cpuOf(ttffProc);
    const pubCpu0 = cpuOf(publisher);
    sendProbe({ k: 'mark', id: 'start' });
    sendLoad({ k: 'mark', id: 'start' });
    const m0 = await nextMessage<LoadMsg>(load, (m) => m.k === 'mark' && m.id === 'start', 10_000, 'load mark');
    if (plan.ttff > 0) ttffProc.send({ k: 'ttff', count: plan.ttff, intervalMs: Math.floor((plan.seconds * 1000) / (plan.ttff + 1)) });
    await sleep(plan.seconds * 1000);
    const perNode1 = nodesCpu();
    const cpu1 = perNode1.reduce((a, b) => a + b, 0);
    const loadCpu1 = cpuOf(load);
    const probeCpu1 = cpuOf(probeProc) + cpuOf(ttffProc);
    const pubCpu1 = cpuOf(publisher);
    const self1 = process.cpuUsage(self0);
    const sys1 = readSystemBusy();
    sendLoad({ k: 'mark', id: 'end' });
    sendProbe({ k: 'mark', id: 'end' });
    const m1 = await nextMessage<LoadMsg>(load, (m) => m.k === 'mark' && m.id === 'end', 10_000, 'load mark');
    const mem = readMem(srv.pid);
    if (serverDied !== null) throw new Error(serverDied);
    if (m0.k !== 'mark' || m1.k !== 'mark') throw new Error('unreachable');

    sendLoad({ k: 'report', from: 'start', to: 'end' });
    const loadReport = await nextMessage<LoadMsg>(load, (m) => m.k === 'report', 15_000, 'load report');
    // The last frames of the window may still be matching: give the probes a moment.
    await sleep(300);
    sendProbe({ k: 'report', from: 'start', to: 'end' });
    ttffProc.send({ k: 'report', from: 'start', to: 'end' } satisfies ProbeCmd);
    const [probeMsg, ttffMsg] = await Promise.all([
      nextMessage<ProbeMsg>(probeProc, (m) => m.k === 'report', 15_000, 'probe report'),
      nextMessage<ProbeMsg>(ttffProc, (m) => m.k === 'report', 15_000, 'TTFF probe report'),
    ]);
    if (loadReport.k !== 'report' || probeMsg.k !== 'report' || ttffMsg.k !== 'report') throw new Error('unreachable');
    const pr: ProbeReport = {
      ...probeMsg.report,
      ttff: ttffMsg.report.ttff,
      ttffSamples: ttffMsg.report.ttffSamples,
      ttffFailed: ttffMsg.report.ttffFailed,
      errors: [...probeMsg.report.errors, ...ttffMsg.report.errors],
    };

    // numbers
    const windowMs = m1.t - m0.t;
    const windowS = windowMs / 1000;
    // What the publisher sent over the same window, shifted by the typical latency.
    const shift = pr.latency?.p50 ?? 0;
    const sentBytes = sent.filter((t) => t.t >= m0.t - shift && t.t < m1.t - shift).reduce((a, t) => a + t.n, 0);
    const bulk = loadReport.deltas.reduce((a, b) => a + b, 0);
    const perViewer = [...loadReport.deltas, ...new Array<number>(Math.max(0, ctx.viewers - loadReport.deltas.length)).fill(0)];
    const ratios = perViewer.map((d) => (sentBytes > 0 ? d / sentBytes : 0));
    const delivered = bulk + pr.bytes;
    const cpuS = cpu1 - cpu0;
    const ours = cpuS + (loadCpu1 - loadCpu0) + (probeCpu1 - probeCpu0) + (pubCpu1 - pubCpu0) + (self1.user + self1.system) / 1e6;
    const steady = median(rss.between(m0.t, m1.t));
    const nodeBytes = srvs.map((_, k) => perViewer.reduce((a, d, i) => a + (i % srvs.length === k ? d : 0), 0));
    const MB = 1e6;
    const result: RunResult = {
      server: ctx.server,
      protocol: ctx.protocol,
      viewers: ctx.viewers,
      rep: ctx.rep,
      windowS,
      opened: ramped.opened,
      failed: loadReport.failed,
      dropped: loadReport.closed,
      streamMbps: (sentBytes * 8) / windowS / 1e6,
      deliveredMbps: (bulk * 8) / windowS / 1e6,
      expectedMbps: (ctx.viewers * sentBytes * 8) / windowS / 1e6,
      ratio: sentBytes > 0 ? bulk / (ctx.viewers * sentBytes) : 0,
      ratioMin: Math.min(...ratios),
      starved: ratios.filter((r) => r < 0.95).length,
      cpuS,
      cpuPct: (100 * cpuS) / windowS,
      cpuPerGB: delivered > 0 ? cpuS / (delivered / 1e9) : NaN,
      latency: pr.latency,
      latencySamples: pr.samples,
      latencyRaw: pr.raw,
      unmatched: pr.unmatched,
      ttff: pr.ttff,
      ttffFailed: pr.ttffFailed,
      rssBaseMB: baseline / MB,
      rssSteadyMB: steady / MB,
      rssPeakMB: (mem?.hwm ?? NaN) / MB,
      rssPer100MB: ((steady - baseline) / MB / ctx.viewers) * 100,
      loadCpuPct: (100 * (loadCpu1 - loadCpu0)) / windowS,
      probeCpuPct: (100 * (probeCpu1 - probeCpu0)) / windowS,
      publisherCpuPct: (100 * (pubCpu1 - pubCpu0)) / windowS,
      publisherLagMs: publisherLag,
      foreignCpuPct: (100 * (sys1 - sys0 - ours)) / windowS,
      probeLagP99: pr.loopLagP99,
      errors: [...ramped.errors, ...loadReport.errors.filter((e) => !ramped.errors.includes(e)), ...pr.errors],
      ...(srvs.length > 1
        ? {
            nodes: srvs.map((_, k) => {
              const s = perNode1[k]! - perNode0[k]!;
              return {
                node: k + 1, owner: k === 0, viewers: perViewer.filter((_, i) => i % srvs.length === k).length,
                cpuS: s, cpuPct: (100 * s) / windowS, deliveredMbps: (nodeBytes[k]! * 8) / windowS / 1e6, cpuPerGB: nodeBytes[k]! > 0 ? s / (nodeBytes[k]! / 1e9) : NaN,
              };
            }),
          }
        : {}),
    };
    if (pr.unmatched > 0) result.errors.push(`${pr.unmatched} probe frames could not be matched to a send record`);

    // teardown: viewers first, then the publisher, then the server (SIGTERM, so --cpu-prof is written)
    for (const c of [probeProc, ttffProc, load, publisher]) if (c.connected) c.send({ k: 'stop' }, () => {});
    await Promise.all([probeProc, ttffProc, load, publisher].map((c) => stopChild(c, 3_000, 'SIGTERM')));
    await Promise.all(srvs.map((s) => stopChild(s.child, 10_000, 'SIGTERM')));
    let profile: ProfileSummary | null = null;
    if (profDir !== undefined) {
      const file = readdirSync(profDir).find((f) => f.endsWith('.cpuprofile'));
      if (file !== undefined) profile = summarizeProfile(path.join(profDir, file), 25, m0.t, m1.t);
      else result.errors.push('no .cpuprofile was written');
    }
    return { result, profile };
  } finally {
    rss?.stop();
    await Promise.all(children.map((c) => stopChild(c, 2_000, 'SIGKILL')));
    await Promise.all(srvs.map((s) => stopChild(s.child, 5_000)));
    if (redis !== null) await stopChild(redis.child, 2_000);
  }
}

/** Wait (bounded) until other processes leave the machine mostly idle: their CPU would skew the numbers. */
async function waitQuiet(maxS: number): Promise<void> {
  const deadline = Date.now() + maxS * 1000;
  let said = false;
  for (;;) {
    const pct = await foreignCpuPct([process.pid], 3000);
    if (pct < 25) return;
    if (Date.now() > deadline) {
      console.log(`bench: other processes still use ${pct.toFixed(0)}% of a core after ${maxS} s; running anyway`);
      return;
    }
    if (!said) console.log(`bench: other processes use ${pct.toFixed(0)}% of a core; waiting for a quiet machine (up to ${maxS} s)`);
    said = true;
  }
}

// -- output -----------------------------------------------------------------------------
type Plan = typeof plan;
interface Saved {
  stamp: string;
  argv: string[];
  plan: Plan;
  results: RunResult[];
  broken: string[];
  profiles: { label: string; summary: ProfileSummary }[];
}

function renderTables(s: Saved): string {
  const out = [resultsTable(s.results), comparisonTable(s.results), targetsTable(s.results)];
  for (const p of s.profiles) out.push(`${p.label}\n${formatProfile(p.summary)}`);
  return out.join('\n\n');
}

function blockName(p: Plan): string {
  const base = p.cpuProf ? `profile-${p.protocols.join('-')}-${p.viewers.join('-')}` : p.smoke ? 'smoke' : 'results';
  // Worker and multi-node runs get blocks of their own: the 1-worker block stays next to them.
  return `${base}${(p.workers ?? 1) > 1 ? `-workers${p.workers}` : ''}${(p.nodes ?? 1) > 1 ? `-nodes${p.nodes}` : ''}`;
}

/** The RESULTS.md block of one invocation: command, machine, source, plan and the tables. */
function renderBlock(s: Saved): string {
  const p = s.plan;
  const command = `npm run bench${s.argv.length > 0 ? ` -- ${s.argv.join(' ')}` : ''}`;
  return [
    `## Run of ${s.stamp}`,
    '',
    `Command: \`${command}\``,
    '',
    machineDescription(),
    '',
    `Source: ${SOURCE.width}x${SOURCE.height} ${SOURCE.fps} fps H.264 High (x264 veryfast, ${SOURCE.videoKbps} kbit/s, GOP ${SOURCE.gopFrames} frames = ${SOURCE.gopFrames / SOURCE.fps} s, no B-frames) + AAC-LC ${SOURCE.audioKbps} kbit/s stereo 44.1 kHz, ${SOURCE.seconds} s looped; made once with \`ffmpeg ${sourceArgs().join(' ')} OUT.flv\`.`,
    '',
    `Plan: viewers ${p.viewers.join(', ')};${(p.workers ?? 1) > 1 ? ` --workers ${p.workers};` : ''}${(p.nodes ?? 1) > 1 ? ` --nodes ${p.nodes};` : ''} protocols ${p.protocols.join(', ')}; ${p.seconds} s window after a ${p.settle} s settle; ${p.probes} latency probes on top of the bulk viewers; ${p.ttff} TTFF probes per run; repeat ${p.repeat}, interleaved ${p.servers.join(' → ')}.`,
    '',
    '### Per run',
    '',
    resultsTable(s.results),
    '',
    `### Side by side (${p.repeat > 1 ? 'medians over repeats; ' : ''}ratio = gateway / nms)`,
    '',
    comparisonTable(s.results),
    '',
    '### Targets (gateway)',
    '',
    targetsTable(s.results),
    ...(s.results.some((r) => r.nodes !== undefined) ? ['', `### Per node (${p.nodes} nodes${p.workers > 1 ? ` of ${p.workers} workers` : ''}, one Redis; node 1 holds the publish, the others pull it from node 1)`, '', nodesTable(s.results)] : []),
    ...(s.broken.length > 0 ? ['', '### Runs that failed', '', ...s.broken.map((b) => `- ${b}`)] : []),
    ...s.profiles.flatMap((x) => ['', `### CPU profile: ${x.label}`, '', formatProfile(x.summary)]),
  ].join('\n');
}

/** --report FILE: render a saved run again (e.g. after a change to the tables) without running anything. */
function reportOnly(file: string): number {
  const saved = JSON.parse(readFileSync(file, 'utf8')) as Saved;
  console.log(renderTables(saved));
  if (cli.write) {
    writeResults(blockName(saved.plan), renderBlock(saved));
    console.log(`updated ${path.relative(ROOT, RESULTS_FILE)}`);
  }
  return 0;
}

// -- main -----------------------------------------------------------------------------
async function main(): Promise<number> {
  if (cli.report !== undefined) return reportOnly(cli.report);
  installCleanup();
  if (!Number.isInteger(plan.nice) || plan.nice < -20 || plan.nice > 19) usage('--nice must be a whole number from -20 to 19');
  if (plan.nice !== 0) setNiceness(plan.nice);
  const source = ensureSource();
  const runs = plan.viewers.length * plan.protocols.length * plan.repeat * plan.servers.length;
  const tries = plan.maxForeign > 0 ? 3 : 1;
  const budgetS = plan.viewers.reduce((a, v) => a + tries * (plan.seconds + plan.settle + 60 + plan.waitQuiet + v / 10) * plan.protocols.length * plan.repeat * plan.servers.length, 60);
  const watchdog = setTimeout(() => {
    console.error(`bench: still running after ${budgetS.toFixed(0)} s, giving up`);
    killAll();
    process.exit(3);
  }, budgetS * 1000);
  watchdog.unref();

  console.log(
    `bench: ${runs} runs — viewers ${plan.viewers.join(',')}, ${plan.protocols.join(',')}, servers ${plan.servers.join(',')}, ` +
      `${plan.seconds} s window, ${plan.probes} latency probes, ${plan.ttff} TTFF probes, repeat ${plan.repeat}${plan.cpuProf ? ', gateway under --cpu-prof' : ''}${plan.nice !== 0 ? `, nice ${plan.nice}` : ''}`,
  );
  const results: RunResult[] = [];
  const profiles: { label: string; summary: ProfileSummary }[] = [];
  const broken: string[] = [];
  for (const viewers of plan.viewers) {
    for (const protocol of plan.protocols) {
      for (let rep = 1; rep <= plan.repeat; rep++) {
        for (const server of plan.servers) {
          const t0 = Date.now();
          try {
            let out: RunOutput | null = null;
            for (let attempt = 1; attempt <= 3; attempt++) {
              if (plan.waitQuiet > 0) await waitQuiet(plan.waitQuiet);
              const o = await runOne({ server, protocol, viewers, rep, source });
              if (out === null || o.result.foreignCpuPct < out.result.foreignCpuPct) out = o;
              if (plan.maxForeign === 0 || o.result.foreignCpuPct <= plan.maxForeign) break;
              console.log(`    (other processes used ${o.result.foreignCpuPct.toFixed(0)}% of a core during the window${attempt < 3 ? ': running it again' : ''})`);
            }
            if (plan.maxForeign > 0 && out!.result.foreignCpuPct > plan.maxForeign) {
              out!.result.errors.push(`other processes used ${out!.result.foreignCpuPct.toFixed(0)}% of a core during the window`);
            }
            out = out!;
            results.push(out.result);
            console.log(`${runLine(out.result)}  [${((Date.now() - t0) / 1000).toFixed(0)} s]`);
            for (const n of out.result.nodes ?? []) console.log(`    ${nodeLine(n)}`);
            for (const e of out.result.errors) console.log(`    note: ${e}`);
            if (out.profile !== null) profiles.push({ label: `${server} ${protocol} ${viewers} viewers`, summary: out.profile });
          } catch (err) {
            const msg = `${server} ${protocol} ${viewers} viewers: ${(err as Error).message}`;
            broken.push(msg);
            console.log(`FAILED ${msg}`);
          }
        }
      }
    }
  }
  clearTimeout(watchdog);

  const saved: Saved = { stamp: new Date().toISOString(), argv, plan, results, broken, profiles };
  console.log(`\n${renderTables(saved)}`);
  mkdirSync(path.join(CACHE_DIR, 'results'), { recursive: true });
  const jsonFile = path.join(CACHE_DIR, 'results', `${saved.stamp.replace(/[:.]/g, '-')}.json`);
  writeFileSync(jsonFile, JSON.stringify(saved, null, 2));
  console.log(`\nraw results: ${path.relative(ROOT, jsonFile)}`);
  if (cli.write) {
    writeResults(blockName(plan), renderBlock(saved));
    console.log(`updated ${path.relative(ROOT, RESULTS_FILE)}`);
  }

  if (broken.length > 0) {
    console.error(`\nbench: ${broken.length} run(s) failed:\n  ${broken.join('\n  ')}`);
    return 1;
  }
  // Smoke criterion: every run of every server delivered data to the bulk viewers and the probes.
  const dry = results.filter((r) => !(r.deliveredMbps > 0) || r.latencySamples === 0 || r.ttff === null);
  if (dry.length > 0) {
    console.error(`\nbench: no data from ${dry.map((r) => `${r.server} ${r.protocol} ${r.viewers}`).join(', ')}`);
    return 1;
  }
  for (const s of plan.servers) {
    if (!results.some((r) => r.server === s)) {
      console.error(`bench: ${s} produced no result`);
      return 1;
    }
  }
  return 0;
}

main().then(
  (code) => {
    killAll();
    process.exit(code);
  },
  (err: unknown) => {
    console.error(`bench: harness error: ${(err as Error).stack ?? String(err)}`);
    killAll();
    process.exit(2);
  },
);
