// Tests for the AMF 3 codec (Adobe AMF 3 specification, January 2013).
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { decodeAmf3, encodeAmf3 } from '../../server/amf/amf3.js';
import { type AmfObject, type AmfValue, DEFAULT_AMF_LIMITS, EcmaArray } from '../../server/amf/types.js';
import { anyAmfValue, decodedForm, expectAmfError, hex, returnsOrRejects } from './fixtures.js';

/** Decodes one value and insists that it used the whole buffer. */
function decodeAll(buf: Buffer): AmfValue {
  const { value, offset } = decodeAmf3(buf);
  expect(offset).toBe(buf.length);
  return value;
}

describe('AMF3 integers and doubles', () => {
  // U29: 7 bits per byte with a continuation flag for three bytes, then 8 bits in the fourth.
  it.each([
    [0, '04 00'],
    [0x7f, '04 7f'],
    [0x80, '04 81 00'],
    [0x3fff, '04 ff 7f'],
    [0x4000, '04 81 80 00'],
    [0x1fffff, '04 ff ff 7f'],
    [0x200000, '04 80 c0 80 00'],
    [0x0fffffff, '04 bf ff ff ff'], // largest positive integer (2^28 - 1)
    [-1, '04 ff ff ff ff'], // 29-bit two's complement 0x1FFFFFFF
    [-128, '04 ff ff ff 80'],
    [-0x10000000, '04 c0 80 80 00'], // smallest integer (-2^28)
    [0x10000000, '05 41 b0 00 00 00 00 00 00'], // 2^28 no longer fits: double
    [-0x10000001, '05 c1 b0 00 00 01 00 00 00'],
    [1.5, '05 3f f8 00 00 00 00 00 00'],
    [-0, '05 80 00 00 00 00 00 00 00'], // -0 must stay a double to keep its sign
  ])('encodes and decodes %d as %s', (n, bytes) => {
    expect(encodeAmf3(n).toString('hex')).toBe(hex(bytes).toString('hex'));
    expect(Object.is(decodeAll(hex(bytes)), n)).toBe(true);
  });

  it('accepts a non-minimal U29 encoding', () => {
    expect(decodeAll(hex('04 80 80 7f'))).toBe(0x7f);
  });

  it('rejects a truncated U29', () => {
    expectAmfError(() => decodeAmf3(hex('04 ff ff')));
  });

  it('encodes every 29-bit integer as a U29 integer and decodes it back', () => {
    fc.assert(
      fc.property(fc.integer({ min: -0x10000000, max: 0x0fffffff }), (n) => {
        const buf = encodeAmf3(n);
        expect(buf[0]).toBe(0x04);
        expect(decodeAll(buf)).toBe(n);
      }),
      { numRuns: 5_000 },
    );
  });
});

