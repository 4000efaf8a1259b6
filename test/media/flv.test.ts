import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { ProtocolError } from '../../server/errors.js';
import {
  FlvDemuxer,
  TAG_AUDIO,
  TAG_SCRIPT,
  TAG_VIDEO,
  flvFileHeader,
  readTagTimestamp,
  serializeFlvTag,
  writeTagTimestamp,
  type FlvTag,
} from '../../server/media/flv.js';
import { AAC_TAG_44100, AVC_TAG_720P, hex } from './fixtures.js';

describe('flvFileHeader', () => {
  it('writes "FLV", version 1, the audio/video flags, DataOffset 9 and PreviousTagSize0 0', () => {
    expect(flvFileHeader(true, true).toString('hex')).toBe('464c5601' + '05' + '00000009' + '00000000');
    expect(flvFileHeader(true, false)[4]).toBe(0x04);
    expect(flvFileHeader(false, true)[4]).toBe(0x01);
    expect(flvFileHeader(false, false)[4]).toBe(0x00);
    expect(flvFileHeader(true, true)).toHaveLength(13);
  });
});

describe('serializeFlvTag', () => {
  it('writes the 11-byte header, the payload and PreviousTagSize = 11 + DataSize', () => {
    const tag = serializeFlvTag(TAG_AUDIO, 0x123456, hex('af 01 21'));
    expect(tag.toString('hex')).toBe(
      '08' + '000003' + '123456' + '00' + '000000' + 'af0121' + '0000000e',
    );
  });

  it('puts bits 31..24 of a timestamp at or above 2^24 into TimestampExtended', () => {
    const tag = serializeFlvTag(TAG_VIDEO, 0x01abcdef, hex('17'));
    expect(tag.subarray(4, 8).toString('hex')).toBe('abcdef01');
    expect(readTagTimestamp(serializeFlvTag(TAG_VIDEO, 0xfedcba98, hex('')))).toBe(0xfedcba98);
  });

  it('wraps timestamps modulo 2^32 like RTMP does', () => {
    expect(readTagTimestamp(serializeFlvTag(TAG_SCRIPT, 2 ** 32 + 7, hex('')))).toBe(7);
    expect(readTagTimestamp(serializeFlvTag(TAG_SCRIPT, -1, hex('')))).toBe(0xffffffff);
  });

  it('copies the payload, so later changes to the source do not leak into the tag', () => {
    const payload = hex('aabb');
    const tag = serializeFlvTag(TAG_AUDIO, 0, payload);
    payload[0] = 0;
    expect(tag[11]).toBe(0xaa);
  });

  it('rejects payloads that do not fit in the UI24 DataSize and invalid tag types', () => {
    expect(() => serializeFlvTag(TAG_VIDEO, 0, Buffer.alloc(0x1000000))).toThrow(ProtocolError);
    expect(() => serializeFlvTag(32, 0, hex(''))).toThrow(ProtocolError);
  });
});

describe('writeTagTimestamp', () => {
  it('rewrites the timestamp of a serialized tag in place and leaves the rest intact', () => {
    const tag = serializeFlvTag(TAG_VIDEO, 10, AVC_TAG_720P);
    const before = Buffer.from(tag);
    writeTagTimestamp(tag, 0x7f000001);
    expect(readTagTimestamp(tag)).toBe(0x7f000001);
    expect(tag.subarray(0, 4)).toEqual(before.subarray(0, 4));
    expect(tag.subarray(8)).toEqual(before.subarray(8));
  });
});

const tagArb = fc.record({
  type: fc.constantFrom(TAG_AUDIO, TAG_VIDEO, TAG_SCRIPT),
  timestamp: fc.nat({ max: 0xffffffff }),
  payload: fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)),
});

function stream(tags: FlvTag[]): Buffer {
  return Buffer.concat([flvFileHeader(true, true), ...tags.map((t) => serializeFlvTag(t.type, t.timestamp, t.payload))]);
}

function splitAt(buf: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (buf.length + 1)))].sort((a, b) => a - b);
  const parts: Buffer[] = [];
  let prev = 0;
  for (const p of points) {
    parts.push(buf.subarray(prev, p));
    prev = p;
  }
  parts.push(buf.subarray(prev));
  return parts;
}

const plain = (tags: FlvTag[]) => tags.map((t) => ({ type: t.type, timestamp: t.timestamp, payload: t.payload.toString('hex') }));

