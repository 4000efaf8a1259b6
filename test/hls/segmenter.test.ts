// The LL-HLS segmenter: parts no longer than the part target (and at least 85% of it except a
// segment's last), segments that start on keyframes, INDEPENDENT parts, audio-only cutting, and
// memory bounded by segment count and bytes.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { TrackInfo } from '../../server/hls/fmp4.js';
import { HlsSegmenter, type Part } from '../../server/hls/segmenter.js';
import { segmenterOptions } from './helpers.js';
import { readFragments } from './mp4-reader.js';

const VIDEO: TrackInfo = { id: 1, kind: 'video', codec: 'avc', timescale: 90_000, config: Buffer.from('01', 'hex'), width: 2, height: 2 };
const AUDIO: TrackInfo = { id: 2, kind: 'audio', codec: 'aac', timescale: 44_100, config: Buffer.from('1210', 'hex'), channels: 2, sampleRate: 44_100 };

/** Feed `seconds` of 30 fps video (keyframe every `gop` frames, ms timestamps as FLV rounds them) and AAC. */
function feed(seg: HlsSegmenter, seconds: number, gop = 30, fps = 30): void {
  const frames = seconds * fps;
  let audio = 0;
  for (let i = 0; i < frames; i++) {
    const ts = Math.round((i * 1000) / fps);
    while (Math.round((audio * 1024 * 1000) / 44_100) <= ts) {
      seg.addAudio(Math.round((audio * 1024 * 1000) / 44_100), Buffer.from([0xa0, audio & 0xff]));
      audio++;
    }
    seg.addVideo(ts, 0, i % gop === 0, Buffer.from([i % gop === 0 ? 0x65 : 0x41, i & 0xff, i >> 8]));
  }
}

