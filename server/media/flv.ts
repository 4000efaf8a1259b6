// FLV file format, Adobe "Video File Format Specification v10.1" Annex E.2 (FLV header), E.3 (body,
// PreviousTagSize) and E.4.1 (FLVTAG header).
import { ProtocolError } from '../errors.js';

export const TAG_AUDIO = 8;
export const TAG_VIDEO = 9;
export const TAG_SCRIPT = 18;

/** FLV header (9 bytes) and the PreviousTagSize0 that always follows it. */
export const FLV_HEADER_BYTES = 13;
export const TAG_HEADER_BYTES = 11;
/** Trailing PreviousTagSize after every tag. */
export const TAG_TRAILER_BYTES = 4;
/** DataSize is a UI24 (E.4.1). */
export const MAX_TAG_PAYLOAD = 0xffffff;

export function flvFileHeader(hasAudio: boolean, hasVideo: boolean): Buffer {
  const b = Buffer.alloc(FLV_HEADER_BYTES);
  b.write('FLV', 0, 'latin1');
  b[3] = 1;
  // TypeFlagsAudio is bit 2, TypeFlagsVideo bit 0; the others are reserved zeros.
  b[4] = (hasAudio ? 0x04 : 0) | (hasVideo ? 0x01 : 0);
  b.writeUInt32BE(9, 5);
  // PreviousTagSize0 stays 0 from Buffer.alloc.
  return b;
}

/**
 * Timestamps wrap modulo 2^32 like RTMP's, so a long-running stream keeps producing valid tags;
 * the low 24 bits go first and TimestampExtended carries bits 31..24 (E.4.1).
 */
export function writeTagTimestamp(tag: Buffer, timestampMs: number): void {
  if (tag.length < TAG_HEADER_BYTES) throw new ProtocolError('flv', 'not an FLV tag');
  const ts = Math.trunc(timestampMs) >>> 0;
  tag.writeUIntBE(ts & 0xffffff, 4, 3);
  tag[7] = ts >>> 24;
}

/** One allocation per tag: a tag is built once and then shared by every viewer. */
export function serializeFlvTag(type: number, timestampMs: number, payload: Buffer): Buffer {
  if (!Number.isInteger(type) || type < 0 || type > 0x1f) {
    throw new ProtocolError('flv', `invalid FLV tag type ${type}`);
  }
  const size = payload.length;
  if (size > MAX_TAG_PAYLOAD) throw new ProtocolError('flv', `FLV tag payload of ${size} bytes exceeds 2^24-1`);
  const tag = Buffer.allocUnsafe(TAG_HEADER_BYTES + size + TAG_TRAILER_BYTES);
  tag[0] = type;
  tag.writeUIntBE(size, 1, 3);
  writeTagTimestamp(tag, timestampMs);
  tag.writeUIntBE(0, 8, 3); // StreamID is always 0
  payload.copy(tag, TAG_HEADER_BYTES);
  tag.writeUInt32BE(TAG_HEADER_BYTES + size, TAG_HEADER_BYTES + size);
  return tag;
}

/** Reads the timestamp (including TimestampExtended) of a serialized tag. */
export function readTagTimestamp(tag: Buffer): number {
  if (tag.length < TAG_HEADER_BYTES) throw new ProtocolError('flv', 'not an FLV tag');
  return ((tag[7]! << 24) | tag.readUIntBE(4, 3)) >>> 0;
}

export interface FlvTag {
  type: number;
  timestamp: number;
  payload: Buffer;
}

export interface FlvDemuxerOptions {
  /** Largest tag payload accepted; DataSize is attacker-controlled, so it bounds buffering. */
  maxTagBytes?: number;
  /** Accept a stream that starts directly with tags (e.g. an HTTP-FLV response joined mid-stream). */
  headerless?: boolean;
}

const DEFAULT_MAX_TAG_BYTES = 16 * 1024 * 1024;
/** v1 files use DataOffset 9; a few bytes of slack tolerates future headers without trusting huge values. */
const MAX_DATA_OFFSET = 1024;

/**
 * Streaming FLV demuxer for tests, recordings and benchmark probes: push bytes in any split, get tags
 * out. Payloads may be views into pushed chunks; callers that keep them must not mutate the chunks.
 * After the first ProtocolError the demuxer stays failed, since there is no resync marker in FLV.
 */
export class FlvDemuxer {
  // A queue with a moving head: Array#shift is O(length), which turns 1-byte pushes quadratic.
  private chunks: Buffer[] = [];
  private head = 0;
  private buffered = 0;
  private hdr: { hasAudio: boolean; hasVideo: boolean } | null = null;
  private failure: ProtocolError | null = null;
  private readonly maxTagBytes: number;
  private headerDone: boolean;
  private expectPrevSize0: boolean;

  constructor(options: FlvDemuxerOptions = {}) {
    this.maxTagBytes = Math.min(options.maxTagBytes ?? DEFAULT_MAX_TAG_BYTES, MAX_TAG_PAYLOAD);
    this.headerDone = options.headerless === true;
    this.expectPrevSize0 = false;
  }

