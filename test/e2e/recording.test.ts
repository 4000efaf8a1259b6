// Issue: recording. A real ffmpeg publishes H.264 1280x720 + AAC; the recording is started through
// the API, ~4 s of media pass (the recorder's own timestamp is waited on), it is stopped, and ffprobe
// reads the file (over HTTP) with the duration the recorder reported and both tracks. The download
// serves ranges and refuses paths outside the directory; auto-record starts on publish and finishes
// the file when the publisher leaves; Chromium plays the file with mpegts.js (isLive: false).
//
// The recordings router is mounted here on an express app composed like the gateway's (router,
// mpegts.js, web root, 404) until it is wired into server/http/app.ts; the hub is the real gateway's.
import { execFile } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import express from 'express';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MPEGTS_DIST, WEB_ROOT } from '../../server/http/app.js';
import { createRecordingsRouter } from '../../server/http/recordings-route.js';
import type { Hub } from '../../server/hub/hub.js';
import { silentLogger } from '../../server/log.js';
import { defaultOptions } from '../../server/options.js';
import { Recorder, type RecordingInfo } from '../../server/record/recorder.js';
import { launchBrowser, type TestBrowser, type TestPage } from '../support/browser.js';
import { ffprobe, publish, testSource, type Proc } from '../support/ffmpeg.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { waitFor } from '../support/wait.js';
import { readFlv, tempDir } from '../record/helpers.js';

const run = promisify(execFile);

const procs: Proc[] = [];
afterEach(async () => {
  await Promise.all(procs.splice(0).map((p) => p.stop()));
});

let gw: TestGateway;
let recorder: Recorder;
let server: http.Server;
let base: string;
const tmp = tempDir('e2e');

/** What the gateway wiring does: the recorder listens for publishes. */
function hookPublishes(hub: Hub, rec: Recorder): void {
  hub.events.on('published', (stream) => rec.streamPublished(stream));
}

/** A path sent exactly as written (fetch would resolve `..` before sending). */
function raw(rawPath: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  const { port } = server.address() as AddressInfo;
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: rawPath, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
      })
      .on('error', reject);
  });
}

/** Last packet time per stream from ffprobe, independent of the metadata the recorder patched. */
async function lastPacketTimes(file: string): Promise<{ video: number; audio: number }> {
  const { stdout } = await run('ffprobe', [
    '-v', 'error', '-print_format', 'json', '-show_entries', 'packet=codec_type,pts_time', file,
  ], { maxBuffer: 16 * 1024 * 1024 });
  const packets = (JSON.parse(stdout) as { packets: { codec_type: string; pts_time: string }[] }).packets;
  const last = (type: string) => Math.max(...packets.filter((p) => p.codec_type === type).map((p) => Number(p.pts_time)));
  return { video: last('video'), audio: last('audio') };
}

interface ProbeWithFormat {
  streams: { codec_type: string; codec_name: string; width?: number; height?: number; sample_rate?: string }[];
  format: { format_name: string; duration: string; size: string };
}

beforeAll(async () => {
  testSource();
  gw = await startTestGateway();
  recorder = new Recorder(gw.hub, { ...defaultOptions().recorder, dir: tmp.dir, auto: ['auto/*'], log: silentLogger() });
  hookPublishes(gw.hub, recorder);
  const app = express();
  app.disable('x-powered-by');
  app.use(createRecordingsRouter({ recorder }));
  app.get('/play-recording.html', (_req, res) => {
    res.type('html').send(PLAY_PAGE);
  });
  app.use('/vendor', express.static(MPEGTS_DIST));
  app.use(express.static(WEB_ROOT));
  app.use((_req, res) => {
    res.status(404).type('text/plain').send('Not found\n');
  });
  server = http.createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});

afterAll(async () => {
  await gw?.close();
  await recorder?.close();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  tmp.remove();
});

