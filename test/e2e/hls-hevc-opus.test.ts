// Issue 14: HEVC video and Opus audio, published over Enhanced RTMP, come out of the HLS muxer as
// hvc1 + Opus (dOps) fMP4 that ffprobe reads and ffmpeg decodes, each sample being the payload of
// the tag it came from.
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAudioTagHeader } from '../../server/media/audio.js';
import { parseVideoTagHeader } from '../../server/media/video.js';
import { hevcClip, opusClip, type OpusClip, type VideoClip } from '../support/elementary.js';
import {
  EnhancedPublisher, fourCcNumber, interleave, opusFrameMessages, opusSequenceStart, videoFrameMessages, videoSequenceStart,
} from '../support/enhanced-publisher.js';
import { ffprobe } from '../support/ffmpeg.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { waitFor } from '../support/wait.js';
import { parsePlaylist, TagRecorder } from '../hls/helpers.js';
import { child, readBoxes, readFragments } from '../hls/mp4-reader.js';

const run = promisify(execFile);

describe('HLS of an HEVC + Opus stream (Enhanced RTMP)', () => {
  let gw: TestGateway;
  let hevc: VideoClip;
  let opus: OpusClip;
  let publisher: EnhancedPublisher;
  const recorder = new TagRecorder();
  const url = () => gw.httpUrl('/live/hevc/index.m3u8');

  beforeAll(async () => {
    hevc = hevcClip();
    opus = opusClip();
    gw = await startTestGateway();
    publisher = await EnhancedPublisher.publish(gw.rtmpUrl('live/hevc'), {
      metadata: {
        width: hevc.width, height: hevc.height, framerate: hevc.fps, videocodecid: fourCcNumber('hvc1'),
        audiocodecid: fourCcNumber('Opus'), audiosamplerate: 48000, audiochannels: opus.channels,
      },
    });
    await publisher.send([videoSequenceStart(hevc), opusSequenceStart(opus)]);
    const period = hevc.durationMs;
    publisher.loop(interleave(videoFrameMessages(hevc), opusFrameMessages(opus).filter((m) => m.timestamp < period)), period);
    await waitFor('stream ready', () => gw.hub.get('live/hevc')?.ready === true);
    expect(gw.hub.subscribe('live/hevc', recorder).ok).toBe(true);
  });
  afterAll(async () => {
    await publisher?.close();
    await gw?.close();
  });

  it('the init segment has hvc1/hvcC and Opus/dOps; ffprobe reads hevc and opus', async () => {
    const p = parsePlaylist(await (await fetch(url())).text());
    const init = Buffer.from(await (await fetch(gw.httpUrl(`/live/hevc/${p.epoch}/init.mp4`))).arrayBuffer());
    const traks = readBoxes(readBoxes(init)[1]!.body).filter((b) => b.type === 'trak');
    const entries = traks.map((t) => readBoxes(child(t, ['mdia', 'minf', 'stbl', 'stsd']).body, 8)[0]!.type);
    expect(entries).toEqual(['hvc1', 'Opus']);
    const probe = await ffprobe(url());
    expect(probe.streams.map((s) => s.codec_name).sort()).toEqual(['hevc', 'opus']);
    expect(probe.streams.find((s) => s.codec_type === 'video')).toMatchObject({ width: hevc.width, height: hevc.height });
  });

  it('a segment decodes with ffmpeg, and its samples are the tags\' payloads', async () => {
    await waitFor('two segments', async () => parsePlaylist(await (await fetch(url())).text()).segments.length >= 2, 30_000);
    const p = parsePlaylist(await (await fetch(url())).text());
    const seg = p.segments[p.segments.length - 1]!;
    const init = Buffer.from(await (await fetch(gw.httpUrl(`/live/hevc/${p.epoch}/init.mp4`))).arrayBuffer());
    const body = Buffer.from(await (await fetch(gw.httpUrl(`/live/hevc/${seg.uri}`))).arrayBuffer());
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'gw-hls-hevc-')), 'seg.mp4');
    writeFileSync(file, Buffer.concat([init, body]));
    const decode = await run('ffmpeg', ['-v', 'error', '-i', file, '-f', 'null', '-']);
    expect(decode.stderr).toBe('');
    const samples = readFragments(body).flatMap((f) => f.samples);
    const video = recorder.tags.filter((t) => t.type === 9 && !t.config);
    const audio = recorder.tags.filter((t) => t.type === 8 && !t.config);
    let v = 0;
    let a = 0;
    for (const s of samples) {
      if (s.trackId === 1) {
        const tag = video.find((t) => t.timestamp * 90 === s.dts)!;
        expect(s.data.equals(tag.body.subarray(parseVideoTagHeader(tag.body).dataOffset))).toBe(true);
        v++;
      } else {
        const ms = s.dts / 48;
        expect(audio.some((t) => Math.abs(t.timestamp - ms) <= 3 && t.body.subarray(parseAudioTagHeader(t.body).dataOffset).equals(s.data))).toBe(true);
        a++;
      }
    }
    expect(v).toBe(Math.round(seg.duration * hevc.fps));
    expect(a).toBeGreaterThan(seg.duration * 40);
  });
});
