// ChunkStreamReader: RTMP 1.0 spec §5.3 (chunking) and §5.4.1–5.4.2 (Set Chunk
// Size, Abort). Every fixture is hand-built annotated hex and is replayed whole,
// split at every byte boundary, and one byte at a time.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ProtocolError } from '../../server/errors.js';
import { ChunkStreamReader, DEFAULT_CHUNK_READER_LIMITS } from '../../server/rtmp/chunk-reader.js';
import { encodeMessage } from '../../server/rtmp/chunk-writer.js';
import {
  expectFailsEverywhere, expectParsesEverywhere, hex, pattern, readPieces, splitAt, type MsgShape,
} from './fixtures.js';

const msg = (csid: number, type: number, streamId: number, timestamp: number, payload: Buffer): MsgShape => ({
  csid, type, streamId, timestamp, payload,
});

/** A Set Chunk Size message on csid 2 (type-0 header), as annotated hex. */
const setChunkSizeHex = (size: number): Buffer =>
  hex(
    '02', //                                   fmt 0 | csid 2
    '000000', //                               timestamp 0
    '000004', //                               length 4
    '01', //                                   type 1 (Set Chunk Size)
    '00000000', //                             stream id 0
    size.toString(16).padStart(8, '0'), //     new chunk size
  );

describe('ChunkStreamReader: chunk message header formats (§5.3.1.2)', () => {
  it('reads a type-0 chunk: absolute timestamp, length, type and little-endian stream id', () => {
    const data = hex(
      '03', //         fmt 0 | csid 3
      '000064', //     timestamp 100
      '000005', //     message length 5
      '14', //         type 20 (AMF0 command)
      '01000000', //   message stream id 1 (little-endian)
      '0102030405', // payload
    );
    expectParsesEverywhere(data, [msg(3, 20, 1, 100, hex('0102030405'))]);
  });

  it('reads type-1 and type-2 chunks as timestamp deltas that inherit the stream id (and length/type for type 2)', () => {
    const data = hex(
      '04 0003e8 000003 08 01000000 aabbcc', //  fmt 0 csid 4: ts 1000, len 3, audio, stream 1
      '44 000014 000002 09 dddd', //             fmt 1 csid 4: delta 20, len 2, video (stream 1 inherited)
      '84 00001e eeee', //                       fmt 2 csid 4: delta 30 (len 2, video inherited)
    );
    expectParsesEverywhere(data, [
      msg(4, 8, 1, 1000, hex('aabbcc')),
      msg(4, 9, 1, 1020, hex('dddd')),
      msg(4, 9, 1, 1050, hex('eeee')),
    ]);
  });

  it('starts a new message from a type-3 chunk by reusing the previous delta, length, type and stream id', () => {
    const data = hex(
      '04 0003e8 000002 09 01000000 0101', //   fmt 0: ts 1000
      '44 000028 000002 09 0202', //            fmt 1: delta 40 → 1040
      'c4 0303', //                             fmt 3: new message, delta 40 again → 1080
      'c4 0404', //                             fmt 3: → 1120
    );
    expectParsesEverywhere(data, [
      msg(4, 9, 1, 1000, hex('0101')),
      msg(4, 9, 1, 1040, hex('0202')),
      msg(4, 9, 1, 1080, hex('0303')),
      msg(4, 9, 1, 1120, hex('0404')),
    ]);
  });

  it('treats a type-3 chunk right after a type-0 header as a delta equal to that absolute timestamp', () => {
    // §5.3.1.2.4 / what FFmpeg and this writer do: the stored delta after a type-0 header is its timestamp.
    const data = hex(
      '05 0003e8 000001 08 01000000 aa', //  fmt 0 csid 5: ts 1000
      'c5 bb', //                            fmt 3: new message at 1000 + 1000
      'c5 cc', //                            fmt 3: 3000
    );
    expectParsesEverywhere(data, [
      msg(5, 8, 1, 1000, hex('aa')),
      msg(5, 8, 1, 2000, hex('bb')),
      msg(5, 8, 1, 3000, hex('cc')),
    ]);
  });

  it('wraps timestamps at 2^32 when deltas carry them past the top', () => {
    const data = hex(
      '04 ffffff 000001 08 00000000 fffffff0 aa', // fmt 0, extended timestamp 0xfffffff0
      '84 000020 bb', //                             fmt 2 delta 0x20 → 0x100000010 wraps to 0x10
    );
    expectParsesEverywhere(data, [msg(4, 8, 0, 0xfffffff0, hex('aa')), msg(4, 8, 0, 0x10, hex('bb'))]);
  });

  it('splits a message longer than the chunk size over type-3 continuation chunks', () => {
    const body = pattern(300);
    const data = Buffer.concat([
      hex('06 000000 00012c 09 01000000'), // fmt 0 csid 6, length 300
      body.subarray(0, 128), //               chunk 1: 128 bytes (default chunk size)
      hex('c6'), //                           fmt 3 continuation
      body.subarray(128, 256),
      hex('c6'),
      body.subarray(256), //                  last chunk: 44 bytes
    ]);
    expectParsesEverywhere(data, [msg(6, 9, 1, 0, body)]);
  });

  it('delivers a zero-length message, and a type-3 chunk repeats it', () => {
    const data = hex(
      '03 000007 000000 14 00000000', //  fmt 0: ts 7, length 0, no payload bytes
      'c3', //                            fmt 3: another empty message at 7 + 7
    );
    expectParsesEverywhere(data, [msg(3, 20, 0, 7, Buffer.alloc(0)), msg(3, 20, 0, 14, Buffer.alloc(0))]);
  });
});