describe('AMF3 fixtures', () => {
  it('decodes the four constant markers', () => {
    expect([0x00, 0x01, 0x02, 0x03].map((m) => decodeAll(Buffer.from([m])))).toStrictEqual([undefined, null, false, true]);
  });

  it('decodes an inline string and the empty string', () => {
    expect(decodeAll(hex('06 0b 68656c6c6f'))).toBe('hello'); // length 5 -> U29 (5 << 1) | 1
    expect(decodeAll(hex('06 01'))).toBe('');
  });

  it('resolves string references', () => {
    const value = decodeAll(hex(`
      09 07 01          // array, 3 dense, empty associative part
        06 05 6162      //   "ab" (string table index 0)
        06 00           //   reference to string 0
        06 01           //   ""
    `));
    expect(value).toStrictEqual(['ab', 'ab', '']);
  });

  it('never enters the empty string in the string table', () => {
    expect(decodeAll(hex('09 07 01  06 01  06 03 78  06 00'))).toStrictEqual(['', 'x', 'x']);
  });

  it('rejects a reference to a string not yet seen', () => {
    expectAmfError(() => decodeAmf3(hex('06 02')));
  });

  it('decodes XMLDocument and XML as strings kept in the object table', () => {
    expect(decodeAll(hex('07 09 3c612f3e'))).toBe('<a/>');
    // Array is object 0, the XML object 1; the reference 0x02 points at the XML, not a string.
    expect(decodeAll(hex('09 05 01  0b 09 3c622f3e  0b 02'))).toStrictEqual(['<b/>', '<b/>']);
  });

  it('decodes a date', () => {
    const d = decodeAll(hex('08 01 4276f5e66e800000'));
    expect(d).toBeInstanceOf(Date);
    expect((d as Date).toISOString()).toBe('2020-01-01T00:00:00.000Z');
  });

  it('decodes a dense array', () => {
    expect(decodeAll(hex('09 05 01 04 01 04 02'))).toStrictEqual([1, 2]);
  });

  it('decodes an array with an associative part into one object holding both parts', () => {
    const value = decodeAll(hex(`
      09 03             // array, 1 dense element
        03 61 04 05     //   "a" = 5
        01              //   end of associative part
        04 07           //   [0] = 7
    `));
    expect(value).toStrictEqual({ a: 5, '0': 7 });
  });

  it('decodes an object with sealed members and ignores its class name', () => {
    // 0x13 = 1 sealed member << 4 | not dynamic | inline traits | inline object.
    expect(decodeAll(hex('0a 13 07 466f6f 03 78 04 01'))).toStrictEqual({ x: 1 });
  });

  it('decodes an object with sealed and dynamic members', () => {
    expect(decodeAll(hex('0a 1b 01 03 78  04 01  03 79 04 02  01'))).toStrictEqual({ x: 1, y: 2 });
  });

  it('resolves a traits reference', () => {
    const value = decodeAll(hex(`
      09 05 01                      // array of 2
        0a 13 07 466f6f 03 78 04 01 //   Foo {x: 1}, traits index 0
        0a 01 04 02                 //   traits reference 0 (0b01), x = 2
    `));
    expect(value).toStrictEqual([{ x: 1 }, { x: 2 }]);
  });

  it('resolves an object reference to the same object', () => {
    const value = decodeAll(hex(`
      09 05 01                  // array of 2 (object 0)
        0a 0b 01 03 61 04 01 01 //   {a: 1} (object 1)
        0a 02                   //   reference to object 1
    `)) as AmfObject[];
    expect(value).toStrictEqual([{ a: 1 }, { a: 1 }]);
    expect(value[1]).toBe(value[0]);
  });

  it('rejects an object that references itself', () => {
    expect(expectAmfError(() => decodeAmf3(hex('0a 0b 01 03 61 0a 00 01'))).message).toMatch(/cycle/);
  });

  it('rejects references to objects and traits not yet seen', () => {
    expectAmfError(() => decodeAmf3(hex('0a 00')));
    expectAmfError(() => decodeAmf3(hex('0a 05')));
  });

  it('rejects externalizable objects', () => {
    expectAmfError(() => decodeAmf3(hex('0a 07 07 466f6f')));
  });

  it('decodes a byte array into a Uint8Array copy', () => {
    const buf = hex('0c 07 010203');
    const value = decodeAll(buf);
    expect(value).toStrictEqual(new Uint8Array([1, 2, 3]));
    buf[2] = 0xff;
    expect((value as Uint8Array)[0]).toBe(1);
  });

  it.each([
    ['Vector.<int>', '0d'],
    ['Vector.<uint>', '0e'],
    ['Vector.<Number>', '0f'],
    ['Vector.<Object>', '10'],
    ['Dictionary', '11'],
    ['an unassigned marker', '12'],
  ])('rejects %s', (_name, marker) => {
    expectAmfError(() => decodeAmf3(hex(`${marker} 01 00`)));
  });

  it('stores a __proto__ key as an own property', () => {
    const obj = decodeAll(hex('0a 0b 01  13 5f5f70726f746f5f5f  0a 0b 01 11 706f6c6c75746564 03 01  01')) as AmfObject;
    expect(Object.getPrototypeOf(obj)).toBe(Object.prototype);
    expect(Object.keys(obj)).toEqual(['__proto__']);
    expect((obj as { polluted?: unknown }).polluted).toBeUndefined();
  });

  it('starts at the given offset and reports where the value ended', () => {
    const buf = hex('ff ff  06 03 61  04 01');
    expect(decodeAmf3(buf, 2)).toStrictEqual({ value: 'a', offset: 5 });
    expect(decodeAmf3(buf, 5)).toStrictEqual({ value: 1, offset: 7 });
  });

  it('rejects an offset outside the buffer', () => {
    expectAmfError(() => decodeAmf3(hex('01'), 1));
    expectAmfError(() => decodeAmf3(hex('01'), -1));
    expectAmfError(() => decodeAmf3(hex('01'), 0.5));
  });
});

