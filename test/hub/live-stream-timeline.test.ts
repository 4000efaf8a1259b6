// LiveStream: the publisher clock rebased to 0 and each track kept from going backwards.
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import {
  AVC_SEQ_320X240, FakePublisher, FakeSink, aacFrame, avcInter, avcKey, hex, makeStream,
  useFakeTimersEachTest,
} from './fixtures.js';

useFakeTimersEachTest();

describe('LiveStream timeline', () => {
  it('rebases the publisher clock to 0, keeps each track from going backwards, and writes exact FLV headers', () => {
    const { stream } = makeStream();
    stream.push(9, 90_000, AVC_SEQ_320X240); // relay whose clock is at 90 s
    stream.push(9, 90_000, avcKey(1));
    stream.push(8, 90_010, aacFrame(1));
    const sink = new FakeSink();
    stream.subscribe(sink);
    const mark = sink.events.length;
    stream.push(9, 90_033, avcInter(2));
    stream.push(9, 90_020, avcInter(3)); // backwards: clamped to 33
    stream.push(8, 90_005, aacFrame(2)); // backwards: clamped to 10
    stream.push(18, 90_050, hex('02 0003 616263')); // data message "abc"
    expect(sink.labelsFrom(mark)).toEqual(['P2@33', 'P3@33', 'a2@10', 'data@50']);
    expect(sink.tags.at(-3)!.flv.toString('hex')).toBe(
      hex(
        '09 | 00000b | 000021 | 00 | 000000', // video, 11 bytes, 33 ms, ext 0, stream 0
        '27 01 000000 00000002 4103', //      inter | AVC, NALU, cts 0, NAL length 2, marker 3
        '00000016', //                       PreviousTagSize 22
      ).toString('hex'),
    );
    expect(sink.tags.at(-1)!.flv.toString('hex')).toBe(
      hex('12 | 000006 | 000032 | 00 | 000000', '02 0003 616263', '00000011').toString('hex'),
    );
  });

  it('carries timestamps past 24 bits in the TimestampExtended byte', () => {
    const { stream } = makeStream();
    stream.push(9, 0, avcKey(1));
    const sink = new FakeSink();
    stream.subscribe(sink);
    vi.advanceTimersByTime(0x01000010);
    stream.push(9, 0x01000010, avcInter(2)); // 4 h 39 min in
    expect(sink.tags.at(-1)!.flv.subarray(0, 11).toString('hex')).toBe(
      hex('09 | 00000b | 000010 | 01 | 000000').toString('hex'),
    );
  });

  it('follows the publisher clock across the RTMP 32-bit timestamp wrap instead of freezing the timeline', () => {
    const { stream } = makeStream();
    stream.push(9, 0xffff_ff00, avcKey(1)); // a relayed source whose clock is 256 ms before the wrap
    const sink = new FakeSink();
    stream.subscribe(sink);
    stream.push(8, 0xffff_ff80, aacFrame(1));
    stream.push(9, 0x0000_0010, avcInter(2)); // 272 ms after the first tag, past the wrap
    stream.push(8, 0xffff_fff0, aacFrame(2)); // audio interleaved from just before the wrap
    stream.push(8, 0x0000_0020, aacFrame(3));
    stream.push(9, 0x0000_0030, avcInter(3));
    stream.push(18, 0x0000_0040, hex('02 0003 616263')); // a data message after the wrap
    expect(sink.log).toEqual([
      'begin(audio=false,video=true)',
      'K1@0',
      'a1@128',
      'P2@272',
      'a2@240',
      'a3@288',
      'P3@304',
      'data@320',
    ]);
  });

  it('delivers the time elapsed since the first tag for a steadily advancing clock that starts anywhere in 32 bits', () => {
    fc.assert(
      fc.property(
        // anywhere, or close enough before the wrap to cross it
        fc.oneof(fc.integer({ min: 0, max: 0xffff_ffff }), fc.integer({ min: 0xffff_ffff - 400_000, max: 0xffff_ffff })),
        fc.array(fc.record({ type: fc.constantFrom<8 | 9>(8, 9), dt: fc.integer({ min: 0, max: 100_000 }) }), { maxLength: 40 }),
        (start, steps) => {
          const { stream } = makeStream();
          const sink = new FakeSink();
          stream.subscribe(sink);
          stream.push(9, start, avcKey(0));
          let elapsed = 0;
          for (const s of steps) {
            elapsed += s.dt;
            vi.advanceTimersByTime(s.dt); // a clock that advances with the wall clock is never a discontinuity
            stream.push(s.type, (start + elapsed) % 2 ** 32, s.type === 9 ? avcKey(1) : aacFrame(1));
          }
          let e = 0;
          expect(sink.tags.map((t) => t.timestamp)).toEqual([0, ...steps.map((s) => (e += s.dt))]);
        },
      ),
    );
  });

  it('keeps every track non-decreasing from 0 and continues past the old timeline after a return, whatever the clocks do', () => {
    const tagArb = fc.record({ type: fc.constantFrom<8 | 9>(8, 9), ts: fc.integer({ min: 0, max: 200_000 }) });
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 200_000 }),
        fc.array(tagArb, { maxLength: 30 }),
        fc.integer({ min: 0, max: 200_000 }),
        fc.array(fc.record({ type: fc.constantFrom<8 | 9>(8, 9), dt: fc.integer({ min: 0, max: 5000 }) }), { maxLength: 30 }),
        (firstTs, first, secondStart, second) => {
          const { stream } = makeStream({ graceMs: 1000 });
          const p1 = new FakePublisher('p1');
          const p2 = new FakePublisher('p2');
          const sink = new FakeSink();
          stream.subscribe(sink); // waits, then starts on the first message: a keyframe
          stream.attach(p1);
          stream.push(9, firstTs, avcKey(0));
          for (const t of first) stream.push(t.type, t.ts, t.type === 9 ? avcKey(1) : aacFrame(1));
          const before = sink.tags.length;
          stream.detach(p1);
          stream.attach(p2);
          // the returning publisher's clock is unrelated, but it does not go back before its first tag
          stream.push(9, secondStart, avcKey(2));
          for (const t of second) stream.push(t.type, secondStart + t.dt, t.type === 9 ? avcKey(3) : aacFrame(3));

          const tags = sink.tags;
          // every video frame goes out; an audio frame stamped before its track's start is dropped, never clamped
          const videoIn = 2 + [...first, ...second].filter((t) => t.type === 9).length;
          expect(tags.filter((t) => t.type === 9)).toHaveLength(videoIn);
          expect(tags.length).toBeLessThanOrEqual(2 + first.length + second.length);
          expect(tags[0]!.timestamp).toBe(0);
          const last = { 8: -1, 9: -1 } as Record<number, number>;
          for (const t of tags) {
            expect(t.timestamp).toBeGreaterThanOrEqual(last[t.type]!);
            last[t.type] = t.timestamp;
          }
          const maxBefore = Math.max(...tags.slice(0, before).map((t) => t.timestamp));
          for (const t of tags.slice(before)) expect(t.timestamp).toBeGreaterThan(maxBefore);
          expect(sink.ends).toEqual([]);
        },
      ),
    );
  });
});