describe('ChunkStreamReader: basic header forms (§5.3.1.1)', () => {
  const cases: [number, string, string][] = [
    [2, '02', '1 byte: csid 2 in the low 6 bits'],
    [63, '3f', '1 byte: largest one-byte id'],
    [64, '00 00', '2 bytes: low bits 0, then csid - 64 = 0'],
    [319, '00 ff', '2 bytes: csid - 64 = 255'],
    [320, '01 00 01', '3 bytes: low bits 1, csid - 64 = 256 little-endian'],
    [65599, '01 ff ff', '3 bytes: csid - 64 = 65535'],
  ];
  for (const [csid, basic, why] of cases) {
    it(`reads chunk stream id ${csid} from a ${why} basic header, on type-0 and type-3 chunks`, () => {
      const fmt3 = Buffer.from(hex(basic));
      fmt3[0] = fmt3[0]! | 0xc0; // same basic header with fmt 3
      const data = Buffer.concat([
        hex(basic), //                        fmt 0 basic header
        hex('000010 000082 12 01000000'), //  ts 16, length 130, type 18, stream 1
        pattern(128), //                      first chunk
        fmt3, //                              fmt 3 continuation with the same basic header
        pattern(2, 128), //                   rest of the message
        fmt3, //                              fmt 3 new message: delta 16 → 32
        pattern(128, 7),
        fmt3,
        pattern(2, 135),
      ]);
      expectParsesEverywhere(data, [msg(csid, 18, 1, 16, pattern(130)), msg(csid, 18, 1, 32, pattern(130, 7))]);
    });
  }
});

