// Issue: live hub and FLV delivery. A real ffmpeg publishes; viewers over
// HTTP-FLV, WS-FLV and RTMP (ffmpeg, ffprobe, rtmpdump) receive valid streams.
import { mkdtempSync, readFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FlvDemuxer } from '../../server/media/flv.js';
import { ffprobe, publish, run, testSource, type Proc } from '../support/ffmpeg.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { httpViewer, wsViewer, type TestViewer } from '../support/viewers.js';
import { waitFor } from '../support/wait.js';

const procs: Proc[] = [];
const viewers: TestViewer[] = [];
afterEach(async () => {
  for (const v of viewers.splice(0)) v.close();
  await Promise.all(procs.splice(0).map((p) => p.stop()));
});

async function publishAndWait(gw: TestGateway, name: string): Promise<Proc> {
  const p = publish(gw.rtmpUrl(name));
  procs.push(p);
  await waitFor(`${name} ready`, () => gw.hub.get(name)?.ready === true);
  return p;
}

describe('delivery to viewers', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    testSource();
    gw = await startTestGateway();
  });
  afterAll(() => gw.close());

  it('ffprobe reads the HTTP-FLV URL and finds H.264 1280x720 and AAC', async () => {
    await publishAndWait(gw, 'live/probe');
    const r = await ffprobe(gw.httpUrl('/live/probe.flv'));
    const video = r.streams.find((s) => s.codec_type === 'video');
    const audio = r.streams.find((s) => s.codec_type === 'audio');
    expect(video).toMatchObject({ codec_name: 'h264', width: 1280, height: 720 });
    expect(audio).toMatchObject({ codec_name: 'aac', sample_rate: '44100' });
    expect(r.streams.filter((s) => s.codec_type === 'subtitle' || s.codec_type === 'data')).toEqual([]);
  });

  it('HTTP-FLV answers with the streaming headers, chunked and without a length', async () => {
    await publishAndWait(gw, 'live/headers');
    const v = httpViewer(gw.httpUrl('/live/headers.flv'));
    viewers.push(v);
    const res = await v.status;
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('video/x-flv');
    expect(res.headers['transfer-encoding']).toBe('chunked');
    expect(res.headers['content-length']).toBeUndefined();
    expect(res.headers['cache-control']).toMatch(/no-cache/);
    expect(res.headers['x-accel-buffering']).toBe('no');
    expect(res.headers['access-control-allow-origin']).toBe('*');
    await waitFor('video frames over HTTP', () => v.flv.videoFrames().length > 10);
    expect(v.flv.header).toEqual({ hasAudio: true, hasVideo: true });
    expect(v.flv.problems()).toEqual([]);
  });

  it('HEAD and OPTIONS are answered, and an unknown stream is a 404 with a text body', async () => {
    await publishAndWait(gw, 'live/head');
    const head = await fetch(gw.httpUrl('/live/head.flv'), { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-type')).toBe('video/x-flv');
    const options = await fetch(gw.httpUrl('/live/head.flv'), { method: 'OPTIONS', headers: { Origin: 'http://example.test' } });
    expect(options.status).toBe(204);
    expect(options.headers.get('access-control-allow-methods')).toMatch(/GET/);
    const missing = await fetch(gw.httpUrl('/live/nothing-here.flv'));
    expect(missing.status).toBe(404);
    expect(await missing.text()).toMatch(/not live/);
  });

  it('a WebSocket viewer gets a valid FLV stream: header flags, metadata and sequence headers first, keyframe first', async () => {
    await publishAndWait(gw, 'live/ws');
    const v = wsViewer(gw.wsUrl('/live/ws.flv'));
    viewers.push(v);
    await waitFor('WS video frames', () => v.flv.videoFrames().length > 60);
    expect(v.flv.header).toEqual({ hasAudio: true, hasVideo: true });
    const [meta, first, second] = v.flv.tags;
    expect(meta!.type).toBe(18);
    expect(meta!.payload.subarray(3, 13).toString('latin1')).toBe('onMetaData');
    // the two sequence headers follow the metadata, in either order
    expect([first!.type, second!.type].sort()).toEqual([8, 9]);
    expect(v.flv.problems()).toEqual([]);
  });

  it('a WebSocket viewer gets one message per publisher read, not per tag, and the same tags as an HTTP-FLV viewer', async () => {
    await publishAndWait(gw, 'live/ws-batches');
    const ws = wsViewer(gw.wsUrl('/live/ws-batches.flv'));
    const web = httpViewer(gw.httpUrl('/live/ws-batches.flv'));
    viewers.push(ws, web);
    await waitFor('video frames on both', () => ws.flv.videoFrames().length > 90 && web.flv.videoFrames().length > 90);
    expect(ws.flv.problems()).toEqual([]);
    // Each read from ffmpeg (a video frame, audio held to go with it) is one message of several tags.
    const before = { messages: ws.deliveries, tags: ws.flv.tags.length };
    await waitFor('60 more video frames', () => ws.flv.videoFrames().length > 150);
    const messages = ws.deliveries - before.messages;
    const tags = ws.flv.tags.length - before.tags;
    expect(messages).toBeLessThan(tags);
    // The tags of the two viewers agree where both have them, byte for byte.
    const key = (t: { type: number; timestamp: number; payload: Buffer }): string => `${t.type}@${t.timestamp}:${t.payload.toString('base64')}`;
    const wsTags = ws.flv.tags.filter((t) => t.type !== 18).map(key);
    const webTags = web.flv.tags.filter((t) => t.type !== 18).map(key);
    // Tag 40 of the HTTP viewer is past both join bursts; from there the two lists run in step.
    const start = wsTags.indexOf(webTags[40]!);
    expect(start).toBeGreaterThanOrEqual(0);
    const common = Math.min(wsTags.length - start, webTags.length - 40);
    expect(common).toBeGreaterThan(60);
    expect(wsTags.slice(start, start + common)).toEqual(webTags.slice(40, 40 + common));
  });

  it('an unknown stream over WebSocket is closed with code 4404 and a reason', async () => {
    const v = wsViewer(gw.wsUrl('/live/absent.flv'));
    const end = await v.ended;
    expect(end.code).toBe(4404);
    expect(end.reason).toMatch(/no live stream live\/absent/);
  });

  it('a viewer joining mid-stream starts on the cached keyframe, not the next one', async () => {
    await publishAndWait(gw, 'live/gop');
    const stream = gw.hub.get('live/gop')!;
    // Wait until the cached GOP holds more than its keyframe, so "now" is past the GOP start.
    await waitFor('GOP cache past its keyframe', () => stream.gop.tags.length > 15);
    const v = wsViewer(gw.wsUrl('/live/gop.flv'));
    viewers.push(v);
    // The newest cached tag when the first frame arrives is the live edge at join time.
    const liveEdge = await waitFor('first frame', () =>
      v.flv.videoFrames().length > 0 ? stream.gop.tags.at(-1)!.timestamp : undefined, 20_000, 1);
    const first = v.flv.firstVideoFrame()!;
    expect(first.timestamp).toBeLessThan(liveEdge);
    await waitFor('more frames', () => v.flv.videoFrames().length > 3);
    expect(v.flv.problems()).toEqual([]);
  });

  it('ffmpeg plays the stream over RTMP and finds H.264 1280x720 and AAC', async () => {
    await publishAndWait(gw, 'live/rtmpplay');
    const r = await ffprobe(gw.rtmpUrl('live/rtmpplay'));
    expect(r.streams.find((s) => s.codec_type === 'video')).toMatchObject({ codec_name: 'h264', width: 1280, height: 720 });
    expect(r.streams.find((s) => s.codec_type === 'audio')).toMatchObject({ codec_name: 'aac' });
    const p = run('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-i', gw.rtmpUrl('live/rtmpplay'), '-t', '2', '-f', 'null', '-']);
    expect(await p.exited).toBe(0);
  });

  it('ffmpeg -i rtmp://… -map 0 -c copy out.mp4 copies exactly the video and the audio stream (no phantom data stream)', async () => {
    await publishAndWait(gw, 'live/mapall');
    const dir = mkdtempSync(path.join(os.tmpdir(), 'gw-mapall-'));
    const out = path.join(dir, 'out.mp4');
    // -t 2 only so that it ends: the command a user types is `ffmpeg -i URL -map 0 -c copy out.mp4`
    const p = run('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-i', gw.rtmpUrl('live/mapall'), '-map', '0', '-c', 'copy', '-t', '2', out]);
    procs.push(p);
    expect(await p.exited, p.stderr()).toBe(0);
    const r = await ffprobe(out);
    expect(r.streams.map((s) => `${s.codec_type}:${s.codec_name}`).sort()).toEqual(['audio:aac', 'video:h264']);
  });

  it('rtmpdump (librtmp) plays the stream over RTMP into a valid FLV file', async () => {
    await publishAndWait(gw, 'live/dump');
    const dir = mkdtempSync(path.join(os.tmpdir(), 'gw-dump-'));
    const out = path.join(dir, 'out.flv');
    const p = run('rtmpdump', ['-q', '-v', '-r', gw.rtmpUrl('live/dump'), '-o', out, '-B', '2']);
    procs.push(p);
    const stream = gw.hub.get('live/dump')!;
    await waitFor('rtmpdump receiving', () => [...stream.subscribers].some((s) => s.bytesSent > 300_000));
    await p.stop();
    const demux = new FlvDemuxer();
    const tags = demux.push(readFileSync(out));
    expect(tags.some((t) => t.type === 9)).toBe(true);
    expect(tags.some((t) => t.type === 8)).toBe(true);
    const r = await ffprobe(out);
    expect(r.streams.find((s) => s.codec_type === 'video')).toMatchObject({ codec_name: 'h264', width: 1280, height: 720 });
  });

  it('publisher disconnect ends HTTP and WebSocket viewers, and republishing the key right after works', async () => {
    const p = await publishAndWait(gw, 'live/ending');
    const ws = wsViewer(gw.wsUrl('/live/ending.flv'));
    const web = httpViewer(gw.httpUrl('/live/ending.flv'));
    viewers.push(ws, web);
    await waitFor('both viewers receiving', () => ws.flv.videoFrames().length > 5 && web.flv.videoFrames().length > 5);
    await p.stop();
    const wsEnd = await ws.ended;
    expect(wsEnd.code).toBe(1000);
    expect(wsEnd.reason).toMatch(/publisher/);
    expect((await web.ended).code).toBe('end');
    expect(gw.hub.get('live/ending')).toBeUndefined();
    await publishAndWait(gw, 'live/ending');
    const again = wsViewer(gw.wsUrl('/live/ending.flv'));
    viewers.push(again);
    await waitFor('viewer of the republished stream', () => again.flv.videoFrames().length > 5);
    expect(again.flv.problems()).toEqual([]);
  });
});

