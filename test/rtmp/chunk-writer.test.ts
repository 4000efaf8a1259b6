// encodeMessage / ChunkStreamWriter: RTMP 1.0 spec §5.3.1 (chunk formats and
// header compression), §5.3.1.3 (extended timestamps). Byte fixtures for each
// header case, then THE round-trip property against ChunkStreamReader.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ChunkStreamReader } from '../../server/rtmp/chunk-reader.js';
import { ChunkStreamWriter, encodeMessage, type OutgoingMessage } from '../../server/rtmp/chunk-writer.js';
import { setChunkSize } from '../../server/rtmp/messages.js';
import { expectParsesEverywhere, hex, pattern, shape, splitAt, type MsgShape } from './fixtures.js';

const out = (csid: number, type: number, streamId: number, timestamp: number, payload: Buffer): OutgoingMessage => ({
  csid, type, streamId, timestamp, payload,
});

describe('encodeMessage (stateless, type-0 headers)', () => {
  it('writes a single-chunk message with a full type-0 header', () => {
    expect(encodeMessage(out(3, 20, 1, 100, hex('0102030405')), 128)).toEqual(
      hex(
        '03', //         fmt 0 | csid 3
        '000064', //     timestamp 100
        '000005', //     length 5
        '14', //         type 20
        '01000000', //   stream id 1, little-endian
        '0102030405', // payload
      ),
    );
  });

  it('splits a long payload into type-3 continuation chunks of the chunk size', () => {
    const body = pattern(300);
    const encoded = encodeMessage(out(6, 9, 1, 0, body), 128);
    expect(encoded).toEqual(
      Buffer.concat([
        hex('06 000000 00012c 09 01000000'), // fmt 0 csid 6, length 300
        body.subarray(0, 128),
        hex('c6'), //                           fmt 3 | csid 6
        body.subarray(128, 256),
        hex('c6'),
        body.subarray(256),
      ]),
    );
    expectParsesEverywhere(encoded, [{ csid: 6, type: 9, streamId: 1, timestamp: 0, payload: body }]);
  });

  it('writes a zero-length message as a bare header', () => {
    expect(encodeMessage(out(3, 20, 0, 0, Buffer.alloc(0)), 128)).toEqual(hex('03 000000 000000 14 00000000'));
  });

  it('keeps a timestamp of 0xfffffe in the 3-byte field', () => {
    expect(encodeMessage(out(4, 8, 1, 0xfffffe, hex('aa')), 128)).toEqual(hex('04 fffffe 000001 08 01000000 aa'));
  });

  it('moves a timestamp of 0xffffff or more to the extended field and repeats it on every continuation chunk', () => {
    const body = pattern(10);
    expect(encodeMessage(out(4, 9, 1, 0xffffff, body), 4)).toEqual(
      Buffer.concat([
        hex('04 ffffff 00000a 09 01000000'), // field 0xffffff = "see extended timestamp"
        hex('00ffffff'), //                     extended timestamp
        body.subarray(0, 4),
        hex('c4 00ffffff'), //                  continuation: fmt 3 + repeated extended timestamp
        body.subarray(4, 8),
        hex('c4 00ffffff'),
        body.subarray(8),
      ]),
    );
    expect(encodeMessage(out(4, 9, 1, 0xffffffff, hex('01')), 128)).toEqual(hex('04 ffffff 000001 09 01000000 ffffffff 01'));
  });

  it('reduces timestamps modulo 2^32', () => {
    expect(encodeMessage(out(4, 9, 1, 2 ** 32 + 5, hex('01')), 128)).toEqual(hex('04 000005 000001 09 01000000 01'));
  });

  const basics: [number, string][] = [
    [2, '02'], //          1 byte
    [63, '3f'], //         1 byte, largest
    [64, '00 00'], //      2 bytes: 0, csid - 64
    [319, '00 ff'], //     2 bytes, largest
    [320, '01 00 01'], //  3 bytes: 1, (csid - 64) little-endian
    [65599, '01 ff ff'], // 3 bytes, largest
  ];
  for (const [csid, basic] of basics) {
    it(`writes chunk stream id ${csid} as the basic header ${basic}, on the first and continuation chunks`, () => {
      const fmt3 = Buffer.from(hex(basic));
      fmt3[0] = fmt3[0]! | 0xc0;
      const body = pattern(3);
      const encoded = encodeMessage(out(csid, 8, 1, 0, body), 2);
      expect(encoded).toEqual(Buffer.concat([hex(basic), hex('000000 000003 08 01000000'), body.subarray(0, 2), fmt3, body.subarray(2)]));
      // The reader must be told the chunk size first.
      const announce = encodeMessage(setChunkSize(2), 128);
      expectParsesEverywhere(Buffer.concat([announce, encoded]), [
        { csid: 2, type: 1, streamId: 0, timestamp: 0, payload: hex('00000002') },
        { csid, type: 8, streamId: 1, timestamp: 0, payload: body },
      ]);
    });
  }

  it('refuses chunk stream ids outside 2..65599', () => {
    expect(() => encodeMessage(out(1, 8, 1, 0, hex('00')), 128)).toThrow(RangeError);
    expect(() => encodeMessage(out(65600, 8, 1, 0, hex('00')), 128)).toThrow(RangeError);
  });
});

