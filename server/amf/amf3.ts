// Implements the Adobe AMF 3 Specification (January 2013): the value types RTMP peers actually send.
import {
  type AmfLimits,
  type AmfObject,
  type AmfValue,
  type DecodeContext,
  DEFAULT_AMF_LIMITS,
  EcmaArray,
  EncodePlan,
  RefTable,
  charge,
  checkCount,
  createContext,
  enter,
  fail,
  need,
  readUtf8,
  setProperty,
} from './types.js';

const UNDEFINED = 0x00;
const NULL = 0x01;
const FALSE = 0x02;
const TRUE = 0x03;
const INTEGER = 0x04;
const DOUBLE = 0x05;
const STRING = 0x06;
const XML_DOC = 0x07;
const DATE = 0x08;
const ARRAY = 0x09;
const OBJECT = 0x0a;
const XML = 0x0b;
const BYTE_ARRAY = 0x0c;

const INT_MIN = -0x10000000;
const INT_MAX = 0x0fffffff;
/** Largest length a U29 can carry once the low bit is spent on the inline flag. */
const MAX_INLINE_LENGTH = 0x0fffffff;

interface Traits {
  readonly sealed: readonly string[];
  readonly dynamic: boolean;
}

interface Tables {
  readonly strings: string[];
  readonly objects: RefTable;
  readonly traits: Traits[];
}

/**
 * Decodes one AMF3 value starting at `offset`. Reference tables start empty,
 * as they do each time an AMF0 stream switches to AMF3.
 */
export function decodeAmf3(
  buf: Buffer,
  offset = 0,
  limits: AmfLimits = DEFAULT_AMF_LIMITS,
): { value: AmfValue; offset: number } {
  if (!Number.isInteger(offset) || offset < 0 || offset > buf.length) fail(`offset ${offset} outside buffer`);
  const ctx = createContext(buf, offset, limits);
  const value = readAmf3Value(ctx);
  return { value, offset: ctx.pos };
}

/** @internal Entry point for AMF0's avmplus-object marker (0x11): fresh tables, shared budgets. */
export function readAmf3Value(ctx: DecodeContext): AmfValue {
  return readValue(ctx, { strings: [], objects: new RefTable(), traits: [] });
}

function readU29(ctx: DecodeContext): number {
  const { buf } = ctx;
  let v = 0;
  for (let i = 0; i < 3; i++) {
    need(ctx, 1);
    const b = buf[ctx.pos++]!;
    if (b < 0x80) return (v << 7) | b;
    v = (v << 7) | (b & 0x7f);
  }
  need(ctx, 1);
  // The fourth byte carries 8 payload bits; v < 2^21 here, so no sign trouble.
  return (v << 8) | buf[ctx.pos++]!;
}

function readString(ctx: DecodeContext, t: Tables): string {
  const u = readU29(ctx);
  if ((u & 1) === 0) {
    const index = u >>> 1;
    if (index >= t.strings.length) fail(`string reference ${index} not yet seen`);
    const s = t.strings[index]!;
    charge(ctx, s.length);
    return s;
  }
  const s = readUtf8(ctx, u >>> 1);
  // The spec never enters the empty string in the table, so indices skip it.
  if (s !== '') t.strings.push(s);
  return s;
}

function readDouble(ctx: DecodeContext): number {
  need(ctx, 8);
  const v = ctx.buf.readDoubleBE(ctx.pos);
  ctx.pos += 8;
  return v;
}

function readValue(ctx: DecodeContext, t: Tables): AmfValue {
  need(ctx, 1);
  const marker = ctx.buf[ctx.pos++]!;
  charge(ctx, 1);
  ctx.height = 0;
  switch (marker) {
    case UNDEFINED:
      return undefined;
    case NULL:
      return null;
    case FALSE:
      return false;
    case TRUE:
      return true;
    case INTEGER: {
      const u = readU29(ctx);
      return u & 0x10000000 ? u - 0x20000000 : u;
    }
    case DOUBLE:
      return readDouble(ctx);
    case STRING:
      return readString(ctx, t);
    case XML_DOC:
    case XML: {
      // XML travels as text but lives in the object table, not the string table.
      const u = readU29(ctx);
      if ((u & 1) === 0) return t.objects.resolve(ctx, u >>> 1);
      const s = readUtf8(ctx, u >>> 1);
      t.objects.add(s, 1 + s.length);
      return s;
    }
    case DATE: {
      const u = readU29(ctx);
      if ((u & 1) === 0) return t.objects.resolve(ctx, u >>> 1);
      const d = new Date(readDouble(ctx));
      t.objects.add(d, 1);
      return d;
    }
    case ARRAY:
      return readArray(ctx, t);
    case OBJECT:
      return readObject(ctx, t);
    case BYTE_ARRAY: {
      const u = readU29(ctx);
      if ((u & 1) === 0) return t.objects.resolve(ctx, u >>> 1);
      const len = u >>> 1;
      if (len > ctx.limits.maxStringBytes) fail(`byte array of ${len} bytes exceeds ${ctx.limits.maxStringBytes}`);
      need(ctx, len);
      // Copy so callers never pin (or see reuse of) the socket's chunk buffer.
      const bytes = new Uint8Array(len);
      bytes.set(ctx.buf.subarray(ctx.pos, ctx.pos + len));
      ctx.pos += len;
      charge(ctx, len);
      t.objects.add(bytes, 1 + len);
      return bytes;
    }
    default:
      // Vectors (0x0D-0x10) and Dictionary (0x11) never appear in RTMP commands or metadata.
      return fail(`unsupported AMF3 marker 0x${marker.toString(16).padStart(2, '0')}`);
  }
}