describe('recording a live stream', () => {
  let info: RecordingInfo;

  it('records ~4 s through the API; ffprobe reads H.264 1280x720 + AAC with the reported duration', async () => {
    procs.push(publish(gw.rtmpUrl('live/rec')));
    await waitFor('live/rec ready', () => gw.hub.get('live/rec')?.ready === true);
    const res = await fetch(`${base}api/streams/live/rec/record`, { method: 'POST' });
    expect(res.status).toBe(201);
    const started = (await res.json()) as RecordingInfo;
    expect(started).toMatchObject({ stream: 'live/rec', recording: true, trigger: 'api' });
    expect(started.name).toMatch(/^live\/rec\/\d{8}-\d{6}\.flv$/);

    const rec = recorder.get('live/rec')!;
    await waitFor('4 s recorded', () => rec.lastTimestamp >= 4000, 30_000);
    const stop = await fetch(`${base}api/streams/live/rec/record`, { method: 'DELETE' });
    expect(stop.status).toBe(200);
    info = (await stop.json()) as RecordingInfo;
    expect(info).toMatchObject({ name: started.name, recording: false });
    expect(info.duration).toBeGreaterThanOrEqual(4);
    expect(info.duration).toBeLessThan(6);
    // The live stream goes on without its recorder.
    expect([...gw.hub.get('live/rec')!.subscribers]).toHaveLength(0);

    const url = `${base}${info.url}`;
    const probe = (await ffprobe(url, ['-show_format'])) as unknown as ProbeWithFormat;
    expect(probe.format.format_name).toBe('flv');
    expect(Number(probe.format.duration)).toBeGreaterThanOrEqual(info.duration - 0.5);
    expect(Number(probe.format.duration)).toBeLessThanOrEqual(info.duration + 0.5);
    expect(Number(probe.format.size)).toBe(info.bytes);
    expect(probe.streams.find((s) => s.codec_type === 'video')).toMatchObject({ codec_name: 'h264', width: 1280, height: 720 });
    expect(probe.streams.find((s) => s.codec_type === 'audio')).toMatchObject({ codec_name: 'aac', sample_rate: '44100' });
    expect(probe.streams.filter((s) => s.codec_type === 'data' || s.codec_type === 'subtitle')).toEqual([]);

    // The patched duration matches the media really in the file.
    const file = path.join(tmp.dir, info.name!);
    const last = await lastPacketTimes(file);
    expect(Math.abs(last.video - info.duration)).toBeLessThanOrEqual(0.5);
    expect(Math.abs(last.audio - info.duration)).toBeLessThanOrEqual(0.5);
    const back = readFlv(file);
    expect(back.pending).toBe(0);
    expect(back.problems).toEqual([]);
    expect(back.meta).toMatchObject({ duration: info.duration, filesize: info.bytes, width: 1280, height: 720 });
    expect(back.tags.find((t) => t.type === 9 && t.payload[1] === 1)!.timestamp).toBe(0);

    const list = (await (await fetch(`${base}api/recordings`)).json()) as { recordings: unknown[] };
    expect(list.recordings).toContainEqual({
      name: info.name, stream: 'live/rec', bytes: info.bytes, duration: info.duration,
      startedAt: expect.any(String), recording: false, url: info.url,
    });
  });

  it('serves the file with ranges, and 404s paths that try to leave the directory', async () => {
    const part = await raw(`/${info.url}`, { Range: 'bytes=0-99' });
    expect(part.status).toBe(206);
    expect(part.headers['content-type']).toBe('video/x-flv');
    expect(part.headers['content-range']).toBe(`bytes 0-99/${info.bytes}`);
    expect(part.body).toHaveLength(100);
    expect(part.body.subarray(0, 3).toString()).toBe('FLV');
    for (const p of [
      '/recordings/../package.json',
      '/recordings/../../package.json',
      '/recordings/%2e%2e/package.json',
      '/recordings/%2e%2e%2fpackage.json',
      '/recordings/..%2f..%2fpackage.json',
      '/recordings/%2e%2e/%2e%2e/%2e%2e/package.json',
      `/recordings/live/rec/..%2f..%2f..%2fpackage.json`,
      `/recordings/live/rec/%2e%2e%2f%2e%2e%2f%2e%2e%2fpackage.json`,
      '/recordings/live/rec/package.json',
    ]) {
      const r = await raw(p);
      expect({ p, status: r.status }).toEqual({ p, status: 404 });
    }
  });

  it('auto-records a matching stream on publish and finishes the file when the publisher leaves', async () => {
    const p = publish(gw.rtmpUrl('auto/cam'));
    procs.push(p);
    const rec = await waitFor('auto recording', () => recorder.get('auto/cam'));
    expect(rec.trigger).toBe('auto');
    await waitFor('2 s recorded', () => rec.lastTimestamp >= 2000, 30_000);
    const during = (await (await fetch(`${base}api/recordings`)).json()) as { recordings: { stream: string; recording: boolean }[] };
    expect(during.recordings.find((r) => r.stream === 'auto/cam')?.recording).toBe(true);
    await p.stop();
    const done = await rec.done;
    expect(done.reason).toMatch(/^unpublished/);
    expect(done.files).toHaveLength(1);
    expect(done.duration).toBeGreaterThanOrEqual(2);
    const probe = (await ffprobe(path.join(tmp.dir, done.name!), ['-show_format'])) as unknown as ProbeWithFormat;
    expect(Math.abs(Number(probe.format.duration) - done.duration)).toBeLessThanOrEqual(0.5);
    const after = (await (await fetch(`${base}api/recordings`)).json()) as { recordings: { name: string; recording: boolean; duration: number }[] };
    expect(after.recordings.find((r) => r.name === done.name)).toMatchObject({ recording: false, duration: done.duration });
    // Not in the auto list: published, not recorded.
    procs.push(publish(gw.rtmpUrl('live/plain')));
    await waitFor('live/plain ready', () => gw.hub.get('live/plain')?.ready === true);
    expect(recorder.get('live/plain')).toBeUndefined();
  });
});

