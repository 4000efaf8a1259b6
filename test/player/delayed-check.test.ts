// A check that runs only when its cause outlasts the delay.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DelayedCheck } from '../../player/delayed-check.js';

describe('DelayedCheck', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('runs once the delay passes, not before, and not at all when cancelled in time', () => {
    const check = vi.fn();
    const d = new DelayedCheck(400, check);
    d.start();
    vi.advanceTimersByTime(399);
    expect(check).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(check).toHaveBeenCalledTimes(1);
    d.start();
    vi.advanceTimersByTime(200);
    d.cancel();
    vi.advanceTimersByTime(1000);
    expect(check).toHaveBeenCalledTimes(1);
  });

  it('a restart begins the delay again', () => {
    const check = vi.fn();
    const d = new DelayedCheck(400, check);
    d.start();
    vi.advanceTimersByTime(300);
    d.start();
    vi.advanceTimersByTime(300);
    expect(check).not.toHaveBeenCalled();
    vi.advanceTimersByTime(100);
    expect(check).toHaveBeenCalledTimes(1);
  });
});
