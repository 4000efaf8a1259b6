// The stall report the WebKit harness writes before it kills a stalled page:
// the one-line summary read from gdb's output, and a report on a real process
// group (a sleeping process, whose main thread waits in the kernel as a stalled
// page's does).
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '../wait.js';
import { GDB, mainThreadSummary, writeStallReport } from './stall-report.js';

// Trimmed from a report on a stalled WebKitWebProcess (addresses shortened).
const GDB_OUTPUT = `Thread 2 (Thread 0x7f85069ff6c0 (LWP 20976) "WebKitWebProces"):
#0  __futex_abstimed_wait_common64 (private=0, cancel=true) at ./nptl/futex-internal.c:57
#1  0x00007f8517d8b3a8 in ?? () from /lib/x86_64-linux-gnu/libjavascriptcoregtk-4.1.so.0

Thread 1 (Thread 0x7f850ebbf140 (LWP 20971) "WebKitWebProces"):
#0  syscall () at ../sysdeps/unix/sysv/linux/x86_64/syscall.S:38
#1  0x00007f8513d9331f in g_cond_wait () from /lib/x86_64-linux-gnu/libglib-2.0.so.0
#2  0x00007f851319de99 in ?? () from /lib/x86_64-linux-gnu/libgstreamer-1.0.so.0
#3  0x00007f85131ab0a6 in gst_pad_push_event () from /lib/x86_64-linux-gnu/libgstreamer-1.0.so.0
#4  0x00007f85131a731a in gst_pad_forward () from /lib/x86_64-linux-gnu/libgstreamer-1.0.so.0
#5  0x00007f85131ab0a6 in gst_pad_push_event () from /lib/x86_64-linux-gnu/libgstreamer-1.0.so.0
#6  0x00007f853a382ad7 in gst_element_send_event () from /lib/x86_64-linux-gnu/libgstreamer-1.0.so.0
#7  0x00007f853ef39931 in WTF::RunLoop::run() () from /lib/x86_64-linux-gnu/libjavascriptcoregtk-4.1.so.0
`;

describe('mainThreadSummary', () => {
  it("names the main thread's distinct functions innermost first, leaving out unnamed frames and other threads", () => {
    expect(mainThreadSummary(GDB_OUTPUT)).toBe(
      'syscall < g_cond_wait < gst_pad_push_event < gst_pad_forward < gst_element_send_event < WTF::RunLoop::run');
  });

  it('says nothing when gdb printed no main thread (it could not attach)', () => {
    expect(mainThreadSummary('ptrace: Operation not permitted.\n')).toBe('');
  });
});

describe('writeStallReport', () => {
  const files: string[] = [];
  const pgids: number[] = [];
  afterEach(() => {
    for (const pgid of pgids.splice(0)) {
      try {
        process.kill(-pgid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    for (const f of files.splice(0)) rmSync(f, { force: true });
  });

  it("writes every thread's state and wait channel, and where gdb is installed the main thread's stack", async () => {
    const child = spawn('sleep', ['120'], { detached: true, stdio: 'ignore' });
    const pgid = child.pid!;
    pgids.push(pgid);
    // A report taken before the process reaches its sleep would show it running.
    await waitFor('sleep to be asleep', () => /^\S+ \(sleep\) S /.test(readFileSync(`/proc/${pgid}/stat`, 'utf8')), 10_000);
    const report = await writeStallReport(pgid, ['sleep']);
    files.push(report.file);
    const text = readFileSync(report.file, 'utf8');
    expect(text).toContain(`== sleep[${pgid}] S`);
    expect(text).toMatch(new RegExp(`^  ${pgid} sleep state=S wchan=\\S+ utime=\\d+ stime=\\d+$`, 'm'));
    if (existsSync(GDB)) {
      expect(report.summary).toMatch(new RegExp(`^sleep\\[${pgid}\\] main thread in \\S*nanosleep`));
      expect(text).toMatch(/^Thread 1 .*"sleep"/m);
    } else {
      expect(text).toContain('(no stacks: gdb is not installed)');
    }
  }, 120_000);

  it('names no file for a group that was never started', async () => {
    expect(await writeStallReport(undefined, ['sleep'])).toEqual({ file: '(no process group)', summary: '' });
  });
});
