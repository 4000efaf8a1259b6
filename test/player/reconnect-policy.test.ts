import { describe, expect, it } from 'vitest';
import { ReconnectPolicy } from '../../player/reconnect-policy.js';

describe('ReconnectPolicy', () => {
  it('doubles from the minimum up to the maximum, and stays there', () => {
    const p = new ReconnectPolicy(500, 8000);
    expect(Array.from({ length: 7 }, () => p.next())).toEqual([500, 1000, 2000, 4000, 8000, 8000, 8000]);
  });

  it('starts from the minimum again after reset()', () => {
    const p = new ReconnectPolicy(500, 8000);
    p.next();
    p.next();
    p.reset();
    expect(p.next()).toBe(500);
  });

  it('retries slowly (four times the maximum) for failures a quick retry cannot fix', () => {
    expect(new ReconnectPolicy(500, 8000).slow()).toBe(32000);
  });
});