  get header(): { hasAudio: boolean; hasVideo: boolean } | null {
    return this.hdr;
  }

  /** Bytes received but not yet part of a complete tag (non-zero at EOF means a truncated file). */
  get pendingBytes(): number {
    return this.buffered;
  }

  push(chunk: Buffer): FlvTag[] {
    if (this.failure) throw this.failure;
    if (chunk.length > 0) {
      this.chunks.push(chunk);
      this.buffered += chunk.length;
    }
    const out: FlvTag[] = [];
    try {
      this.drain(out);
    } catch (err) {
      if (err instanceof ProtocolError) this.failure = err;
      throw err;
    }
    return out;
  }

  private drain(out: FlvTag[]): void {
    for (;;) {
      if (!this.headerDone) {
        if (!this.readHeader()) return;
        continue;
      }
      if (this.expectPrevSize0) {
        if (this.buffered < 4) return;
        if (this.take(4).readUInt32BE(0) !== 0) throw new ProtocolError('flv', 'PreviousTagSize0 is not 0');
        this.expectPrevSize0 = false;
        continue;
      }
      if (this.buffered < TAG_HEADER_BYTES) return;
      const head = this.peek(TAG_HEADER_BYTES);
      // Bits 7..6 are reserved and bit 5 is the encryption Filter flag (E.4.1), which we cannot undo.
      if ((head[0]! & 0xc0) !== 0) throw new ProtocolError('flv', 'reserved bits set in FLV tag header');
      if ((head[0]! & 0x20) !== 0) throw new ProtocolError('flv', 'encrypted (Filter=1) FLV tags are not supported');
      const size = head.readUIntBE(1, 3);
      if (size > this.maxTagBytes) {
        throw new ProtocolError('flv', `FLV tag of ${size} bytes exceeds limit ${this.maxTagBytes}`);
      }
      const total = TAG_HEADER_BYTES + size + TAG_TRAILER_BYTES;
      if (this.buffered < total) return;
      const whole = this.take(total);
      const prev = whole.readUInt32BE(TAG_HEADER_BYTES + size);
      if (prev !== TAG_HEADER_BYTES + size) {
        throw new ProtocolError('flv', `PreviousTagSize ${prev} does not match tag size ${TAG_HEADER_BYTES + size}`);
      }
      out.push({
        type: whole[0]! & 0x1f,
        timestamp: readTagTimestamp(whole),
        payload: whole.subarray(TAG_HEADER_BYTES, TAG_HEADER_BYTES + size),
      });
    }
  }

  private readHeader(): boolean {
    if (this.buffered < 9) return false;
    const h = this.peek(9);
    if (h[0] !== 0x46 || h[1] !== 0x4c || h[2] !== 0x56) throw new ProtocolError('flv', 'missing FLV signature');
    const offset = h.readUInt32BE(5);
    if (offset < 9 || offset > MAX_DATA_OFFSET) throw new ProtocolError('flv', `invalid FLV DataOffset ${offset}`);
    if (this.buffered < offset) return false;
    this.take(offset);
    this.hdr = { hasAudio: (h[4]! & 0x04) !== 0, hasVideo: (h[4]! & 0x01) !== 0 };
    this.headerDone = true;
    this.expectPrevSize0 = true;
    return true;
  }

  /** Caller guarantees `n <= buffered`. Zero-copy when the bytes sit in one chunk. */
  private peek(n: number): Buffer {
    const first = this.chunks[this.head]!;
    if (first.length >= n) return first.subarray(0, n);
    const out = Buffer.allocUnsafe(n);
    let o = 0;
    for (let i = 0; o < n; i++) {
      const c = this.chunks[this.head + i]!;
      o += c.copy(out, o, 0, Math.min(c.length, n - o));
    }
    return out;
  }

  /**
   * Caller guarantees `n <= buffered`. Copies only when a tag straddles chunks, and then only the
   * tag's own bytes, so every byte is copied at most once however the input is split.
   */
  private take(n: number): Buffer {
    const first = this.chunks[this.head]!;
    this.buffered -= n;
    if (first.length >= n) {
      if (first.length === n) this.dropHead();
      else this.chunks[this.head] = first.subarray(n);
      return first.subarray(0, n);
    }
    const out = Buffer.allocUnsafe(n);
    let o = 0;
    while (o < n) {
      const c = this.chunks[this.head]!;
      const want = n - o;
      if (c.length <= want) {
        c.copy(out, o);
        o += c.length;
        this.dropHead();
      } else {
        c.copy(out, o, 0, want);
        o += want;
        this.chunks[this.head] = c.subarray(want);
      }
    }
    return out;
  }

  private dropHead(): void {
    this.head++;
    if (this.head === this.chunks.length) {
      this.chunks = [];
      this.head = 0;
    } else if (this.head >= 1024 && this.head * 2 >= this.chunks.length) {
      this.chunks = this.chunks.slice(this.head);
      this.head = 0;
    }
  }
}
