// Tables for the terminal and for bench/RESULTS.md, the side-by-side comparison with ratios, the targets
// from the issue, and the machine description.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EMPTY_RESULTS, replaceBlock } from './results-block.js';
import { BENCH_DIR, median, ROOT, SERVER_NAME, type Protocol, type ServerKind, type Stats } from './common.js';

export interface RunResult {
  server: ServerKind;
  protocol: Protocol;
  viewers: number;
  rep: number;
  windowS: number;
  /** bulk viewers that got a response / that never got data / that were dropped after data */
  opened: number;
  failed: number;
  dropped: number;
  /** expected FLV rate of one viewer over the window (what the publisher sent), Mbit/s */
  streamMbps: number;
  /** all bulk viewers together, Mbit/s */
  deliveredMbps: number;
  expectedMbps: number;
  ratio: number;
  /** worst single viewer's delivery ratio */
  ratioMin: number;
  /** viewers below 0.95 of the stream */
  starved: number;
  cpuS: number;
  cpuPct: number;
  cpuPerGB: number;
  latency: Stats | null;
  latencySamples: number;
  /** raw [send time, latency ms] samples (JSON only) */
  latencyRaw: [number, number][];
  unmatched: number;
  ttff: Stats | null;
  ttffFailed: number;
  rssBaseMB: number;
  rssSteadyMB: number;
  rssPeakMB: number;
  rssPer100MB: number;
  loadCpuPct: number;
  probeCpuPct: number;
  publisherCpuPct: number;
  publisherLagMs: number;
  probeLagP99: number;
  /** CPU used during the window by processes that are not part of the bench, % of one core */
  foreignCpuPct: number;
  errors: string[];
  /** the multi-node mode (--nodes N): each node's share */
  nodes?: NodeResult[];
}

export interface NodeResult {
  /** 1: the node with the publish; the others pull it from node 1 */
  node: number;
  owner: boolean;
  viewers: number;
  cpuS: number;
  cpuPct: number;
  /** what its bulk viewers received, Mbit/s */
  deliveredMbps: number;
  cpuPerGB: number;
}

const f = (v: number | null | undefined, d = 1): string => (v === null || v === undefined || !Number.isFinite(v) ? '–' : v.toFixed(d));

export function runLine(r: RunResult): string {
  return (
    `${SERVER_NAME[r.server].padEnd(8)} ${r.protocol.padEnd(4)} ${String(r.viewers).padStart(5)} viewers: ` +
    `${f(r.deliveredMbps, 0)}/${f(r.expectedMbps, 0)} Mbit/s (ratio ${f(r.ratio, 3)}, min ${f(r.ratioMin, 2)}), ` +
    `CPU ${f(r.cpuPct, 0)}% = ${f(r.cpuPerGB, 2)} s/GB, latency p50/p99/max ${f(r.latency?.p50)}/${f(r.latency?.p99)}/${f(r.latency?.max)} ms ` +
    `(${r.latencySamples} samples), TTFF p50/max ${f(r.ttff?.p50)}/${f(r.ttff?.max)} ms, ` +
    `RSS ${f(r.rssBaseMB, 0)}→${f(r.rssSteadyMB, 0)} MB (peak ${f(r.rssPeakMB, 0)}, ${f(r.rssPer100MB, 2)} MB/100 viewers), ` +
    `load CPU ${f(r.loadCpuPct, 0)}%, other processes ${f(r.foreignCpuPct, 0)}%`
  );
}

export function nodeLine(n: NodeResult): string {
  return `node ${n.node} (${n.owner ? 'owner' : 'pulls from node 1'}): ${n.viewers} viewers, ${f(n.deliveredMbps, 0)} Mbit/s, CPU ${f(n.cpuPct, 0)}% = ${f(n.cpuPerGB, 2)} s/GB`;
}

/** One row per node and run: CPU per delivered GB on the owner against the pulling nodes (the internal link's cost). */
export function nodesTable(results: RunResult[]): string {
  const lines = ['| proto | viewers | node | role | viewers on it | Mbit/s delivered | CPU % | CPU s/GB |', '|---|---:|---:|---|---:|---:|---:|---:|'];
  for (const r of results) {
    for (const n of r.nodes ?? []) {
      lines.push(`| ${r.protocol} | ${r.viewers} | ${n.node} | ${n.owner ? 'owner (publish)' : 'pulls from node 1'} | ${n.viewers} | ${f(n.deliveredMbps, 0)} | ${f(n.cpuPct, 0)} | ${f(n.cpuPerGB, 2)} |`);
    }
  }
  return lines.join('\n');
}

