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

/** Pids of the group's processes that still run (zombies, already dead, are not counted). */
export function groupMembers(pgid: number): number[] {
  const pids: number[] = [];
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return pids;
  }
  for (const name of entries) {
    if (!/^\d+$/.test(name)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${name}/stat`, 'utf8');
    } catch {
      continue;
    }
    // "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses, so split after its last ")".
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(fields[2]) === pgid && fields[0] !== 'Z' && fields[0] !== 'X') pids.push(Number(name));
  }
  return pids;
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
