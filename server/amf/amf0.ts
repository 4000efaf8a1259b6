// Implements the Adobe Action Message Format AMF 0 specification (December 2007), including the 0x11 switch to AMF 3.
import { readAmf3Value } from './amf3.js';
import { inlineHeaderSize, writeU29 } from './amf3-writer.js';
import { type AmfLimits, type AmfObject, type AmfValue, DEFAULT_AMF_LIMITS, fail } from './types.js';
import {
  type DecodeContext,
  OpenContainer,
  RefTable,
  advance,
  checkCount,
  createContext,
  readDouble,
  readMarker,
  readU16,
  readU32,
  readU8,
  readUtf8,
  setProperty,
} from './reader.js';
import { type AmfEncoding, encodeValues, writeMarker } from './writer.js';

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

function readValue(ctx: DecodeContext, refs: RefTable): AmfValue {
  const marker = readMarker(ctx);
  switch (marker) {
    case NUMBER:
      return readDouble(ctx);
    case BOOLEAN:
      return readU8(ctx) !== 0;
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
      advance(ctx, readU16(ctx));
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
      advance(ctx, 2); // time zone: the spec says to ignore it
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
  const container = new OpenContainer(ctx, refs);
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
    setProperty(obj, key, container.child(readValue(ctx, refs)));
  }
  return container.close(obj);
}

function readStrictArray(ctx: DecodeContext, refs: RefTable): AmfValue[] {
  const count = readU32(ctx);
  checkCount(ctx, count, 1, 'AMF0 strict array');
  const container = new OpenContainer(ctx, refs);
  const arr: AmfValue[] = [];
  for (let i = 0; i < count; i++) arr.push(container.child(readValue(ctx, refs)));
  return container.close(arr);
}

// ---------------------------------------------------------------------------
// Encoding: sized first, then written into a single allocation (writer.ts walks the values).

const OBJECT_TERMINATOR_SIZE = 3; // 00 00 09

const AMF0_ENCODING: AmfEncoding = {
  format: 'AMF0',
  size: {
    number: () => 9,
    boolean: 2,
    undefined: 1,
    null: 1,
    date: 11,
    string(n) {
      if (n > 0xffffffff) fail(`string of ${n} bytes is too long for AMF0`);
      return (n <= 0xffff ? 3 : 5) + n;
    },
    // AMF0 has no binary type; the AMF3 byte array behind an avmplus marker is the standard carrier.
    bytes: (length) => 2 + inlineHeaderSize(length) + length,
    array: () => 5,
    object: (isEcmaArray) => (isEcmaArray ? 5 : 1) + OBJECT_TERMINATOR_SIZE, // marker [+ U32 count]
    key(n) {
      if (n > 0xffff) fail(`AMF0 property name of ${n} bytes does not fit a U16 length`);
      return 2 + n;
    },
  },
  write: {
    number(out, off, value) {
      out[off] = NUMBER;
      return out.writeDoubleBE(value, off + 1);
    },
    boolean(out, off, value) {
      out[off] = BOOLEAN;
      out[off + 1] = value ? 1 : 0;
      return off + 2;
    },
    undefined: (out, off) => writeMarker(out, off, UNDEFINED),
    null: (out, off) => writeMarker(out, off, NULL),
    date(out, off, value) {
      out[off] = DATE;
      off = out.writeDoubleBE(value.getTime(), off + 1);
      return out.writeInt16BE(0, off);
    },
    string(out, off, value, n) {
      if (n <= 0xffff) {
        out[off] = STRING;
        off = out.writeUInt16BE(n, off + 1);
      } else {
        out[off] = LONG_STRING;
        off = out.writeUInt32BE(n, off + 1);
      }
      return off + out.write(value, off, n, 'utf8');
    },
    bytes(out, off, value) {
      out[off++] = AVMPLUS;
      out[off++] = AMF3_BYTE_ARRAY;
      off = writeU29(out, off, value.length * 2 + 1);
      out.set(value, off);
      return off + value.length;
    },
    arrayStart(out, off, length) {
      out[off] = STRICT_ARRAY;
      return out.writeUInt32BE(length, off + 1);
    },
    objectStart(out, off, isEcmaArray, members) {
      if (!isEcmaArray) {
        out[off] = OBJECT;
        return off + 1;
      }
      out[off] = ECMA_ARRAY;
      return out.writeUInt32BE(members, off + 1);
    },
    key(out, off, key, n) {
      off = out.writeUInt16BE(n, off);
      return off + out.write(key, off, n, 'utf8');
    },
    objectEnd(out, off) {
      out[off++] = 0x00;
      out[off++] = 0x00;
      out[off++] = OBJECT_END;
      return off;
    },
  },
};

/** Encodes values back to back as AMF0, e.g. the name, transaction id and arguments of a command. */
export function encodeAmf0(values: readonly AmfValue[]): Buffer {
  return encodeValues(values, AMF0_ENCODING);
}
