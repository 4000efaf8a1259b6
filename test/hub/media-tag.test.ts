import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MediaTag, type TagType } from '../../server/hub/media-tag.js';
import { readTagTimestamp } from '../../server/media/flv.js';
import { hex } from './fixtures.js';

describe('MediaTag', () => {
  it('serializes a video tag into the 11-byte FLV header, the body and PreviousTagSize', () => {
    const body = hex('27 01 000000 00000002 41aa'); // AVC inter NALU, 11 bytes
    const tag = new MediaTag(9, 0x12345678, body, false, false);
    expect(tag.flv.toString('hex')).toBe(
      hex(
        '09', //       TagType 9 (video)
        '00000b', //   DataSize 11
        '345678', //   Timestamp, low 24 bits
        '12', //       TimestampExtended, bits 31..24
        '000000', //   StreamID 0
        '27 01 000000 00000002 41aa', // body
        '00000016', // PreviousTagSize 11 + 11 = 22
      ).toString('hex'),
    );
  });

  it('serializes metadata as a script tag at timestamp 0 with a zero extended byte', () => {
    const body = hex('02 0003 616263'); // AMF0 string "abc"
    const tag = new MediaTag(18, 0, body, false, true);
    expect(tag.flv.toString('hex')).toBe(
      hex('12 | 000006 | 000000 | 00 | 000000', '02 0003 616263', '00000011').toString('hex'),
    );
    expect(tag.config).toBe(true);
  });

  it('exposes the body as a view into the serialized tag rather than a copy', () => {
    const body = hex('af 01 2101');
    const tag = new MediaTag(8, 5, body, false, false);
    expect(tag.body.equals(body)).toBe(true);
    expect(tag.body.buffer).toBe(tag.flv.buffer);
    expect(tag.body.byteOffset).toBe(tag.flv.byteOffset + 11);
    expect(tag.body.length).toBe(body.length);
  });

  it('does not alias the caller’s body buffer, so a publisher reusing its read buffer cannot corrupt sent tags', () => {
    const body = hex('af 01 2101');
    const tag = new MediaTag(8, 5, body, false, false);
    body.fill(0);
    expect(tag.body.toString('hex')).toBe('af012101');
  });

  it('re-times a tag into a new tag with the same body and flags, leaving the original untouched', () => {
    const body = hex('17 00 000000 01640016');
    const tag = new MediaTag(9, 100, body, false, true);
    const moved = tag.withTimestamp(0x01000002);
    expect(moved).not.toBe(tag);
    expect(moved.flv).not.toBe(tag.flv);
    expect(moved.flv.subarray(4, 8).toString('hex')).toBe('000002' + '01'); // low 24 bits, extended byte
    expect(moved.body.equals(body)).toBe(true);
    expect(moved.config).toBe(true);
    expect(moved.keyframe).toBe(false);
    expect(readTagTimestamp(tag.flv)).toBe(100);
  });

  it('round-trips type, size, timestamp, stream id and PreviousTagSize for any body and 32-bit timestamp', () => {
    fc.assert(
      fc.property(
        fc.constantFrom<TagType>(8, 9, 18),
        fc.integer({ min: 0, max: 0xffffffff }),
        fc.uint8Array({ maxLength: 300 }),
        (type, ts, bytes) => {
          const body = Buffer.from(bytes);
          const tag = new MediaTag(type, ts, body, false, false);
          expect(tag.flv.length).toBe(11 + body.length + 4);
          expect(tag.flv[0]).toBe(type);
          expect(tag.flv.readUIntBE(1, 3)).toBe(body.length);
          expect(readTagTimestamp(tag.flv)).toBe(ts);
          expect(tag.flv.readUIntBE(8, 3)).toBe(0);
          expect(tag.body.equals(body)).toBe(true);
          expect(tag.flv.readUInt32BE(11 + body.length)).toBe(11 + body.length);
        },
      ),
    );
  });
});
