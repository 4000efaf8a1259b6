// Shared value model and decoder bookkeeping for the Adobe AMF 0 (2007) and AMF 3 (2013) specifications.
import { ProtocolError } from '../errors.js';

/**
 * What an AMF payload decodes to. AMF3 byte arrays surface as Uint8Array so
 * binary blobs are not mistaken for arrays of numbers; any Buffer is accepted
 * when encoding because Buffer is a Uint8Array.
 */
export type AmfValue =
  | number
  | boolean
  | string
  | null
  | undefined
  | Date
  | Uint8Array
  | AmfValue[]
  | AmfObject
  | EcmaArray;

export interface AmfObject {
  [key: string]: AmfValue;
}

/**
 * Marks an object that must be encoded as an AMF0 ECMA array (0x08) rather
 * than an anonymous object, because FLV onMetaData readers expect that type.
 * Decoders never produce it: ECMA arrays come back as plain AmfObjects.
 */
export class EcmaArray {
  constructor(readonly entries: AmfObject) {}
}

export interface AmfLimits {
  /** Containers (objects/arrays) nested inside each other, references included. */
  maxDepth: number;
  /** Bytes in one string, XML document or byte array. */
  maxStringBytes: number;
  /** Entries (properties or elements) in one container. */
  maxItems: number;
  /**
   * Upper bound on what one decode call may hand back, counted as one per
   * value plus string lengths, with a reference costing the full size of its
   * target. Without it a few hundred bytes of doubling references would make
   * anyone who walks or re-encodes the result do exponential work.
   * Defaults to 16 MiB: a reference-free message never weighs more than its
   * byte length, and an RTMP message is at most 16 MiB.
   */
  maxOutputSize?: number;
}

export const DEFAULT_AMF_LIMITS: AmfLimits = Object.freeze({
  maxDepth: 32,
  maxStringBytes: 1024 * 1024,
  maxItems: 65536,
  maxOutputSize: 16 * 1024 * 1024,
});

// ---------------------------------------------------------------------------
// Internal helpers shared by amf0.ts and amf3.ts; not re-exported by index.ts.

/** @internal Cursor plus the budgets that keep hostile input bounded. */
export interface DecodeContext {
  readonly buf: Buffer;
  pos: number;
  readonly limits: AmfLimits;
  readonly maxOutputSize: number;
  /** Containers currently open around the value being read. */
  depth: number;
  /** Output size spent so far (see AmfLimits.maxOutputSize). */
  weight: number;
  /** Nesting height of the value most recently read (0 for scalars). */
  height: number;
}

/** @internal */
export function createContext(buf: Buffer, pos: number, limits: AmfLimits): DecodeContext {
  return {
    buf,
    pos,
    limits,
    maxOutputSize: limits.maxOutputSize ?? 16 * 1024 * 1024,
    depth: 0,
    weight: 0,
    height: 0,
  };
}

/** @internal */
export function fail(message: string): never {
  throw new ProtocolError('amf', message);
}

/** @internal */
export function remaining(ctx: DecodeContext): number {
  return ctx.buf.length - ctx.pos;
}

/** @internal Checked before every read so Buffer never gets to throw RangeError. */
export function need(ctx: DecodeContext, n: number): void {
  if (n > ctx.buf.length - ctx.pos) {
    fail(`truncated: need ${n} bytes at offset ${ctx.pos}, have ${ctx.buf.length - ctx.pos}`);
  }
}

/** @internal */
export function charge(ctx: DecodeContext, amount: number): void {
  ctx.weight += amount;
  if (ctx.weight > ctx.maxOutputSize) fail(`decoded output exceeds ${ctx.maxOutputSize}`);
}

/** @internal Recursion guard; the limit is tiny so the JS stack is never at risk. */
export function enter(ctx: DecodeContext): void {
  if (++ctx.depth > ctx.limits.maxDepth) fail(`nesting deeper than ${ctx.limits.maxDepth}`);
}

/** @internal Validates a count read from the wire before anything is sized by it. */
export function checkCount(ctx: DecodeContext, count: number, minBytesEach: number, what: string): void {
  if (count > ctx.limits.maxItems) fail(`${what} announces ${count} entries (limit ${ctx.limits.maxItems})`);
  if (count * minBytesEach > remaining(ctx)) fail(`${what} announces ${count} entries but only ${remaining(ctx)} bytes remain`);
}

/** @internal */
export function readUtf8(ctx: DecodeContext, byteLength: number): string {
  if (byteLength === 0) return '';
  if (byteLength > ctx.limits.maxStringBytes) {
    fail(`string of ${byteLength} bytes exceeds ${ctx.limits.maxStringBytes}`);
  }
  need(ctx, byteLength);
  // Invalid UTF-8 becomes U+FFFD rather than an error: it is the peer's text, not our framing.
  const s = ctx.buf.toString('utf8', ctx.pos, ctx.pos + byteLength);
  ctx.pos += byteLength;
  charge(ctx, s.length);
  return s;
}

/**
 * @internal Plain assignment of "__proto__" would swap the object's prototype
 * (prototype pollution of that object); defining it keeps it an ordinary own key.
 */
export function setProperty(obj: AmfObject, key: string, value: AmfValue): void {
  if (key === '__proto__') {
    Object.defineProperty(obj, key, { value, writable: true, enumerable: true, configurable: true });
  } else {
    obj[key] = value;
  }
}

/**
 * @internal Complex-object reference table (AMF0 and AMF3 object tables).
 * Entries are reserved before their children are read, because encoders
 * number objects in the order they start writing them.
 */
export class RefTable {
  private readonly values: AmfValue[] = [];
  /** -1 while the entry is still being decoded. */
  private readonly weights: number[] = [];
  private readonly heights: number[] = [];

  reserve(): number {
    this.values.push(undefined);
    this.weights.push(-1);
    this.heights.push(0);
    return this.values.length - 1;
  }

  fill(index: number, value: AmfValue, weight: number, height: number): void {
    this.values[index] = value;
    this.weights[index] = weight;
    this.heights[index] = height;
  }

  add(value: AmfValue, weight: number): void {
    this.fill(this.reserve(), value, weight, 0);
  }

  resolve(ctx: DecodeContext, index: number): AmfValue {
    if (index >= this.values.length) fail(`reference ${index} to an object not yet seen`);
    const weight = this.weights[index]!;
    // A cycle would hand callers a graph that loops forever when walked or re-encoded.
    if (weight < 0) fail(`reference ${index} points to an enclosing object (cycle)`);
    const height = this.heights[index]!;
    if (ctx.depth + height > ctx.limits.maxDepth) fail(`reference ${index} nests deeper than ${ctx.limits.maxDepth}`);
    charge(ctx, weight);
    ctx.height = height;
    return this.values[index];
  }
}

/**
 * @internal Encoders size the output first and then write it into one
 * allocation; the plan remembers UTF-8 lengths so each string is measured once.
 */
export class EncodePlan {
  private readonly lengths: number[] = [];
  private next = 0;
  /** Objects on the current path, to refuse cyclic input instead of recursing forever. */
  readonly path = new Set<object>();

  measure(s: string): number {
    const n = Buffer.byteLength(s, 'utf8');
    this.lengths.push(n);
    return n;
  }

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