describe('ChunkStreamReader: extended timestamps (§5.3.1.3)', () => {
  it('reads the 4-byte extended timestamp after a type-0 header whose field is 0xffffff', () => {
    const data = hex(
      '03 ffffff 000002 08 01000000', // fmt 0, timestamp field 0xffffff = "extended"
      '01000000', //                     extended timestamp 0x01000000
      'abcd',
    );
    expectParsesEverywhere(data, [msg(3, 8, 1, 0x01000000, hex('abcd'))]);
  });

  it('reads an extended timestamp of exactly 0xffffff', () => {
    const data = hex('03 ffffff 000001 08 01000000 00ffffff ee'); // field 0xffffff, extended value 0x00ffffff
    expectParsesEverywhere(data, [msg(3, 8, 1, 0xffffff, hex('ee'))]);
  });

  it('reads extended deltas after type-1 and type-2 headers', () => {
    const data = hex(
      '04 000005 000001 09 01000000 01', //  fmt 0: ts 5
      '44 ffffff 000001 08 01000000 02', //  fmt 1: extended delta 0x01000000 → 0x01000005
      '84 ffffff 02000000 03', //            fmt 2: extended delta 0x02000000 → 0x03000005
    );
    expectParsesEverywhere(data, [
      msg(4, 9, 1, 5, hex('01')),
      msg(4, 8, 1, 0x01000005, hex('02')),
      msg(4, 8, 1, 0x03000005, hex('03')),
    ]);
  });

  it('skips the extended timestamp repeated on type-3 continuation chunks, and on a type-3 new message', () => {
    const body = pattern(200, 0x40);
    const next = pattern(200, 0x90);
    const data = Buffer.concat([
      hex('04 ffffff 0000c8 09 01000000'), // fmt 0, len 200, extended
      hex('12345678'), //                    extended timestamp 0x12345678
      body.subarray(0, 128),
      hex('c4 12345678'), //                 fmt 3 continuation repeats the extended timestamp
      body.subarray(128),
      hex('c4 12345678'), //                 fmt 3 new message: delta 0x12345678 (extended, repeated)
      next.subarray(0, 128),
      hex('c4 12345678'),
      next.subarray(128),
    ]);
    expectParsesEverywhere(data, [msg(4, 9, 1, 0x12345678, body), msg(4, 9, 1, 0x2468acf0, next)]);
  });

  it('tolerates an encoder that omits the extended timestamp on continuation chunks', () => {
    const body = pattern(200, 0x40); // byte 128 onward is c0 c1 c2 c3…, never the 12345678 value
    const data = Buffer.concat([
      hex('04 ffffff 0000c8 09 01000000 12345678'), // fmt 0, extended 0x12345678
      body.subarray(0, 128),
      hex('c4'), //                                   fmt 3 continuation WITHOUT the extended field
      body.subarray(128),
      hex('04 000001 000001 08 01000000 ff'), //     then an ordinary message on the same csid
    ]);
    expectParsesEverywhere(data, [msg(4, 9, 1, 0x12345678, body), msg(4, 8, 1, 1, hex('ff'))]);
  });

  it('does not look for an extended timestamp on type-3 chunks once a later header no longer uses one', () => {
    const data = hex(
      '04 ffffff 000001 08 01000000 01000000 aa', // extended ts 0x01000000
      '84 000010 bb', //                            fmt 2, delta 16 (not extended)
      'c4 cc', //                                   fmt 3: delta 16, no extended field expected
    );
    expectParsesEverywhere(data, [
      msg(4, 8, 1, 0x01000000, hex('aa')),
      msg(4, 8, 1, 0x01000010, hex('bb')),
      msg(4, 8, 1, 0x01000020, hex('cc')),
    ]);
  });
});

