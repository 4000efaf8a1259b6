// Tests for the AMF 0 codec (Adobe AMF 0 specification), including the 0x11 switch to AMF 3.
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { decodeAmf0, encodeAmf0, decodeAmf3CommandPayload } from '../../server/amf/amf0.js';
import { type AmfObject, type AmfValue, DEFAULT_AMF_LIMITS, EcmaArray } from '../../server/amf/types.js';
import { anyAmfValue, decodedForm, expectAmfError, hex, returnsOrRejects } from './fixtures.js';

// ffmpeg's RTMP `connect` (librtmp-style fields in the order libavformat writes them).
const CONNECT = hex(`
  02 0007 63 6f 6e 6e 65 63 74                        // string "connect"
  00 3f f0 00 00 00 00 00 00                          // number 1 (transaction id)
  03                                                  // object
    0003 61 70 70                                     //   key "app"
    02 0004 6c 69 76 65                               //   string "live"
    0004 74 79 70 65                                  //   key "type"
    02 000a 6e 6f 6e 70 72 69 76 61 74 65             //   string "nonprivate"
    0008 66 6c 61 73 68 56 65 72                      //   key "flashVer"
    02 0024 46 4d 4c 45 2f 33 2e 30 20 28 63 6f 6d 70 //   string "FMLE/3.0 (comp
            61 74 69 62 6c 65 3b 20 4c 61 76 66 35 39 //     atible; Lavf59
            2e 32 37 2e 31 30 30 29                   //     .27.100)"  (36 bytes)
    0005 74 63 55 72 6c                               //   key "tcUrl"
    02 001a 72 74 6d 70 3a 2f 2f 31 32 37 2e 30 2e 30 //   string "rtmp://127.0.0
            2e 31 3a 31 39 33 35 2f 6c 69 76 65       //     .1:1935/live"  (26 bytes)
  00 00 09                                            // object end
`);
const CONNECT_VALUES: AmfValue[] = [
  'connect',
  1,
  { app: 'live', type: 'nonprivate', flashVer: 'FMLE/3.0 (compatible; Lavf59.27.100)', tcUrl: 'rtmp://127.0.0.1:1935/live' },
];

const SET_DATA_FRAME = hex(`
  02 000d 40 73 65 74 44 61 74 61 46 72 61 6d 65      // string "@setDataFrame"
  02 000a 6f 6e 4d 65 74 61 44 61 74 61               // string "onMetaData"
  08 00000003                                         // ECMA array, 3 entries
    0008 64 75 72 61 74 69 6f 6e                      //   key "duration"
    00 00 00 00 00 00 00 00 00                        //   number 0
    0005 77 69 64 74 68                               //   key "width"
    00 40 94 00 00 00 00 00 00                        //   number 1280
    0007 65 6e 63 6f 64 65 72                         //   key "encoder"
    02 000d 4c 61 76 66 35 39 2e 32 37 2e 31 30 30    //   string "Lavf59.27.100"
  00 00 09                                            // object end
`);
const METADATA = { duration: 0, width: 1280, encoder: 'Lavf59.27.100' };

