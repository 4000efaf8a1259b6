// Where a stalled browser's processes were waiting, written to a file before
// the processes are killed, so a console line about a stall names the stack
// that was blocked instead of only saying that something was. Every thread's
// state and kernel wait channel come from /proc; the stacks come from gdb
// attached for a moment where it is installed (bounded: a gdb that cannot
// attach or takes too long is killed, and the file says so).
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { groupProcesses } from './process-group.js';

export const GDB = '/usr/bin/gdb';
/**
 * Attaching reads the symbols of a hundred libraries: seconds on a quiet machine, far more on a
 * loaded one. Bounded well inside a page test's time, since the page is retried after the report.
 */
const GDB_TIMEOUT_MS = 20_000;
/** Distinct named frames of a main thread quoted in the one-line summary. */
const SUMMARY_FRAMES = 8;

function read(file: string): string {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch {
    return '?';
  }
}

/** One line per thread: tid, name, state, kernel wait channel, CPU ticks. */
function threadLines(pid: number): string[] {
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return ['  (gone)'];
  }
  return tids.map((tid) => {
    const stat = read(`/proc/${pid}/task/${tid}/stat`);
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return `  ${tid} ${read(`/proc/${pid}/task/${tid}/comm`)} state=${f[0]} wchan=${read(`/proc/${pid}/task/${tid}/wchan`)} ` +
      `utime=${f[11]} stime=${f[12]}`;
  });
}

/** Every thread's stack, or why there is none. */
function backtraces(pid: number): Promise<string> {
  if (!existsSync(GDB)) return Promise.resolve('(no stacks: gdb is not installed)');
  return new Promise((resolve) => {
    const gdb = execFile(GDB, ['-batch', '-nx', '-p', String(pid), '-ex', 'set pagination off', '-ex', 'thread apply all bt 150'], {
      timeout: GDB_TIMEOUT_MS, killSignal: 'SIGKILL', maxBuffer: 8 * 1024 * 1024,
    }, (err, stdout, stderr) => {
      // gdb's own chatter (symbol loading, thread creation) is left out; thread headers and frames stay.
      const kept = stdout.split('\n').filter((l) => /^(Thread |#\d+ )/.test(l) || l === '').join('\n');
      const why = err ? `(gdb: ${err.killed ? `no result in ${GDB_TIMEOUT_MS} ms` : err.message.split('\n')[0]})\n` : '';
      resolve(why + (kept || stderr.slice(-2_000)));
    });
    // On a loaded machine gdb waits for CPU far longer than it works: ahead of the queue where allowed.
    try {
      if (gdb.pid !== undefined) os.setPriority(gdb.pid, -10);
    } catch {
      // EPERM without the right to raise priority: it runs at the usual one.
    }
  });
}

/** The distinct named functions on the process's main thread (Thread 1), innermost first. */
export function mainThreadSummary(stacks: string): string {
  const start = stacks.search(/^Thread 1 /m);
  if (start < 0) return '';
  const names: string[] = [];
  for (const line of stacks.slice(start).split('\n').slice(1)) {
    if (!line.startsWith('#')) break;
    const m = /^#\d+\s+(?:0x[0-9a-f]+ in )?([A-Za-z_][\w:~<>]*)\s*\(/.exec(line);
    if (m && !names.includes(m[1]!)) names.push(m[1]!);
  }
  return names.slice(0, SUMMARY_FRAMES).join(' < ');
}

export interface StallReport {
  /** The file holding every process's threads and the stacks, or why it could not be written. */
  file: string;
  /** Per process with stacks: its main thread's named frames. */
  summary: string;
}

/**
 * Record what every process of the group is doing, with full stacks of the
 * processes named in `stackOf` (comm), in a file under the temporary directory.
 */
export async function writeStallReport(pgid: number | undefined, stackOf: readonly string[]): Promise<StallReport> {
  if (pgid === undefined) return { file: '(no process group)', summary: '' };
  const procs = groupProcesses(pgid);
  // /proc first: attaching gdb stops the threads it reads.
  const threads = procs.map((p) => threadLines(p.pid));
  const stacks = await Promise.all(procs.map((p) => (stackOf.includes(p.comm) ? backtraces(p.pid) : Promise.resolve(''))));
  const text = procs.map((p, i) =>
    [`== ${p.comm}[${p.pid}] ${p.state} ${p.cpuSeconds.toFixed(1)} s CPU`, ...threads[i]!, stacks[i]!].join('\n'),
  ).join('\n\n');
  const summary = procs.flatMap((p, i) => {
    const s = stacks[i] ? mainThreadSummary(stacks[i]!) : '';
    return s ? [`${p.comm}[${p.pid}] main thread in ${s}`] : [];
  }).join('; ');
  const file = path.join(os.tmpdir(), `webkit-stall-${pgid}-${Date.now()}.txt`);
  try {
    writeFileSync(file, `${new Date().toISOString()} process group ${pgid}\n\n${text}\n`);
    return { file, summary };
  } catch (err) {
    return { file: `(not written: ${(err as Error).message})`, summary };
  }
}
