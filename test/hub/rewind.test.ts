import { describe, expect, it } from 'vitest';
import { MediaTag } from '../../server/hub/media-tag.js';
import { RewindBuffer } from '../../server/hub/rewind.js';

const NONE = { metadata: null, video: null, audio: null };
const frame = (ts: number, key: boolean, size = 100): MediaTag =>
  new MediaTag(9, ts, Buffer.concat([Buffer.from([key ? 0x17 : 0x27, 1, 0, 0, 0]), Buffer.alloc(size)]), key, false);

describe('RewindBuffer', () => {
  it('keeps tags for the window and drops older ones, never the newest', () => {
    const b = new RewindBuffer({ windowMs: 1000, maxBytes: 1 << 20 });
    for (let ts = 0; ts <= 3000; ts += 100) b.add(frame(ts, ts % 500 === 0), ts % 500 === 0, NONE);
    expect(b.at(b.oldest)!.timestamp).toBe(2000);
    expect(b.newestTimestamp).toBe(3000);
    expect(b.at(b.end - 1)!.timestamp).toBe(3000);
    expect(b.at(b.oldest - 1)).toBeUndefined();
  });

  it('is bounded in bytes as well as time', () => {
    const b = new RewindBuffer({ windowMs: 60_000, maxBytes: 10_000 });
    for (let ts = 0; ts < 200; ts++) b.add(frame(ts * 10, ts % 10 === 0, 1000), ts % 10 === 0, NONE);
    expect(b.bytes).toBeLessThanOrEqual(10_000);
    expect(b.end - b.oldest).toBeLessThan(10);
  });

  it('finds the last keyframe at or before a target time, or the oldest one when the target is older', () => {
    const b = new RewindBuffer({ windowMs: 10_000, maxBytes: 1 << 20 });
    for (let ts = 0; ts <= 5000; ts += 100) b.add(frame(ts, ts % 1000 === 0), ts % 1000 === 0, NONE);
    expect(b.startAtOrBefore(3500)!.timestamp).toBe(3000);
    expect(b.startAtOrBefore(3000)!.timestamp).toBe(3000);
    expect(b.startAtOrBefore(-5)!.timestamp).toBe(0);
    const s = b.startAtOrBefore(4200)!;
    expect(b.at(s.seq)!.keyframe).toBe(true);
  });

  it('has no start point before the first keyframe arrives', () => {
    const b = new RewindBuffer({ windowMs: 10_000, maxBytes: 1 << 20 });
    b.add(frame(0, false), false, NONE);
    expect(b.startAtOrBefore(0)).toBeNull();
  });

  it('compacts its storage as it slides without losing order', () => {
    const b = new RewindBuffer({ windowMs: 500, maxBytes: 1 << 30 });
    for (let ts = 0; ts < 20_000; ts += 10) b.add(frame(ts, ts % 100 === 0, 10), ts % 100 === 0, NONE);
    const stamps: number[] = [];
    for (let seq = b.oldest; seq < b.end; seq++) stamps.push(b.at(seq)!.timestamp);
    expect(stamps[0]).toBe(19_490);
    expect(stamps.at(-1)).toBe(19_990);
    expect(stamps).toEqual([...stamps].sort((x, y) => x - y));
  });
});
