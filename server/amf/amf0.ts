// Implements the Adobe Action Message Format AMF 0 specification (December 2007), including the 0x11 switch to AMF 3.
import { readAmf3Value } from './amf3.js';
import { inlineHeaderSize, writeU29 } from './amf3-writer.js';
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

const NUMBER = 0x00;
const BOOLEAN = 0x01;
const STRING = 0x02;
const OBJECT = 0x03;
const NULL = 0x05;
const UNDEFINED = 0x06;
const REFERENCE = 0x07;
const ECMA_ARRAY = 0x08;
const OBJECT_END = 0x09;
const STRICT_ARRAY = 0x0a;
const DATE = 0x0b;
const LONG_STRING = 0x0c;
const XML_DOCUMENT = 0x0f;
const TYPED_OBJECT = 0x10;
const AVMPLUS = 0x11;

const AMF3_BYTE_ARRAY = 0x0c;

/** Decodes AMF0 values until the buffer is consumed (an RTMP command or data message body). */
export function decodeAmf0(buf: Buffer, limits: AmfLimits = DEFAULT_AMF_LIMITS): AmfValue[] {
  return decodeSequence(buf, 0, limits);
}

/**
 * Decodes the body of an RTMP AMF3 command (type 17) or data (type 15)
 * message: a format byte, then AMF0 values that may switch to AMF3 via 0x11.
 * A body whose first byte is not 0x00 is decoded from its first byte, since
 * some encoders omit the format byte and a command never starts with a number.
 */
export function decodeAmf3CommandPayload(buf: Buffer, limits: AmfLimits = DEFAULT_AMF_LIMITS): AmfValue[] {
  if (buf.length === 0) fail('empty AMF3 command payload');
  return decodeSequence(buf, buf[0] === 0x00 ? 1 : 0, limits);
}

function decodeSequence(buf: Buffer, start: number, limits: AmfLimits): AmfValue[] {
  const ctx = createContext(buf, start, limits);
  // One table for the whole body: references may point into earlier values of the same message.
  const refs = new RefTable();
  const values: AmfValue[] = [];
  while (ctx.pos < buf.length) values.push(readValue(ctx, refs));
  return values;
}

function readU16(ctx: DecodeContext): number {
  need(ctx, 2);
  const v = ctx.buf.readUInt16BE(ctx.pos);
  ctx.pos += 2;
  return v;
}

function readU32(ctx: DecodeContext): number {
  need(ctx, 4);
  const v = ctx.buf.readUInt32BE(ctx.pos);
  ctx.pos += 4;
  return v;
}

function readDouble(ctx: DecodeContext): number {
  need(ctx, 8);
  const v = ctx.buf.readDoubleBE(ctx.pos);
  ctx.pos += 8;
  return v;
}

function readValue(ctx: DecodeContext, refs: RefTable): AmfValue {
  need(ctx, 1);
  const marker = ctx.buf[ctx.pos++]!;
  charge(ctx, 1);
  ctx.height = 0;
  switch (marker) {
    case NUMBER:
      return readDouble(ctx);
    case BOOLEAN:
      need(ctx, 1);
      return ctx.buf[ctx.pos++] !== 0;
    case STRING:
      return readUtf8(ctx, readU16(ctx));
    case LONG_STRING:
    case XML_DOCUMENT:
      return readUtf8(ctx, readU32(ctx));
    case NULL:
      return null;
    case UNDEFINED:
      return undefined;
    case REFERENCE:
      return refs.resolve(ctx, readU16(ctx));
    case OBJECT:
      return readProperties(ctx, refs, false);
    case TYPED_OBJECT: {
      // The class name only matters to a Flash runtime; we hand back the properties.
      const nameLength = readU16(ctx);
      need(ctx, nameLength);
      ctx.pos += nameLength;
      return readProperties(ctx, refs, false);
    }
    case ECMA_ARRAY:
      // The announced count is advisory (encoders get it wrong); the end marker is authoritative.
      readU32(ctx);
      return readProperties(ctx, refs, true);
    case STRICT_ARRAY:
      return readStrictArray(ctx, refs);
    case DATE: {
      const ms = readDouble(ctx);
      need(ctx, 2); // time zone: the spec says to ignore it
      ctx.pos += 2;
      return new Date(ms);
    }
    case AVMPLUS:
      return readAmf3Value(ctx);
    case OBJECT_END:
      return fail(`object-end marker outside an object at offset ${ctx.pos - 1}`);
    default:
      // movieclip (0x04), unsupported (0x0D), recordset (0x0E) and anything unassigned.
      return fail(`unsupported AMF0 marker 0x${marker.toString(16).padStart(2, '0')}`);
  }
}

function readProperties(ctx: DecodeContext, refs: RefTable, isEcmaArray: boolean): AmfObject {
  const { buf } = ctx;
  const start = ctx.weight - 1;
  const index = refs.reserve();
  enter(ctx);
  let height = 0;
  let items = 0;
  const obj: AmfObject = {};
  for (;;) {
    // Some encoders end an ECMA array (typically onMetaData) at the buffer end without 00 00 09.
    if (isEcmaArray && ctx.pos === buf.length) break;
    const keyLength = readU16(ctx);
    if (keyLength === 0) {
      if (ctx.pos < buf.length && buf[ctx.pos] === OBJECT_END) {
        ctx.pos++;
        break;
      }
      if (isEcmaArray && ctx.pos === buf.length) break;
      // Otherwise an empty key followed by a value: legal, if unusual.
    }
    const key = readUtf8(ctx, keyLength);
    if (++items > ctx.limits.maxItems) fail(`AMF0 object exceeds ${ctx.limits.maxItems} properties`);
    setProperty(obj, key, readValue(ctx, refs));
    if (ctx.height > height) height = ctx.height;
  }
  ctx.depth--;
  ctx.height = height + 1;
  refs.fill(index, obj, ctx.weight - start, ctx.height);
  return obj;
}

