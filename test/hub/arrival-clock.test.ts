import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ArrivalClock } from '../../server/hub/arrival-clock.js';

describe('ArrivalClock', () => {
  it('has no line before the first message', () => {
    const c = new ArrivalClock();
    expect(c.receivedAt).toBe(0);
    expect(c.timestamp).toBe(0);
  });

  it('puts the newest timestamp on the line through the least delayed recent message, not its own late arrival', () => {
    const c = new ArrivalClock();
    c.note(0, 10_000);
    c.note(33, 10_033);
    c.note(66, 10_150); // 84 ms late
    expect(c.timestamp).toBe(66);
    expect(c.receivedAt).toBe(10_066);
  });

  it('moves earlier at once when a message comes less delayed than the line', () => {
    const c = new ArrivalClock();
    c.note(0, 10_050);
    c.note(33, 10_040);
    expect(c.receivedAt).toBe(10_040);
  });

  it('forgets an early arrival after one to two seconds, so a lasting change of delay is followed', () => {
    const c = new ArrivalClock();
    c.note(0, 10_000);
    for (let ts = 40; ts <= 1000; ts += 40) c.note(ts, 10_000 + ts + 200);
    expect(c.receivedAt - c.timestamp).toBe(10_000); // the early message is still inside the window
    for (let ts = 1040; ts <= 2400; ts += 40) c.note(ts, 10_000 + ts + 200);
    expect(c.receivedAt - c.timestamp).toBe(10_200);
  });

  it('follows a break at once: a message more than a second behind the line (a publisher back after a pause)', () => {
    const c = new ArrivalClock();
    for (let ts = 0; ts <= 400; ts += 40) c.note(ts, 10_000 + ts);
    c.note(440, 10_000 + 440 + 3000);
    expect(c.receivedAt).toBe(10_000 + 440 + 3000);
    c.note(480, 10_000 + 480 + 3000);
    expect(c.receivedAt - c.timestamp).toBe(13_000);
  });

  it('never puts the newest timestamp later than it arrived, nor earlier than the least delayed message it has seen', () => {
    fc.assert(
      fc.property(fc.array(fc.record({ gap: fc.integer({ min: 0, max: 100 }), jitter: fc.integer({ min: 0, max: 900 }) }), { minLength: 1, maxLength: 300 }), (steps) => {
        const c = new ArrivalClock();
        let ts = 0;
        let minLag = Infinity;
        for (const { gap, jitter } of steps) {
          ts += gap;
          const at = 50_000 + ts + jitter;
          c.note(ts, at);
          minLag = Math.min(minLag, at - ts);
          expect(c.timestamp).toBe(ts);
          expect(c.receivedAt).toBeLessThanOrEqual(at);
          expect(c.receivedAt - ts).toBeGreaterThanOrEqual(minLag);
        }
      }),
    );
  });
});