describe('AMF0 fixtures', () => {
  it('decodes the connect command ffmpeg sends', () => {
    expect(decodeAmf0(CONNECT)).toStrictEqual(CONNECT_VALUES);
  });

  it('encodes the connect command to the same bytes', () => {
    expect(encodeAmf0(CONNECT_VALUES).toString('hex')).toBe(CONNECT.toString('hex'));
  });

  it('decodes an @setDataFrame onMetaData ECMA array into a plain object', () => {
    const [name, event, meta] = decodeAmf0(SET_DATA_FRAME);
    expect([name, event]).toEqual(['@setDataFrame', 'onMetaData']);
    expect(meta).toStrictEqual(METADATA);
    expect(meta).not.toBeInstanceOf(EcmaArray);
  });

  it('encodes an EcmaArray as marker 0x08 with its entry count', () => {
    const out = encodeAmf0(['@setDataFrame', 'onMetaData', new EcmaArray(METADATA)]);
    expect(out.toString('hex')).toBe(SET_DATA_FRAME.toString('hex'));
  });

  it('tolerates an ECMA array that stops at the end of the buffer without an end marker', () => {
    const withoutEnd = SET_DATA_FRAME.subarray(0, SET_DATA_FRAME.length - 3);
    expect(decodeAmf0(withoutEnd)[2]).toStrictEqual(METADATA);
    const withEmptyKeyOnly = SET_DATA_FRAME.subarray(0, SET_DATA_FRAME.length - 1);
    expect(decodeAmf0(withEmptyKeyOnly)[2]).toStrictEqual(METADATA);
  });

  it('ignores a wrong ECMA array count because the end marker is authoritative', () => {
    expect(decodeAmf0(hex('08 00000063  0001 61 05  000009'))).toStrictEqual([{ a: null }]);
  });

  it('does not tolerate a missing end marker on an anonymous object', () => {
    expectAmfError(() => decodeAmf0(hex('03 0001 61 05')));
  });

  it('decodes numbers, including -0 and NaN, as IEEE doubles', () => {
    const [a, b, c] = decodeAmf0(hex('00 3ff8000000000000  00 8000000000000000  00 7ff8000000000000'));
    expect(a).toBe(1.5);
    expect(Object.is(b, -0)).toBe(true);
    expect(c).toBeNaN();
  });

  it('decodes any non-zero boolean byte as true', () => {
    expect(decodeAmf0(hex('01 00  01 01  01 05'))).toStrictEqual([false, true, true]);
  });

  it('decodes short, empty and multi-byte UTF-8 strings', () => {
    expect(decodeAmf0(hex('02 0002 6869  02 0000  02 0002 c3a9'))).toStrictEqual(['hi', '', 'é']);
  });

  it('decodes long strings and XML documents as strings', () => {
    expect(decodeAmf0(hex('0c 00000003 616263  0f 00000004 3c612f3e'))).toStrictEqual(['abc', '<a/>']);
  });

  it('decodes null and undefined', () => {
    expect(decodeAmf0(hex('05 06'))).toStrictEqual([null, undefined]);
  });

  it('decodes a strict array', () => {
    expect(decodeAmf0(hex('0a 00000002  00 3ff0000000000000  05'))).toStrictEqual([[1, null]]);
  });

  it('decodes a date and ignores its time zone field', () => {
    const [d] = decodeAmf0(hex('0b 4276f5e66e800000 ff88')); // 2020-01-01T00:00:00Z, tz -120
    expect(d).toBeInstanceOf(Date);
    expect((d as Date).toISOString()).toBe('2020-01-01T00:00:00.000Z');
  });

  it('decodes a typed object as a plain object without its class name', () => {
    const value = decodeAmf0(hex('10 0003 466f6f  0001 78 00 4000000000000000  000009'));
    expect(value).toStrictEqual([{ x: 2 }]);
  });

  it('resolves a reference to the earlier object, counting the enclosing array as index 0', () => {
    const [arr] = decodeAmf0(hex(`
      0a 00000002                          // strict array (reference index 0)
        03 0001 61 00 3ff0000000000000 000009  // {a: 1} (reference index 1)
        07 0001                            // reference to index 1
    `)) as [AmfObject[]];
    expect(arr).toStrictEqual([{ a: 1 }, { a: 1 }]);
    expect(arr[1]).toBe(arr[0]);
  });

  it('rejects a reference to an object that is still being decoded', () => {
    expect(expectAmfError(() => decodeAmf0(hex('03 0001 61 07 0000 000009'))).message).toMatch(/cycle/);
  });

  it('rejects a reference to an index that was never defined', () => {
    expectAmfError(() => decodeAmf0(hex('07 0000')));
  });

  it('switches to AMF3 after the avmplus marker', () => {
    // 0x11, then AMF3 object: inline traits, dynamic, anonymous, "a" = int 1, end.
    expect(decodeAmf0(hex('11 0a 0b 01 03 61 04 01 01  11 04 7f'))).toStrictEqual([{ a: 1 }, 127]);
  });

  it('gives each AMF3 switch its own reference tables', () => {
    // The second value references string 0, which only exists in the first value's table.
    expectAmfError(() => decodeAmf0(hex('11 06 03 61  11 06 00')));
  });

  it.each([
    ['movieclip', '04'],
    ['a stray object end', '09'],
    ['unsupported', '0d'],
    ['recordset', '0e'],
    ['an unassigned marker', '12'],
    ['0xff', 'ff'],
  ])('rejects the %s marker', (_name, bytes) => {
    expectAmfError(() => decodeAmf0(hex(bytes)));
  });

  it('stores a __proto__ key as an own property instead of replacing the prototype', () => {
    const [obj] = decodeAmf0(hex(`
      03 0009 5f5f70726f746f5f5f           // key "__proto__"
         03 0008 706f6c6c75746564 01 01 000009  // {polluted: true}
      000009
    `)) as [AmfObject];
    expect(Object.getPrototypeOf(obj)).toBe(Object.prototype);
    expect((obj as { polluted?: unknown }).polluted).toBeUndefined();
    expect(Object.keys(obj)).toEqual(['__proto__']);
    expect(Object.getOwnPropertyDescriptor(obj, '__proto__')?.value).toStrictEqual({ polluted: true });
  });

  it('returns an empty list for an empty buffer', () => {
    expect(decodeAmf0(Buffer.alloc(0))).toStrictEqual([]);
  });
});

