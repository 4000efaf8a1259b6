import { describe, expect, it } from 'vitest';
import type { LiveState } from '../../player/life-cycle.js';
import { ProgressWatch, watchdogVerdict } from '../../player/watchdog.js';

const LIMITS = { connectTimeoutMs: 12_000, stallTimeoutMs: 8_000 };

function verdict(state: LiveState, watch: ProgressWatch, now: number, pausedByPage = false, hidden = false) {
  return watchdogVerdict({ state, now, connectStartedAt: 0, watch, pausedByPage, hidden }, LIMITS);
}

describe('the live watchdog', () => {
  it('gives up on a connection that brought no media within the connect timeout', () => {
    const w = new ProgressWatch();
    w.restart(0);
    w.observe(12_001, 0, 0);
    expect(verdict('connecting', w, 12_001)).toBe('no-media');
    expect(verdict('connecting', w, 11_999)).toBeNull();
  });

  it('says stalled when neither media arrives nor the playhead moves', () => {
    const w = new ProgressWatch();
    w.restart(0);
    w.observe(1000, 2, 1);
    w.observe(8900, 2, 1);
    expect(verdict('playing', w, 8900)).toBeNull(); // 7.9 s since the progress at 1 s: not yet
    w.observe(9100, 2, 1);
    expect(verdict('playing', w, 9100)).toBe('stalled');
  });

  it('says frozen when media keeps arriving but the picture stands still', () => {
    const w = new ProgressWatch();
    w.restart(0);
    for (let t = 500; t <= 9000; t += 500) w.observe(t, t / 1000, 0.5); // buffer grows, playhead fixed
    expect(verdict('playing', w, 9000)).toBe('frozen');
  });

  it('watches a paused element the page did not pause (state paused) like a playing one', () => {
    const w = new ProgressWatch();
    w.restart(0);
    w.observe(9000, 0, 0);
    expect(verdict('paused', w, 9000)).toBe('stalled');
  });

  it('leaves a background tab alone: browsers pause video there on purpose', () => {
    const w = new ProgressWatch();
    w.restart(0);
    w.observe(20_000, 0, 0);
    expect(verdict('playing', w, 20_000, false, true)).toBeNull();
  });

  it('leaves a pause the page asked for alone', () => {
    const w = new ProgressWatch();
    w.restart(0);
    w.observe(20_000, 30, 0);
    expect(verdict('playing', w, 20_000, true)).toBeNull();
  });

  it('does not judge states without a running picture', () => {
    const w = new ProgressWatch();
    w.restart(0);
    for (const s of ['blocked', 'offline', 'reconnecting', 'suspended', 'idle'] as LiveState[]) {
      expect(verdict(s, w, 60_000)).toBeNull();
    }
  });
});