describe('FlvDemuxer', () => {
  it('reads the header flags and real tags from a whole stream', () => {
    const d = new FlvDemuxer();
    const tags = d.push(stream([
      { type: TAG_VIDEO, timestamp: 0, payload: AVC_TAG_720P },
      { type: TAG_AUDIO, timestamp: 0x1000000, payload: AAC_TAG_44100 },
    ]));
    expect(d.header).toEqual({ hasAudio: true, hasVideo: true });
    expect(plain(tags)).toEqual([
      { type: 9, timestamp: 0, payload: AVC_TAG_720P.toString('hex') },
      { type: 8, timestamp: 0x1000000, payload: AAC_TAG_44100.toString('hex') },
    ]);
    expect(d.pendingBytes).toBe(0);
  });

  it('has no header before 9 bytes arrive and reports pending bytes of a partial tag', () => {
    const d = new FlvDemuxer();
    const s = stream([{ type: TAG_SCRIPT, timestamp: 5, payload: hex('02000a') }]);
    expect(d.push(s.subarray(0, 8))).toEqual([]);
    expect(d.header).toBeNull();
    expect(d.push(s.subarray(8, 20))).toEqual([]);
    expect(d.header).toEqual({ hasAudio: true, hasVideo: true });
    expect(d.pendingBytes).toBe(7);
    expect(d.push(s.subarray(20))).toHaveLength(1);
  });

  it('demuxes back exactly the serialized tags for any split of the byte stream', () => {
    fc.assert(
      fc.property(fc.array(tagArb, { maxLength: 12 }), fc.array(fc.nat(), { maxLength: 40 }), (tags, cuts) => {
        const d = new FlvDemuxer();
        const out = splitAt(stream(tags), cuts).flatMap((part) => d.push(part));
        expect(plain(out)).toEqual(plain(tags));
        expect(d.pendingBytes).toBe(0);
      }),
      { numRuns: 500 },
    );
  });

  it('handles a large tag delivered one byte at a time copying each byte about once (linear, not quadratic)', () => {
    const payload = Buffer.alloc(200_000, 7);
    const s = stream([{ type: TAG_VIDEO, timestamp: 1, payload }]);
    const d = new FlvDemuxer();
    const out: FlvTag[] = [];
    // Work is measured as bytes the demuxer allocates to join pieces: a queue that re-joins
    // everything buffered on each push would allocate ~payload^2 / 2 here.
    const alloc = vi.spyOn(Buffer, 'allocUnsafe');
    try {
      for (let i = 0; i < s.length; i++) out.push(...d.push(s.subarray(i, i + 1)));
    } finally {
      alloc.mockRestore();
    }
    const allocated = alloc.mock.calls.reduce((n, [size]) => n + size, 0);
    expect(out).toHaveLength(1);
    expect(out[0]!.payload.equals(payload)).toBe(true);
    expect(allocated).toBeLessThan(4 * s.length);
  });

  it('accepts a headerless stream when asked to', () => {
    const d = new FlvDemuxer({ headerless: true });
    expect(d.push(serializeFlvTag(TAG_AUDIO, 3, hex('af01')))).toHaveLength(1);
    expect(d.header).toBeNull();
  });

  it('skips extra header bytes announced by a DataOffset above 9', () => {
    const h = hex('464c5601 05 0000000c aabbcc 00000000');
    const d = new FlvDemuxer();
    expect(d.push(Buffer.concat([h, serializeFlvTag(TAG_AUDIO, 3, hex('af01'))]))).toHaveLength(1);
  });

  it.each([
    ['a bad signature', hex('464c5801 05 00000009 00000000')],
    ['a DataOffset below 9', hex('464c5601 05 00000008 00000000')],
    ['a non-zero PreviousTagSize0', hex('464c5601 05 00000009 00000001')],
    ['a wrong PreviousTagSize', hex('464c5601 05 00000009 00000000', '08 000001 000000 00 000000 af 0000000b')],
    ['reserved bits in the tag type byte', hex('464c5601 05 00000009 00000000', '48 000000 000000 00 000000 0000000b')],
    ['the encryption Filter bit', hex('464c5601 05 00000009 00000000', '28 000000 000000 00 000000 0000000b')],
  ])('throws ProtocolError("flv") on %s', (_name, bytes) => {
    const d = new FlvDemuxer();
    let err: unknown;
    try {
      d.push(bytes);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ProtocolError);
    expect((err as ProtocolError).code).toBe('flv');
  });

  it('rejects a tag larger than maxTagBytes as soon as its header arrives, without buffering it', () => {
    const d = new FlvDemuxer({ maxTagBytes: 1024 });
    d.push(flvFileHeader(false, true));
    expect(() => d.push(hex('09 000401 000000 00 000000'))).toThrow(/exceeds limit 1024/);
  });

  it('stays failed after an error, since FLV has no resync point', () => {
    const d = new FlvDemuxer();
    expect(() => d.push(hex('00000000000000000000'))).toThrow(ProtocolError);
    expect(() => d.push(stream([]))).toThrow(ProtocolError);
  });
});
