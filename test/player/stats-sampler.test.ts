import { describe, expect, it } from 'vitest';
import { bitrateFromSpeed, FpsSampler, FrameAccumulator, rawFrameCounts } from '../../player/stats-sampler.js';

describe('FrameAccumulator', () => {
  it('passes growing counts through', () => {
    const a = new FrameAccumulator();
    expect(a.read({ total: 10, dropped: 1 })).toEqual({ total: 10, dropped: 1 });
    expect(a.read({ total: 40, dropped: 2 })).toEqual({ total: 40, dropped: 2 });
  });

  it('keeps counting when the engine resets its counters (WebKit on every seek and rate change)', () => {
    const a = new FrameAccumulator();
    a.read({ total: 300, dropped: 4 });
    expect(a.read({ total: 0, dropped: 0 })).toEqual({ total: 300, dropped: 4 });
    expect(a.read({ total: 30, dropped: 1 })).toEqual({ total: 330, dropped: 5 });
    expect(a.read({ total: 5, dropped: 1 })).toEqual({ total: 335, dropped: 5 });
  });
});

describe('FpsSampler', () => {
  it('measures over windows of at least two seconds', () => {
    const s = new FpsSampler();
    s.restart(0, 0);
    s.sample(1000, 30);
    expect(s.fps).toBe(0); // one second is not a window yet
    s.sample(2000, 60);
    expect(s.fps).toBe(30);
    s.sample(4500, 110);
    expect(s.fps).toBe(20);
  });

  it('starts a window afresh after hold(), so a paused stretch does not drag the figure down', () => {
    const s = new FpsSampler();
    s.restart(0, 0);
    s.sample(2000, 60);
    s.hold(10_000, 60);
    s.sample(12_000, 120);
    expect(s.fps).toBe(30);
  });

  it('falls to 0 on restart (a new connection)', () => {
    const s = new FpsSampler();
    s.restart(0, 0);
    s.sample(2000, 60);
    s.restart(3000, 60);
    expect(s.fps).toBe(0);
  });

  it('never goes negative when the count falls', () => {
    const s = new FpsSampler();
    s.restart(0, 100);
    s.sample(2000, 10);
    s.sample(4000, 70);
    expect(s.fps).toBe(30);
  });
});

describe('rawFrameCounts', () => {
  it('reads getVideoPlaybackQuality, or the old WebKit counters', () => {
    expect(rawFrameCounts({ getVideoPlaybackQuality: () => ({ totalVideoFrames: 9, droppedVideoFrames: 2 }) })).toEqual({ total: 9, dropped: 2 });
    expect(rawFrameCounts({ webkitDecodedFrameCount: 7, webkitDroppedFrameCount: 1 })).toEqual({ total: 7, dropped: 1 });
  });
});

describe('bitrateFromSpeed', () => {
  it('turns KiB/s into bits per second', () => {
    expect(bitrateFromSpeed(128)).toBe(1_048_576);
    expect(bitrateFromSpeed(undefined)).toBeNull();
  });
});
