// Implements the Adobe AMF 3 Specification (January 2013): the value types RTMP peers actually send.
// This file reads, with the reference tables a reader must keep; amf3-writer.ts writes.
import { type AmfLimits, type AmfObject, type AmfValue, DEFAULT_AMF_LIMITS, fail } from './types.js';
import {
  type DecodeContext,
  OpenContainer,
  RefTable,
  advance,
  charge,
  checkCount,
  createContext,
  readDouble,
  readMarker,
  readU8,
  readUtf8,
  setProperty,
} from './reader.js';
import {
  ARRAY, BYTE_ARRAY, DATE, DOUBLE, FALSE, INTEGER, NULL, OBJECT, STRING, TRUE, UNDEFINED, XML, XML_DOC,
} from './amf3-markers.js';

export { encodeAmf3 } from './amf3-writer.js';

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
  let v = 0;
  for (let i = 0; i < 3; i++) {
    const b = readU8(ctx);
    if (b < 0x80) return (v << 7) | b;
    v = (v << 7) | (b & 0x7f);
  }
  // The fourth byte carries 8 payload bits; v < 2^21 here, so no sign trouble.
  return (v << 8) | readU8(ctx);
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

function readValue(ctx: DecodeContext, t: Tables): AmfValue {
  const marker = readMarker(ctx);
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
      const at = advance(ctx, len);
      // Copy so callers never pin (or see reuse of) the socket's chunk buffer.
      const bytes = new Uint8Array(len);
      bytes.set(ctx.buf.subarray(at, at + len));
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
  const container = new OpenContainer(ctx, t.objects);
  let assoc: AmfObject | null = null;
  let items = dense;
  for (;;) {
    const key = readString(ctx, t);
    if (key === '') break;
    if (++items > ctx.limits.maxItems) fail(`AMF3 array exceeds ${ctx.limits.maxItems} entries`);
    const v = container.child(readValue(ctx, t));
    assoc ??= {};
    setProperty(assoc, key, v);
  }
  let result: AmfValue;
  if (assoc === null) {
    const arr: AmfValue[] = [];
    for (let i = 0; i < dense; i++) arr.push(container.child(readValue(ctx, t)));
    result = arr;
  } else {
    // A mixed array has no faithful JS array form; an object keeps both parts.
    for (let i = 0; i < dense; i++) setProperty(assoc, String(i), container.child(readValue(ctx, t)));
    result = assoc;
  }
  return container.close(result);
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
  const container = new OpenContainer(ctx, t.objects);
  const traits = readTraits(ctx, t, u);
  const obj: AmfObject = {};
  for (const name of traits.sealed) {
    charge(ctx, name.length);
    setProperty(obj, name, container.child(readValue(ctx, t)));
  }
  if (traits.dynamic) {
    let items = traits.sealed.length;
    for (;;) {
      const key = readString(ctx, t);
      if (key === '') break;
      if (++items > ctx.limits.maxItems) fail(`AMF3 object exceeds ${ctx.limits.maxItems} properties`);
      setProperty(obj, key, container.child(readValue(ctx, t)));
    }
  }
  return container.close(obj);
}
