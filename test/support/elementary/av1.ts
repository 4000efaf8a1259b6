// AV1 in IVF: OBUs, the sequence header, av1C and timed temporal units (AV1 spec, ISOBMFF binding).
import { readFileSync } from 'node:fs';
import { type VideoClipSpec, CLIP_360P, type VideoFrame, type VideoClip, av1File } from './clips.js';

const OBU_SEQUENCE_HEADER = 1;
const OBU_TEMPORAL_DELIMITER = 2;
const OBU_FRAME_HEADER = 3;
const OBU_FRAME = 6;

export interface Obu {
  type: number;
  /** the whole OBU, header included */
  raw: Buffer;
  /** the OBU payload */
  payload: Buffer;
}

/** Splits a sequence of OBUs that all carry obu_size (low-overhead bitstream format, AV1 §5.2). */
export function splitObus(buf: Buffer): Obu[] {
  const out: Obu[] = [];
  let at = 0;
  while (at < buf.length) {
    const start = at;
    const header = buf[at++]!;
    const type = (header >>> 3) & 0x0f;
    if ((header & 0x04) !== 0) at++; // extension header
    if ((header & 0x02) === 0) throw new Error('OBU without obu_size in a low-overhead stream');
    let size = 0;
    for (let i = 0; ; i++) {
      const b = buf[at++]!;
      size += (b & 0x7f) * 2 ** (7 * i);
      if ((b & 0x80) === 0) break;
    }
    if (at + size > buf.length) throw new Error('truncated OBU');
    out.push({ type, raw: buf.subarray(start, at + size), payload: buf.subarray(at, at + size) });
    at += size;
  }
  return out;
}

