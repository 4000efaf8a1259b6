// Publishers whose audio and video timestamps start far apart: hardware encoders with two clocks, or
// ffmpeg given one input shifted. The second track's start is no discontinuity: no warning, no count,
// each track advancing steadily, the tracks side by side on the timeline (and the offset between
// them as stamped kept when it is plausible).
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FlvDemuxer, type FlvTag } from '../../server/media/flv.js';
import { run, testSource, type Proc, type SourceSpec } from '../support/ffmpeg.js';
import { discontinuityMetric, gw, jumpWarnings, procs, tmp, useTimelineBed, viewers } from '../support/timeline-bed.js';
import { httpViewer, type TestViewer } from '../support/viewers.js';
import { waitFor } from '../support/wait.js';

const SOURCE: SourceSpec = { width: 320, height: 240, fps: 30, gop: 30, seconds: 6, audio: true };

useTimelineBed(SOURCE, 'gw-clocks-');

/** The source FLV's tags, each frame tag of `type` stamped `by` ms later (sequence headers too). */
function shifted(type: 8 | 9, by: number): { header: Buffer; tags: Buffer[] } {
  const flv = readFileSync(testSource(SOURCE));
  const tags: Buffer[] = [];
  for (let i = 13; i + 11 <= flv.length; ) {
    const end = i + 11 + flv.readUIntBE(i + 1, 3) + 4;
    const tag = Buffer.from(flv.subarray(i, end));
    if (tag[0] === type) {
      const ts = (tag.readUIntBE(4, 3) | (tag[7]! << 24)) + by;
      tag.writeUIntBE(ts & 0xffffff, 4, 3);
      tag[7] = ts >>> 24;
    }
    tags.push(tag);
    i = end;
  }
  return { header: flv.subarray(0, 13), tags };
}

const bodyKey = (payload: Buffer): string => createHash('sha1').update(payload).digest('hex');

/** Publisher timestamp of each frame body (bodies go through unchanged), to compare the viewer's with. */
function stampedAt(source: { tags: Buffer[] }): Map<string, number> {
  const demux = new FlvDemuxer();
  const at = new Map<string, number>();
  for (const t of demux.push(Buffer.concat([Buffer.from('464c5601050000000900000000', 'hex'), ...source.tags]))) {
    at.set(bodyKey(t.payload), t.timestamp);
  }
  return at;
}

/** Viewer timestamp minus publisher timestamp, per frame of one track: constant while nothing shifts it. */
function shifts(viewer: TestViewer, type: 8 | 9, at: Map<string, number>): number[] {
  const frames = viewer.flv.tags.filter((t: FlvTag) => t.type === type && t.payload[1] !== 0);
  return frames.map((t) => t.timestamp - at.get(bodyKey(t.payload))!);
}

async function watch(name: string, start: () => Proc, at: Map<string, number>): Promise<{ video: number[]; audio: number[] }> {
  const before = await discontinuityMetric();
  const pub = start();
  procs.push(pub);
  await waitFor('the stream', () => gw.hub.get(name)?.ready === true);
  const viewer = httpViewer(gw.httpUrl(`/${name}.flv`));
  viewers.push(viewer);
  expect(await pub.exited).toBe(0);
  await viewer.ended;
  expect(viewer.flv.problems()).toEqual([]);
  expect(jumpWarnings(name)).toEqual([]);
  expect(await discontinuityMetric()).toBe(before);
  const video = shifts(viewer, 9, at);
  const audio = shifts(viewer, 8, at);
  expect(video.length).toBeGreaterThan(60);
  expect(audio.length).toBeGreaterThan(60);
  // no frame unknown to the source, and each track at one steady shift: nothing re-offset it
  expect([...video, ...audio].every(Number.isFinite)).toBe(true);
  expect(new Set(video).size).toBe(1);
  expect(new Set(audio).size).toBe(1);
  return { video, audio };
}

function ffmpegPublish(name: string, file: string, extra: string[] = []): Proc {
  return run('ffmpeg', ['-hide_banner', '-loglevel', 'warning', '-re', '-i', file, '-c', 'copy', ...extra, '-f', 'flv', gw.rtmpUrl(name)]);
}

function writeFlv(file: string, source: { header: Buffer; tags: Buffer[] }): string {
  writeFileSync(file, Buffer.concat([source.header, ...source.tags]));
  return file;
}

describe('audio and video clocks apart', () => {
  it('ffmpeg with audio stamped 400 ms after video: the offset is kept exactly, no warning', async () => {
    const source = shifted(8, 400);
    const file = writeFlv(path.join(tmp, 'audio400.flv'), source);
    const { video, audio } = await watch('live/audio400', () => ffmpegPublish('live/audio400', file), stampedAt(source));
    expect(video[0]).toBe(audio[0]);
  });

  it('ffmpeg with video stamped 90 s after audio: the tracks go side by side, no warning, no count', async () => {
    const source = shifted(9, 90_000);
    const file = writeFlv(path.join(tmp, 'video90.flv'), source);
    // ffmpeg's muxer holds the later-stamped track back by its interleave limit (10 s by default, 1 s here)
    const { video, audio } = await watch('live/video90', () => ffmpegPublish('live/video90', file, ['-max_interleave_delta', '1000000']), stampedAt(source));
    // video lands where audio was when it arrived, up to the muxer's hold later: not 90 s away
    expect(Math.abs(video[0]! + 90_000 - audio[0]!)).toBeLessThanOrEqual(1500);
  });

  it('GStreamer rtmp2sink sending tags as an encoder with two clocks would, video 90 s ahead: in sync within a frame', async () => {
    const source = shifted(9, 90_000);
    const dir = path.join(tmp, 'tags90');
    mkdirSync(dir, { recursive: true });
    // one file per FLV tag: rtmp2sink sends one tag per buffer, in this order, as stamped
    [source.header, ...source.tags].forEach((b, n) => writeFileSync(path.join(dir, `${String(n).padStart(5, '0')}.flv`), b));
    const { video, audio } = await watch('live/gst90', () => run('gst-launch-1.0', [
      '-q', 'multifilesrc', `location=${dir}/%05d.flv`, 'index=0', 'stop-index=' + String(source.tags.length), 'caps=video/x-flv',
      '!', 'identity', 'sleep-time=12000', // ~75 tags per second of media: about real time
      '!', 'rtmp2sink', `location=${gw.rtmpUrl('live/gst90')}`,
    ]), stampedAt(source));
    // the source was in sync before video was stamped 90 s later: it is in sync again
    expect(Math.abs(video[0]! + 90_000 - audio[0]!)).toBeLessThanOrEqual(34);
  });
});