describe('ChunkStreamReader: Set Chunk Size and Abort (§5.4.1, §5.4.2)', () => {
  it('parses chunks after a Set Chunk Size with the new size', () => {
    const body = pattern(400);
    const data = Buffer.concat([
      setChunkSizeHex(256), //                   Set Chunk Size 256
      hex('04 000000 000190 09 01000000'), //   fmt 0 csid 4, length 400
      body.subarray(0, 256), //                 first chunk is now 256 bytes
      hex('c4'),
      body.subarray(256), //                    144 bytes
    ]);
    const { reader } = readPieces([data]);
    expect(reader.chunkSize).toBe(256);
    expectParsesEverywhere(data, [msg(2, 1, 0, 0, hex('00000100')), msg(4, 9, 1, 0, body)]);
  });

  it('applies a chunk size change that arrives between messages on other chunk streams', () => {
    const a = pattern(200, 1);
    const b = pattern(150, 2);
    const data = Buffer.concat([
      hex('04 000000 0000c8 09 01000000'), // csid 4, length 200 at the default 128
      a.subarray(0, 128),
      hex('c4'),
      a.subarray(128),
      setChunkSizeHex(64), //                 csid 2: chunk size 64
      hex('06 000000 000096 08 01000000'), // csid 6, length 150 at 64: 64 + 64 + 22
      b.subarray(0, 64),
      hex('c6'),
      b.subarray(64, 128),
      hex('c6'),
      b.subarray(128),
    ]);
    expectParsesEverywhere(data, [msg(4, 9, 1, 0, a), msg(2, 1, 0, 0, hex('00000040')), msg(6, 8, 1, 0, b)]);
  });

  it('applies a new chunk size to the remaining chunks of a message already in progress on another chunk stream', () => {
    const a = pattern(200, 1);
    const data = Buffer.concat([
      hex('04 000000 0000c8 09 01000000'), // csid 4, length 200
      a.subarray(0, 128), //                  first chunk at the default 128
      setChunkSizeHex(50), //                 csid 2: chunk size 50, between two chunks of csid 4
      hex('c4'),
      a.subarray(128, 178), //                continuation: 50 bytes now
      hex('c4'),
      a.subarray(178), //                     last 22 bytes
    ]);
    expectParsesEverywhere(data, [msg(2, 1, 0, 0, hex('00000032')), msg(4, 9, 1, 0, a)]);
  });

  it('ignores the reserved top bit of a Set Chunk Size value', () => {
    const data = Buffer.concat([
      setChunkSizeHex(0x80000004), // top bit set: size 4
      hex('03 000000 000006 14 00000000'),
      pattern(4),
      hex('c3'),
      pattern(2, 4),
    ]);
    expectParsesEverywhere(data, [msg(2, 1, 0, 0, hex('80000004')), msg(3, 20, 0, 0, pattern(6))]);
  });

  it('refuses a Set Chunk Size of 0 with a chunk ProtocolError', () => {
    expectFailsEverywhere(setChunkSizeHex(0), 'chunk');
  });

  it('refuses a Set Chunk Size message shorter than 4 bytes', () => {
    expectFailsEverywhere(hex('02 000000 000002 01 00000000 0001'), 'message');
  });

  it('discards a partial message named by an Abort and parses the next message on that chunk stream', () => {
    const data = Buffer.concat([
      hex('04 000000 0000c8 09 01000000'), // csid 4: length 200
      pattern(128), //                        only the first chunk arrives
      hex('02 000000 000004 02 00000000'), // csid 2: Abort (type 2), length 4
      hex('00000004'), //                     chunk stream id 4
      hex('04 000010 000003 08 01000000'), // csid 4: a fresh message, ts 16, length 3
      hex('aabbcc'),
    ]);
    const { reader } = readPieces([data]);
    expect(reader.bufferedBytes).toBe(0);
    expectParsesEverywhere(data, [msg(2, 2, 0, 0, hex('00000004')), msg(4, 8, 1, 16, hex('aabbcc'))]);
  });

  it('after an Abort, a type-3 chunk starts a whole new message instead of continuing the discarded one', () => {
    const data = Buffer.concat([
      hex('04 000000 0000c8 09 01000000'), // csid 4: length 200
      pattern(128),
      hex('02 000000 000004 02 00000000 00000004'), // Abort csid 4
      hex('c4'), //                           fmt 3: a new 200-byte message (delta 0)
      pattern(128, 9),
      hex('c4'),
      pattern(72, 137),
    ]);
    expectParsesEverywhere(data, [msg(2, 2, 0, 0, hex('00000004')), msg(4, 9, 1, 0, pattern(200, 9))]);
  });

  it('ignores an Abort for a chunk stream it has never seen', () => {
    const data = hex('02 000000 000004 02 00000000 0000002a', '03 000000 000001 14 00000000 55');
    expectParsesEverywhere(data, [msg(2, 2, 0, 0, hex('0000002a')), msg(3, 20, 0, 0, hex('55'))]);
  });

  it('refuses an Abort shorter than 4 bytes', () => {
    expectFailsEverywhere(hex('02 000000 000001 02 00000000 04'), 'message');
  });

  it('treats a new type-0 header in the middle of a message as restarting that chunk stream', () => {
    const data = Buffer.concat([
      hex('04 000000 0000c8 09 01000000'), // length 200
      pattern(128), //                        first chunk only
      hex('04 000020 000002 08 01000000 abcd'), // a new fmt-0 message on csid 4
    ]);
    const { reader } = readPieces([data]);
    expect(reader.bufferedBytes).toBe(0);
    expectParsesEverywhere(data, [msg(4, 8, 1, 32, hex('abcd'))]);
  });
});