describe('ChunkStreamWriter header compression (§5.3.1.2)', () => {
  it('uses type 0 first, then type 1, 2 and 3 as less of the header changes', () => {
    const w = new ChunkStreamWriter();
    // first message on the chunk stream: type 0
    expect(w.encode(out(4, 9, 1, 1000, hex('0101')))).toEqual(hex('04 0003e8 000002 09 01000000 0101'));
    // length/type change: type 1 with delta 40
    expect(w.encode(out(4, 8, 1, 1040, hex('020202')))).toEqual(hex('44 000028 000003 08 020202'));
    // same length and type, different delta: type 2 with delta 10
    expect(w.encode(out(4, 8, 1, 1050, hex('030303')))).toEqual(hex('84 00000a 030303'));
    // same delta again: a bare type-3 header
    expect(w.encode(out(4, 8, 1, 1060, hex('040404')))).toEqual(hex('c4 040404'));
  });

  it('uses type 3 after a type-0 header only when the delta equals that header\'s absolute timestamp', () => {
    const w = new ChunkStreamWriter();
    expect(w.encode(out(5, 8, 1, 1000, hex('aa')))).toEqual(hex('05 0003e8 000001 08 01000000 aa'));
    expect(w.encode(out(5, 8, 1, 2000, hex('bb')))).toEqual(hex('c5 bb')); // delta 1000 = previous "delta"
    const w2 = new ChunkStreamWriter();
    w2.encode(out(5, 8, 1, 1000, hex('aa')));
    expect(w2.encode(out(5, 8, 1, 1001, hex('bb')))).toEqual(hex('85 000001 bb')); // delta 1: type 2
  });

  it('falls back to type 0 when the timestamp goes backwards or the stream id changes', () => {
    const w = new ChunkStreamWriter();
    w.encode(out(4, 9, 1, 500, hex('01')));
    expect(w.encode(out(4, 9, 1, 400, hex('02')))).toEqual(hex('04 000190 000001 09 01000000 02'));
    expect(w.encode(out(4, 9, 2, 400, hex('03')))).toEqual(hex('04 000190 000001 09 02000000 03'));
  });

  it('keeps compression state per chunk stream', () => {
    const w = new ChunkStreamWriter();
    w.encode(out(4, 9, 1, 0, hex('01')));
    expect(w.encode(out(6, 9, 1, 0, hex('02')))).toEqual(hex('06 000000 000001 09 01000000 02'));
    expect(w.encode(out(4, 9, 1, 5, hex('03')))).toEqual(hex('84 000005 03'));
  });

  it('writes an extended delta on type-1/2 headers and repeats it on continuation chunks', () => {
    const w = new ChunkStreamWriter();
    w.setChunkSize(2);
    expect(w.encode(out(4, 9, 1, 1, hex('01')))).toEqual(hex('04 000001 000001 09 01000000 01'));
    expect(w.encode(out(4, 9, 1, 1 + 0x1000000, hex('020304')))).toEqual(
      hex(
        '44 ffffff 000003 09', // type 1, delta field 0xffffff
        '01000000', //           extended delta 0x01000000
        '0203',
        'c4 01000000', //        continuation repeats the extended delta
        '04',
      ),
    );
    // same delta, same length: type 3 new message still carries the extended delta, also on its continuation
    expect(w.encode(out(4, 9, 1, 1 + 0x2000000, hex('050607')))).toEqual(hex('c4 01000000 0506 c4 01000000 07'));
  });

  it('applies a new chunk size to messages encoded after setChunkSize and refuses invalid sizes', () => {
    const w = new ChunkStreamWriter();
    w.setChunkSize(3);
    expect(w.encode(out(3, 20, 0, 0, pattern(5)))).toEqual(hex('03 000000 000005 14 00000000 000102 c3 0304'));
    for (const bad of [0, -1, 1.5, 0x80000000, Number.NaN]) expect(() => w.setChunkSize(bad)).toThrow(RangeError);
    expect(w.chunkSize).toBe(3);
  });

  it('forgets compression state on reset, for one chunk stream or all', () => {
    const w = new ChunkStreamWriter();
    w.encode(out(4, 9, 1, 0, hex('01')));
    w.encode(out(6, 9, 1, 0, hex('01')));
    w.reset(4);
    expect(w.encode(out(4, 9, 1, 0, hex('02')))[0]).toBe(0x04); // type 0 again
    expect(w.encode(out(6, 9, 1, 0, hex('02')))[0]).toBe(0xc6); // still compressed
    w.reset();
    expect(w.encode(out(6, 9, 1, 0, hex('03')))[0]).toBe(0x06);
  });
});