function readStrictArray(ctx: DecodeContext, refs: RefTable): AmfValue[] {
  const count = readU32(ctx);
  checkCount(ctx, count, 1, 'AMF0 strict array');
  const start = ctx.weight - 1;
  const index = refs.reserve();
  enter(ctx);
  let height = 0;
  const arr: AmfValue[] = [];
  for (let i = 0; i < count; i++) {
    arr.push(readValue(ctx, refs));
    if (ctx.height > height) height = ctx.height;
  }
  ctx.depth--;
  ctx.height = height + 1;
  refs.fill(index, arr, ctx.weight - start, ctx.height);
  return arr;
}

// ---------------------------------------------------------------------------
// Encoding: sized first, then written into a single allocation.

function keySize(key: string, plan: EncodePlan): number {
  const n = plan.measure(key);
  if (n > 0xffff) fail(`AMF0 property name of ${n} bytes does not fit a U16 length`);
  return 2 + n;
}

function sizeOf(value: AmfValue, plan: EncodePlan): number {
  switch (typeof value) {
    case 'number':
      return 9;
    case 'boolean':
      return 2;
    case 'undefined':
      return 1;
    case 'string': {
      const n = plan.measure(value);
      if (n > 0xffffffff) fail(`string of ${n} bytes is too long for AMF0`);
      return (n <= 0xffff ? 3 : 5) + n;
    }
    case 'object':
      break;
    default:
      return fail(`cannot encode a ${typeof value} as AMF0`);
  }
  if (value === null) return 1;
  if (value instanceof Date) return 11;
  // AMF0 has no binary type; the AMF3 byte array behind an avmplus marker is the standard carrier.
  if (value instanceof Uint8Array) return 2 + inlineHeaderSize(value.length) + value.length;
  plan.push(value);
  let size: number;
  if (Array.isArray(value)) {
    size = 5;
    for (const item of value) size += sizeOf(item, plan);
  } else {
    const obj = value instanceof EcmaArray ? value.entries : value;
    size = value instanceof EcmaArray ? 8 : 4; // marker [+ U32 count] + 00 00 09
    for (const key of Object.keys(obj)) size += keySize(key, plan) + sizeOf(obj[key], plan);
  }
  plan.pop(value);
  return size;
}

function writeProperties(obj: AmfObject, keys: readonly string[], out: Buffer, off: number, plan: EncodePlan): number {
  for (const key of keys) {
    const n = plan.take();
    off = out.writeUInt16BE(n, off);
    off += out.write(key, off, n, 'utf8');
    off = write(obj[key], out, off, plan);
  }
  out[off++] = 0x00;
  out[off++] = 0x00;
  out[off++] = OBJECT_END;
  return off;
}

function write(value: AmfValue, out: Buffer, off: number, plan: EncodePlan): number {
  switch (typeof value) {
    case 'number':
      out[off] = NUMBER;
      return out.writeDoubleBE(value, off + 1);
    case 'boolean':
      out[off] = BOOLEAN;
      out[off + 1] = value ? 1 : 0;
      return off + 2;
    case 'undefined':
      out[off] = UNDEFINED;
      return off + 1;
    case 'string': {
      const n = plan.take();
      if (n <= 0xffff) {
        out[off] = STRING;
        off = out.writeUInt16BE(n, off + 1);
      } else {
        out[off] = LONG_STRING;
        off = out.writeUInt32BE(n, off + 1);
      }
      return off + out.write(value, off, n, 'utf8');
    }
    default:
      break;
  }
  if (value === null) {
    out[off] = NULL;
    return off + 1;
  }
  if (value instanceof Date) {
    out[off] = DATE;
    off = out.writeDoubleBE(value.getTime(), off + 1);
    return out.writeInt16BE(0, off);
  }
  if (value instanceof Uint8Array) {
    out[off++] = AVMPLUS;
    out[off++] = AMF3_BYTE_ARRAY;
    off = writeU29(out, off, value.length * 2 + 1);
    out.set(value, off);
    return off + value.length;
  }
  if (Array.isArray(value)) {
    out[off] = STRICT_ARRAY;
    off = out.writeUInt32BE(value.length, off + 1);
    for (const item of value) off = write(item, out, off, plan);
    return off;
  }
  if (value instanceof EcmaArray) {
    const keys = Object.keys(value.entries);
    out[off] = ECMA_ARRAY;
    off = out.writeUInt32BE(keys.length, off + 1);
    return writeProperties(value.entries, keys, out, off, plan);
  }
  out[off] = OBJECT;
  return writeProperties(value, Object.keys(value), out, off + 1, plan);
}

/** Encodes values back to back as AMF0, e.g. the name, transaction id and arguments of a command. */
export function encodeAmf0(values: readonly AmfValue[]): Buffer {
  const plan = new EncodePlan();
  let size = 0;
  for (const v of values) size += sizeOf(v, plan);
  const out = Buffer.allocUnsafe(size);
  let off = 0;
  for (const v of values) off = write(v, out, off, plan);
  if (off !== size) fail(`AMF0 encoder size mismatch (${off} != ${size})`);
  return out;
}