export function resultsTable(results: RunResult[]): string {
  const lines = [
    '| server | proto | viewers | conn / fail / drop | Mbit/s delivered / expected | delivery ratio (min viewer) | server CPU % | CPU s/GB | latency p50 / p99 / max ms | TTFF p50 / max ms | RSS base → steady (peak) MB | MB / 100 viewers | load CPU % | others CPU % |',
    '|---|---|---:|---|---|---|---:|---:|---|---|---|---:|---:|---:|',
  ];
  for (const r of results) {
    lines.push(
      `| ${SERVER_NAME[r.server]} | ${r.protocol} | ${r.viewers} | ${r.opened} / ${r.failed} / ${r.dropped} | ${f(r.deliveredMbps, 0)} / ${f(r.expectedMbps, 0)} | ` +
        `${f(r.ratio, 3)} (${f(r.ratioMin, 2)}) | ${f(r.cpuPct, 0)} | ${f(r.cpuPerGB, 2)} | ` +
        `${f(r.latency?.p50)} / ${f(r.latency?.p99)} / ${f(r.latency?.max)} | ${f(r.ttff?.p50)} / ${f(r.ttff?.max)} | ` +
        `${f(r.rssBaseMB, 0)} → ${f(r.rssSteadyMB, 0)} (${f(r.rssPeakMB, 0)}) | ${f(r.rssPer100MB, 2)} | ${f(r.loadCpuPct, 0)} | ${f(r.foreignCpuPct, 0)} |`,
    );
  }
  return lines.join('\n');
}

interface Agg {
  ratio: number;
  cpuPerGB: number;
  p50: number;
  p99: number;
  max: number;
  ttff50: number;
  ttffMax: number;
  per100: number;
  peak: number;
}

function aggregate(rs: RunResult[]): Agg {
  const m = (g: (r: RunResult) => number | undefined): number => median(rs.map(g).filter((v): v is number => v !== undefined && Number.isFinite(v)));
  return {
    ratio: m((r) => r.ratio),
    cpuPerGB: m((r) => r.cpuPerGB),
    p50: m((r) => r.latency?.p50),
    p99: m((r) => r.latency?.p99),
    max: m((r) => r.latency?.max),
    ttff50: m((r) => r.ttff?.p50),
    ttffMax: m((r) => r.ttff?.max),
    per100: m((r) => r.rssPer100MB),
    peak: m((r) => r.rssPeakMB),
  };
}

function configs(results: RunResult[]): { protocol: Protocol; viewers: number }[] {
  const seen = new Map<string, { protocol: Protocol; viewers: number }>();
  for (const r of results) seen.set(`${r.protocol}/${r.viewers}`, { protocol: r.protocol, viewers: r.viewers });
  return [...seen.values()];
}

/** gateway vs nms per configuration (medians over repeats), ratio = gateway / nms (lower is better for all but delivery). */
export function comparisonTable(results: RunResult[]): string {
  const lines = [
    '| proto | viewers | metric | gateway | nms 4 | gateway / nms |',
    '|---|---:|---|---:|---:|---:|',
  ];
  for (const c of configs(results)) {
    const g = results.filter((r) => r.server === 'gateway' && r.protocol === c.protocol && r.viewers === c.viewers);
    const n = results.filter((r) => r.server === 'nms' && r.protocol === c.protocol && r.viewers === c.viewers);
    if (g.length === 0 || n.length === 0) continue;
    const a = aggregate(g);
    const b = aggregate(n);
    const row = (name: string, x: number, y: number, d = 1): void => {
      lines.push(`| ${c.protocol} | ${c.viewers} | ${name} | ${f(x, d)} | ${f(y, d)} | ${f(y !== 0 ? x / y : NaN, 2)} |`);
    };
    row('delivery ratio', a.ratio, b.ratio, 3);
    row('CPU s/GB', a.cpuPerGB, b.cpuPerGB, 2);
    row('latency p50 ms', a.p50, b.p50);
    row('latency p99 ms', a.p99, b.p99);
    row('latency max ms', a.max, b.max);
    row('TTFF p50 ms', a.ttff50, b.ttff50);
    row('TTFF max ms', a.ttffMax, b.ttffMax);
    row('RSS MB / 100 viewers', a.per100, b.per100, 2);
    row('RSS peak MB', a.peak, b.peak, 0);
  }
  return lines.length > 2 ? lines.join('\n') : '(no configuration ran on both servers)';
}

