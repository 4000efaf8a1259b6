// Ending a browser's whole process tree in bounded time. A browser started
// through a driver forks a browser process, which forks web, network and GPU
// processes; killing only the driver would leave those behind. Started with
// `detached: true`, the driver leads a process group they all join, and a
// signal to the group reaches every one of them.
import type { ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/** Groups started by this process and not yet killed: killed on exit, whatever ends the test run. */
const liveGroups = new Set<number>();
let exitHookInstalled = false;

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // ESRCH: nothing left in the group.
  }
}

export interface GroupMember {
  pid: number;
  comm: string;
  state: string;
  /** user + system CPU seconds so far */
  cpuSeconds: number;
}

const CLOCK_TICKS = 100;

/** The group's processes that still run (zombies, already dead, are left out). */
function members(pgid: number): GroupMember[] {
  const found: GroupMember[] = [];
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return found;
  }
  for (const name of entries) {
    if (!/^\d+$/.test(name)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${name}/stat`, 'utf8');
    } catch {
      continue;
    }
    // "pid (comm) state ppid pgrp ... utime stime ...": comm may hold spaces and parentheses.
    const close = stat.lastIndexOf(')');
    const fields = stat.slice(close + 2).split(' ');
    if (Number(fields[2]) !== pgid || fields[0] === 'Z' || fields[0] === 'X') continue;
    found.push({
      pid: Number(name),
      comm: stat.slice(stat.indexOf('(') + 1, close),
      state: fields[0]!,
      cpuSeconds: (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS,
    });
  }
  return found;
}

/** CPU seconds used so far by the main thread of pid, or null if it is gone. */
function mainThreadCpuSeconds(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/task/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return null;
  }
}

/**
 * Whether the main thread of any group member named `comm` uses CPU over
 * `windowMs`: a thread spinning gains clock ticks even on a loaded machine,
 * a blocked one gains none.
 */
export async function mainThreadsRun(pgid: number | undefined, comm: string, windowMs = 3_000): Promise<boolean> {
  if (pgid === undefined) return false;
  const pids = members(pgid).filter((m) => m.comm === comm).map((m) => m.pid);
  const before = pids.map(mainThreadCpuSeconds);
  await new Promise((r) => setTimeout(r, windowMs));
  return pids.some((pid, i) => {
    const now = mainThreadCpuSeconds(pid);
    return now !== null && before[i] !== null && now - before[i]! >= 2 / CLOCK_TICKS;
  });
}

/** The group's live processes with their name, state and CPU time. */
export function groupProcesses(pgid: number): GroupMember[] {
  return members(pgid);
}

export function groupMembers(pgid: number): number[] {
  return members(pgid).map((m) => m.pid);
}

/** One line on what each process of the group is doing, for a failure message about a silent driver. */
export function describeGroup(pgid: number | undefined): string {
  if (pgid === undefined) return '';
  return members(pgid).map((m) => `${m.comm}[${m.pid}] ${m.state} ${m.cpuSeconds.toFixed(1)} s CPU`).join(', ');
}

async function groupGone(pgid: number, withinMs: number): Promise<boolean> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    if (groupMembers(pgid).length === 0) return true;
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Register a child started with `detached: true` as the leader of a group to kill on exit. */
export function trackProcessGroup(child: ChildProcess): void {
  if (child.pid === undefined) return;
  liveGroups.add(child.pid);
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.on('exit', () => {
      for (const pgid of liveGroups) signalGroup(pgid, 'SIGKILL');
    });
  }
}

/**
 * SIGTERM to the group, SIGKILL to whatever is left after `graceMs`; returns
 * within about twice `graceMs` and says on the console if anything survived.
 */
export async function killProcessGroup(child: ChildProcess, graceMs = 2_000): Promise<void> {
  const pgid = child.pid;
  if (pgid === undefined) return;
  signalGroup(pgid, 'SIGTERM');
  if (!(await groupGone(pgid, graceMs))) {
    signalGroup(pgid, 'SIGKILL');
    if (!(await groupGone(pgid, graceMs))) {
      console.warn(`process group ${pgid} (${child.spawnfile}) still has ${groupMembers(pgid).join(', ')} after SIGKILL`);
      return;
    }
  }
  liveGroups.delete(pgid);
}
