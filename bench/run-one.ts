// One bench run, steps 1-6 of bench/run.ts: a fresh server (or cluster of nodes), the publisher, the load
// and probe processes, the measurement window and the teardown; and the wait for a quiet machine before it.
import { mkdirSync, readdirSync } from 'node:fs';
import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import {
  CACHE_DIR, nowMs, ROOT, sleep, median,
  type LoadCmd, type LoadMsg, type ProbeCmd, type ProbeMsg, type ProbeReport, type Protocol, type PublisherMsg, type SentTag, type ServerKind,
} from './common.js';
import type { Plan } from './options.js';
import { foreignCpuPct, readCpu, readMem, readSystemBusy, readTreeCpu, RssSampler } from './procstat.js';
import { summarizeProfile, type ProfileSummary } from './profile-summary.js';
import type { RunResult } from './report.js';
import { forkBench, startRedis, startServer, stopChild, type RunningServer } from './servers.js';

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
export interface RunContext {
  server: ServerKind;
  protocol: Protocol;
  viewers: number;
  rep: number;
  source: string;
}

export interface RunOutput {
  result: RunResult;
  profile: ProfileSummary | null;
}

export async function runOne(plan: Plan, ctx: RunContext): Promise<RunOutput> {
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
export async function waitQuiet(maxS: number): Promise<void> {
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
