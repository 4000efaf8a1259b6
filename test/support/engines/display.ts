// A private X display (Xvfb) and a private sound server (PulseAudio with a null
// sink) for a browser with no headless mode. WebKitGTK pauses video when it finds
// no audio device at all, so the sink is needed even though nothing listens.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { waitFor } from '../wait.js';

export interface Helper {
  /** Environment variables a client needs to use it. */
  env: Record<string, string>;
  stop(): Promise<void>;
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), 3_000);
    child.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

function tail(text: string): string {
  return text.length > 2_000 ? text.slice(-2_000) : text;
}

/** Xvfb on the first free display number (it picks one itself and reports it on fd 3). */
export async function startXvfb(size = '1920x1080x24'): Promise<Helper> {
  const child = spawn('Xvfb', ['-displayfd', '3', '-nolisten', 'tcp', '-noreset', '-screen', '0', size], {
    stdio: ['ignore', 'ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr = tail(stderr + d)));
  const display = await new Promise<string>((resolve, reject) => {
    let out = '';
    const fail = (why: string) => {
      clearTimeout(timer);
      reject(new Error(`Xvfb did not start (${why}): ${stderr}`));
    };
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      fail('no display number after 15 s');
    }, 15_000);
    (child.stdio[3] as NodeJS.ReadableStream).setEncoding('utf8');
    (child.stdio[3] as NodeJS.ReadableStream).on('data', (d: string) => {
      out += d;
      const m = /^(\d+)\n/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(`:${m[1]}`);
      }
    });
    child.once('error', (err) => fail(err.message));
    child.once('exit', (code) => fail(`exited ${code}`));
  });
  return { env: { DISPLAY: display }, stop: () => stopChild(child) };
}

/** PulseAudio in a temporary runtime directory with one null sink, reachable only by its socket path. */
export async function startPulseAudio(): Promise<Helper> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gw-pulse-'));
  const socket = path.join(dir, 'native');
  const child = spawn('pulseaudio', [
    '--daemonize=no', '--exit-idle-time=-1', '-n', '--use-pid-file=no', '--log-target=stderr',
    '--load=module-null-sink sink_name=gateway_test_sink',
    `--load=module-native-protocol-unix socket=${socket} auth-anonymous=1`,
  ], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, HOME: dir, XDG_RUNTIME_DIR: dir, XDG_CONFIG_HOME: dir, DISPLAY: '' },
  });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr = tail(stderr + d)));
  const stop = async () => {
    await stopChild(child);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitFor('the PulseAudio socket', () => {
      if (child.exitCode !== null) throw new Error(`pulseaudio exited ${child.exitCode}: ${stderr}`);
      return existsSync(socket);
    }, 15_000);
  } catch (err) {
    await stop();
    throw err;
  }
  return { env: { PULSE_SERVER: `unix:${socket}` }, stop };
}