class Bits {
  #buf: Buffer;
  #pos = 0;
  constructor(buf: Buffer) {
    this.#buf = buf;
  }
  u(n: number): number {
    let v = 0;
    for (let i = 0; i < n; i++) {
      const byte = this.#buf[this.#pos >>> 3];
      if (byte === undefined) throw new Error('bit reader ran past the end');
      v = v * 2 + ((byte >>> (7 - (this.#pos & 7))) & 1);
      this.#pos++;
    }
    return v;
  }
  flag(): boolean {
    return this.u(1) === 1;
  }
  uvlc(): number {
    let zeros = 0;
    while (!this.flag()) zeros++;
    return zeros >= 32 ? 2 ** 32 - 1 : this.u(zeros) + 2 ** zeros - 1;
  }
}

export interface Av1SequenceInfo {
  profile: number;
  level: number;
  tier: number;
  reducedStillPictureHeader: boolean;
  maxWidth: number;
  maxHeight: number;
  highBitdepth: boolean;
  twelveBit: boolean;
  monochrome: boolean;
  subsamplingX: boolean;
  subsamplingY: boolean;
  chromaSamplePosition: number;
}

/** sequence_header_obu() (AV1 §5.5) through color_config(): what av1C repeats. */
export function parseAv1SequenceHeader(payload: Buffer): Av1SequenceInfo {
  const r = new Bits(payload);
  const profile = r.u(3);
  r.u(1); // still_picture
  const reduced = r.flag();
  let level = 0;
  let tier = 0;
  if (reduced) {
    level = r.u(5);
  } else {
    let decoderModelInfo = false;
    let bufferDelayLength = 0;
    if (r.flag()) {
      r.u(32);
      r.u(32);
      if (r.flag()) r.uvlc();
      decoderModelInfo = r.flag();
      if (decoderModelInfo) {
        bufferDelayLength = r.u(5) + 1;
        r.u(32);
        r.u(10);
      }
    }
    const initialDisplayDelay = r.flag();
    const ops = r.u(5) + 1;
    for (let i = 0; i < ops; i++) {
      r.u(12);
      const l = r.u(5);
      const t = l > 7 ? r.u(1) : 0;
      if (i === 0) {
        level = l;
        tier = t;
      }
      if (decoderModelInfo && r.flag()) r.u(2 * bufferDelayLength + 1);
      if (initialDisplayDelay && r.flag()) r.u(4);
    }
  }
  const wBits = r.u(4) + 1;
  const hBits = r.u(4) + 1;
  const maxWidth = r.u(wBits) + 1;
  const maxHeight = r.u(hBits) + 1;
  if (!reduced && r.flag()) r.u(7); // frame id lengths
  r.u(3); // use_128x128_superblock, enable_filter_intra, enable_intra_edge_filter
  if (!reduced) {
    r.u(4); // interintra, masked compound, warped motion, dual filter
    const orderHint = r.flag();
    if (orderHint) r.u(2); // jnt_comp, ref_frame_mvs
    const forceScreenContent = r.flag() ? 2 : r.u(1);
    if (forceScreenContent > 0 && !r.flag()) r.u(1); // seq_choose_integer_mv, seq_force_integer_mv
    if (orderHint) r.u(3);
  }
  r.u(3); // superres, cdef, restoration
  // color_config()
  const highBitdepth = r.flag();
  const twelveBit = profile === 2 && highBitdepth ? r.flag() : false;
  const monochrome = profile === 1 ? false : r.flag();
  let cp = 2;
  let tc = 2;
  let mc = 2;
  if (r.flag()) {
    cp = r.u(8);
    tc = r.u(8);
    mc = r.u(8);
  }
  let subX = true;
  let subY = true;
  let chromaSamplePosition = 0;
  if (monochrome) {
    r.u(1);
  } else if (cp === 1 && tc === 13 && mc === 0) {
    subX = false;
    subY = false;
  } else {
    r.u(1); // color_range
    if (profile === 0) {
      subX = subY = true;
    } else if (profile === 1) {
      subX = subY = false;
    } else if (twelveBit) {
      subX = r.flag();
      subY = subX ? r.flag() : false;
    } else {
      subX = true;
      subY = false;
    }
    if (subX && subY) chromaSamplePosition = r.u(2);
  }
  return {
    profile, level, tier, reducedStillPictureHeader: reduced, maxWidth, maxHeight,
    highBitdepth, twelveBit, monochrome, subsamplingX: subX, subsamplingY: subY, chromaSamplePosition,
  };
}

/** AV1CodecConfigurationRecord (AV1 ISOBMFF binding §2.3.3) with the sequence header as configOBUs. */
export function buildAv1C(sequenceHeaderObu: Obu): Buffer {
  const s = parseAv1SequenceHeader(sequenceHeaderObu.payload);
  const head = Buffer.from([
    0x81, // marker 1, version 1
    (s.profile << 5) | s.level,
    (s.tier << 7) | (Number(s.highBitdepth) << 6) | (Number(s.twelveBit) << 5) | (Number(s.monochrome) << 4) |
      (Number(s.subsamplingX) << 3) | (Number(s.subsamplingY) << 2) | s.chromaSamplePosition,
    0, // initial_presentation_delay_present 0
  ]);
  return Buffer.concat([head, sequenceHeaderObu.raw]);
}

/** KEY_FRAME from the first frame header of a temporal unit (uncompressed_header(), AV1 §5.9.2). */
function av1IsKeyframe(obus: Obu[], seq: Av1SequenceInfo): boolean {
  const fh = obus.find((o) => o.type === OBU_FRAME || o.type === OBU_FRAME_HEADER);
  if (fh === undefined) return false;
  if (seq.reducedStillPictureHeader) return true;
  const r = new Bits(fh.payload);
  if (r.flag()) return false; // show_existing_frame
  return r.u(2) === 0;
}

export function parseIvf(buf: Buffer): { width: number; height: number; rate: number; scale: number; frames: { pts: number; data: Buffer }[] } {
  if (buf.toString('latin1', 0, 4) !== 'DKIF') throw new Error('not an IVF file');
  const headerLen = buf.readUInt16LE(6);
  const width = buf.readUInt16LE(12);
  const height = buf.readUInt16LE(14);
  const rate = buf.readUInt32LE(16);
  const scale = buf.readUInt32LE(20);
  const frames: { pts: number; data: Buffer }[] = [];
  let at = headerLen;
  while (at + 12 <= buf.length) {
    const size = buf.readUInt32LE(at);
    const pts = Number(buf.readBigUInt64LE(at + 4));
    frames.push({ pts, data: buf.subarray(at + 12, at + 12 + size) });
    at += 12 + size;
  }
  return { width, height, rate, scale, frames };
}

export function av1Clip(spec: VideoClipSpec = CLIP_360P): VideoClip {
  const ivf = parseIvf(readFileSync(av1File(spec)));
  let config: Buffer | null = null;
  let seq: Av1SequenceInfo | null = null;
  const frames: VideoFrame[] = ivf.frames.map((f, i) => {
    const obus = splitObus(f.data);
    const sh = obus.find((o) => o.type === OBU_SEQUENCE_HEADER);
    if (sh !== undefined && config === null) {
      config = buildAv1C(sh);
      seq = parseAv1SequenceHeader(sh.payload);
    }
    if (seq === null) throw new Error('AV1 stream does not start with a sequence header');
    // The ISOBMFF binding (which E-RTMP's av01 follows) leaves temporal delimiters out of samples.
    const data = Buffer.concat(obus.filter((o) => o.type !== OBU_TEMPORAL_DELIMITER).map((o) => o.raw));
    return { timestamp: Math.round((i * 1000) / spec.fps), keyframe: av1IsKeyframe(obus, seq), data };
  });
  if (config === null) throw new Error('no AV1 sequence header');
  return { codec: 'av1', width: ivf.width, height: ivf.height, fps: spec.fps, config, frames, durationMs: Math.round((frames.length * 1000) / spec.fps) };
}
