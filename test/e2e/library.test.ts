// The gateway as a library: `createGateway` from the package name (its built
// `exports` entry), mounted into a fresh express app that has routes of its
// own. ffmpeg publishes; viewers play over HTTP-FLV and WS-FLV; the app's own
// routes keep answering; the typed events tell publish, play, stop, unpublish.
import { execFile } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type * as Library from '../../server/index.js';
import { publish, testSource, type Proc } from '../support/ffmpeg.js';
import { httpViewer, wsViewer } from '../support/viewers.js';
import { waitFor } from '../support/wait.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
/** Imported by name, so Node resolves it through package.json `exports` to the build in dist/. */
const PACKAGE = 'rtmp-flv-gateway';

let lib: typeof Library;
let gw: Library.Gateway;
let server: http.Server;
let base: string;
let rtmpPort: number;
const seen: string[] = [];
const procs: Proc[] = [];

beforeAll(async () => {
  testSource();
  // The package entry is the compiled build: build it from this tree first.
  await promisify(execFile)(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { cwd: root });
  lib = (await import(PACKAGE)) as typeof Library;

  const app = express();
  app.get('/hello', (_req, res) => {
    res.type('text/plain').send('hello from the app\n');
  });
  server = http.createServer(app);
  // The app's own WebSocket endpoint, next to the gateway's WS-FLV upgrades.
  server.on('upgrade', (req, socket) => {
    if (req.url === '/app-socket') socket.end('HTTP/1.1 418 I am a teapot\r\nContent-Length: 0\r\n\r\n');
  });
  gw = lib.createGateway({ host: '127.0.0.1', 'rtmp-port': 0 });
  gw.mount(app, server);
  // Registered after the gateway: reached because the gateway passes on what it does not serve.
  app.get('/after', (_req, res) => {
    res.json({ from: 'app' });
  });
  gw.events.on('publish', (e) => seen.push(`publish ${e.name} ${e.publisher.protocol} ${e.publisher.address}`));
  gw.events.on('unpublish', (e) => seen.push(`unpublish ${e.name}`));
  gw.events.on('play', (e) => seen.push(`play ${e.name} ${e.protocol} ${e.address}`));
  gw.events.on('stop', (e) => seen.push(`stop ${e.name} ${e.protocol} ${e.reason} ${e.bytes > 0 ? 'sent' : 'nothing'}`));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  rtmpPort = (await gw.listen()).rtmpPort;
}, 240_000);

afterAll(async () => {
  await Promise.all(procs.map((p) => p.stop()));
  await gw?.close();
  server?.closeAllConnections();
  await new Promise<void>((resolve) => (server === undefined ? resolve() : server.close(() => resolve())));
});

describe('createGateway mounted into an express app', () => {
  it('plays an ffmpeg publish over HTTP-FLV and WS-FLV, keeps the app routes, and tells the typed events', async () => {
    const source = publish(`rtmp://127.0.0.1:${rtmpPort}/live/lib`);
    procs.push(source);
    await waitFor('live/lib ready', () => gw.hub.get('live/lib')?.ready === true);

    const overHttp = httpViewer(`http://${base}/live/lib.flv`);
    const overWs = wsViewer(`ws://${base}/live/lib.flv`);
    expect((await overHttp.status).headers['content-type']).toBe('video/x-flv');
    await waitFor('video over both protocols', () => overHttp.flv.videoFrames().length > 10 && overWs.flv.videoFrames().length > 10);
    for (const v of [overHttp, overWs]) {
      expect(v.flv.header).toEqual({ hasAudio: true, hasVideo: true });
      expect(v.flv.problems()).toEqual([]);
    }

    // The app's own routes, before and after the gateway, and the gateway's API, side by side.
    expect(await (await fetch(`http://${base}/hello`)).text()).toBe('hello from the app\n');
    expect(await (await fetch(`http://${base}/after`)).json()).toEqual({ from: 'app' });
    const api = (await (await fetch(`http://${base}/api/streams`)).json()) as { streams: { name: string }[]; rtmpPort: number };
    expect(api.streams.map((s) => s.name)).toEqual(['live/lib']);
    expect(api.rtmpPort).toBe(rtmpPort);
    expect((await fetch(`http://${base}/`)).headers.get('content-type')).toMatch(/text\/html/);
    // Another upgrade is left to the app's own listener.
    const appSocket = new WebSocket(`ws://${base}/app-socket`);
    const refused = await new Promise<number>((resolve) => appSocket.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0)));
    expect(refused).toBe(418);

    overHttp.close();
    overWs.close();
    await waitFor('both viewers stopped', () => seen.filter((s) => s.startsWith('stop')).length === 2);
    await source.stop();
    await waitFor('unpublished', () => seen.includes('unpublish live/lib'));
    expect(seen[0]).toBe('publish live/lib rtmp 127.0.0.1');
    expect(seen.filter((s) => s.startsWith('play')).sort()).toEqual(['play live/lib http 127.0.0.1', 'play live/lib ws 127.0.0.1']);
    expect(seen.filter((s) => s.startsWith('stop')).sort()).toEqual(['stop live/lib http closed sent', 'stop live/lib ws closed sent']);
    expect(seen.at(-1)).toBe('unpublish live/lib');
  });

  it('close() ends the gateway but leaves the app serving', async () => {
    await gw.close();
    expect(await (await fetch(`http://${base}/hello`)).text()).toBe('hello from the app\n');
    const r = await fetch(`http://${base}/live/lib.flv`);
    expect(r.status).toBe(404);
  });
});
