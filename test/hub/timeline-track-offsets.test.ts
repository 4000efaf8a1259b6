// Publishers whose audio and video clocks start apart: the second track's first frame is no discontinuity.
import { describe, expect, it } from 'vitest';
import { Timeline, type Discontinuity } from '../../server/hub/timeline.js';

type Frame = ['audio' | 'video', number, number];

function make(): { tl: Timeline; jumps: Discontinuity[]; clock: { now: number } } {
  const clock = { now: 5_000_000 };
  const jumps: Discontinuity[] = [];
  const tl = new Timeline(undefined, (d) => jumps.push(d), () => clock.now);
  return { tl, jumps, clock };
}

/** 30 fps video and 40 ms audio frames interleaved as they arrive, each track on its own clock, for `ms`. */
function apart(videoStart: number, audioStart: number, ms: number, from = 0): Frame[] {
  const out: Frame[] = [];
  // the wall clock goes on from the last frame before `from`
  let prev = Math.max(0, from - 1);
  while (prev > 0 && prev % 33 !== 0 && prev % 40 !== 0) prev--;
  for (let t = from; t < from + ms; t++) {
    const video = t % 33 === 0;
    const audio = t % 40 === 0;
    if (video) out.push(['video', videoStart + t, t - prev]);
    if (audio) out.push(['audio', audioStart + t, video ? 0 : t - prev]);
    if (video || audio) prev = t;
  }
  return out;
}

function feed(tl: Timeline, clock: { now: number }, frames: Frame[]): Array<{ track: 'audio' | 'video'; at: number; out: number | null }> {
  return frames.map(([track, ts, wait]) => {
    clock.now += wait;
    return { track, at: clock.now, out: tl.map(track, ts, 'frame') };
  });
}

function times(rows: ReturnType<typeof feed>, which: 'audio' | 'video'): number[] {
  return rows.filter((r) => r.track === which && r.out !== null).map((r) => r.out!);
}

function strictlyAdvancing(ts: number[]): boolean {
  return ts.slice(1).every((t, i) => t > ts[i]!);
}

describe('Timeline with audio and video clocks apart', () => {
  for (const [name, videoStart, audioStart] of [
    ['video from 90 s, audio from 0', 90_000, 0],
    ['audio from 90 s, video from 0', 0, 90_000],
    ['audio from 0, video 30 s before the 2^32 wrap', 2 ** 32 - 30_000, 0],
  ] as const) {
    it(`${name}: both start near 0 side by side, no discontinuity; a later clock reset is one`, () => {
      const { tl, jumps, clock } = make();
      const rows = feed(tl, clock, apart(videoStart, audioStart, 4000));
      expect(jumps).toEqual([]);
      const video = times(rows, 'video');
      const audio = times(rows, 'audio');
      expect(video[0]).toBe(0);
      expect(audio[0]).toBe(0); // beside the video frame that came with it
      // the same wall-clock moment is the same point on the timeline: sync as the frames arrive
      for (const r of rows) expect(r.out).toBe(r.at - rows[0]!.at);
      // the encoder resets both clocks to where they began, 4 s in
      const after = feed(tl, clock, apart(videoStart - 4000, audioStart - 4000, 2000, 4000));
      expect(jumps).toHaveLength(1);
      const all = [...rows, ...after];
      for (const which of ['video', 'audio'] as const) expect(strictlyAdvancing(times(all, which)), which).toBe(true);
      // both tracks went on the same way: the offset between them is what it was before the reset
      const lastVideo = after.filter((r) => r.track === 'video').at(-1)!;
      expect(lastVideo.out! - lastVideo.at).toBe(after.filter((r) => r.track === 'audio').at(-1)!.out! - after.filter((r) => r.track === 'audio').at(-1)!.at);
    });
  }

  it('counts a jump of one track alone once, the other track going on untouched', () => {
    const { tl, jumps, clock } = make();
    const rows = feed(tl, clock, apart(90_000, 0, 2000));
    // only the video clock resets (to 0), 2 s in; audio goes on as before
    const after = feed(tl, clock, apart(-2000, 0, 2000, 2000));
    expect(jumps.map((j) => j.track)).toEqual(['video']);
    expect(jumps[0]!.jumpMs).toBeLessThan(-90_000);
    const all = [...rows, ...after];
    for (const which of ['video', 'audio'] as const) expect(strictlyAdvancing(times(all, which)), which).toBe(true);
    for (const r of all.filter((x) => x.track === 'audio')) expect(r.out).toBe(r.at - rows[0]!.at);
  });

  it('keeps a plausible offset between the tracks as the publisher stamped it', () => {
    const { tl, jumps, clock } = make();
    // audio stamped 400 ms ahead of video (an -itsoffset 0.4 on the audio input)
    const rows = feed(tl, clock, apart(1000, 1400, 2000));
    expect(jumps).toEqual([]);
    expect(times(rows, 'video')[0]).toBe(0);
    expect(times(rows, 'audio')[0]).toBe(400);
    for (const r of rows) expect(r.out! - (r.at - rows[0]!.at)).toBe(r.track === 'audio' ? 400 : 0);
  });

  it('drops audio stamped before the timeline start instead of clamping it to a run of equal timestamps', () => {
    const { tl, jumps, clock } = make();
    // audio stamped 300 ms behind video, video first on the wire
    const rows = feed(tl, clock, apart(1300, 1000, 2000));
    expect(jumps).toEqual([]);
    const audio = rows.filter((r) => r.track === 'audio');
    expect(audio.slice(0, 8).map((r) => r.out)).toEqual([null, null, null, null, null, null, null, null]);
    expect(audio[8]!.out).toBe(20); // 320 ms in, stamped 300 ms behind: the offset is kept
    expect(strictlyAdvancing(times(rows, 'audio'))).toBe(true);
    for (const r of audio.slice(8)) expect(r.out! - (r.at - rows[0]!.at)).toBe(-300);
  });

  it('puts a sequence header stamped on the second track\'s far clock beside the live frames, not 90 s ahead', () => {
    const { tl, jumps, clock } = make();
    const rows = feed(tl, clock, apart(90_000, 0, 1000).filter(([track]) => track === 'audio'));
    expect(tl.map('video', 90_990, 'other')).toBe(960); // the newest audio frame
    const video = feed(tl, clock, [['video', 90_990, 33], ['video', 91_023, 33]]);
    expect(jumps).toEqual([]);
    expect(video.map((r) => r.out)).toEqual([960, 993]);
    expect(times(rows, 'audio').at(-1)).toBe(960);
  });

  it('keeps publisher data messages on the far clock from running ahead of the live position', () => {
    const { tl, clock } = make();
    feed(tl, clock, apart(0, 90_000, 500));
    // stamped on the audio clock, mapped with video's offset: 90 s ahead, so it goes at the newest frame
    expect(tl.map('data', 90_480, 'other')).toBe(495);
    expect(tl.injectData()).toBe(495);
  });
});