describe('ChunkStreamReader: multiplexing', () => {
  it('reassembles interleaved chunks of two messages on different chunk streams', () => {
    const a = pattern(200, 3);
    const b = pattern(150, 5);
    const data = Buffer.concat([
      hex('04 000064 0000c8 09 01000000'), // csid 4: video, ts 100, length 200
      a.subarray(0, 128),
      hex('06 000032 000096 08 01000000'), // csid 6: audio, ts 50, length 150
      b.subarray(0, 128),
      hex('c4'), //                           csid 4 continues
      a.subarray(128),
      hex('c6'), //                           csid 6 continues
      b.subarray(128),
    ]);
    expectParsesEverywhere(data, [msg(4, 9, 1, 100, a), msg(6, 8, 1, 50, b)]);
  });

  it('keeps header compression state per chunk stream', () => {
    const data = hex(
      '04 000064 000001 09 01000000 01', // csid 4: ts 100
      '06 0000c8 000001 08 02000000 02', // csid 6: ts 200, stream 2
      '84 00000a 03', //                    csid 4 fmt 2: 110
      '86 000005 04', //                    csid 6 fmt 2: 205
      'c4 05', //                           csid 4 fmt 3: 120
    );
    expectParsesEverywhere(data, [
      msg(4, 9, 1, 100, hex('01')),
      msg(6, 8, 2, 200, hex('02')),
      msg(4, 9, 1, 110, hex('03')),
      msg(6, 8, 2, 205, hex('04')),
      msg(4, 9, 1, 120, hex('05')),
    ]);
  });
});

describe('ChunkStreamReader: refusing bad input', () => {
  for (const [label, bytes] of [
    ['type-1', '44 000000 000001 08 00'], //   fmt 1 on csid 4, never seen
    ['type-2', '84 000000 00'], //             fmt 2 on csid 4
    ['type-3', 'c4 00'], //                    fmt 3 on csid 4
  ] as const) {
    it(`refuses a ${label} chunk on a chunk stream with no previous header`, () => {
      expectFailsEverywhere(hex(bytes), 'chunk');
    });
  }

  it('refuses a message longer than maxMessageBytes as soon as its header arrives', () => {
    const header = hex('04 000000 0003e9 09 01000000'); // length 1001, no payload bytes sent
    expectFailsEverywhere(header, 'limit', [], { maxMessageBytes: 1000 });
    // exactly at the limit is fine
    const ok = Buffer.concat([setChunkSizeHex(1000), hex('04 000000 0003e8 09 01000000'), pattern(1000)]);
    expect(readPieces([ok], { maxMessageBytes: 1000, maxPendingBytes: 1000 }).reader.bufferedBytes).toBe(0);
  });

  it('refuses a type-1 header that announces a length over the limit on a known chunk stream', () => {
    const data = hex(
      '04 000000 000001 09 01000000 aa', // ok
      '44 000000 000065 09', //             fmt 1, length 101 > 100
    );
    expectFailsEverywhere(data, 'limit', [msg(4, 9, 1, 0, hex('aa'))], { maxMessageBytes: 100 });
  });

  it('refuses more chunk streams than maxChunkStreams', () => {
    const data = hex(
      '03 000000 000001 14 00000000 01', // csid 3
      '04 000000 000001 14 00000000 02', // csid 4
      '05 000000 000001 14 00000000 03', // csid 5: the third
    );
    expectFailsEverywhere(
      data,
      'limit',
      [msg(3, 20, 0, 0, hex('01')), msg(4, 20, 0, 0, hex('02'))],
      { maxChunkStreams: 2 },
    );
  });

  it('refuses more unfinished bytes than maxPendingBytes across chunk streams', () => {
    const data = Buffer.concat([
      hex('04 000000 0000c8 09 01000000'), pattern(128), // 128 pending on csid 4
      hex('06 000000 0000c8 09 01000000'), pattern(128), // 256 pending in total
    ]);
    expectFailsEverywhere(data, 'limit', [], { maxPendingBytes: 200 });
  });

  it('holds only the bytes received for a 16 MiB message whose body never comes', () => {
    const data = Buffer.concat([
      setChunkSizeHex(0x7fffffff), //       one chunk per message
      hex('04 000000 ffffff 09 01000000'), // length 16 MiB - 1 (the largest a header can announce)
      pattern(1000), //                     the only payload bytes that arrive
    ]);
    const reader = new ChunkStreamReader(() => {});
    reader.push(data);
    expect(reader.bufferedBytes).toBe(1000);
    expect(reader.bytesReceived).toBe(data.length);
    // Same with the default chunk size, where the 1000 bytes come as 128-byte chunks.
    const chunked: Buffer[] = [hex('04 000000 ffffff 09 01000000')];
    for (let i = 0; i < 1000; i += 128) chunked.push(...(i > 0 ? [hex('c4')] : []), pattern(Math.min(128, 1000 - i)));
    const r2 = new ChunkStreamReader(() => {});
    for (const piece of chunked) r2.push(piece);
    expect(r2.bufferedBytes).toBe(1000);
    expect(DEFAULT_CHUNK_READER_LIMITS.maxMessageBytes).toBeGreaterThanOrEqual(0xffffff);
  });
});