describe('AMF0 encoding', () => {
  it('writes each supported type with its marker', () => {
    const out = encodeAmf0([1.5, true, false, null, undefined, new Date(Date.UTC(2020, 0, 1)), [1], {}]);
    expect(out.toString('hex')).toBe(
      hex(`
        00 3ff8000000000000  01 01  01 00  05  06
        0b 4276f5e66e800000 0000
        0a 00000001 00 3ff0000000000000
        03 000009
      `).toString('hex'),
    );
  });

  it('switches to a long string only above 65535 UTF-8 bytes', () => {
    const short = encodeAmf0(['a'.repeat(0xffff)]);
    expect(short.subarray(0, 3).toString('hex')).toBe('02ffff');
    expect(short.length).toBe(3 + 0xffff);
    const long = encodeAmf0(['é'.repeat(0x8000)]); // 65536 bytes, 32768 characters
    expect(long.subarray(0, 5).toString('hex')).toBe('0c00010000');
    expect(decodeAmf0(long)).toStrictEqual(['é'.repeat(0x8000)]);
  });

  it('carries bytes as an AMF3 byte array behind the avmplus marker', () => {
    const out = encodeAmf0([new Uint8Array([1, 2, 3])]);
    expect(out.toString('hex')).toBe('110c07010203');
    expect(decodeAmf0(out)).toStrictEqual([new Uint8Array([1, 2, 3])]);
  });

  it('refuses to encode a cyclic object', () => {
    const obj: AmfObject = {};
    obj.self = obj;
    expectAmfError(() => encodeAmf0([obj]));
  });

  it('encodes a shared but acyclic object twice', () => {
    const shared = { a: 1 };
    expect(decodeAmf0(encodeAmf0([[shared, shared]]))).toStrictEqual([[{ a: 1 }, { a: 1 }]]);
  });

  it('refuses a property name longer than 65535 bytes', () => {
    expectAmfError(() => encodeAmf0([{ ['k'.repeat(0x10000)]: 1 }]));
  });
});

describe('AMF3 command payloads', () => {
  it('skips the format byte and decodes AMF0 values that switch to AMF3', () => {
    const body = hex(`
      00                                   // format byte
      02 0007 636f6e6e656374               // "connect"
      00 3ff0000000000000                  // 1
      11 0a 0b 01 07 617070 06 09 6c697665 01  // AMF3 {app: "live"}
    `);
    expect(decodeAmf3CommandPayload(body)).toStrictEqual(['connect', 1, { app: 'live' }]);
  });

  it('decodes a body whose encoder left out the format byte', () => {
    expect(decodeAmf3CommandPayload(CONNECT)).toStrictEqual(CONNECT_VALUES);
  });

  it('rejects an empty body', () => {
    expectAmfError(() => decodeAmf3CommandPayload(Buffer.alloc(0)));
  });
});

