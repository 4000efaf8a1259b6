// AMF 3 writer (Adobe AMF 3 Specification, January 2013). No reference tables
// are emitted: the spec makes them optional for writers. Sizes are measured
// first so each value is written into one exactly sized buffer.
import { type AmfValue, fail } from './types.js';
import { type AmfEncoding, encodeValues, writeMarker } from './writer.js';
import {
  ARRAY, BYTE_ARRAY, DATE, DOUBLE, FALSE, INT_MAX, INT_MIN, INTEGER, MAX_INLINE_LENGTH, NULL, OBJECT, STRING, TRUE,
  UNDEFINED,
} from './amf3-markers.js';

/** @internal */
export function u29Size(v: number): number {
  return v < 0x80 ? 1 : v < 0x4000 ? 2 : v < 0x200000 ? 3 : 4;
}

/** @internal `v` must be in [0, 2^29). Returns the offset after the integer. */
export function writeU29(out: Buffer, off: number, v: number): number {
  if (v < 0x80) {
    out[off++] = v;
  } else if (v < 0x4000) {
    out[off++] = (v >>> 7) | 0x80;
    out[off++] = v & 0x7f;
  } else if (v < 0x200000) {
    out[off++] = (v >>> 14) | 0x80;
    out[off++] = ((v >>> 7) & 0x7f) | 0x80;
    out[off++] = v & 0x7f;
  } else {
    out[off++] = (v >>> 22) | 0x80;
    out[off++] = ((v >>> 15) & 0x7f) | 0x80;
    out[off++] = ((v >>> 8) & 0x7f) | 0x80;
    out[off++] = v & 0xff;
  }
  return off;
}

/** @internal Header size for an inline string/byte array of `len` bytes. */
export function inlineHeaderSize(len: number): number {
  if (len > MAX_INLINE_LENGTH) fail(`AMF3 cannot encode ${len} bytes inline`);
  return u29Size(len * 2 + 1);
}

function isU29Int(v: number): boolean {
  return Number.isInteger(v) && v >= INT_MIN && v <= INT_MAX && !Object.is(v, -0);
}

function writeInline(out: Buffer, off: number, s: string, n: number): number {
  off = writeU29(out, off, n * 2 + 1);
  return off + out.write(s, off, n, 'utf8');
}

const AMF3_ENCODING: AmfEncoding = {
  format: 'AMF3',
  size: {
    number: (value) => (isU29Int(value) ? 1 + u29Size(value & 0x1fffffff) : 9),
    boolean: 1,
    undefined: 1,
    null: 1,
    date: 10,
    string: (n) => 1 + inlineHeaderSize(n) + n,
    bytes: (length) => 1 + inlineHeaderSize(length) + length,
    array: (length) => 2 + inlineHeaderSize(length),
    // Object: marker, traits U29 (0x0B), empty class name, members, terminator.
    // ECMA array: marker, count U29 (0x01), members, terminator.
    object: (isEcmaArray) => (isEcmaArray ? 3 : 4),
    key(n) {
      // The empty name terminates dynamic members, so it cannot be sent as one.
      if (n === 0) fail('AMF3 cannot encode an empty property name');
      return inlineHeaderSize(n) + n;
    },
  },
  write: {
    number(out, off, value) {
      if (isU29Int(value)) {
        out[off] = INTEGER;
        return writeU29(out, off + 1, value & 0x1fffffff);
      }
      out[off] = DOUBLE;
      return out.writeDoubleBE(value, off + 1);
    },
    boolean: (out, off, value) => writeMarker(out, off, value ? TRUE : FALSE),
    undefined: (out, off) => writeMarker(out, off, UNDEFINED),
    null: (out, off) => writeMarker(out, off, NULL),
    date(out, off, value) {
      out[off++] = DATE;
      out[off++] = 0x01; // inline, not a reference
      return out.writeDoubleBE(value.getTime(), off);
    },
    string(out, off, value, n) {
      out[off] = STRING;
      return writeInline(out, off + 1, value, n);
    },
    bytes(out, off, value) {
      out[off] = BYTE_ARRAY;
      off = writeU29(out, off + 1, value.length * 2 + 1);
      out.set(value, off);
      return off + value.length;
    },
    arrayStart(out, off, length) {
      out[off] = ARRAY;
      off = writeU29(out, off + 1, length * 2 + 1);
      out[off++] = 0x01; // empty associative part
      return off;
    },
    objectStart(out, off, isEcmaArray) {
      if (isEcmaArray) {
        out[off++] = ARRAY;
        out[off++] = 0x01; // no dense part
      } else {
        out[off++] = OBJECT;
        out[off++] = 0x0b; // inline traits, dynamic, no sealed members
        out[off++] = 0x01; // anonymous class
      }
      return off;
    },
    key: writeInline,
    objectEnd(out, off) {
      out[off] = 0x01; // the empty name ends the dynamic members
      return off + 1;
    },
  },
};

/** Encodes one value as AMF3, without string/object/trait references. */
export function encodeAmf3(value: AmfValue): Buffer {
  return encodeValues([value], AMF3_ENCODING);
}
