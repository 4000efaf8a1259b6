// What the AMF0 and AMF3 writers share (Adobe AMF 0, 2007; AMF 3, 2013): both size the output
// first and then write it into one allocation. The walk that sizes a value is the same for both
// formats; only what each kind of value costs differs, so each writer hands its costs to measure().
// Internal to server/amf; index.ts exports none of it.
import { type AmfObject, type AmfValue, EcmaArray, fail } from './types.js';

/**
 * The sizing pass's notes for the writing pass: UTF-8 lengths in the order the writer meets the
 * strings (so each string is measured once), and the objects on the current path, so cyclic input
 * is refused instead of recursed into forever.
 */
export class EncodePlan {
  private readonly lengths: number[] = [];
  private next = 0;
  readonly path = new Set<object>();

  measure(s: string): number {
    const n = Buffer.byteLength(s, 'utf8');
    this.lengths.push(n);
    return n;
  }

  /** The next length measure() recorded, in the same order. */
  take(): number {
    return this.lengths[this.next++]!;
  }

  push(obj: object): void {
    if (this.path.has(obj)) fail('cannot encode a cyclic structure');
    this.path.add(obj);
  }

  pop(obj: object): void {
    this.path.delete(obj);
  }
}

/**
 * One format's encoding of each kind of value: its size, and how it is written at `off` (each
 * writer returns the offset after what it wrote). Containers are split into their start (marker
 * and header), member names and end; the walk over their contents is the same for every format.
 */
export interface AmfEncoding {
  /** 'AMF0' or 'AMF3', for the message when a value has no encoding */
  readonly format: string;
  readonly size: {
    number(value: number): number;
    readonly boolean: number;
    readonly undefined: number;
    readonly null: number;
    readonly date: number;
    string(byteLength: number): number;
    bytes(length: number): number;
    /** a dense array's marker and header, without its elements */
    array(length: number): number;
    /** an anonymous object's or ECMA array's start and end, without its members */
    object(isEcmaArray: boolean): number;
    /** a member name (may fail on a name the format cannot carry) */
    key(byteLength: number): number;
  };
  readonly write: {
    number(out: Buffer, off: number, value: number): number;
    boolean(out: Buffer, off: number, value: boolean): number;
    undefined(out: Buffer, off: number): number;
    null(out: Buffer, off: number): number;
    date(out: Buffer, off: number, value: Date): number;
    string(out: Buffer, off: number, value: string, byteLength: number): number;
    bytes(out: Buffer, off: number, value: Uint8Array): number;
    arrayStart(out: Buffer, off: number, length: number): number;
    objectStart(out: Buffer, off: number, isEcmaArray: boolean, members: number): number;
    key(out: Buffer, off: number, key: string, byteLength: number): number;
    objectEnd(out: Buffer, off: number): number;
  };
}

/** Writes a value that is its marker alone (null, undefined, and AMF3's booleans). */
export function writeMarker(out: Buffer, off: number, marker: number): number {
  out[off] = marker;
  return off + 1;
}

/** Bytes `value` takes in `encoding`; records in `plan` what the writing pass needs. */
export function measure(value: AmfValue, plan: EncodePlan, encoding: AmfEncoding): number {
  const sizes = encoding.size;
  switch (typeof value) {
    case 'number':
      return sizes.number(value);
    case 'boolean':
      return sizes.boolean;
    case 'undefined':
      return sizes.undefined;
    case 'string':
      return sizes.string(plan.measure(value));
    case 'object':
      break;
    default:
      return fail(`cannot encode a ${typeof value} as ${encoding.format}`);
  }
  if (value === null) return sizes.null;
  if (value instanceof Date) return sizes.date;
  if (value instanceof Uint8Array) return sizes.bytes(value.length);
  plan.push(value);
  let size: number;
  if (Array.isArray(value)) {
    size = sizes.array(value.length);
    for (const item of value) size += measure(item, plan, encoding);
  } else {
    const obj: AmfObject = value instanceof EcmaArray ? value.entries : value;
    size = sizes.object(value instanceof EcmaArray);
    for (const key of Object.keys(obj)) size += sizes.key(plan.measure(key)) + measure(obj[key], plan, encoding);
  }
  plan.pop(value);
  return size;
}

/** Writes `value` at `off` following the plan measure() made; returns the offset after it. */
function writeValue(value: AmfValue, out: Buffer, off: number, plan: EncodePlan, encoding: AmfEncoding): number {
  const w = encoding.write;
  switch (typeof value) {
    case 'number':
      return w.number(out, off, value);
    case 'boolean':
      return w.boolean(out, off, value);
    case 'undefined':
      return w.undefined(out, off);
    case 'string':
      return w.string(out, off, value, plan.take());
    default:
      break;
  }
  if (value === null) return w.null(out, off);
  if (value instanceof Date) return w.date(out, off, value);
  if (value instanceof Uint8Array) return w.bytes(out, off, value);
  if (Array.isArray(value)) {
    off = w.arrayStart(out, off, value.length);
    for (const item of value) off = writeValue(item, out, off, plan, encoding);
    return off;
  }
  const obj: AmfObject = value instanceof EcmaArray ? value.entries : value;
  const keys = Object.keys(obj);
  off = w.objectStart(out, off, value instanceof EcmaArray, keys.length);
  for (const key of keys) {
    off = w.key(out, off, key, plan.take());
    off = writeValue(obj[key], out, off, plan, encoding);
  }
  return w.objectEnd(out, off);
}

/** Encodes values back to back into one exactly sized buffer. */
export function encodeValues(values: readonly AmfValue[], encoding: AmfEncoding): Buffer {
  const plan = new EncodePlan();
  let size = 0;
  for (const v of values) size += measure(v, plan, encoding);
  const out = Buffer.allocUnsafe(size);
  let off = 0;
  for (const v of values) off = writeValue(v, out, off, plan, encoding);
  if (off !== size) fail(`${encoding.format} encoder size mismatch (${off} != ${size})`);
  return out;
}
