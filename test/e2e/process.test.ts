// Issue: the start-up contract and graceful shutdown of the real process:
// `npm start -- --rtmp-port N --http-port M --host ADDR` prints one ready
// line; SIGTERM ends viewers and publishers cleanly and exits.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { publish, testSource, type Proc } from '../support/ffmpeg.js';
import { freePort } from '../support/nginx.js';
import { wsViewer } from '../support/viewers.js';
import { waitFor } from '../support/wait.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

function startProcess(args: string[]): { child: ChildProcess; out: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, ['--import', 'tsx', 'server/main.ts', ...args], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return { child, out: () => out, exited };
}

describe('the gateway process', () => {
  const cleanup: (() => Promise<void> | void)[] = [];
  afterAll(async () => {
    for (const c of cleanup) await c();
  });

  it('prints one ready line with the publish and play URL patterns, and stops cleanly on SIGTERM', async () => {
    testSource();
    const rtmpPort = await freePort();
    const httpPort = await freePort();
    const gw = startProcess(['--rtmp-port', String(rtmpPort), '--http-port', String(httpPort), '--host', '127.0.0.1']);
    cleanup.push(() => void gw.child.kill('SIGKILL'));
    const ready = await waitFor('ready line', () => gw.out().split('\n').find((l) => l.includes('"msg":"ready')), 30_000);
    const line = JSON.parse(ready) as Record<string, unknown>;
    expect(line['publish']).toBe(`rtmp://127.0.0.1:${rtmpPort}/APP/KEY`);
    expect(line['httpFlv']).toBe(`http://127.0.0.1:${httpPort}/APP/KEY.flv`);
    expect(line['wsFlv']).toBe(`ws://127.0.0.1:${httpPort}/APP/KEY.flv`);

    const pub: Proc = publish(`rtmp://127.0.0.1:${rtmpPort}/live/bye`);
    cleanup.push(() => pub.stop());
    await waitFor('stream live in the API', async () => {
      const r = await fetch(`http://127.0.0.1:${httpPort}/api/streams`);
      const body = (await r.json()) as { streams: { name: string; video: unknown }[] };
      return body.streams.some((s) => s.name === 'live/bye' && s.video !== null);
    }, 30_000);
    const viewer = wsViewer(`ws://127.0.0.1:${httpPort}/live/bye.flv`);
    await waitFor('viewer receiving', () => viewer.flv.videoFrames().length > 3, 30_000);

    gw.child.kill('SIGTERM');
    const end = await viewer.ended;
    expect(end.code).toBe(1001);
    expect(end.reason).toMatch(/shutting down/);
    expect(await gw.exited).toBe(0);
    // The publisher was disconnected too, so ffmpeg ends on its own.
    expect(await pub.exited).not.toBeNull();
    expect(gw.out()).toMatch(/"msg":"stopped"/);
  });

  it('refuses a bad option with a clear message and exit code 2', async () => {
    const gw = startProcess(['--http-port', '70000']);
    expect(await gw.exited).toBe(2);
    expect(gw.out()).toMatch(/--http-port: http-port must be a port from 0 to 65535, got 70000/);
  });
});
