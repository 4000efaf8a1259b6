// Bit-level reading for H.264/H.265 (Rec. ITU-T H.264 §7.2, H.265 §7.2: u(n), ue(v), se(v)),
// AV1 (§4.10 f(n), uvlc) and ISO 14496-3 bit fields, plus RBSP un-escaping (H.264 §7.4.1).
import { ProtocolError } from '../errors.js';

export class BitReader {
  private pos = 0; // in bits
  private readonly bitLength: number;

  constructor(
    private readonly buf: Buffer,
    private readonly what = 'bitstream',
  ) {
    this.bitLength = buf.length * 8;
  }

  get bitsLeft(): number {
    return this.bitLength - this.pos;
  }

  get bitPosition(): number {
    return this.pos;
  }

  private truncated(): ProtocolError {
    return new ProtocolError('codec', `${this.what} is truncated`);
  }

  bit(): number {
    if (this.pos >= this.bitLength) throw this.truncated();
    const b = (this.buf[this.pos >>> 3]! >>> (7 - (this.pos & 7))) & 1;
    this.pos++;
    return b;
  }

  flag(): boolean {
    return this.bit() === 1;
  }

  /** Reads up to 32 bits as an unsigned number (never negative, unlike `|`-based shifting). */
  bits(n: number): number {
    if (n < 0 || n > 32) throw new ProtocolError('codec', `${this.what}: invalid field width ${n}`);
    if (n > this.bitsLeft) throw this.truncated();
    let v = 0;
    for (let i = 0; i < n; i++) {
      // Multiplication keeps 32-bit fields positive where `<<` would overflow into the sign bit.
      v = v * 2 + this.bit();
    }
    return v;
  }

  skip(n: number): void {
    if (n < 0 || n > this.bitsLeft) throw this.truncated();
    this.pos += n;
  }

  /** ue(v): Exp-Golomb; 32+ leading zeros cannot encode a value conforming streams use. */
  ue(): number {
    let zeros = 0;
    while (this.bit() === 0) {
      zeros++;
      if (zeros > 31) throw new ProtocolError('codec', `${this.what}: Exp-Golomb code too long`);
    }
    return 2 ** zeros - 1 + this.bits(zeros);
  }

  se(): number {
    const k = this.ue();
    return k % 2 === 1 ? (k + 1) / 2 : -(k / 2);
  }

  /** ue(v) with a spec-given upper bound: out-of-range values mean a corrupt or hostile header. */
  ueMax(max: number, field: string): number {
    const v = this.ue();
    if (v > max) throw new ProtocolError('codec', `${this.what}: ${field} ${v} exceeds ${max}`);
    return v;
  }

  /** AV1 uvlc() (§4.10.3): like ue(v) but the spec saturates instead of failing. */
  uvlc(): number {
    let zeros = 0;
    while (this.bit() === 0) {
      zeros++;
      // Each zero consumed a bit, so a hostile run ends at the buffer end; this only bounds the value.
      if (zeros >= 32) {
        while (this.bit() === 0) {
          /* keep consuming the run the spec tells us to skip */
        }
        return 2 ** 32 - 1;
      }
    }
    return 2 ** zeros - 1 + this.bits(zeros);
  }
}

/**
 * Removes emulation_prevention_three_byte (0x000003 → 0x0000). The output is never longer than the
 * input that is already in memory, so hostile length fields cannot inflate the allocation.
 */
export function unescapeRbsp(nal: Buffer): Buffer {
  let firstEscape = -1;
  for (let i = 2; i < nal.length; i++) {
    if (nal[i] === 3 && nal[i - 1] === 0 && nal[i - 2] === 0) {
      firstEscape = i;
      break;
    }
  }
  if (firstEscape < 0) return nal;
  const out = Buffer.allocUnsafe(nal.length);
  let o = 0;
  let zeros = 0;
  for (let i = 0; i < nal.length; i++) {
    const b = nal[i]!;
    if (zeros >= 2 && b === 3) {
      zeros = 0;
      continue;
    }
    out[o++] = b;
    zeros = b === 0 ? zeros + 1 : 0;
  }
  return out.subarray(0, o);
}

/** Big-endian reads with bounds checks that fail as ProtocolError instead of RangeError. */
export class ByteReader {
  pos: number;
  constructor(
    readonly buf: Buffer,
    private readonly what: string,
    private readonly code: 'codec' | 'flv' = 'codec',
    start = 0,
  ) {
    this.pos = start;
  }

  get left(): number {
    return this.buf.length - this.pos;
  }

  need(n: number): void {
    if (n > this.left) throw new ProtocolError(this.code, `${this.what} is truncated`);
  }

  u8(): number {
    this.need(1);
    return this.buf[this.pos++]!;
  }

  u16(): number {
    this.need(2);
    const v = this.buf.readUInt16BE(this.pos);
    this.pos += 2;
    return v;
  }

  u24(): number {
    this.need(3);
    const v = this.buf.readUIntBE(this.pos, 3);
    this.pos += 3;
    return v;
  }

  s24(): number {
    this.need(3);
    const v = this.buf.readIntBE(this.pos, 3);
    this.pos += 3;
    return v;
  }

  u32(): number {
    this.need(4);
    const v = this.buf.readUInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  /** A view, not a copy: the length is checked against bytes that already exist. */
  bytes(n: number): Buffer {
    this.need(n);
    const v = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }

  skip(n: number): void {
    this.need(n);
    this.pos += n;
  }
}
