import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { GopCache } from '../../server/hub/gop-cache.js';
import { MediaTag } from '../../server/hub/media-tag.js';
import { aacFrame, avcInter, avcKey, label } from './fixtures.js';

const key = (n: number, ts: number): MediaTag => new MediaTag(9, ts, avcKey(n), true, false);
const inter = (n: number, ts: number): MediaTag => new MediaTag(9, ts, avcInter(n), false, false);
const audio = (n: number, ts: number): MediaTag => new MediaTag(8, ts, aacFrame(n), false, false);

// Each of our video tags is 11 + 11 + 4 = 26 bytes serialized, each audio tag 11 + 4 + 4 = 19.
const VIDEO_TAG_BYTES = 26;

const big = { maxBytes: 1 << 20, maxDurationMs: 60_000 };

describe('GopCache', () => {
  it('caches nothing before the first keyframe', () => {
    const gop = new GopCache(big);
    gop.add(inter(1, 0));
    gop.add(audio(1, 10));
    expect(gop.tags).toEqual([]);
    expect(gop.startTimestamp).toBeNull();
  });

  it('holds the tags since the latest keyframe, starting with that keyframe', () => {
    const gop = new GopCache(big);
    gop.add(key(1, 0));
    gop.add(audio(1, 10));
    gop.add(inter(2, 40));
    expect(gop.tags.map(label)).toEqual(['K1@0', 'a1@10', 'P2@40']);
    gop.add(key(3, 80));
    gop.add(inter(4, 120));
    expect(gop.tags.map(label)).toEqual(['K3@80', 'P4@120']);
    expect(gop.startTimestamp).toBe(80);
    expect(gop.bytes).toBe(2 * VIDEO_TAG_BYTES);
  });

  it('drops the whole GOP when it outgrows maxBytes and caches nothing until the next keyframe', () => {
    const gop = new GopCache({ maxBytes: 2 * VIDEO_TAG_BYTES, maxDurationMs: 60_000 });
    gop.add(key(1, 0));
    gop.add(inter(2, 40));
    expect(gop.bytes).toBe(2 * VIDEO_TAG_BYTES); // exactly at the limit is still cached
    gop.add(inter(3, 80));
    expect(gop.tags).toEqual([]);
    expect(gop.bytes).toBe(0);
    gop.add(audio(1, 90)); // small enough, but the GOP is no longer decodable from its start
    expect(gop.tags).toEqual([]);
    gop.add(key(4, 120));
    expect(gop.tags.map(label)).toEqual(['K4@120']);
  });

  it('drops the whole GOP when it spans more than maxDurationMs', () => {
    const gop = new GopCache({ maxBytes: 1 << 20, maxDurationMs: 100 });
    gop.add(key(1, 1000));
    gop.add(inter(2, 1100)); // exactly 100 ms: kept
    expect(gop.tags).toHaveLength(2);
    gop.add(inter(3, 1101));
    expect(gop.tags).toEqual([]);
    expect(gop.startTimestamp).toBeNull();
  });

  it('caches nothing at all with maxBytes 0, not even the keyframe', () => {
    const gop = new GopCache({ maxBytes: 0, maxDurationMs: 60_000 });
    gop.add(key(1, 0));
    gop.add(inter(2, 40));
    expect(gop.tags).toEqual([]);
    expect(gop.startTimestamp).toBeNull();
  });

  it('stays empty after clear() until the next keyframe', () => {
    const gop = new GopCache(big);
    gop.add(key(1, 0));
    gop.clear();
    gop.add(inter(2, 40));
    expect(gop.tags).toEqual([]);
    gop.add(key(3, 80));
    expect(gop.tags.map(label)).toEqual(['K3@80']);
  });

  it('always starts with a keyframe and stays within both limits, whatever arrives', () => {
    const arbTag = fc.record({
      kind: fc.constantFrom('key', 'inter', 'audio'),
      dt: fc.integer({ min: 0, max: 80 }),
    });
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 400 }),
        fc.integer({ min: 0, max: 500 }),
        fc.array(arbTag, { maxLength: 60 }),
        (maxBytes, maxDurationMs, script) => {
          const gop = new GopCache({ maxBytes, maxDurationMs });
          let ts = 0;
          let lastKey: MediaTag | null = null;
          for (const [i, s] of script.entries()) {
            ts += s.dt;
            const tag = s.kind === 'key' ? key(i, ts) : s.kind === 'inter' ? inter(i, ts) : audio(i, ts);
            if (tag.keyframe) lastKey = tag;
            gop.add(tag);
            const tags = gop.tags;
            expect(gop.bytes).toBe(tags.reduce((n, t) => n + t.flv.length, 0));
            expect(gop.bytes).toBeLessThanOrEqual(maxBytes);
            if (tags.length > 0) {
              expect(tags[0]).toBe(lastKey); // the latest keyframe, never an older one
              expect(tags.at(-1)!.timestamp - tags[0]!.timestamp).toBeLessThanOrEqual(maxDurationMs);
              expect(gop.startTimestamp).toBe(tags[0]!.timestamp);
            }
          }
        },
      ),
    );
  });
});