describe('ChunkStreamReader: buffers and counters', () => {
  it('hands out a single-chunk payload as a view of the pushed buffer, not a copy', () => {
    const frame = hex('03 000000 000005 14 00000000 0102030405');
    const pushed = Buffer.from(new ArrayBuffer(frame.length)); // its own ArrayBuffer, not the pool
    frame.copy(pushed);
    let payload: Buffer | null = null;
    new ChunkStreamReader((m) => (payload = m.payload)).push(pushed);
    expect(payload).not.toBeNull();
    expect(payload!.buffer).toBe(pushed.buffer);
    expect(payload!.byteOffset).toBe(pushed.byteOffset + 12);
    expect(payload!).toEqual(hex('0102030405'));
  });

  it('joins a multi-chunk payload into one buffer that no longer depends on the pushed bytes', () => {
    const data = Buffer.concat([hex('06 000000 00012c 09 01000000'), pattern(128), hex('c6'), pattern(128, 128), hex('c6'), pattern(44, 256)]);
    let payload: Buffer | null = null;
    new ChunkStreamReader((m) => (payload = m.payload)).push(data);
    data.fill(0);
    expect(payload!).toEqual(pattern(300));
  });

  it('counts every pushed byte in bytesReceived, including partial chunks, and ignores empty pushes', () => {
    const reader = new ChunkStreamReader(() => {});
    reader.push(hex('03 000000'));
    reader.push(Buffer.alloc(0));
    reader.push(hex('000010 14 00000000 0102'));
    expect(reader.bytesReceived).toBe(14);
    expect(reader.bufferedBytes).toBe(2); // the two payload bytes of an unfinished 16-byte message
  });

  it('reports queued header bytes as buffered until the header is complete', () => {
    const reader = new ChunkStreamReader(() => {});
    reader.push(hex('03 000000 0000')); // 6 of 12 header bytes
    expect(reader.bufferedBytes).toBe(6);
  });
});

describe('ChunkStreamReader: hostile input', () => {
  /** Push `pieces`; anything other than success or a ProtocolError fails the property. */
  function survives(pieces: Buffer[]): void {
    const reader = new ChunkStreamReader(() => {}, { maxMessageBytes: 1 << 16, maxPendingBytes: 1 << 17 });
    try {
      for (const p of pieces) reader.push(p);
    } catch (err) {
      if (!(err instanceof ProtocolError)) throw err;
    }
  }

  it('either parses random bytes or throws ProtocolError, however they are split', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.array(fc.nat(300), { maxLength: 6 }), (bytes, cuts) => {
        survives(splitAt(Buffer.from(bytes), cuts));
      }),
      { numRuns: 25_000 },
    );
  });

  it('either parses corrupted valid chunk streams or throws ProtocolError', () => {
    // Start from real chunk streams so that the corruption reaches deep states (continuations, extended
    // timestamps, Set Chunk Size, Abort), then flip bytes.
    const valid = fc
      .array(
        fc.record({
          csid: fc.constantFrom(2, 3, 4, 63, 64, 319, 320, 65599),
          type: fc.constantFrom(1, 2, 8, 9, 20),
          ts: fc.constantFrom(0, 1, 0xfffffe, 0xffffff, 0x1000000, 0xffffffff),
          len: fc.nat(400),
        }),
        { maxLength: 5 },
      )
      .map((specs) =>
        Buffer.concat(
          specs.map((s) =>
            encodeMessage(
              { csid: s.csid, type: s.type, streamId: 1, timestamp: s.ts, payload: pattern(s.type <= 2 ? 4 : s.len, s.len) },
              128,
            ),
          ),
        ),
      );
    fc.assert(
      fc.property(
        valid,
        fc.array(fc.record({ at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }), { maxLength: 4 }),
        fc.array(fc.nat(3000), { maxLength: 4 }),
        (stream, flips, cuts) => {
          const data = Buffer.from(stream);
          for (const f of flips) if (data.length > 0) data[f.at % data.length] = f.value;
          survives(splitAt(data, cuts));
        },
      ),
      { numRuns: 10_000 },
    );
  });
});