describe('AMF3 encoding', () => {
  it('writes constants, strings, dates and byte arrays without references', () => {
    expect(encodeAmf3(undefined).toString('hex')).toBe('00');
    expect(encodeAmf3(null).toString('hex')).toBe('01');
    expect(encodeAmf3(false).toString('hex')).toBe('02');
    expect(encodeAmf3(true).toString('hex')).toBe('03');
    expect(encodeAmf3('hello').toString('hex')).toBe('060b68656c6c6f');
    expect(encodeAmf3('').toString('hex')).toBe('0601');
    expect(encodeAmf3(new Date(Date.UTC(2020, 0, 1))).toString('hex')).toBe('08014276f5e66e800000');
    expect(encodeAmf3(Buffer.from([1, 2, 3])).toString('hex')).toBe('0c07010203');
  });

  it('writes an object as an anonymous dynamic object', () => {
    expect(encodeAmf3({ a: 1 }).toString('hex')).toBe(hex('0a 0b 01  03 61 04 01  01').toString('hex'));
  });

  it('writes an array as a dense array and an EcmaArray as an associative one', () => {
    expect(encodeAmf3([1, 2]).toString('hex')).toBe(hex('09 05 01 04 01 04 02').toString('hex'));
    expect(encodeAmf3(new EcmaArray({ a: 1 })).toString('hex')).toBe(hex('09 01  03 61 04 01  01').toString('hex'));
  });

  it('refuses an empty property name, which AMF3 reserves as the end marker', () => {
    expectAmfError(() => encodeAmf3({ '': 1 }));
  });

  it('refuses to encode a cyclic array', () => {
    const arr: AmfValue[] = [];
    arr.push(arr);
    expectAmfError(() => encodeAmf3(arr));
  });
});

