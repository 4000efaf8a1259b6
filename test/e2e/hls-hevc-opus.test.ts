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
import { fragment, initSegment } from '../../server/hls/fmp4.js';
import { opusDops } from '../../server/hls/muxer.js';

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

  it('Opus starts PreSkip samples into the media (edit list): ffmpeg trims the priming samples and presents the rest at media time minus PreSkip', async () => {
    const preSkip = opus.head.readUInt16LE(10);
    expect(preSkip).toBeGreaterThan(0);
    const p = parsePlaylist(await (await fetch(url())).text());
    const init = Buffer.from(await (await fetch(gw.httpUrl(`/live/hevc/${p.epoch}/init.mp4`))).arrayBuffer());
    const opusTrak = readBoxes(readBoxes(init)[1]!.body).filter((b) => b.type === 'trak')[1]!;
    const elst = child(opusTrak, ['edts', 'elst']).body;
    expect(elst.readInt32BE(12)).toBe(preSkip); // media_time
    const dir = mkdtempSync(path.join(os.tmpdir(), 'gw-hls-opus-'));
    const frames = async (file: string) => (await run('ffprobe', ['-v', 'error', '-select_streams', 'a', '-show_frames', '-read_intervals', '%+#2',
      '-show_entries', 'frame=pts,nb_samples', '-of', 'csv=p=0', file])).stdout.trim().split('\n').map((l) => l.split(',').map(Number));

    // The stream's start: the first packet's priming samples are cut, the first sample shown is at 0.
    const start = opus.packets.slice(0, 50).map((pk, i) => ({ dts: i * 960, duration: 960, cto: 0, keyframe: true, data: pk.data }));
    const track = { id: 2, kind: 'audio' as const, codec: 'opus' as const, timescale: 48_000, config: opusDops(opus.head)!, channels: opus.channels, sampleRate: 48_000 };
    const head = path.join(dir, 'head.mp4');
    writeFileSync(head, Buffer.concat([initSegment([track]), fragment(1, [{ track, baseDts: 0, samples: start }])]));
    expect(await frames(head)).toEqual([[0, 960 - preSkip], [960 - preSkip, 960]]);

    // Mid-stream (what a viewer joining later gets): the first packet is presented ending PreSkip
    // samples before its media end, as the edit maps media time t to t - PreSkip (ffmpeg shows it
    // at its media time, shortened by PreSkip).
    const seg = p.segments[p.segments.length - 1]!;
    const body = Buffer.from(await (await fetch(gw.httpUrl(`/live/hevc/${seg.uri}`))).arrayBuffer());
    const firstAudio = readFragments(body).flatMap((f) => f.samples).find((x) => x.trackId === 2)!;
    const mid = path.join(dir, 'mid.mp4');
    writeFileSync(mid, Buffer.concat([init, body]));
    const [first] = await frames(mid);
    expect(first![0]! + first![1]!).toBe(firstAudio.dts + firstAudio.duration - preSkip);
  });
});