/** A stand-in for the demo page's recording mode: mpegts.js plays the file (not live) from its URL. */
const PLAY_PAGE = `<!doctype html>
<html><body>
<video id="v" muted playsinline autoplay></video>
<script src="vendor/mpegts.js"></script>
<script>
  var name = new URLSearchParams(location.search).get('recording');
  var v = document.getElementById('v');
  var errors = [];
  var p = mpegts.createPlayer({ type: 'flv', url: 'recordings/' + name, isLive: false }, { enableWorker: false });
  p.on(mpegts.Events.ERROR, function (t, d, i) { errors.push(t + ' ' + d + ' ' + JSON.stringify(i)); });
  p.attachMediaElement(v);
  p.load();
  v.play().catch(function (e) { errors.push('play: ' + e.message); });
  window.__stats = function () {
    var q = v.getVideoPlaybackQuality ? v.getVideoPlaybackQuality() : { totalVideoFrames: 0 };
    return { duration: v.duration, currentTime: v.currentTime, ended: v.ended, width: v.videoWidth,
      height: v.videoHeight, frames: q.totalVideoFrames, errors: errors };
  };
</script>
</body></html>`;

describe('playing a recording in the browser', () => {
  let browser: TestBrowser;
  let page: TestPage | null = null;
  beforeAll(async () => {
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await page?.close();
    await browser?.close();
  });

  it('mpegts.js (isLive: false) plays the recorded file to its end, with its duration', async () => {
    const p = publish(gw.rtmpUrl('live/page'));
    procs.push(p);
    await waitFor('live/page ready', () => gw.hub.get('live/page')?.ready === true);
    const r = recorder.start('live/page');
    if (!r.ok) throw new Error(r.detail);
    await waitFor('3 s recorded', () => r.recording.lastTimestamp >= 3000, 30_000);
    const done = await r.recording.stop();

    page = await browser.open(`${base}play-recording.html?recording=${done.name}`);
    type Stats = { duration: number; currentTime: number; ended: boolean; width: number; height: number; frames: number; errors: string[] };
    const stats = () => page!.page.evaluate('window.__stats()') as Promise<Stats>;
    let last: Stats | null = null;
    try {
      last = await waitFor('the recording to play to its end', async () => {
        const s = await stats();
        last = s;
        return s.ended ? s : undefined;
      }, 30_000, 100);
    } catch (err) {
      throw new Error(`${(err as Error).message}: ${JSON.stringify({ last, page: page.errors.map(String), console: page.console })}`);
    }
    expect(last.errors).toEqual([]);
    expect(page.errors).toEqual([]);
    expect(last.width).toBe(1280);
    expect(last.height).toBe(720);
    expect(last.frames).toBeGreaterThan(60);
    expect(Math.abs(last.duration - done.duration)).toBeLessThanOrEqual(0.5);
    expect(last.currentTime).toBeGreaterThan(done.duration - 0.5);
  });
});
