// The decode cursor both AMF readers share (Adobe AMF 0, 2007; AMF 3, 2013): bounds-checked
// big-endian reads, the budgets that keep hostile input bounded, and the bookkeeping of a container
// (object or array) while its children are read. Internal to server/amf; index.ts exports none of it.
import { type AmfLimits, type AmfObject, type AmfValue, fail } from './types.js';

/** Cursor plus the budgets that keep hostile input bounded. */
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

export function remaining(ctx: DecodeContext): number {
  return ctx.buf.length - ctx.pos;
}

/** Checked before every read so Buffer never gets to throw RangeError. */
export function need(ctx: DecodeContext, n: number): void {
  if (n > ctx.buf.length - ctx.pos) {
    fail(`truncated: need ${n} bytes at offset ${ctx.pos}, have ${ctx.buf.length - ctx.pos}`);
  }
}

/** Claims the next `n` bytes (or fails if they are not there) and returns where they start. */
export function advance(ctx: DecodeContext, n: number): number {
  need(ctx, n);
  const at = ctx.pos;
  ctx.pos += n;
  return at;
}

export function readU8(ctx: DecodeContext): number {
  return ctx.buf[advance(ctx, 1)]!;
}

export function readU16(ctx: DecodeContext): number {
  return ctx.buf.readUInt16BE(advance(ctx, 2));
}

export function readU32(ctx: DecodeContext): number {
  return ctx.buf.readUInt32BE(advance(ctx, 4));
}

export function readDouble(ctx: DecodeContext): number {
  return ctx.buf.readDoubleBE(advance(ctx, 8));
}

export function charge(ctx: DecodeContext, amount: number): void {
  ctx.weight += amount;
  if (ctx.weight > ctx.maxOutputSize) fail(`decoded output exceeds ${ctx.maxOutputSize}`);
}

/** Starts a value: reads its type marker, which costs one unit of output, and resets the height. */
export function readMarker(ctx: DecodeContext): number {
  const marker = readU8(ctx);
  charge(ctx, 1);
  ctx.height = 0;
  return marker;
}

/** Validates a count read from the wire before anything is sized by it. */
export function checkCount(ctx: DecodeContext, count: number, minBytesEach: number, what: string): void {
  if (count > ctx.limits.maxItems) fail(`${what} announces ${count} entries (limit ${ctx.limits.maxItems})`);
  if (count * minBytesEach > remaining(ctx)) fail(`${what} announces ${count} entries but only ${remaining(ctx)} bytes remain`);
}

export function readUtf8(ctx: DecodeContext, byteLength: number): string {
  if (byteLength === 0) return '';
  if (byteLength > ctx.limits.maxStringBytes) {
    fail(`string of ${byteLength} bytes exceeds ${ctx.limits.maxStringBytes}`);
  }
  const at = advance(ctx, byteLength);
  // Invalid UTF-8 becomes U+FFFD rather than an error: it is the peer's text, not our framing.
  const s = ctx.buf.toString('utf8', at, at + byteLength);
  charge(ctx, s.length);
  return s;
}

/**
 * Plain assignment of "__proto__" would swap the object's prototype
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
 * Complex-object reference table (AMF0 and AMF3 object tables).
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
 * A container while its children are read, opened right after its marker: it holds its slot in
 * the reference table (so a reference to it from inside is a cycle), counts one level of depth,
 * and on close records what a later reference to it costs: its whole weight, marker included, and
 * its height (one more than its tallest child), which bounds the depth a reference can add.
 */
export class OpenContainer {
  readonly #ctx: DecodeContext;
  readonly #refs: RefTable;
  readonly #index: number;
  readonly #start: number;
  #height = 0;

  constructor(ctx: DecodeContext, refs: RefTable) {
    this.#ctx = ctx;
    this.#refs = refs;
    // The marker was charged already.
    this.#start = ctx.weight - 1;
    this.#index = refs.reserve();
    // Recursion guard; the limit is tiny so the JS stack is never at risk.
    if (++ctx.depth > ctx.limits.maxDepth) fail(`nesting deeper than ${ctx.limits.maxDepth}`);
  }

  /** Passes through a child value just read, noting its height. */
  child<T extends AmfValue>(value: T): T {
    if (this.#ctx.height > this.#height) this.#height = this.#ctx.height;
    return value;
  }

  /** Ends the container as `value`, now resolvable by reference. */
  close<T extends AmfValue>(value: T): T {
    const ctx = this.#ctx;
    ctx.depth--;
    ctx.height = this.#height + 1;
    this.#refs.fill(this.#index, value, ctx.weight - this.#start, ctx.height);
    return value;
  }
}