describe('grace period for a returning publisher', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({ 'grace-ms': 10_000 });
  });
  afterAll(() => gw.close());

  it('a viewer stays connected and continues on one timeline when the publisher returns', async () => {
    const first = await publishAndWait(gw, 'live/flap');
    const v = wsViewer(gw.wsUrl('/live/flap.flv'));
    viewers.push(v);
    await waitFor('frames before the flap', () => v.flv.videoFrames().length > 10);
    await first.stop();
    await waitFor('stream idle', () => gw.hub.get('live/flap')?.state === 'idle');
    const lastBefore = v.flv.videoFrames().at(-1)!.timestamp;
    const countBefore = v.flv.videoFrames().length;
    await publishAndWait(gw, 'live/flap');
    await waitFor('frames after the return', () => v.flv.videoFrames().length > countBefore + 10);
    const after = v.flv.videoFrames().slice(countBefore);
    expect(after[0]!.timestamp).toBeGreaterThan(lastBefore);
    expect(v.flv.problems()).toEqual([]);
  });
});

describe('slow viewers', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({
      'slow-soft-bytes': 256 * 1024,
      'slow-hard-bytes': 1024 * 1024,
      'slow-max-skip-ms': 3_000,
    });
  });
  afterAll(() => gw.close());

  it('a viewer that stops reading is bounded in memory, then disconnected, while another keeps receiving', async () => {
    await publishAndWait(gw, 'live/slow');
    const stream = gw.hub.get('live/slow')!;
    // A raw HTTP client that sends its request and never reads.
    const stalled = net.connect(gw.httpPort, '127.0.0.1');
    stalled.on('error', () => {});
    stalled.write('GET /live/slow.flv HTTP/1.1\r\nHost: x\r\n\r\n');
    stalled.pause();
    const fast = wsViewer(gw.wsUrl('/live/slow.flv'));
    viewers.push(fast);
    let maxBuffered = 0;
    let stalledSub: (typeof stream.subscribers extends Set<infer S> ? S : never) | undefined;
    await waitFor('the stalled viewer to be disconnected', () => {
      for (const s of stream.subscribers) {
        if (s.sink.protocol === 'http') {
          stalledSub = s;
          maxBuffered = Math.max(maxBuffered, s.sink.bufferedBytes);
        }
      }
      return stream.slowDisconnects === 1;
    }, 60_000, 20);
    expect(stalledSub?.droppedTags).toBeGreaterThan(0);
    // Bounded: never more than the hard limit plus the tag that crossed it (a keyframe is < 512 KiB here).
    expect(maxBuffered).toBeLessThanOrEqual(1024 * 1024 + 512 * 1024);
    const framesAtDrop = fast.flv.videoFrames().length;
    await waitFor('fast viewer still receiving', () => fast.flv.videoFrames().length > framesAtDrop + 30);
    expect(fast.flv.problems()).toEqual([]);
    stalled.destroy();
  });
});
