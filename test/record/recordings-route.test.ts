// The recordings router on its own express app, over a hub fed with synthetic tags: API status
// codes, the listing, downloads with ranges, and paths that try to leave the recording directory.
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRecordingsRouter } from '../../server/http/recordings-route.js';
import type { LiveStream } from '../../server/hub/live-stream.js';
import { encodeAmf0 } from '../../server/amf/amf0.js';
import { silentLogger } from '../../server/log.js';
import { defaultOptions } from '../../server/options.js';
import { Recorder, type RecordingInfo } from '../../server/record/recorder.js';
import {
  AAC_SEQ_44100, aacFrame, AV_METADATA, AVC_SEQ_320X240, avcInter, avcKey, FakePublisher, makeHub,
} from '../hub/fixtures.js';
import { readFlv, tempDir } from './helpers.js';

const TOKEN = 'sesame';
const hub = makeHub({ slow: { softBytes: 64 << 20, hardBytes: 128 << 20, maxSkipMs: 60_000 } });
const tmp = tempDir('route');
const recDir = path.join(tmp.dir, 'rec');
let recorder: Recorder;
let server: http.Server;
let base: string;
let stream: LiveStream;

interface Raw {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** A request whose path is sent exactly as written (fetch would normalize `..` away). */
function raw(method: string, rawPath: string, headers: Record<string, string> = {}): Promise<Raw> {
  const { port } = server.address() as AddressInfo;
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path: rawPath, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

function api(method: string, p: string): Promise<Response> {
  return fetch(`${base}${p}`, { method, headers: { Authorization: `Bearer ${TOKEN}` } });
}

function frames(from: number, ms: number): void {
  for (let t = from; t < from + ms; t += 100) {
    stream.push(9, t, t % 1000 === 0 ? avcKey(t / 100) : avcInter(t / 100));
    stream.push(8, t + 20, aacFrame(t / 100));
  }
}

beforeAll(async () => {
  recorder = new Recorder(hub, { ...defaultOptions().recorder, dir: recDir, log: silentLogger() });
  const app = express();
  app.use(
    createRecordingsRouter({
      recorder,
      apiAuth: (req, res, next) => {
        if (req.headers.authorization === `Bearer ${TOKEN}`) return next();
        res.status(401).json({ error: 'unauthorized' });
      },
      fileAccess: (req) => (req.query['deny'] !== undefined ? 'no access' : null),
    }),
  );
  app.use((_req, res) => {
    res.status(404).type('text/plain').send('fallback 404\n');
  });
  server = http.createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const r = hub.publish('live', 'cam', new FakePublisher('p'));
  if (!r.ok) throw new Error(r.detail);
  stream = r.stream;
  stream.setMetadata(encodeAmf0(['onMetaData', AV_METADATA]), AV_METADATA);
  stream.push(9, 0, AVC_SEQ_320X240);
  stream.push(8, 0, AAC_SEQ_44100);
  frames(0, 1000);
  // Something outside the recording directory worth stealing.
  writeFileSync(path.join(tmp.dir, 'secret.txt'), 'secret');
  writeFileSync(path.join(tmp.dir, '20250101-000000.flv'), 'secret flv');
});

afterAll(async () => {
  hub.close();
  await recorder.close();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  tmp.remove();
});

describe('recordings API', () => {
  let finished: RecordingInfo;

  it('start needs the token, a live stream, and only one recording per stream', async () => {
    expect((await fetch(`${base}/api/streams/live/cam/record`, { method: 'POST' })).status).toBe(401);
    const missing = await api('POST', '/api/streams/live/nope/record');
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ error: 'not-found' });
    expect((await api('POST', '/api/streams/live/..%2f..%2fx/record')).status).toBe(404);

    const res = await api('POST', '/api/streams/live/cam/record');
    expect(res.status).toBe(201);
    const info = (await res.json()) as RecordingInfo;
    expect(info).toMatchObject({ stream: 'live/cam', trigger: 'api', recording: true });
    expect(info.name).toMatch(/^live\/cam\/\d{8}-\d{6}\.flv$/);
    expect(info.url).toBe(`recordings/${info.name}`);
    expect(Date.now() - Date.parse(info.startedAt)).toBeLessThan(10_000);

    const again = await api('POST', '/api/streams/live/cam/record');
    expect(again.status).toBe(409);
    expect(await again.json()).toMatchObject({ error: 'busy', recording: { name: info.name } });
    const status = await api('GET', '/api/streams/live/cam/record');
    expect(status.status).toBe(200);
    expect(await status.json()).toMatchObject({ name: info.name, recording: true });
  });

  it('lists the file being recorded, and stopping answers the final info', async () => {
    frames(1000, 1000);
    const list = (await (await api('GET', '/api/recordings')).json()) as { recordings: Record<string, unknown>[] };
    expect(list.recordings).toEqual([expect.objectContaining({ stream: 'live/cam', recording: true })]);
    expect(list.recordings[0]!['duration']).toBeGreaterThan(1);

    const res = await api('DELETE', '/api/streams/live/cam/record');
    expect(res.status).toBe(200);
    finished = (await res.json()) as RecordingInfo;
    expect(finished).toMatchObject({ recording: false, duration: 1.92, reason: 'stopped through the API' });
    expect((await api('DELETE', '/api/streams/live/cam/record')).status).toBe(404);
    expect((await api('GET', '/api/streams/live/cam/record')).status).toBe(404);

    const after = (await (await api('GET', '/api/recordings')).json()) as { recordings: unknown[] };
    expect(after.recordings).toEqual([
      {
        name: finished.name, stream: 'live/cam', bytes: finished.bytes, duration: 1.92,
        startedAt: expect.any(String), recording: false, url: `recordings/${finished.name}`,
      },
    ]);
    expect(readFlv(path.join(recDir, finished.name!)).problems).toEqual([]);
  });

  it('downloads the file as video/x-flv, with ranges', async () => {
    const file = readFileSync(path.join(recDir, finished.name!));
    const whole = await raw('GET', `/${finished.url}`);
    expect(whole.status).toBe(200);
    expect(whole.headers['content-type']).toBe('video/x-flv');
    expect(whole.headers['accept-ranges']).toBe('bytes');
    expect(whole.body.equals(file)).toBe(true);

    const part = await raw('GET', `/${finished.url}`, { Range: 'bytes=0-99' });
    expect(part.status).toBe(206);
    expect(part.headers['content-range']).toBe(`bytes 0-99/${file.length}`);
    expect(part.body.equals(file.subarray(0, 100))).toBe(true);
    const tail = await raw('GET', `/${finished.url}`, { Range: 'bytes=-10' });
    expect(tail.status).toBe(206);
    expect(tail.body.equals(file.subarray(-10))).toBe(true);
    expect((await raw('GET', `/${finished.url}`, { Range: `bytes=${file.length + 10}-` })).status).toBe(416);

    const head = await raw('HEAD', `/${finished.url}`);
    expect(head.status).toBe(200);
    expect(Number(head.headers['content-length'])).toBe(file.length);
    const attach = await raw('GET', `/${finished.url}?download`);
    expect(attach.headers['content-disposition']).toMatch(/^attachment; filename="?\d{8}-\d{6}\.flv"?$/);
    expect((await raw('GET', `/${finished.url}?deny`)).status).toBe(403);
  });

  it('answers 404 to every path that is not a recording inside the directory', async () => {
    mkdirSync(path.join(recDir, 'live', 'cam'), { recursive: true });
    // A symlink inside the directory that points outside it.
    symlinkSync(path.join(tmp.dir, '20250101-000000.flv'), path.join(recDir, 'live', 'cam', '20250101-000001.flv'));
    for (const p of [
      '/recordings/../secret.txt',
      '/recordings/../../package.json',
      '/recordings/%2e%2e/secret.txt',
      '/recordings/%2e%2e%2fsecret.txt',
      '/recordings/..%2f..%2fpackage.json',
      '/recordings/live/cam/..%2f..%2f..%2fsecret.txt',
      '/recordings/live/cam/%2e%2e%2f%2e%2e%2f%2e%2e%2f20250101-000000.flv',
      '/recordings/live/%2e%2e/%2e%2e/20250101-000000.flv',
      '/recordings/%2e%2e/%2e%2e/%2e%2e/20250101-000000.flv',
      '/recordings/live/cam/20250101-000001.flv', // the symlink
      '/recordings/live/cam/20250101-000002.flv', // well-formed, absent
      '/recordings/live/cam/notes.txt',
      '/recordings/live/cam/%00.flv',
      '/recordings/live/cam',
      '/recordings/',
    ]) {
      const r = await raw('GET', p);
      expect({ p, status: r.status }).toEqual({ p, status: 404 });
      expect(r.body.toString()).toBe('Not found\n');
    }
  });

  it('deletes a finished file, refuses one being recorded', async () => {
    const res = await api('POST', '/api/streams/live/cam/record');
    const running = (await res.json()) as RecordingInfo;
    frames(2000, 1000);
    const [, , runningFile] = running.name!.split('/');
    expect((await api('DELETE', `/api/recordings/live/cam/${runningFile}`)).status).toBe(409);
    await api('DELETE', '/api/streams/live/cam/record');
    expect((await api('DELETE', `/api/recordings/${finished.name}`)).status).toBe(204);
    expect((await api('DELETE', `/api/recordings/${finished.name}`)).status).toBe(404);
    expect((await raw('GET', `/${finished.url}`)).status).toBe(404);
    expect((await api('DELETE', '/api/recordings/live/cam/..%2fx.flv')).status).toBe(404);
  });
});
