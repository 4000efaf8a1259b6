// Summarises a V8 .cpuprofile (from `node --cpu-prof`) as self time per function, optionally only over
// a time window. V8 stamps samples with its monotonic clock in µs, which on Linux is CLOCK_MONOTONIC,
// the bench's own clock (nowMs() × 1000), so the measurement window can be cut out of the profile.
//
// Standalone: npx tsx bench/profile-summary.ts FILE.cpuprofile [--top 25]
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ROOT } from './common.js';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface HotSpot {
  name: string;
  where: string;
  selfMs: number;
  /** % of all samples in the window, idle included */
  pctAll: number;
  /** % of busy (non-idle) samples */
  pctBusy: number;
}

export interface ProfileSummary {
  file: string;
  windowMs: number;
  busyMs: number;
  /** did the window cut apply (false: the whole profile was used) */
  windowed: boolean;
  functions: HotSpot[];
  /** self time grouped by source file (or category for native / GC) */
  files: HotSpot[];
}

function shortUrl(url: string): string {
  if (url === '') return '(native)';
  let p = url.startsWith('file://') ? decodeURIComponent(url.slice(7)) : url;
  if (p.startsWith(ROOT + path.sep)) p = p.slice(ROOT.length + 1);
  return p;
}

/** `fromMs`/`toMs` on the bench clock (nowMs()); omit them for the whole profile. */
export function summarizeProfile(file: string, top = 25, fromMs?: number, toMs?: number): ProfileSummary {
  const prof = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map<number, ProfileNode>();
  for (const n of prof.nodes) byId.set(n.id, n);
  // Sample i happens at startTime + sum(timeDeltas[0..i]) µs and stands for the time until the next one.
  let t = prof.startTime;
  const from = fromMs === undefined ? -Infinity : fromMs * 1000;
  const to = toMs === undefined ? Infinity : toMs * 1000;
  const inRange = fromMs !== undefined && prof.startTime <= to && prof.endTime >= from;
  const self = new Map<number, number>();
  let total = 0;
  for (let i = 0; i < prof.samples.length; i++) {
    t += prof.timeDeltas[i] ?? 0;
    const dt = prof.timeDeltas[i + 1] ?? 0;
    if (inRange && (t < from || t > to)) continue;
    self.set(prof.samples[i]!, (self.get(prof.samples[i]!) ?? 0) + dt);
    total += dt;
  }
  const fn = new Map<string, { name: string; where: string; us: number }>();
  const files = new Map<string, number>();
  let idle = 0;
  for (const [id, us] of self) {
    const cf = byId.get(id)!.callFrame;
    const name = cf.functionName || '(anonymous)';
    if (name === '(idle)') idle += us;
    // Code run through tsx is reported at its transformed position: line:column of the emitted JS.
    const where = cf.url === '' ? '' : `${shortUrl(cf.url)}:${cf.lineNumber + 1}:${cf.columnNumber + 1}`;
    const key = `${name}|${where}`;
    const e = fn.get(key) ?? { name, where, us: 0 };
    e.us += us;
    fn.set(key, e);
    const fileKey = cf.url === '' ? name : shortUrl(cf.url);
    files.set(fileKey, (files.get(fileKey) ?? 0) + us);
  }
  const busy = total - idle;
  const spot = (name: string, where: string, us: number): HotSpot => ({
    name,
    where,
    selfMs: us / 1000,
    pctAll: total > 0 ? (100 * us) / total : 0,
    pctBusy: busy > 0 && name !== '(idle)' ? (100 * us) / busy : 0,
  });
  return {
    file,
    windowMs: total / 1000,
    busyMs: busy / 1000,
    windowed: inRange,
    functions: [...fn.values()].sort((a, b) => b.us - a.us).slice(0, top).map((e) => spot(e.name, e.where, e.us)),
    files: [...files].sort((a, b) => b[1] - a[1]).slice(0, 15).map(([f, us]) => spot(f, '', us)),
  };
}

export function formatProfile(s: ProfileSummary): string {
  const lines: string[] = [];
  lines.push(
    `Profile ${path.relative(ROOT, s.file)}: ${(s.windowMs / 1000).toFixed(1)} s ${s.windowed ? 'measurement window' : 'whole run'}, ` +
      `${(s.busyMs / 1000).toFixed(1)} s busy (${((100 * s.busyMs) / Math.max(1, s.windowMs)).toFixed(0)}% of one core)`,
  );
  lines.push('');
  lines.push('| # | function | where | self ms | % busy | % all |');
  lines.push('|---|---|---|---:|---:|---:|');
  s.functions.forEach((f, i) => {
    lines.push(`| ${i + 1} | \`${f.name}\` | ${f.where || '(native/VM)'} | ${f.selfMs.toFixed(0)} | ${f.pctBusy.toFixed(1)} | ${f.pctAll.toFixed(1)} |`);
  });
  lines.push('');
  lines.push('Self time by file:');
  lines.push('');
  lines.push('| file | self ms | % busy |');
  lines.push('|---|---:|---:|');
  for (const f of s.files) lines.push(`| ${f.name} | ${f.selfMs.toFixed(0)} | ${f.pctBusy.toFixed(1)} |`);
  return lines.join('\n');
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === path.resolve(ROOT, 'bench', 'profile-summary.ts')) {
  const { values, positionals } = parseArgs({ options: { top: { type: 'string', default: '25' } }, allowPositionals: true });
  for (const f of positionals) console.log(formatProfile(summarizeProfile(f, Number(values.top))));
}
