// Linux /proc readers: CPU time from /proc/PID/stat (utime + stime, proc(5) fields 14 and 15, in clock
// ticks) and memory from /proc/PID/status (VmRSS now, VmHWM = peak RSS).
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

let ticks: number | null = null;

/** USER_HZ: clock ticks per second of the stat fields (almost always 100). */
export function clockTicks(): number {
  if (ticks !== null) return ticks;
  try {
    ticks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    ticks = 100;
  }
  return ticks;
}

export interface CpuTimes {
  user: number;
  system: number;
  /** user + system, seconds */
  total: number;
}

/** CPU seconds used so far by the process (its own threads, not its children). Null if it is gone. */
export function readCpu(pid: number): CpuTimes | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // The command name (field 2) is in parentheses and may contain spaces: split after the last ')'.
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // rest[0] is field 3 (state), so field N is rest[N - 3].
  const hz = clockTicks();
  const user = Number(rest[14 - 3]) / hz;
  const system = Number(rest[15 - 3]) / hz;
  return { user, system, total: user + system };
}

/** The process and every live descendant (e.g. a --workers primary and its workers). */
export function processTree(pid: number): number[] {
  const out = [pid];
  for (let i = 0; i < out.length; i++) {
    try {
      for (const task of readdirSync(`/proc/${out[i]}/task`)) {
        const kids = readFileSync(`/proc/${out[i]}/task/${task}/children`, 'utf8').trim();
        if (kids !== '') out.push(...kids.split(' ').map(Number));
      }
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** CPU seconds of the process and its live descendants; a descendant that exits mid-window is lost (rare). */
export function readTreeCpu(pid: number): CpuTimes | null {
  const own = readCpu(pid);
  if (own === null) return null;
  for (const child of processTree(pid).slice(1)) {
    const c = readCpu(child);
    if (c === null) continue;
    own.user += c.user;
    own.system += c.system;
    own.total += c.total;
  }
  return own;
}

export interface MemInfo {
  /** resident set now, bytes */
  rss: number;
  /** peak resident set, bytes */
  hwm: number;
}

export function readMem(pid: number): MemInfo | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return null;
  }
  const kb = (name: string): number => {
    const m = new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text);
    return m === null ? 0 : Number(m[1]) * 1024;
  };
  return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
}

/** Samples RSS every `everyMs` into a list, for "steady" RSS over a window. */
export class RssSampler {
  readonly samples: { t: number; rss: number }[] = [];
  #timer: NodeJS.Timeout;

  constructor(pid: number, everyMs = 250, clock: () => number = () => performance.now()) {
    this.#timer = setInterval(() => {
      const m = readMem(pid);
      if (m !== null) this.samples.push({ t: clock(), rss: m.rss });
    }, everyMs);
    this.#timer.unref();
  }

  between(from: number, to: number): number[] {
    return this.samples.filter((s) => s.t >= from && s.t <= to).map((s) => s.rss);
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}

/** Busy CPU seconds of the whole machine so far (all cores; idle and iowait excluded), from /proc/stat. */
export function readSystemBusy(): number {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
    const v = line.trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal guest guest_nice; guest time is already in user.
    const busy = v[0]! + v[1]! + v[2]! + v[5]! + v[6]! + v[7]!;
    return busy / clockTicks();
  } catch {
    return NaN;
  }
}

/** CPU used by processes other than `ours` (and their threads) over `ms`, in % of one core. */
export async function foreignCpuPct(ours: number[], ms: number): Promise<number> {
  const mine = (): number => ours.reduce((a, pid) => a + (readCpu(pid)?.total ?? 0), 0);
  const s0 = readSystemBusy();
  const m0 = mine();
  await new Promise((r) => setTimeout(r, ms));
  return (100 * (readSystemBusy() - s0 - (mine() - m0))) / (ms / 1000);
}