// ---------------------------------------------------------------------------
// THE property: writer output at any chunk size, changed mid-sequence, split anywhere, reads back identical.

type Step =
  | { kind: 'msg'; stateless: boolean; csid: number; type: number; streamId: number; ts: { abs: number } | { delta: number }; len: number }
  | { kind: 'chunkSize'; size: number }
  /** the previous message's chunk stream, type, stream id and length at a new time: type-2/3 headers */
  | { kind: 'again'; ts: { abs: number } | { delta: number } };

const timestampValue = fc.oneof(
  fc.constantFrom(0, 1, 0xfffffe, 0xffffff, 0x1000000, 0x1000001, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff),
  fc.integer({ min: 0, max: 0xffffffff }),
  fc.nat(5000),
);
const deltaValue = fc.oneof(
  fc.constantFrom(0, 20, 33, 0xfffffe, 0xffffff, 0x1000000, 0xfffffff0),
  fc.nat(100),
  fc.integer({ min: 0, max: 0xffffffff }), // may wrap past 2^32: the writer must fall back to type 0
);
const step: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 10,
    arbitrary: fc.record({
      kind: fc.constant('msg' as const),
      stateless: fc.boolean(),
      // mostly a few chunk streams (so headers get compressed), sometimes any id up to 400
      csid: fc.oneof(
        { weight: 4, arbitrary: fc.constantFrom(2, 3, 4, 5, 63, 64, 65, 319, 320, 321) },
        { weight: 1, arbitrary: fc.integer({ min: 2, max: 400 }) },
      ),
      // not 1 or 2: those are Set Chunk Size / Abort, which change how the reader parses
      type: fc.oneof({ weight: 4, arbitrary: fc.constantFrom(8, 9, 18, 20) }, { weight: 1, arbitrary: fc.integer({ min: 3, max: 255 }) }),
      streamId: fc.oneof({ weight: 4, arbitrary: fc.constantFrom(0, 1) }, { weight: 1, arbitrary: fc.nat(0xffffffff) }),
      ts: fc.oneof(fc.record({ abs: timestampValue }), fc.record({ delta: deltaValue })),
      // a few fixed lengths so that type-2/3 headers (same length) are common
      len: fc.oneof(fc.constantFrom(0, 1, 127, 128, 129, 300), fc.nat(3000)),
    }),
  },
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('again' as const),
      ts: fc.oneof(fc.record({ abs: timestampValue }), fc.record({ delta: deltaValue })),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('chunkSize' as const),
      size: fc.oneof(fc.constantFrom(1, 2, 127, 128, 129, 4096), fc.integer({ min: 1, max: 5000 })),
    }),
  },
);

/** Runs the steps through a writer; returns the bytes and the messages the reader must produce. */
function writeSteps(initialChunkSize: number, steps: Step[]): { bytes: Buffer; expected: MsgShape[]; headerTypes: Set<number> } {
  const writer = new ChunkStreamWriter();
  const parts: Buffer[] = [];
  const expected: MsgShape[] = [];
  const headerTypes = new Set<number>();
  const lastTs = new Map<number, number>();
  const emit = (m: OutgoingMessage, stateless: boolean): void => {
    const b = stateless ? encodeMessage(m, writer.chunkSize) : writer.encode(m);
    headerTypes.add(b[0]! >> 6);
    parts.push(b);
    expected.push({ ...m, timestamp: m.timestamp >>> 0 });
    lastTs.set(m.csid, m.timestamp);
  };
  const changeChunkSize = (size: number): void => {
    emit(setChunkSize(size), false); // a real Set Chunk Size on csid 2 through the stateful writer…
    writer.setChunkSize(size); //        …then the writer switches, as the session does
  };
  if (initialChunkSize !== 128) changeChunkSize(initialChunkSize);
  let seq = 0;
  let last: Extract<Step, { kind: 'msg' }> | null = null;
  for (const step of steps) {
    if (step.kind === 'chunkSize') {
      changeChunkSize(step.size);
      continue;
    }
    if (step.kind === 'again' && last === null) continue;
    const s: Extract<Step, { kind: 'msg' }> = step.kind === 'again' ? { ...last!, ts: step.ts } : step;
    last = s;
    // Stateless messages use odd csids, the stateful writer even ones: never the same chunk stream.
    const csid = s.stateless ? (s.csid % 2 === 1 ? s.csid : s.csid + 1) : s.csid % 2 === 0 ? s.csid : s.csid - 1;
    const prev = lastTs.get(csid) ?? 0;
    const timestamp = 'abs' in s.ts ? s.ts.abs : (prev + s.ts.delta) >>> 0;
    emit(out(csid, s.type, s.streamId, timestamp, pattern(s.len, seq++)), s.stateless);
  }
  return { bytes: Buffer.concat(parts), expected, headerTypes };
}

