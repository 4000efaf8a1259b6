// Issue 14: Low-Latency HLS from the FLV tags the hub already has, from a real ffmpeg publish:
// ffprobe reads it, the playlist carries every LL-HLS tag, blocking reload answers when the part
// exists and not before, and every part's samples are the FLV tags' payloads byte for byte.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAudioTagHeader } from '../../server/media/audio.js';
import { parseVideoTagHeader } from '../../server/media/video.js';
import { SYNC_SAMPLE_FLAGS } from '../../server/hls/fmp4.js';
import { ffprobe, publish, testSource, type Proc } from '../support/ffmpeg.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { waitFor } from '../support/wait.js';
import { attrs, parsePlaylist, TagRecorder, type ParsedPlaylist } from '../hls/helpers.js';
import { readFragments } from '../hls/mp4-reader.js';

const run = promisify(execFile);

describe('LL-HLS from a real ffmpeg publish (H.264 + AAC)', () => {
  let gw: TestGateway;
  let pub: Proc;
  const recorder = new TagRecorder();
  const url = () => gw.httpUrl('/live/hls/index.m3u8');
  const get = async (u: string) => {
    const r = await fetch(u);
    return { status: r.status, headers: r.headers, body: Buffer.from(await r.arrayBuffer()) };
  };
  const playlist = async (query = ''): Promise<ParsedPlaylist & { text: string }> => {
    const r = await get(url() + query);
    expect(r.status).toBe(200);
    const text = r.body.toString('utf8');
    return { ...parsePlaylist(text), text };
  };

  beforeAll(async () => {
    testSource();
    gw = await startTestGateway();
    pub = publish(gw.rtmpUrl('live/hls'));
    await waitFor('stream ready', () => gw.hub.get('live/hls')?.ready === true);
    // Records every tag from before the muxer exists, so each sample can be traced to its tag.
    expect(gw.hub.subscribe('live/hls', recorder).ok).toBe(true);
  });
  afterAll(async () => {
    await pub?.stop();
    await gw?.close();
  });

  it('is off until a playlist is asked for, then one muxer serves the stream', async () => {
    expect(gw.hls.muxer('live/hls')).toBeUndefined();
    expect(gw.hub.viewersByProtocol(gw.hub.get('live/hls')!).hls).toBe(0);
    await playlist();
    expect(gw.hls.muxer('live/hls')).toBeDefined();
    expect(gw.hls.muxers).toBe(1);
  });

  it('ffprobe reads the HLS stream: H.264 1280x720 and AAC 44.1 kHz', async () => {
    const probe = await ffprobe(url());
    const video = probe.streams.find((s) => s.codec_type === 'video');
    const audio = probe.streams.find((s) => s.codec_type === 'audio');
    expect(video).toMatchObject({ codec_name: 'h264', width: 1280, height: 720 });
    expect(audio).toMatchObject({ codec_name: 'aac', sample_rate: '44100' });
  });

  it('the playlist carries every LL-HLS tag, with parts of 200-333 ms and live cache headers', async () => {
    await waitFor('three segments', async () => (await playlist()).segments.length >= 3, 30_000);
    const r = await get(url());
    expect(r.headers.get('content-type')).toBe('application/vnd.apple.mpegurl');
    expect(r.headers.get('cache-control')).toBe('no-cache');
    const p = parsePlaylist(r.body.toString('utf8'));
    expect(p.lines[0]).toBe('#EXTM3U');
    expect(p.tags.get('#EXT-X-VERSION')).toEqual(['6']);
    const target = Number(p.tags.get('#EXT-X-TARGETDURATION')![0]);
    expect(Number.isInteger(target)).toBe(true);
    const partInf = attrs(p.tags.get('#EXT-X-PART-INF')![0]!);
    const partTarget = Number(partInf['PART-TARGET']);
    expect(partTarget).toBeGreaterThanOrEqual(0.2);
    expect(partTarget).toBeLessThanOrEqual(0.333);
    const control = attrs(p.tags.get('#EXT-X-SERVER-CONTROL')![0]!);
    expect(control['CAN-BLOCK-RELOAD']).toBe('YES');
    expect(Number(control['PART-HOLD-BACK'])).toBeGreaterThanOrEqual(3 * partTarget);
    expect(p.tags.get('#EXT-X-MAP')![0]).toBe(`URI="${p.epoch}/init.mp4"`);
    // one per segment, the open one included once it has a part
    const open = p.parts.some((x) => x.msn > p.segments[p.segments.length - 1]!.msn);
    expect(p.tags.get('#EXT-X-PROGRAM-DATE-TIME')!.length).toBe(p.segments.length + (open ? 1 : 0));
    for (const d of p.tags.get('#EXT-X-PROGRAM-DATE-TIME')!) expect(Number.isNaN(Date.parse(d))).toBe(false);
    expect(p.parts.length).toBeGreaterThan(3);
    for (const part of p.parts) {
      expect(part.duration).toBeLessThanOrEqual(partTarget);
      expect(part.duration).toBeGreaterThanOrEqual(0.1);
    }
    for (const s of p.segments) expect(Math.round(s.duration)).toBeLessThanOrEqual(target);
    expect(p.mediaSequence).toBe(p.segments[0]!.msn);
    expect(p.hint).not.toBeNull();
    // the hint is the part right after the last one listed
    const last = p.parts[p.parts.length - 1]!;
    expect([p.hint!.msn, p.hint!.index]).toSatisfy(([m, i]: number[]) => (m === last.msn && i === last.index + 1) || (m === last.msn + 1 && i === 0));
  });

  it('INDEPENDENT=YES marks exactly the parts that start with a keyframe, and every segment starts with one', async () => {
    const p = await playlist();
    for (const part of p.parts) {
      const r = await get(gw.httpUrl(`/live/hls/${part.uri}`));
      const first = readFragments(r.body)[0]!.samples.find((s) => s.trackId === 1)!;
      expect(first.flags === SYNC_SAMPLE_FLAGS, part.uri).toBe(part.independent);
      if (part.index === 0) expect(part.independent).toBe(true);
    }
  });

  it('init, parts and segments are immutable; a segment is its parts back to back; ffmpeg decodes them', async () => {
    const p = await playlist();
    const init = await get(gw.httpUrl(`/live/hls/${p.epoch}/init.mp4`));
    expect(init.status).toBe(200);
    expect(init.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    const seg = p.segments[p.segments.length - 1]!;
    const segBody = await get(gw.httpUrl(`/live/hls/${seg.uri}`));
    expect(segBody.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    const parts = p.parts.filter((x) => x.msn === seg.msn);
    const partBodies = await Promise.all(parts.map((x) => get(gw.httpUrl(`/live/hls/${x.uri}`))));
    for (const b of partBodies) expect(b.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(segBody.body).toEqual(Buffer.concat(partBodies.map((b) => b.body)));
    const dir = mkdtempSync(path.join(os.tmpdir(), 'gw-hls-'));
    const file = path.join(dir, 'seg.mp4');
    writeFileSync(file, Buffer.concat([init.body, segBody.body]));
    const decode = await run('ffmpeg', ['-v', 'error', '-xerror', '-i', file, '-f', 'null', '-']);
    expect(decode.stderr).toBe('');
    const count = await run('ffprobe', ['-v', 'error', '-count_frames', '-show_entries', 'stream=codec_name,nb_read_frames', '-of', 'csv=p=0', file]);
    const frames = Object.fromEntries(count.stdout.trim().split('\n').map((l) => l.split(',')));
    expect(Number(frames['h264'])).toBe(Math.round(seg.duration * 30));
    expect(Number(frames['aac'])).toBeGreaterThan(seg.duration * 40);
  });

  it('every sample of every listed part is the payload of the FLV tag it came from', async () => {
    const p = await playlist();
    const video = recorder.tags.filter((t) => t.type === 9 && !t.config);
    const audio = recorder.tags.filter((t) => t.type === 8 && !t.config);
    let checkedVideo = 0;
    let checkedAudio = 0;
    for (const part of p.parts) {
      const body = (await get(gw.httpUrl(`/live/hls/${part.uri}`))).body;
      for (const s of readFragments(body)[0]!.samples) {
        if (s.trackId === 1) {
          const tag = video.find((t) => t.timestamp * 90 === s.dts);
          expect(tag, `video tag at ${s.dts / 90} ms`).toBeDefined();
          const h = parseVideoTagHeader(tag!.body);
          expect(s.data.equals(tag!.body.subarray(h.dataOffset))).toBe(true);
          expect(s.cto).toBe(h.compositionTime * 90);
          expect(s.flags === SYNC_SAMPLE_FLAGS).toBe(h.keyframe);
          checkedVideo++;
        } else {
          const ms = (s.dts * 1000) / 44_100;
          const tag = audio.find((t) => Math.abs(t.timestamp - ms) <= 3 && t.body.subarray(parseAudioTagHeader(t.body).dataOffset).equals(s.data));
          expect(tag, `audio tag near ${ms.toFixed(1)} ms`).toBeDefined();
          checkedAudio++;
        }
      }
    }
    expect(checkedVideo).toBeGreaterThan(30);
    expect(checkedAudio).toBeGreaterThan(40);
  });

  it('a blocking reload for the next part answers after that part exists, and not before', async () => {
    const muxer = gw.hls.muxer('live/hls')!;
    const events: string[] = [];
    const onPart = (x: { msn: number; index: number }) => events.push(`part ${x.msn}.${x.index}`);
    muxer.segmenter!.on('part', onPart);
    try {
      const p = await playlist();
      const want = p.hint!;
      events.push('request');
      const r = await fetch(`${url()}?_HLS_msn=${want.msn}&_HLS_part=${want.index}`);
      events.push('response');
      expect(r.status).toBe(200);
      expect(r.headers.get('cache-control')).toBe('public, max-age=30');
      const got = parsePlaylist(await r.text());
      // the requested part, or (if its segment ended first) a later one, is listed
      expect(got.parts.some((x) => (x.msn === want.msn && x.index === want.index) || x.msn > want.msn)).toBe(true);
      const produced = events.findIndex((e, i) => i > events.indexOf('request') && e.startsWith('part '));
      expect(produced).toBeGreaterThan(events.indexOf('request'));
      expect(events.indexOf('response')).toBeGreaterThan(produced);
    } finally {
      muxer.segmenter!.off('part', onPart);
    }
  });

  it('a blocking reload for a part already listed answers with it at once', async () => {
    const p = await playlist();
    const last = p.parts[p.parts.length - 1]!;
    const r = await fetch(`${url()}?_HLS_msn=${last.msn}&_HLS_part=${last.index}`);
    expect(r.status).toBe(200);
    expect(parsePlaylist(await r.text()).parts.some((x) => x.uri === last.uri)).toBe(true);
  });

  it('the preload-hinted part, asked for before it exists, is sent once it is made', async () => {
    const muxer = gw.hls.muxer('live/hls')!;
    const events: string[] = [];
    const onPart = (x: { msn: number; index: number; data: Buffer }) => events.push(`part ${x.msn}.${x.index}`);
    muxer.segmenter!.on('part', onPart);
    try {
      const p = await playlist();
      const hint = p.hint!;
      events.push('request');
      const r = await get(gw.httpUrl(`/live/hls/${hint.uri}`));
      events.push('response');
      if (r.status === 404) {
        // its segment ended before it: the next segment's first part was made instead
        expect(events).toContain(`part ${hint.msn + 1}.0`);
        return;
      }
      expect(r.status).toBe(200);
      expect(events.indexOf(`part ${hint.msn}.${hint.index}`)).toBeGreaterThan(events.indexOf('request'));
      expect(events.indexOf('response')).toBeGreaterThan(events.indexOf(`part ${hint.msn}.${hint.index}`));
      expect(r.body.equals(muxer.segmenter!.segment(hint.msn)!.parts[hint.index]!.data)).toBe(true);
    } finally {
      muxer.segmenter!.off('part', onPart);
    }
  });

  it('viewers are counted by session (client and user agent), not by request, in the API and metrics', async () => {
    const ua = { 'user-agent': 'session-count-test' };
    const before = gw.hub.viewersByProtocol(gw.hub.get('live/hls')!).hls;
    for (let i = 0; i < 5; i++) await (await fetch(url(), { headers: ua })).text();
    const api = (await (await fetch(gw.httpUrl('/api/streams/live/hls'))).json()) as { viewers: { hls: number; total: number } };
    expect(api.viewers.hls).toBe(before + 1);
    const metrics = await (await fetch(gw.httpUrl('/metrics'))).text();
    expect(metrics).toMatch(new RegExp(`gateway_viewers\\{protocol="hls"\\} ${before + 1}\\b`));
  });
});
