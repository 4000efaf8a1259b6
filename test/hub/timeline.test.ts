import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Timeline, type Discontinuity, type TimelineTrack } from '../../server/hub/timeline.js';

/** A timeline on a hand-driven wall clock that records its discontinuities. */
function make(): { tl: Timeline; jumps: Discontinuity[]; clock: { now: number } } {
  const clock = { now: 1_000_000 };
  const jumps: Discontinuity[] = [];
  const tl = new Timeline(undefined, (d) => jumps.push(d), () => clock.now);
  return { tl, jumps, clock };
}

/** Feed frames as `[track, publisher timestamp, wall-clock ms since the previous frame]`; returns the mapped times. */
function feed(tl: Timeline, clock: { now: number }, frames: Array<[TimelineTrack, number, number]>): Array<number | null> {
  return frames.map(([track, ts, wait]) => {
    clock.now += wait;
    return tl.map(track, ts, 'frame');
  });
}

/** 30 fps video with 40 ms audio frames, as `[track, publisher timestamp, wall gap]` from `start` for `ms`. */
function av(start: number, ms: number, wrap = 2 ** 32): Array<[TimelineTrack, number, number]> {
  const out: Array<[TimelineTrack, number, number]> = [];
  let prev = 0;
  for (let t = 0; t < ms; t++) {
    const video = t % 33 === 0;
    const audio = t % 40 === 0;
    if (!video && !audio) continue;
    if (video) out.push(['video', (start + t) % wrap, t - prev]);
    if (audio) out.push(['audio', (start + t) % wrap, video ? 0 : t - prev]);
    prev = t;
  }
  return out;
}

function track(frames: Array<[TimelineTrack, number, number]>, mapped: Array<number | null>, which: TimelineTrack): number[] {
  return mapped.filter((t, i): t is number => frames[i]![0] === which && t !== null);
}