function readAll(pieces: Buffer[]): MsgShape[] {
  const got: MsgShape[] = [];
  const reader = new ChunkStreamReader((m) => got.push(shape(m)), { maxChunkStreams: 1000 });
  for (const p of pieces) reader.push(p);
  expect(reader.bufferedBytes).toBe(0);
  return got;
}

describe('writer → reader round trip (acceptance property)', () => {
  it('reads back every message sequence identically at any chunk size, however the bytes are split', () => {
    const seenHeaderTypes = new Set<number>();
    fc.assert(
      fc.property(
        fc.oneof(fc.constantFrom(1, 2, 128, 4096, 5000), fc.integer({ min: 1, max: 5000 })),
        fc.array(step, { maxLength: 25 }),
        fc.array(fc.nat(80_000), { maxLength: 12 }),
        (chunkSize, steps, cuts) => {
          const { bytes, expected, headerTypes } = writeSteps(chunkSize, steps);
          for (const t of headerTypes) seenHeaderTypes.add(t);
          expect(readAll(splitAt(bytes, cuts.map((c) => c % (bytes.length + 1))))).toEqual(expected);
        },
      ),
      { numRuns: 600 },
    );
    // The generator really exercised every header type (first byte of a message's encoding).
    expect([...seenHeaderTypes].sort()).toEqual([0, 1, 2, 3]);
  });

  it('reads back a sequence fed one byte at a time', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 300 }), fc.array(step, { maxLength: 6 }), (chunkSize, steps) => {
        const small = steps.map((s) => (s.kind === 'msg' ? { ...s, len: s.len % 400 } : s));
        // (an 'again' step copies a message step's length, so it stays small too)
        const { bytes, expected } = writeSteps(chunkSize, small);
        const pieces: Buffer[] = [];
        for (let i = 0; i < bytes.length; i++) pieces.push(bytes.subarray(i, i + 1));
        expect(readAll(pieces)).toEqual(expected);
      }),
      { numRuns: 150 },
    );
  });

  it('round-trips the header-compression edge cases around 2^24 and 2^32 on one chunk stream', () => {
    // lengths are cut to 20 below to keep the every-split replay small
    const steps: Step[] = [
      { kind: 'msg', stateless: false, csid: 4, type: 9, streamId: 1, ts: { abs: 0xfffffe }, len: 300 },
      { kind: 'msg', stateless: false, csid: 4, type: 9, streamId: 1, ts: { abs: 0xffffff }, len: 300 }, // delta 1
      { kind: 'msg', stateless: false, csid: 4, type: 9, streamId: 1, ts: { delta: 1 }, len: 300 }, // type 3
      { kind: 'msg', stateless: false, csid: 4, type: 9, streamId: 1, ts: { delta: 0xffffff }, len: 300 }, // extended delta
      { kind: 'msg', stateless: false, csid: 4, type: 9, streamId: 1, ts: { delta: 0xffffff }, len: 300 }, // type 3 + extended
      { kind: 'msg', stateless: false, csid: 4, type: 9, streamId: 1, ts: { abs: 0xfffffff0 }, len: 300 },
      { kind: 'msg', stateless: false, csid: 4, type: 9, streamId: 1, ts: { delta: 0x20 }, len: 300 }, // wraps: type 0
      { kind: 'msg', stateless: false, csid: 4, type: 9, streamId: 1, ts: { abs: 0x3000000 }, len: 0 },
      { kind: 'msg', stateless: false, csid: 4, type: 9, streamId: 1, ts: { abs: 0x6000000 }, len: 0 }, // type 3 after type 0
    ];
    for (const size of [1, 7, 128]) {
      const { bytes, expected } = writeSteps(size, steps.map((s) => (s.kind === 'msg' ? { ...s, len: Math.min(s.len, 20) } : s)));
      expectParsesEverywhere(bytes, expected, { maxChunkStreams: 1000 });
    }
  });
});
