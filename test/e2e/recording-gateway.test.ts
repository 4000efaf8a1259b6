// Recording wired into the gateway: config options, the API behind the token, downloads on the
// gateway's own HTTP port (ranges, CORS, traversal), auto-record from --record, viewer counts that
// leave the recorder out, signed downloads, and files finished by gw.close().
import http from 'node:http';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { signedQuery } from '../../server/auth/signature.js';
import type { RecordingInfo } from '../../server/record/recorder.js';
import { ffprobe, publish, testSource, type Proc } from '../support/ffmpeg.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { waitFor } from '../support/wait.js';
import { readFlv, tempDir } from '../record/helpers.js';

const TOKEN = 'tok';
const procs: Proc[] = [];
afterEach(async () => {
  await Promise.all(procs.splice(0).map((p) => p.stop()));
});

function raw(gw: TestGateway, rawPath: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port: gw.httpPort, path: rawPath, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
      })
      .on('error', reject);
  });
}

describe('recording through the gateway', () => {
  let gw: TestGateway;
  const tmp = tempDir('gw');
  const auth = { Authorization: `Bearer ${TOKEN}` };
  beforeAll(async () => {
    testSource();
    gw = await startTestGateway({ 'record-dir': tmp.dir, record: ['auto/*'], 'api-token': TOKEN });
  });
  afterAll(async () => {
    await gw?.close();
    tmp.remove();
  });

  it('API start/stop behind the token; ffprobe reads the download; ranges, CORS and traversal', async () => {
    procs.push(publish(gw.rtmpUrl('live/rec')));
    await waitFor('ready', () => gw.hub.get('live/rec')?.ready === true);
    expect((await fetch(gw.httpUrl('/api/streams/live/rec/record'), { method: 'POST' })).status).toBe(401);
    expect((await fetch(gw.httpUrl('/api/recordings'))).status).toBe(401);
    const res = await fetch(gw.httpUrl('/api/streams/live/rec/record'), { method: 'POST', headers: auth });
    expect(res.status).toBe(201);
    expect((await fetch(gw.httpUrl('/api/streams/live/rec/record'), { method: 'POST', headers: auth })).status).toBe(409);
    expect((await fetch(gw.httpUrl('/api/streams/live/none/record'), { method: 'POST', headers: auth })).status).toBe(404);
    // The recorder is a subscriber but not a viewer.
    const detail = (await (await fetch(gw.httpUrl('/api/streams/live/rec'), { headers: auth })).json()) as { viewers: unknown };
    expect(detail.viewers).toEqual({ http: 0, ws: 0, rtmp: 0, rtmpt: 0, hls: 0, total: 0 });
    const rec = gw.recorder.get('live/rec')!;
    await waitFor('4 s', () => rec.lastTimestamp >= 4000, 30_000);
    const stop = await fetch(gw.httpUrl('/api/streams/live/rec/record'), { method: 'DELETE', headers: auth });
    const info = (await stop.json()) as RecordingInfo;
    expect(stop.status).toBe(200);
    const probe = (await ffprobe(gw.httpUrl(info.url!), ['-show_format'])) as unknown as { format: { duration: string }; streams: { codec_name: string; width?: number }[] };
    expect(Math.abs(Number(probe.format.duration) - info.duration)).toBeLessThanOrEqual(0.5);
    expect(probe.streams.map((s) => s.codec_name).sort()).toEqual(['aac', 'h264']);

    const part = await raw(gw, `/${info.url}`, { Range: 'bytes=0-99', Origin: 'http://example.test' });
    expect(part.status).toBe(206);
    expect(part.body).toHaveLength(100);
    expect(part.headers['access-control-allow-origin']).toBe('*');
    expect(part.headers['access-control-expose-headers']).toMatch(/Content-Range/);
    for (const p of ['/recordings/../package.json', '/recordings/%2e%2e/package.json', '/recordings/..%2fpackage.json',
      '/recordings/live/rec/..%2f..%2f..%2fpackage.json', '/recordings/%2e%2e/%2e%2e/%2e%2e/package.json']) {
      expect({ p, status: (await raw(gw, p)).status }).toEqual({ p, status: 404 });
    }
    const list = (await (await fetch(gw.httpUrl('/api/recordings'), { headers: auth })).json()) as { recordings: { name: string }[] };
    expect(list.recordings.map((r) => r.name)).toContain(info.name);
  });

  it('--record auto/* records on publish; the file is finished when the publisher leaves', async () => {
    const p = publish(gw.rtmpUrl('auto/cam'));
    procs.push(p);
    const rec = await waitFor('auto recording', () => gw.recorder.get('auto/cam'));
    await waitFor('2 s', () => rec.lastTimestamp >= 2000, 30_000);
    await p.stop();
    const done = await rec.done;
    expect(done.reason).toMatch(/^unpublished/);
    const back = readFlv(path.join(tmp.dir, done.name!));
    expect(back.meta).toMatchObject({ duration: done.duration, filesize: back.bytes.length });
  });
});

describe('shutdown and signed downloads', () => {
  it('gw.close() finishes the files being recorded', async () => {
    const tmp = tempDir('gwclose');
    const gw = await startTestGateway({ 'record-dir': tmp.dir, record: ['all'] });
    try {
      procs.push(publish(gw.rtmpUrl('live/x')));
      const rec = await waitFor('recording', () => gw.recorder.get('live/x'));
      await waitFor('1 s', () => rec.lastTimestamp >= 1000, 30_000);
      await gw.close();
      const info = await rec.done;
      expect(info.reason).toMatch(/^shutdown/);
      const back = readFlv(path.join(tmp.dir, info.name!));
      expect(back.pending).toBe(0);
      expect(back.meta).toMatchObject({ duration: info.duration, filesize: back.bytes.length });
      expect(info.duration).toBeGreaterThanOrEqual(1);
    } finally {
      await gw.close();
      tmp.remove();
    }
  });

  it('with signed play URLs, a download needs a play signature for its stream', async () => {
    const tmp = tempDir('gwsig');
    const gw = await startTestGateway({ 'record-dir': tmp.dir, 'auth-secret': 's3cret', auth: 'play' });
    try {
      procs.push(publish(gw.rtmpUrl('live/s')));
      await waitFor('ready', () => gw.hub.get('live/s')?.ready === true);
      const r = gw.recorder.start('live/s');
      if (!r.ok) throw new Error(r.detail);
      await waitFor('1 s', () => r.recording.lastTimestamp >= 1000, 30_000);
      const info = await r.recording.stop();
      expect((await fetch(gw.httpUrl(info.url!))).status).toBe(403);
      const ok = await fetch(gw.httpUrl(`${info.url}?${signedQuery('s3cret', 'play', 'live/s', 60)}`), { headers: { Range: 'bytes=0-9' } });
      expect(ok.status).toBe(206);
      expect((await fetch(gw.httpUrl(`${info.url}?${signedQuery('s3cret', 'play', 'live/other', 60)}`))).status).toBe(403);
    } finally {
      await gw.close();
      tmp.remove();
    }
  });
});