describe('Timeline', () => {
  it('starts at 0 at the first frame even when the sequence headers are stamped 0 and the frames 90 s later', () => {
    const { tl, clock } = make();
    expect(tl.map('video', 0, 'other')).toBe(0); // sequence header stamped 0
    expect(tl.map('audio', 0, 'other')).toBe(0);
    expect(tl.map('data', 0, 'other')).toBe(0);
    expect(feed(tl, clock, [['video', 90_000, 0], ['audio', 90_010, 0], ['video', 90_033, 33]])).toEqual([0, 10, 33]);
    // a sequence header sent later keeps its own time
    clock.now += 100;
    expect(tl.map('video', 90_133, 'other')).toBe(133);
    expect(tl.discontinuities).toBe(0);
  });

  it('clamps small backward jitter within a track and never counts it as a discontinuity', () => {
    const { tl, jumps, clock } = make();
    const out = feed(tl, clock, [['video', 5000, 0], ['video', 5033, 33], ['video', 5020, 33], ['video', 4100, 33], ['video', 5100, 33]]);
    expect(out).toEqual([0, 33, 33, 33, 100]);
    expect(jumps).toEqual([]);
  });

  it('re-offsets once when the encoder clock resets on the same connection, resuming one frame interval later', () => {
    const { tl, jumps, clock } = make();
    const first = av(0, 6000);
    const second = av(0, 2000); // the same file again, from 0
    const frames = [...first, ...second];
    const mapped = feed(tl, clock, frames);
    expect(jumps).toHaveLength(1);
    expect(jumps[0]!.track).toBe('video');
    expect(jumps[0]!.jumpMs).toBe(-5973); // 0 after 5973
    const video = track(frames, mapped, 'video');
    const gaps = video.slice(1).map((t, i) => t - video[i]!);
    expect(Math.min(...gaps)).toBeGreaterThan(0); // strictly advancing: no run of equal timestamps
    expect(Math.max(...gaps)).toBeLessThanOrEqual(33 + 7); // at most the audio lead added at the jump
    const audio = track(frames, mapped, 'audio');
    expect(audio.slice(1).every((t, i) => t > audio[i]!)).toBe(true);
  });

  it('treats ffmpeg\'s 31-bit timestamp wrap at 2^31 ms as one discontinuity, audio that wraps later following the video', () => {
    const { tl, jumps, clock } = make();
    // audio stamped 20 ms behind video, so for a moment video has wrapped and audio has not
    const frames: Array<[TimelineTrack, number, number]> = [];
    const start = 2 ** 31 - 1000;
    for (let t = 0; t < 3000; t += 33) {
      frames.push(['video', (start + t) % 2 ** 31, 33]);
      frames.push(['audio', (start + t - 20) % 2 ** 31, 0]);
    }
    const mapped = feed(tl, clock, frames);
    expect(jumps).toHaveLength(1);
    expect(jumps[0]!.jumpMs).toBeLessThan(-(2 ** 30));
    for (const which of ['video', 'audio'] as const) {
      const ts = track(frames, mapped, which);
      const gaps = ts.slice(1).map((t, i) => t - ts[i]!);
      expect(Math.min(...gaps), which).toBeGreaterThan(0);
      expect(Math.max(...gaps), which).toBeLessThanOrEqual(33 + 20);
    }
  });

  it('follows the 2^32 wrap and the 24-bit extended-timestamp crossing without any discontinuity', () => {
    for (const start of [2 ** 32 - 500, 2 ** 24 - 500]) {
      const { tl, jumps, clock } = make();
      const frames = av(start, 1000);
      const mapped = feed(tl, clock, frames);
      expect(jumps).toEqual([]);
      frames.forEach(([, ts], i) => expect(mapped[i]).toBe((ts - start + 2 ** 32) % 2 ** 32));
    }
  });

  it('counts a forward jump far beyond the wall-clock gap as a discontinuity, and one that matches the gap as a pause', () => {
    const { tl, jumps, clock } = make();
    feed(tl, clock, [['video', 0, 0], ['video', 33, 33]]);
    // the encoder paused for 60 s and its clock moved with the wall clock
    expect(feed(tl, clock, [['video', 60_033, 60_000]])).toEqual([60_033]);
    expect(jumps).toEqual([]);
    // an hour ahead within 33 ms of wall clock
    expect(feed(tl, clock, [['video', 3_660_066, 33], ['video', 3_660_099, 33]])).toEqual([60_066, 60_099]);
    expect(jumps).toEqual([{ track: 'video', jumpMs: 3_600_033, resumeAt: 60_066 }]);
  });

  it('rebases a returning publisher one frame interval after the last tag, headers staying where their track is', () => {
    const { tl, clock } = make();
    feed(tl, clock, [['video', 700, 0], ['audio', 700, 0], ['video', 733, 33], ['audio', 740, 7]]);
    tl.restart();
    expect(tl.map('video', 0, 'other')).toBe(33);
    expect(tl.map('data', 0, 'other')).toBe(0);
    expect(feed(tl, clock, [['video', 50_000, 1000], ['audio', 50_010, 0]])).toEqual([73, 83]);
    expect(tl.discontinuities).toBe(0);
  });

  it('stamps data messages on the publisher clock, never backwards and never before the first frame', () => {
    const { tl, clock } = make();
    expect(tl.map('data', 7000, 'other')).toBe(0);
    feed(tl, clock, [['video', 5000, 0]]);
    expect(tl.map('data', 5050, 'other')).toBe(50);
    expect(tl.map('data', 0, 'other')).toBe(50); // e.g. onCuePoint stamped 0
    clock.now += 1000;
    expect(tl.map('data', 2 ** 32 - 10, 'other')).toBe(50); // -10 ms: still not backwards
  });

  it('never takes the other track\'s unrelated clock as the one a jumping track goes on', () => {
    const { tl, jumps, clock } = make();
    // audio stamped 6 s ahead of video: too far to be sync, so it starts beside the video
    expect(feed(tl, clock, [['video', 10_000, 0], ['audio', 16_000, 0], ['video', 10_033, 33], ['audio', 16_040, 7]])).toEqual([0, 0, 33, 40]);
    // the video clock jumps 10 s ahead at once: 4 s past where it was is the audio clock's place, not the video's
    // (resuming one frame interval after the newest frame of either track)
    expect(feed(tl, clock, [['video', 20_066, 26]])).toEqual([73]);
    expect(jumps.map((j) => j.track)).toEqual(['video']);
    // the audio making the same jump follows it silently
    expect(feed(tl, clock, [['audio', 26_080, 14], ['video', 20_099, 19]])).toEqual([87, 106]);
    expect(tl.discontinuities).toBe(1);
  });

  it('follows the other track\'s jumps one at a time when a track makes only some of them so far', () => {
    const { tl, jumps, clock } = make();
    const wrap = 2 ** 31;
    // ffmpeg's 31-bit stamps, audio 10 s behind video: the video wraps first, then the encoder jumps 6 s ahead
    expect(feed(tl, clock, [['video', wrap - 80, 0], ['audio', wrap - 10_080, 0], ['video', wrap - 40, 40], ['audio', wrap - 10_040, 0]])).toEqual([0, 0, 40, 40]);
    expect(feed(tl, clock, [['video', 0, 40], ['audio', wrap - 10_000, 0]])).toEqual([80, 80]);
    expect(feed(tl, clock, [['video', 6040, 40], ['audio', wrap - 3960, 0]])).toEqual([120, 120]);
    // then the audio wraps too, the other jump the video made before it
    expect(feed(tl, clock, [['video', 10_080, 4000], ['audio', 80, 0]])).toEqual([4160, 4160]);
    expect(jumps.map((j) => j.track)).toEqual(['video', 'video']);
  });

  it('keeps each track non-decreasing and its advance within a bound of the real advance, whatever jumps and wraps the clock makes', () => {
    const event = fc.oneof(
      fc.constant({ kind: 'none' as const, by: 0 }),
      fc.constant({ kind: 'none' as const, by: 0 }),
      fc.constant({ kind: 'none' as const, by: 0 }),
      fc.record({ kind: fc.constant('back' as const), by: fc.integer({ min: 3000, max: 2 ** 30 }) }),
      fc.record({ kind: fc.constant('forward' as const), by: fc.integer({ min: 10_000, max: 2 ** 30 }) }),
    );
    fc.assert(
      fc.property(
        fc.constantFrom(2 ** 31, 2 ** 32), // ffmpeg's FLV muxer wraps at 2^31, RTMP at 2^32
        fc.oneof(fc.integer({ min: 0, max: 2 ** 31 - 1 }), fc.integer({ min: 2 ** 31 - 3000, max: 2 ** 31 - 1 }), fc.integer({ min: 2 ** 32 - 3000, max: 2 ** 32 - 1 })),
        // audio stamped this far behind video: jitter-sized, or clocks apart as some publishers start them
        fc.oneof(fc.integer({ min: 0, max: 30 }), fc.integer({ min: 1500, max: 2 ** 30 }), fc.integer({ min: -(2 ** 30), max: -6000 })),
        fc.array(fc.record({ dt: fc.integer({ min: 0, max: 40 }), jitter: fc.integer({ min: 0, max: 15 }), event }), { minLength: 2, maxLength: 120 }),
        (wrap, start, skew, steps) => {
          const { tl, clock } = make();
          let real = 0;
          let offset = start;
          let changes = 0;
          const lastEpoch = { video: -1, audio: -1 };
          const wraps = { video: 0, audio: 0 };
          const rows: Array<{ track: 'audio' | 'video'; real: number; out: number; segment: number }> = [];
          steps.forEach((s, i) => {
            real += s.dt;
            clock.now += s.dt;
            // events come at least 8 tags apart, so each is its own discontinuity
            if (s.event.kind !== 'none' && i % 8 === 0) {
              offset += s.event.kind === 'back' ? -s.event.by : s.event.by;
              changes++;
            }
            for (const which of ['video', 'audio'] as const) {
              const x = real + offset - (which === 'audio' ? skew : 0) - s.jitter + 4 * 2 ** 32;
              // crossing 2^31 with ffmpeg's 31-bit stamps is a jump too; crossing 2^32 is not
              const epoch = wrap === 2 ** 31 ? Math.floor(x / wrap) : 0;
              // a track's first frame is never a jump, whatever epoch it starts in
              const before = lastEpoch[which] !== -1 ? lastEpoch[which] : epoch;
              if (epoch !== before) wraps[which]++;
              lastEpoch[which] = epoch;
              const out = tl.map(which, x % wrap, 'frame');
              if (out === null) continue; // audio from before the timeline's start
              rows.push({ track: which, real, out, segment: changes + wraps[which] });
            }
          });
          // tracks stamped alike wrap together (one jump); tracks apart wrap one at a time
          const wrapJumps = skew <= 30 ? Math.max(wraps.video, wraps.audio) : wraps.video + wraps.audio;
          expect(tl.discontinuities).toBeLessThanOrEqual(changes + wrapJumps);
          for (const which of ['video', 'audio'] as const) {
            const r = rows.filter((row) => row.track === which);
            for (let i = 1; i < r.length; i++) expect(r[i]!.out).toBeGreaterThanOrEqual(r[i - 1]!.out);
            // any window: advance on the timeline vs real advance, within jitter + skew + one frame gap per change
            for (let i = 0; i < r.length; i++) {
              let changesIn = 0;
              for (let j = i + 1; j < r.length; j++) {
                if (r[j]!.segment !== r[j - 1]!.segment) changesIn++;
                const err = Math.abs(r[j]!.out - r[i]!.out - (r[j]!.real - r[i]!.real));
                expect(err).toBeLessThanOrEqual(2 * 15 + 2 * 30 + changesIn * (40 + 15 + 30 + 40));
              }
            }
          }
        },
      ),
      { numRuns: 150 },
    );
  });
});