function readArray(ctx: DecodeContext, t: Tables): AmfValue {
  const u = readU29(ctx);
  if ((u & 1) === 0) return t.objects.resolve(ctx, u >>> 1);
  const dense = u >>> 1;
  // Each dense element takes at least one byte, so a huge count in a short buffer fails here.
  checkCount(ctx, dense, 1, 'AMF3 array');
  const start = ctx.weight - 1;
  const index = t.objects.reserve();
  enter(ctx);
  let height = 0;
  let assoc: AmfObject | null = null;
  let items = dense;
  for (;;) {
    const key = readString(ctx, t);
    if (key === '') break;
    if (++items > ctx.limits.maxItems) fail(`AMF3 array exceeds ${ctx.limits.maxItems} entries`);
    const v = readValue(ctx, t);
    if (ctx.height > height) height = ctx.height;
    assoc ??= {};
    setProperty(assoc, key, v);
  }
  let result: AmfValue;
  if (assoc === null) {
    const arr: AmfValue[] = [];
    for (let i = 0; i < dense; i++) {
      arr.push(readValue(ctx, t));
      if (ctx.height > height) height = ctx.height;
    }
    result = arr;
  } else {
    // A mixed array has no faithful JS array form; an object keeps both parts.
    for (let i = 0; i < dense; i++) {
      setProperty(assoc, String(i), readValue(ctx, t));
      if (ctx.height > height) height = ctx.height;
    }
    result = assoc;
  }
  ctx.depth--;
  ctx.height = height + 1;
  t.objects.fill(index, result, ctx.weight - start, ctx.height);
  return result;
}

function readTraits(ctx: DecodeContext, t: Tables, u: number): Traits {
  if ((u & 2) === 0) {
    const index = u >>> 2;
    if (index >= t.traits.length) fail(`traits reference ${index} not yet seen`);
    return t.traits[index]!;
  }
  // Externalizable objects carry a class-specific format we cannot parse or skip.
  if ((u & 4) !== 0) fail('externalizable AMF3 objects are not supported');
  const count = u >>> 4;
  checkCount(ctx, count, 1, 'AMF3 traits');
  readString(ctx, t); // class name: values are decoded as anonymous objects
  const sealed: string[] = [];
  for (let i = 0; i < count; i++) sealed.push(readString(ctx, t));
  const traits: Traits = { sealed, dynamic: (u & 8) !== 0 };
  t.traits.push(traits);
  return traits;
}

function readObject(ctx: DecodeContext, t: Tables): AmfValue {
  const u = readU29(ctx);
  if ((u & 1) === 0) return t.objects.resolve(ctx, u >>> 1);
  const start = ctx.weight - 1;
  const index = t.objects.reserve();
  const traits = readTraits(ctx, t, u);
  enter(ctx);
  let height = 0;
  const obj: AmfObject = {};
  for (const name of traits.sealed) {
    charge(ctx, name.length);
    setProperty(obj, name, readValue(ctx, t));
    if (ctx.height > height) height = ctx.height;
  }
  if (traits.dynamic) {
    let items = traits.sealed.length;
    for (;;) {
      const key = readString(ctx, t);
      if (key === '') break;
      if (++items > ctx.limits.maxItems) fail(`AMF3 object exceeds ${ctx.limits.maxItems} properties`);
      setProperty(obj, key, readValue(ctx, t));
      if (ctx.height > height) height = ctx.height;
    }
  }
  ctx.depth--;
  ctx.height = height + 1;
  t.objects.fill(index, obj, ctx.weight - start, ctx.height);
  return obj;
}

// ---------------------------------------------------------------------------
// Encoding: no reference tables are emitted (the spec makes them optional for writers).

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