describe('AMF0 hostile input', () => {
  it('rejects a string announcing more bytes than are present', () => {
    expectAmfError(() => decodeAmf0(hex('02 0010 6162')));
    expectAmfError(() => decodeAmf0(hex('0c ffffffff 61')));
  });

  it('rejects a strict array announcing 0xFFFFFFFF items in 20 bytes on the count, before reading any element', () => {
    const buf = Buffer.concat([hex('0a ffffffff'), Buffer.alloc(15, 0x05)]);
    const err = expectAmfError(() => decodeAmf0(buf));
    expect(err.message).toMatch(/announces 4294967295 entries/);
  });

  it('rejects strings and containers beyond the configured limits', () => {
    const limits = { ...DEFAULT_AMF_LIMITS, maxStringBytes: 3, maxItems: 2 };
    expect(decodeAmf0(hex('02 0003 616263'), limits)).toEqual(['abc']);
    expectAmfError(() => decodeAmf0(hex('02 0004 61626364'), limits));
    expectAmfError(() => decodeAmf0(hex('0a 00000003 05 05 05'), limits));
    expectAmfError(() => decodeAmf0(hex('03 0001 61 05 0001 62 05 0001 63 05 000009'), limits));
  });

  it('rejects strict arrays nested 100000 deep without overflowing the stack', () => {
    const buf = Buffer.concat(Array.from({ length: 100_000 }, () => hex('0a 00000001')));
    expect(expectAmfError(() => decodeAmf0(buf)).message).toMatch(/nesting/);
  });

  it('rejects objects nested 100000 deep without overflowing the stack', () => {
    const buf = Buffer.concat(Array.from({ length: 100_000 }, () => hex('03 0001 61')));
    expect(expectAmfError(() => decodeAmf0(buf)).message).toMatch(/nesting/);
  });

  it('rejects AMF3 arrays nested 100000 deep behind the avmplus marker', () => {
    const buf = Buffer.concat([hex('11'), Buffer.concat(Array.from({ length: 100_000 }, () => hex('09 03 01')))]);
    expectAmfError(() => decodeAmf0(buf));
  });

  it('rejects references that would double the output 40 times over', () => {
    // Top-level array k holds two references to array k-1: tiny input, 2^40 values when walked.
    const parts = [hex('0a 00000002 05 05')];
    for (let k = 1; k <= 40; k++) {
      const ref = (k - 1).toString(16).padStart(4, '0');
      parts.push(hex(`0a 00000002 07 ${ref} 07 ${ref}`));
    }
    expect(expectAmfError(() => decodeAmf0(Buffer.concat(parts))).message).toMatch(/output/);
  });

  it('rejects a chain of references that nests deeper than the depth limit', () => {
    // Each top-level array wraps a reference to the previous one, so depth grows by one per array.
    const parts = [hex('0a 00000000')];
    for (let k = 1; k <= 40; k++) parts.push(hex(`0a 00000001 07 ${(k - 1).toString(16).padStart(4, '0')}`));
    expect(expectAmfError(() => decodeAmf0(Buffer.concat(parts))).message).toMatch(/deeper/);
  });

  it('returns a value or throws ProtocolError for any random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        returnsOrRejects(() => decodeAmf0(Buffer.from(bytes)));
        returnsOrRejects(() => decodeAmf3CommandPayload(Buffer.from(bytes)));
      }),
      { numRuns: 20_000 },
    );
  });

  it('returns a value or throws ProtocolError for random bytes drawn from the marker range', () => {
    // Small bytes are markers and short lengths, so parsing gets much further than with uniform bytes.
    fc.assert(
      fc.property(fc.uint8Array({ min: 0, max: 0x12, maxLength: 128 }), (bytes) => {
        returnsOrRejects(() => decodeAmf0(Buffer.from(bytes)));
      }),
      { numRuns: 20_000 },
    );
  });

  it('returns a value or throws ProtocolError for mutated and truncated valid messages', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(CONNECT, SET_DATA_FRAME),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }),
        fc.nat(),
        (base, edits, cut) => {
          const bytes = Buffer.from(base);
          for (const [at, b] of edits) bytes[at % bytes.length] = b;
          returnsOrRejects(() => decodeAmf0(bytes.subarray(0, cut % (bytes.length + 1))));
        },
      ),
      { numRuns: 20_000 },
    );
  });
});

// --- round trips -------------------------------------------------------------

// Keys that shadow Object.prototype members. ("constructor" is left out only because
// toStrictEqual compares a.constructor === b.constructor, which an own key defeats.)
const key = fc.oneof(fc.string({ unit: 'binary', maxLength: 8 }), fc.constantFrom('__proto__', 'toString', 'hasOwnProperty', '0', ''));
const longString = fc
  .tuple(fc.constantFrom('a', 'é', '€', '😀'), fc.integer({ min: 16_000, max: 70_000 }))
  .map(([c, n]) => c.repeat(n));
const anyValue = anyAmfValue(key);
const expected = (v: AmfValue): AmfValue => decodedForm(v);

describe('AMF0 round trip', () => {
  it('decodes what it encodes for arbitrary nested values', () => {
    fc.assert(
      fc.property(fc.array(anyValue, { maxLength: 4 }), (values) => {
        expect(decodeAmf0(encodeAmf0(values))).toStrictEqual(values.map(expected));
      }),
      { numRuns: 2_000 },
    );
  });

  it('decodes what it encodes for strings on both sides of the long-string boundary', () => {
    fc.assert(
      fc.property(longString, (s) => {
        expect(decodeAmf0(encodeAmf0([s, { s }]))).toStrictEqual([s, { s }]);
      }),
      { numRuns: 50 },
    );
  });
});