describe('HlsSegmenter', () => {
  it('cuts 30 fps video with 1 s GOPs into 1 s segments of 8+8+8+6 frame parts, the first INDEPENDENT', () => {
    const seg = new HlsSegmenter({ video: VIDEO, audio: AUDIO }, segmenterOptions());
    const parts: Part[] = [];
    seg.on('part', (p) => parts.push(p));
    feed(seg, 5);
    const done = seg.segments.filter((s) => s.complete);
    expect(done.map((s) => s.msn)).toEqual([0, 1, 2, 3]);
    for (const s of done) {
      expect(s.durationMs).toBe(1000);
      expect(s.parts.map((p) => p.independent)).toEqual([true, false, false, false]);
      const frames = s.parts.map((p) => readFragments(p.data)[0]!.samples.filter((x) => x.trackId === 1).length);
      expect(frames).toEqual([8, 8, 8, 6]);
      // the segment's first video sample is a keyframe
      expect(readFragments(s.parts[0]!.data)[0]!.samples[0]!.data[0]).toBe(0x65);
    }
    // every part but a segment's last is within [85%, 100%] of the 300 ms target
    for (const s of done) for (const p of s.parts.slice(0, -1)) expect(p.durationMs).toBeGreaterThanOrEqual(255), expect(p.durationMs).toBeLessThanOrEqual(300);
    expect(parts.length).toBeGreaterThanOrEqual(16);
  });

  it('never makes a part longer than the target at any frame rate from 12 to 60 fps', () => {
    fc.assert(
      fc.property(fc.integer({ min: 12, max: 60 }), fc.integer({ min: 1, max: 4 }), (fps, gopSeconds) => {
        const seg = new HlsSegmenter({ video: VIDEO, audio: null }, segmenterOptions());
        feed(seg, 6, fps * gopSeconds, fps);
        for (const s of seg.segments) for (const p of s.parts) expect(p.durationMs).toBeLessThanOrEqual(300);
      }),
      { numRuns: 40 },
    );
  });

  it('carries every video and audio frame exactly once, in order, across parts', () => {
    const seg = new HlsSegmenter({ video: VIDEO, audio: AUDIO }, segmenterOptions({ maxSegments: 100 }));
    feed(seg, 4);
    const samples = seg.segments.flatMap((s) => s.parts.flatMap((p) => readFragments(p.data)[0]!.samples));
    const video = samples.filter((s) => s.trackId === 1).map((s) => s.data.readUInt16LE(1));
    expect(video).toEqual(video.map((_, i) => i));
    const audio = samples.filter((s) => s.trackId === 2);
    // audio decode times are contiguous 1024-sample frames (FLV's ms rounding snapped away)
    for (let i = 1; i < audio.length; i++) expect(audio[i]!.dts - audio[i - 1]!.dts).toBe(1024);
  });

  it('keeps at most maxSegments complete segments and the open one', () => {
    const seg = new HlsSegmenter({ video: VIDEO, audio: AUDIO }, segmenterOptions({ maxSegments: 3 }));
    feed(seg, 10);
    expect(seg.segments.filter((s) => s.complete)).toHaveLength(3);
    expect(seg.segments[0]!.msn).toBe(6);
    expect(seg.bytes).toBe(seg.segments.filter((s) => s.complete).reduce((n, s) => n + s.bytes, 0) + (seg.openSegment?.bytes ?? 0));
  });

  it('drops the oldest segments over the byte cap', () => {
    const seg = new HlsSegmenter({ video: VIDEO, audio: null }, segmenterOptions({ maxSegments: 100, maxBytes: 2000 }));
    feed(seg, 10);
    expect(seg.bytes).toBeLessThanOrEqual(2000 + (seg.openSegment?.bytes ?? 0) + seg.segments.at(-2)!.bytes);
    expect(seg.segments.length).toBeLessThan(10);
  });

  it('cuts a segment without keyframes at segmentMaxMs, so a missing keyframe cannot grow memory', () => {
    const seg = new HlsSegmenter({ video: VIDEO, audio: null }, segmenterOptions({ segmentMaxMs: 2000, maxSegments: 100 }));
    feed(seg, 9, 10_000);
    const done = seg.segments.filter((s) => s.complete);
    expect(done.length).toBe(4);
    for (const s of done) expect(s.durationMs).toBe(2000);
    expect(done[1]!.parts[0]!.independent).toBe(false);
  });

  it('waits for a keyframe before the first segment, and drops audio until then', () => {
    const seg = new HlsSegmenter({ video: VIDEO, audio: AUDIO }, segmenterOptions());
    seg.addAudio(0, Buffer.from([1]));
    seg.addVideo(0, 0, false, Buffer.from([2]));
    expect(seg.segments).toHaveLength(0);
    seg.addVideo(33, 0, true, Buffer.from([3]));
    expect(seg.segments[0]!.startMs).toBe(33);
  });

  it('cuts an audio-only stream on audio time, every part INDEPENDENT', () => {
    const seg = new HlsSegmenter({ video: null, audio: AUDIO }, segmenterOptions());
    for (let i = 0; i < 200; i++) seg.addAudio(Math.round((i * 1024 * 1000) / 44_100), Buffer.from([i & 0xff]));
    const done = seg.segments.filter((s) => s.complete);
    expect(done.length).toBeGreaterThanOrEqual(3);
    for (const s of done) {
      for (const p of s.parts) {
        expect(p.independent).toBe(true);
        expect(p.durationMs).toBeLessThanOrEqual(300);
      }
    }
  });

  it('a new period closes the open segment with every queued sample, then opens the next one at the new keyframe under a new epoch', () => {
    let now = 1_000_000;
    const seg = new HlsSegmenter({ video: VIDEO, audio: AUDIO, init: Buffer.from('init-a'), epoch: 'aaaaaaaa' }, segmenterOptions({ maxSegments: 2, partTargetMs: 300, segmentMinMs: 1000 }), () => now);
    feed(seg, 1.5); // frames 0..44: a complete 1 s segment and an open one from 1000 ms, frame 44 (1467 ms) pending
    const open = seg.openSegment!;
    const wide = { ...VIDEO, width: 4, height: 4 };
    seg.newPeriod(1500, { video: wide, audio: AUDIO, init: Buffer.from('init-b'), epoch: 'bbbbbbbb' });
    expect(seg.openSegment).toBeNull();
    expect(open.complete).toBe(true);
    expect(open.durationMs).toBe(500);
    const samples = open.parts.flatMap((p) => readFragments(p.data).flatMap((f) => f.samples));
    const video = samples.filter((x) => x.trackId === 1);
    // frames 30..44, the last one (held back for its duration) lasting until the new period
    expect(video.map((x) => x.data[1])).toEqual(Array.from({ length: 15 }, (_, i) => 30 + i));
    expect(video.at(-1)!.dts + video.at(-1)!.duration).toBe(1500 * 90);
    // audio before 1500 ms is in it, none after
    const audio = samples.filter((x) => x.trackId === 2);
    expect(audio.at(-1)!.dts).toBeLessThan((1500 * 44_100) / 1000);
    expect(seg.video).toBe(wide);

    // The new period: segments under the new epoch, discontinuity 1, media sequence going on.
    seg.addVideo(1500, 0, true, Buffer.from([0x65, 0xff, 0]));
    for (let i = 1; i < 40; i++) seg.addVideo(1500 + Math.round((i * 1000) / 30), 0, i === 30, Buffer.from([0x41, i, 0]));
    const next = seg.segments.find((x) => x.epoch === 'bbbbbbbb')!;
    expect(next).toMatchObject({ msn: open.msn + 1, startMs: 1500, discontinuity: 1 });
    expect(next.parts[0]!.independent).toBe(true);
    expect(seg.initFor('aaaaaaaa')).toEqual(Buffer.from('init-a'));
    expect(seg.initFor('bbbbbbbb')).toEqual(Buffer.from('init-b'));
    // Once no listed or still-served segment belongs to the old period, its init is gone too.
    for (let i = 40; i < 200; i++) seg.addVideo(1500 + Math.round((i * 1000) / 30), 0, i % 30 === 0, Buffer.from([0x41, i & 0xff, 0]));
    expect(seg.segments.every((x) => x.epoch === 'bbbbbbbb')).toBe(true);
    expect(seg.initFor('aaaaaaaa')).toEqual(Buffer.from('init-a'));
    now += 60_000;
    for (let i = 200; i < 240; i++) seg.addVideo(1500 + Math.round((i * 1000) / 30), 0, i % 30 === 0, Buffer.from([0x41, i & 0xff, 0]));
    expect(seg.initFor('aaaaaaaa')).toBeUndefined();
    expect(seg.initFor('bbbbbbbb')).toEqual(Buffer.from('init-b'));
  });

  it('a segment gone from the playlist is served for its duration plus the playlist\'s (RFC 8216 §6.2.2), then forgotten', () => {
    let now = 5_000_000;
    const seg = new HlsSegmenter({ video: VIDEO, audio: AUDIO }, segmenterOptions({ maxSegments: 3 }), () => now);
    feed(seg, 5); // segments 0..3 complete, 4 open: 0 has left the playlist as 3 completed
    expect(seg.segments[0]!.msn).toBe(1);
    const gone = seg.segment(0)!;
    expect(gone.msn).toBe(0);
    expect(gone.parts.length).toBeGreaterThan(0);
    expect(seg.retiredBytes).toBe(gone.bytes);
    // 0 left when 3 completed: it stays for its 1 s plus the 4 s playlist (0..3) it was last in
    now += 4_999;
    expect(seg.segment(0)).toBe(gone);
    now += 1;
    expect(seg.segment(0)).toBeUndefined();
    expect(seg.retiredBytes).toBe(0);
    expect(seg.segment(1)).toBe(seg.segments[0]);
  });
});
