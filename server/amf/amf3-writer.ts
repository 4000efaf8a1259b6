// AMF 3 writer (Adobe AMF 3 Specification, January 2013). No reference tables
// are emitted: the spec makes them optional for writers. Sizes are measured
// first so each value is written into one exactly sized buffer.
import { type AmfObject, type AmfValue, EcmaArray, EncodePlan, fail } from './types.js';
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

function keyedEntries(obj: AmfObject): string[] {
  const keys = Object.keys(obj);
  // The empty name terminates dynamic members, so it cannot be sent as one.
  if (keys.includes('')) fail('AMF3 cannot encode an empty property name');
  return keys;
}

function sizeOf(value: AmfValue, plan: EncodePlan): number {
  switch (typeof value) {
    case 'undefined':
    case 'boolean':
      return 1;
    case 'number':
      return isU29Int(value) ? 1 + u29Size(value & 0x1fffffff) : 9;
    case 'string': {
      const n = plan.measure(value);
      return 1 + inlineHeaderSize(n) + n;
    }
    case 'object':
      break;
    default:
      return fail(`cannot encode a ${typeof value} as AMF3`);
  }
  if (value === null) return 1;
  if (value instanceof Date) return 10;
  if (value instanceof Uint8Array) return 1 + inlineHeaderSize(value.length) + value.length;
  plan.push(value);
  let size: number;
  if (Array.isArray(value)) {
    size = 2 + inlineHeaderSize(value.length);
    for (const item of value) size += sizeOf(item, plan);
  } else {
    const obj = value instanceof EcmaArray ? value.entries : value;
    // Object: marker, traits U29 (0x0B), empty class name, members, terminator.
    // ECMA array: marker, count U29 (0x01), members, terminator.
    size = value instanceof EcmaArray ? 3 : 4;
    for (const key of keyedEntries(obj)) {
      const n = plan.measure(key);
      size += inlineHeaderSize(n) + n + sizeOf(obj[key], plan);
    }
  }
  plan.pop(value);
  return size;
}

function writeInline(out: Buffer, off: number, s: string, plan: EncodePlan): number {
  const n = plan.take();
  off = writeU29(out, off, n * 2 + 1);
  return off + out.write(s, off, n, 'utf8');
}

function write(value: AmfValue, out: Buffer, off: number, plan: EncodePlan): number {
  switch (typeof value) {
    case 'undefined':
      out[off] = UNDEFINED;
      return off + 1;
    case 'boolean':
      out[off] = value ? TRUE : FALSE;
      return off + 1;
    case 'number':
      if (isU29Int(value)) {
        out[off] = INTEGER;
        return writeU29(out, off + 1, value & 0x1fffffff);
      }
      out[off] = DOUBLE;
      return out.writeDoubleBE(value, off + 1);
    case 'string':
      out[off] = STRING;
      return writeInline(out, off + 1, value, plan);
    default:
      break;
  }
  if (value === null) {
    out[off] = NULL;
    return off + 1;
  }
  if (value instanceof Date) {
    out[off++] = DATE;
    out[off++] = 0x01;
    return out.writeDoubleBE(value.getTime(), off);
  }
  if (value instanceof Uint8Array) {
    out[off] = BYTE_ARRAY;
    off = writeU29(out, off + 1, value.length * 2 + 1);
    out.set(value, off);
    return off + value.length;
  }
  if (Array.isArray(value)) {
    out[off] = ARRAY;
    off = writeU29(out, off + 1, value.length * 2 + 1);
    out[off++] = 0x01; // empty associative part
    for (const item of value) off = write(item, out, off, plan);
    return off;
  }
  let obj: AmfObject;
  if (value instanceof EcmaArray) {
    obj = value.entries;
    out[off++] = ARRAY;
    out[off++] = 0x01; // no dense part
  } else {
    obj = value;
    out[off++] = OBJECT;
    out[off++] = 0x0b; // inline traits, dynamic, no sealed members
    out[off++] = 0x01; // anonymous class
  }
  for (const key of Object.keys(obj)) {
    off = writeInline(out, off, key, plan);
    off = write(obj[key], out, off, plan);
  }
  out[off++] = 0x01;
  return off;
}

/** Encodes one value as AMF3, without string/object/trait references. */
export function encodeAmf3(value: AmfValue): Buffer {
  const plan = new EncodePlan();
  const out = Buffer.allocUnsafe(sizeOf(value, plan));
  const end = write(value, out, 0, plan);
  if (end !== out.length) fail(`AMF3 encoder size mismatch (${end} != ${out.length})`);
  return out;
}