describe('AMF3 hostile input', () => {
  it('rejects a string announcing more bytes than are present', () => {
    expectAmfError(() => decodeAmf3(hex('06 81 00 61'))); // 64 bytes announced, 1 present
  });

  it('rejects an array announcing 2^28 - 1 elements in a short buffer on the count, before reading any element', () => {
    const err = expectAmfError(() => decodeAmf3(hex('09 ff ff ff ff 01 01 01 01')));
    expect(err.message).toMatch(/announces 268435455 entries/);
  });

  it('rejects strings, byte arrays and containers beyond the configured limits', () => {
    const limits = { ...DEFAULT_AMF_LIMITS, maxStringBytes: 2, maxItems: 1 };
    expectAmfError(() => decodeAmf3(hex('06 07 616263'), 0, limits));
    expectAmfError(() => decodeAmf3(hex('0c 07 010203'), 0, limits));
    expectAmfError(() => decodeAmf3(hex('09 05 01 01 01'), 0, limits));
    expectAmfError(() => decodeAmf3(hex('0a 0b 01 03 61 01 03 62 01 01'), 0, limits));
  });

  it('rejects arrays nested 100000 deep without overflowing the stack', () => {
    const buf = Buffer.concat(Array.from({ length: 100_000 }, () => hex('09 03 01')));
    expect(expectAmfError(() => decodeAmf3(buf)).message).toMatch(/nesting/);
  });

  it('rejects objects nested 100000 deep without overflowing the stack', () => {
    // Each level: object with inline traits and dynamic member "a"; later levels reuse string 0.
    const buf = Buffer.concat([hex('0a 0b 01 03 61'), Buffer.concat(Array.from({ length: 100_000 }, () => hex('0a 01 00')))]);
    expect(expectAmfError(() => decodeAmf3(buf)).message).toMatch(/nesting/);
  });

  it('charges a repeated string reference for its full length', () => {
    // Array of 65: one 512 KiB string, then 64 references to it: 32.5 MiB of text from 512 KiB of input.
    const buf = Buffer.concat([
      hex('09 81 03 01'), // array, 65 dense (U29 0x83), empty associative part
      hex('06 c0 80 01'), // string of 0x80000 bytes (U29 0x100001)
      Buffer.alloc(512 * 1024, 0x61),
      hex('06 00'.repeat(64)), // 64 references to string 0
    ]);
    expect(expectAmfError(() => decodeAmf3(buf)).message).toMatch(/output/);
  });

  it('returns a value or throws ProtocolError for any random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.nat(8), (bytes, offset) => {
        returnsOrRejects(() => decodeAmf3(Buffer.from(bytes), Math.min(offset, bytes.length)));
      }),
      { numRuns: 20_000 },
    );
  });

  it('returns a value or throws ProtocolError for random bytes drawn from the marker range', () => {
    fc.assert(
      fc.property(fc.uint8Array({ min: 0, max: 0x12, maxLength: 128 }), (bytes) => {
        returnsOrRejects(() => decodeAmf3(Buffer.from(bytes)));
      }),
      { numRuns: 20_000 },
    );
  });

  it('returns a value or throws ProtocolError for mutated and truncated valid encodings', () => {
    const sample = encodeAmf3({ app: 'live', list: [1, 'two', 3.5, null, { nested: true }], when: new Date(0), raw: new Uint8Array([9]) });
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }), fc.nat(), (edits, cut) => {
        const bytes = Buffer.from(sample);
        for (const [at, b] of edits) bytes[at % bytes.length] = b;
        returnsOrRejects(() => decodeAmf3(bytes.subarray(0, cut % (bytes.length + 1))));
      }),
      { numRuns: 20_000 },
    );
  });
});

// --- round trips -------------------------------------------------------------

// The empty name cannot be a member in AMF3, so keys are non-empty here.
const key = fc.oneof(fc.string({ unit: 'binary', minLength: 1, maxLength: 8 }), fc.constantFrom('__proto__', 'toString', '0'));
const anyValue = anyAmfValue(key, fc.integer({ min: -0x10000000, max: 0x0fffffff }));
/** An EcmaArray is sent as an AMF3 array with only an associative part; empty, it reads back as []. */
const expected = (v: AmfValue): AmfValue => decodedForm(v, []);

describe('AMF3 round trip', () => {
  it('decodes what it encodes for arbitrary nested values', () => {
    fc.assert(
      fc.property(anyValue, (v) => {
        expect(decodeAll(encodeAmf3(v))).toStrictEqual(expected(v));
      }),
      { numRuns: 2_000 },
    );
  });

  it('decodes what it encodes for long multi-byte strings', () => {
    fc.assert(
      fc.property(fc.tuple(fc.constantFrom('a', 'é', '€', '😀'), fc.integer({ min: 1, max: 70_000 })), ([c, n]) => {
        const s = c.repeat(n);
        expect(decodeAll(encodeAmf3([s, { s }]))).toStrictEqual([s, { s }]);
      }),
      { numRuns: 50 },
    );
  });
});