/** The targets, checked on the gateway's medians (and nms's for the relative ones). */
export function targetsTable(results: RunResult[]): string {
  const lines = ['| proto | viewers | target | value | pass |', '|---|---:|---|---|---|'];
  const mark = (ok: boolean | null): string => (ok === null ? 'n/a' : ok ? 'yes' : '**no**');
  for (const c of configs(results)) {
    const g = results.filter((r) => r.server === 'gateway' && r.protocol === c.protocol && r.viewers === c.viewers);
    if (g.length === 0) continue;
    const n = results.filter((r) => r.server === 'nms' && r.protocol === c.protocol && r.viewers === c.viewers);
    const a = aggregate(g);
    const b = n.length > 0 ? aggregate(n) : null;
    const row = (t: string, v: string, ok: boolean | null): void => {
      lines.push(`| ${c.protocol} | ${c.viewers} | ${t} | ${v} | ${mark(ok)} |`);
    };
    if (c.viewers >= 500) {
      row('CPU s/GB ≤ ½ nms', b ? `${f(a.cpuPerGB, 2)} vs ${f(b.cpuPerGB, 2)} (×${f(a.cpuPerGB / b.cpuPerGB, 2)})` : f(a.cpuPerGB, 2), b ? a.cpuPerGB <= b.cpuPerGB / 2 : null);
      row('latency p99 ≤ 15 ms', `${f(a.p99)} ms`, a.p99 <= 15);
      row('latency p99 ≤ ⅓ nms', b ? `${f(a.p99)} vs ${f(b.p99)} (×${f(a.p99 / b.p99, 2)})` : '–', b ? a.p99 <= b.p99 / 3 : null);
      row('TTFF < 100 ms (max of probes)', `p50 ${f(a.ttff50)}, max ${f(a.ttffMax)} ms`, a.ttffMax < 100);
    }
    if (c.viewers >= 1000) row('delivery ratio ≥ 0.99', f(a.ratio, 3), a.ratio >= 0.99);
    row('RSS ≤ 10 MB / 100 viewers', `${f(a.per100, 2)} MB`, a.per100 <= 10);
  }
  return lines.join('\n');
}

function sh(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8' }).trim();
  } catch {
    return '(unavailable)';
  }
}

export function machineDescription(): string {
  const cpuinfo = existsSync('/proc/cpuinfo') ? readFileSync('/proc/cpuinfo', 'utf8') : '';
  const model = /^model name\s*:\s*(.*)$/m.exec(cpuinfo)?.[1] ?? os.cpus()[0]?.model ?? 'unknown';
  const nmsVersion = (() => {
    try {
      return (JSON.parse(readFileSync(path.join(ROOT, 'node_modules/node-media-server/package.json'), 'utf8')) as { version: string }).version;
    } catch {
      return 'unknown';
    }
  })();
  return [
    `- \`uname -a\`: ${sh('uname', ['-a'])}`,
    `- \`nproc\`: ${sh('nproc', [])}`,
    `- CPU: ${model}`,
    `- memory: ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB`,
    `- node: ${process.version}`,
    `- ffmpeg: ${sh('ffmpeg', ['-version']).split('\n')[0]}`,
    `- node-media-server: ${nmsVersion}`,
  ].join('\n');
}

export const RESULTS_FILE = path.join(BENCH_DIR, 'RESULTS.md');

/**
 * Replace the generated block `name` of RESULTS.md (`<!-- bench:NAME:start -->` … `<!-- bench:NAME:end -->`)
 * as a whole; hand-written text outside the markers is kept, and a missing block is appended.
 */
export function writeResults(name: string, block: string, file = RESULTS_FILE): void {
  writeFileSync(file, replaceBlock(existsSync(file) ? readFileSync(file, 'utf8') : EMPTY_RESULTS, name, block));
}
