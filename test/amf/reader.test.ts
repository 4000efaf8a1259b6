// The decode cursor both AMF readers share: bounds-checked big-endian reads that never let Buffer
// throw, the output and depth budgets, and a container's reference-table bookkeeping.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  OpenContainer,
  RefTable,
  advance,
  charge,
  checkCount,
  createContext,
  readDouble,
  readMarker,
  readU16,
  readU32,
  readU8,
  readUtf8,
  setProperty,
} from '../../server/amf/reader.js';
import { type AmfLimits, type AmfObject, DEFAULT_AMF_LIMITS } from '../../server/amf/types.js';
import { expectAmfError, hex } from './fixtures.js';

const at = (bytes: Buffer, limits: AmfLimits = DEFAULT_AMF_LIMITS) => createContext(bytes, 0, limits);

describe('cursor reads', () => {
  const bytes = hex(`
    7f                          // U8 127
    0102                        // U16 258
    01020304                    // U32 16909060
    3ff8000000000000            // double 1.5
    c3a9                        // "é" in UTF-8
  `);

  it('read big-endian integers, a double and UTF-8 text at the cursor and move it past them', () => {
    const ctx = at(bytes);
    expect(readU8(ctx)).toBe(0x7f);
    expect(readU16(ctx)).toBe(258);
    expect(readU32(ctx)).toBe(0x01020304);
    expect(readDouble(ctx)).toBe(1.5);
    expect(readUtf8(ctx, 2)).toBe('é');
    expect(ctx.pos).toBe(bytes.length);
  });

  it('fail with ProtocolError, not RangeError, and leave the cursor in place when bytes are missing', () => {
    for (const [read, width] of [[readU8, 1], [readU16, 2], [readU32, 4], [readDouble, 8]] as const) {
      for (let have = 0; have < width; have++) {
        const ctx = at(Buffer.alloc(have));
        expect(expectAmfError(() => read(ctx)).message).toMatch(`need ${width} bytes at offset 0, have ${have}`);
        expect(ctx.pos).toBe(0);
      }
    }
    expectAmfError(() => readUtf8(at(hex('c3')), 2));
  });

  it('advance() claims bytes and returns where they start', () => {
    const ctx = at(Buffer.alloc(5));
    expect(advance(ctx, 3)).toBe(0);
    expect(advance(ctx, 2)).toBe(3);
    expectAmfError(() => advance(ctx, 1));
  });

  it('read back any integer or double Buffer writes, at any offset', () => {
    fc.assert(
      fc.property(fc.nat({ max: 7 }), fc.integer({ min: 0, max: 0xffff }), fc.nat(), fc.double(), (pad, u16, u32, d) => {
        const buf = Buffer.alloc(pad + 14);
        buf.writeUInt16BE(u16, pad);
        buf.writeUInt32BE(u32, pad + 2);
        buf.writeDoubleBE(d, pad + 6);
        const ctx = createContext(buf, pad, DEFAULT_AMF_LIMITS);
        expect([readU16(ctx), readU32(ctx), readDouble(ctx)]).toEqual([u16, u32, d]);
      }),
    );
  });
});

describe('budgets', () => {
  it('readUtf8 refuses a string over maxStringBytes before looking for its bytes, and turns bad UTF-8 into U+FFFD', () => {
    const limits = { ...DEFAULT_AMF_LIMITS, maxStringBytes: 4 };
    expect(expectAmfError(() => readUtf8(at(Buffer.alloc(2), limits), 5)).message).toMatch('exceeds 4');
    expect(readUtf8(at(hex('ff61')), 2)).toBe('\ufffda');
  });

  it('every value costs its marker plus its text, and the total is bounded by maxOutputSize', () => {
    const ctx = at(hex('02 6869'), { ...DEFAULT_AMF_LIMITS, maxOutputSize: 3 });
    expect(readMarker(ctx)).toBe(0x02);
    expect(readUtf8(ctx, 2)).toBe('hi');
    expect(ctx.weight).toBe(3);
    expect(expectAmfError(() => charge(ctx, 1)).message).toMatch('decoded output exceeds 3');
  });

  it('checkCount refuses a count over maxItems, or one the remaining bytes cannot hold', () => {
    const ctx = at(Buffer.alloc(4), { ...DEFAULT_AMF_LIMITS, maxItems: 10 });
    checkCount(ctx, 4, 1, 'array');
    expect(expectAmfError(() => checkCount(ctx, 11, 0, 'array')).message).toMatch('limit 10');
    expect(expectAmfError(() => checkCount(ctx, 3, 2, 'array')).message).toMatch('only 4 bytes remain');
  });

  it('setProperty keeps "__proto__" an own key instead of swapping the prototype', () => {
    const obj: AmfObject = {};
    setProperty(obj, '__proto__', { polluted: true });
    expect(Object.getPrototypeOf(obj)).toBe(Object.prototype);
    expect(Object.keys(obj)).toEqual(['__proto__']);
  });
});

describe('OpenContainer', () => {
  /** A context positioned after a container's marker, which has been charged. */
  function afterMarker(limits: AmfLimits = DEFAULT_AMF_LIMITS) {
    const ctx = at(hex('03 00'), limits);
    readMarker(ctx);
    return ctx;
  }

  it('makes a reference to itself from inside a cycle, refused', () => {
    const ctx = afterMarker();
    const refs = new RefTable();
    new OpenContainer(ctx, refs);
    expect(expectAmfError(() => refs.resolve(ctx, 0)).message).toMatch('cycle');
  });

  it('once closed, a reference to it costs its whole weight and carries its height', () => {
    const ctx = afterMarker();
    const refs = new RefTable();
    const outer = new OpenContainer(ctx, refs);
    charge(ctx, 1); // the inner container's marker
    const inner = new OpenContainer(ctx, refs);
    charge(ctx, 4); // its contents
    const innerValue = outer.child(inner.close(['x']));
    expect(ctx.height).toBe(1);
    const outerValue = outer.close([innerValue]);
    expect(ctx).toMatchObject({ depth: 0, height: 2, weight: 6 });
    expect(refs.resolve(ctx, 0)).toBe(outerValue);
    expect(ctx).toMatchObject({ weight: 6 + 6, height: 2 });
    expect(refs.resolve(ctx, 1)).toBe(innerValue);
    expect(ctx).toMatchObject({ weight: 12 + 5, height: 1 });
  });

  it('counts one level of depth while open and refuses to open beyond maxDepth', () => {
    const ctx = afterMarker({ ...DEFAULT_AMF_LIMITS, maxDepth: 2 });
    const refs = new RefTable();
    new OpenContainer(ctx, refs);
    new OpenContainer(ctx, refs);
    expect(ctx.depth).toBe(2);
    expect(expectAmfError(() => new OpenContainer(ctx, refs)).message).toMatch('nesting deeper than 2');
  });

  it('a reference whose height would exceed maxDepth at this depth is refused', () => {
    const ctx = afterMarker({ ...DEFAULT_AMF_LIMITS, maxDepth: 2 });
    const refs = new RefTable();
    const a = new OpenContainer(ctx, refs);
    const b = new OpenContainer(ctx, refs);
    a.child(b.close([]));
    a.close([[]]);
    expect(ctx.height).toBe(2);
    new OpenContainer(ctx, refs);
    expect(expectAmfError(() => refs.resolve(ctx, 0)).message).toMatch('nests deeper than 2');
  });
});
