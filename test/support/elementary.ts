// Elementary streams for Enhanced RTMP tests: ffmpeg encodes short AV1 (IVF), HEVC (Annex B) and
// Opus (Ogg) clips once per machine into test-artifacts/cache, and this module parses them into
// timed access units plus the decoder configuration records Enhanced RTMP carries in SequenceStart
// (av1C, hvcC, OpusHead). Written independently of server/media so it can serve as the tests' oracle.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import path from 'node:path';
import { CACHE_DIR } from './ffmpeg.js';

export interface VideoClipSpec {
  width: number;
  height: number;
  fps: number;
  /** keyframe interval in frames */
  gop: number;
  seconds: number;
}

export const CLIP_360P: VideoClipSpec = { width: 640, height: 360, fps: 30, gop: 30, seconds: 4 };

export interface VideoFrame {
  /** decode timestamp in ms */
  timestamp: number;
  keyframe: boolean;
  /** AV1: the temporal unit's OBUs without the temporal delimiter; HEVC: 4-byte length-prefixed NAL units */
  data: Buffer;
}

export interface VideoClip {
  codec: 'av1' | 'hevc';
  width: number;
  height: number;
  fps: number;
  /** AV1CodecConfigurationRecord or HEVCDecoderConfigurationRecord */
  config: Buffer;
  frames: VideoFrame[];
  /** the clip's length in ms (the next frame after the last would start here) */
  durationMs: number;
}

export interface AudioPacket {
  timestamp: number;
  data: Buffer;
}

export interface OpusClip {
  /** the Ogg Opus identification header, "OpusHead" magic included (RFC 7845 §5.1) */
  head: Buffer;
  channels: number;
  /** the input sample rate recorded in OpusHead; Opus itself always decodes at 48 kHz */
  inputSampleRate: number;
  packets: AudioPacket[];
  durationMs: number;
}

// ---- encoding (cached) --------------------------------------------------------------------------

function cached(name: string, args: (out: string) => string[]): string {
  const file = path.join(CACHE_DIR, name);
  if (existsSync(file)) return file;
  mkdirSync(CACHE_DIR, { recursive: true });
  // The temporary name keeps the real extension: ffmpeg picks nothing from it here (-f is given),
  // but a half-written file must never be mistaken for the cache entry.
  const tmp = `${file}.${process.pid}.tmp`;
  const r = spawnSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', ...args(tmp)], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ffmpeg could not make ${name}: ${r.stderr}`);
  renameSync(tmp, file);
  return file;
}

function lavfiVideo(spec: VideoClipSpec): string[] {
  return ['-f', 'lavfi', '-i', `testsrc2=size=${spec.width}x${spec.height}:rate=${spec.fps}`, '-t', String(spec.seconds)];
}

export function av1File(spec: VideoClipSpec = CLIP_360P): string {
  return cached(`es-av1-${spec.width}x${spec.height}-${spec.fps}-g${spec.gop}-${spec.seconds}s.ivf`, (out) => [
    ...lavfiVideo(spec),
    '-c:v', 'libaom-av1', '-usage', 'realtime', '-cpu-used', '8', '-g', String(spec.gop), '-keyint_min', String(spec.gop),
    '-b:v', '600k', '-pix_fmt', 'yuv420p', '-f', 'ivf', out,
  ]);
}

export function hevcFile(spec: VideoClipSpec = CLIP_360P): string {
  return cached(`es-hevc-${spec.width}x${spec.height}-${spec.fps}-g${spec.gop}-${spec.seconds}s.hevc`, (out) => [
    ...lavfiVideo(spec),
    '-c:v', 'libx265', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p',
    '-x265-params', `keyint=${spec.gop}:min-keyint=${spec.gop}:scenecut=0:bframes=0:log-level=error`,
    '-b:v', '600k', '-f', 'hevc', out,
  ]);
}

export function opusFile(seconds = CLIP_360P.seconds, channels = 2): string {
  return cached(`es-opus-48k-${channels}ch-${seconds}s.ogg`, (out) => [
    '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000', '-t', String(seconds),
    '-c:a', 'libopus', '-b:a', '96k', '-ac', String(channels), '-frame_duration', '20', '-f', 'ogg', out,
  ]);
}

// ---- AV1 ----------------------------------------------------------------------------------------

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

// ---- HEVC ---------------------------------------------------------------------------------------

const NAL_VPS = 32;
const NAL_SPS = 33;
const NAL_PPS = 34;
const NAL_AUD = 35;
const NAL_PREFIX_SEI = 39;

export function hevcNalType(nal: Buffer): number {
  return (nal[0]! >>> 1) & 0x3f;
}

/** Annex B byte stream → NAL units (start codes removed). */
export function splitAnnexB(buf: Buffer): Buffer[] {
  const starts: { at: number; len: number }[] = [];
  for (let i = 0; i + 2 < buf.length; i++) {
    if (buf[i] === 0 && buf[i + 1] === 0 && buf[i + 2] === 1) {
      const four = i > 0 && buf[i - 1] === 0;
      starts.push({ at: four ? i - 1 : i, len: four ? 4 : 3 });
      i += 2;
    }
  }
  return starts.map((s, k) => {
    let end = k + 1 < starts.length ? starts[k + 1]!.at : buf.length;
    while (end > s.at + s.len && buf[end - 1] === 0) end--; // trailing_zero_8bits
    return buf.subarray(s.at + s.len, end);
  });
}

function unescape(nal: Buffer): Buffer {
  const out: number[] = [];
  for (let i = 0; i < nal.length; i++) {
    if (i >= 2 && nal[i] === 3 && nal[i - 1] === 0 && nal[i - 2] === 0) continue;
    out.push(nal[i]!);
  }
  return Buffer.from(out);
}

/** HEVCDecoderConfigurationRecord (ISO/IEC 14496-15 §8.3.3.1.2) for an 8-bit 4:2:0 stream, 4-byte NAL lengths. */
export function buildHvcC(vps: Buffer, sps: Buffer, pps: Buffer, chromaFormatIdc = 1, bitDepth = 8): Buffer {
  const rbsp = unescape(sps.subarray(2));
  const maxSubLayersMinus1 = (rbsp[0]! >>> 1) & 0x07;
  const temporalIdNested = rbsp[0]! & 0x01;
  const ptl = rbsp.subarray(1, 13); // general profile_space/tier/idc, compatibility, constraints, level
  const head = Buffer.alloc(23);
  head[0] = 1;
  ptl.copy(head, 1);
  head.writeUInt16BE(0xf000, 13); // min_spatial_segmentation_idc 0
  head[15] = 0xfc; // parallelismType 0
  head[16] = 0xfc | chromaFormatIdc;
  head[17] = 0xf8 | (bitDepth - 8);
  head[18] = 0xf8 | (bitDepth - 8);
  head.writeUInt16BE(0, 19); // avgFrameRate unspecified
  head[21] = ((maxSubLayersMinus1 + 1) << 3) | (temporalIdNested << 2) | 3;
  head[22] = 3; // numOfArrays
  const arrays = [vps, sps, pps].map((nal) => {
    const a = Buffer.alloc(5);
    a[0] = 0x80 | hevcNalType(nal); // array_completeness 1
    a.writeUInt16BE(1, 1);
    a.writeUInt16BE(nal.length, 3);
    return Buffer.concat([a, nal]);
  });
  return Buffer.concat([head, ...arrays]);
}

export function hevcClip(spec: VideoClipSpec = CLIP_360P): VideoClip {
  const nals = splitAnnexB(readFileSync(hevcFile(spec)));
  let vps: Buffer | undefined;
  let sps: Buffer | undefined;
  let pps: Buffer | undefined;
  // Access units (H.265 §7.4.2.4.4): a new one starts at an AUD, a parameter set or prefix SEI after a
  // picture, or a slice with first_slice_segment_in_pic_flag set.
  const units: { nals: Buffer[]; hasVcl: boolean }[] = [];
  let cur: { nals: Buffer[]; hasVcl: boolean } | null = null;
  for (const nal of nals) {
    const t = hevcNalType(nal);
    const vcl = t < 32;
    const startsAu = vcl ? (nal[2]! & 0x80) !== 0 : t === NAL_AUD || t === NAL_VPS || t === NAL_SPS || t === NAL_PPS || t === NAL_PREFIX_SEI;
    if (cur === null || (startsAu && cur.hasVcl)) {
      cur = { nals: [], hasVcl: false };
      units.push(cur);
    }
    if (t === NAL_VPS) vps ??= nal;
    else if (t === NAL_SPS) sps ??= nal;
    else if (t === NAL_PPS) pps ??= nal;
    // Parameter sets travel in hvcC (the 'hvc1' sample entry); AUDs have no place in length-prefixed samples.
    if (t !== NAL_VPS && t !== NAL_SPS && t !== NAL_PPS && t !== NAL_AUD) cur.nals.push(nal);
    if (vcl) cur.hasVcl = true;
  }
  if (vps === undefined || sps === undefined || pps === undefined) throw new Error('HEVC stream lacks VPS/SPS/PPS');
  const frames: VideoFrame[] = units.filter((u) => u.hasVcl).map((u, i) => {
    const parts: Buffer[] = [];
    for (const nal of u.nals) {
      const len = Buffer.alloc(4);
      len.writeUInt32BE(nal.length);
      parts.push(len, nal);
    }
    const keyframe = u.nals.some((n) => hevcNalType(n) >= 16 && hevcNalType(n) <= 23); // IRAP
    return { timestamp: Math.round((i * 1000) / spec.fps), keyframe, data: Buffer.concat(parts) };
  });
  return {
    codec: 'hevc', width: spec.width, height: spec.height, fps: spec.fps,
    config: buildHvcC(vps, sps, pps), frames, durationMs: Math.round((frames.length * 1000) / spec.fps),
  };
}

// ---- Opus in Ogg --------------------------------------------------------------------------------

/** Ogg pages (RFC 3533) → packets of the first logical stream, lacing values joined. */
export function oggPackets(buf: Buffer): Buffer[] {
  const packets: Buffer[] = [];
  let pending: Buffer[] = [];
  let at = 0;
  while (at + 27 <= buf.length) {
    if (buf.toString('latin1', at, at + 4) !== 'OggS') throw new Error(`no Ogg capture pattern at ${at}`);
    const segments = buf[at + 26]!;
    const table = buf.subarray(at + 27, at + 27 + segments);
    let body = at + 27 + segments;
    for (const lace of table) {
      pending.push(buf.subarray(body, body + lace));
      body += lace;
      if (lace < 255) {
        packets.push(Buffer.concat(pending));
        pending = [];
      }
    }
    at = body;
  }
  return packets;
}

/** Samples at 48 kHz in one Opus packet, from its TOC byte (RFC 6716 §3.1). */
export function opusPacketSamples(packet: Buffer): number {
  const toc = packet[0]!;
  const config = toc >>> 3;
  let frameSamples: number;
  if (config < 12) frameSamples = [480, 960, 1920, 2880][config & 3]!; // SILK
  else if (config < 16) frameSamples = [480, 960][config & 1]!; // hybrid
  else frameSamples = [120, 240, 480, 960][config & 3]!; // CELT
  const code = toc & 3;
  const count = code === 0 ? 1 : code === 3 ? packet[1]! & 0x3f : 2;
  return frameSamples * count;
}

export function opusClip(seconds = CLIP_360P.seconds, channels = 2): OpusClip {
  const [head, tags, ...audio] = oggPackets(readFileSync(opusFile(seconds, channels)));
  if (head === undefined || head.toString('latin1', 0, 8) !== 'OpusHead') throw new Error('Ogg stream does not start with OpusHead');
  if (tags === undefined || tags.toString('latin1', 0, 8) !== 'OpusTags') throw new Error('OpusTags missing');
  let samples = 0;
  const packets: AudioPacket[] = audio.map((data) => {
    const p = { timestamp: Math.round(samples / 48), data };
    samples += opusPacketSamples(data);
    return p;
  });
  return { head, channels: head[9]!, inputSampleRate: head.readUInt32LE(12), packets, durationMs: Math.round(samples / 48) };
}

// ---- other E-RTMP audio FourCCs: mp4a (AAC), ac-3, ec-3, fLaC ---------------------------------------

export interface AudioClip {
  fourcc: 'mp4a' | 'ac-3' | 'ec-3' | 'fLaC';
  /** the SequenceStart body, or null for codecs E-RTMP sends without one (AC-3, E-AC-3) */
  config: Buffer | null;
  packets: AudioPacket[];
  durationMs: number;
}

function audioFile(name: string, codec: string[], format: string, seconds: number): string {
  return cached(`es-${name}-48k-2ch-${seconds}s.${format}`, (out) => [
    '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000', '-t', String(seconds), '-ac', '2', ...codec, '-f', format, out,
  ]);
}

function timed(frames: { data: Buffer; samples: number }[]): { packets: AudioPacket[]; durationMs: number } {
  let samples = 0;
  const packets = frames.map((f) => {
    const p = { timestamp: Math.round(samples / 48), data: f.data };
    samples += f.samples;
    return p;
  });
  return { packets, durationMs: Math.round(samples / 48) };
}

/** AAC from ADTS: raw frames and a 2-byte AudioSpecificConfig (ISO/IEC 14496-3 §1.6.2.1). */
export function aacClip(seconds = 3): AudioClip {
  const buf = readFileSync(audioFile('aac', ['-c:a', 'aac', '-b:a', '128k'], 'adts', seconds));
  const frames: { data: Buffer; samples: number }[] = [];
  let config: Buffer | null = null;
  for (let at = 0; at + 7 <= buf.length; ) {
    if (buf[at] !== 0xff || (buf[at + 1]! & 0xf0) !== 0xf0) throw new Error(`no ADTS sync at ${at}`);
    const headerLen = (buf[at + 1]! & 1) === 1 ? 7 : 9;
    const profile = buf[at + 2]! >>> 6;
    const sfi = (buf[at + 2]! >>> 2) & 0x0f;
    const channels = ((buf[at + 2]! & 1) << 2) | (buf[at + 3]! >>> 6);
    const len = ((buf[at + 3]! & 3) << 11) | (buf[at + 4]! << 3) | (buf[at + 5]! >>> 5);
    config ??= Buffer.from([((profile + 1) << 3) | (sfi >>> 1), ((sfi & 1) << 7) | (channels << 3)]);
    frames.push({ data: buf.subarray(at + headerLen, at + len), samples: 1024 });
    at += len;
  }
  return { fourcc: 'mp4a', config, ...timed(frames) };
}

/** 48 kHz AC-3 frame sizes in 16-bit words by frmsizecod (ATSC A/52 Table 5.18). */
const AC3_WORDS_48K = [64, 64, 80, 80, 96, 96, 112, 112, 128, 128, 160, 160, 192, 192, 224, 224, 256, 256, 320, 320, 384, 384, 448, 448, 512, 512, 640, 640, 768, 768, 896, 896, 1024, 1024, 1152, 1152, 1280, 1280];

/** AC-3 / E-AC-3 syncframes (E-RTMP sends them as CodedFrames with no SequenceStart). */
export function dolbyClip(kind: 'ac3' | 'eac3', seconds = 3): AudioClip {
  const buf = readFileSync(audioFile(kind, ['-c:a', kind, '-b:a', '192k'], kind, seconds));
  const frames: { data: Buffer; samples: number }[] = [];
  for (let at = 0; at + 6 <= buf.length; ) {
    if (buf.readUInt16BE(at) !== 0x0b77) throw new Error(`no AC-3 sync at ${at}`);
    let size: number;
    let samples = 1536;
    if (kind === 'ac3') {
      if (buf[at + 4]! >>> 6 !== 0) throw new Error('AC-3 test clip is not 48 kHz');
      size = AC3_WORDS_48K[buf[at + 4]! & 0x3f]! * 2;
    } else {
      size = ((buf.readUInt16BE(at + 2) & 0x07ff) + 1) * 2;
      const fscod = buf[at + 4]! >>> 6;
      samples = 256 * (fscod === 3 ? 6 : [1, 2, 3, 6][(buf[at + 4]! >>> 4) & 3]!);
    }
    frames.push({ data: buf.subarray(at, at + size), samples });
    at += size;
  }
  return { fourcc: kind === 'ac3' ? 'ac-3' : 'ec-3', config: null, ...timed(frames) };
}

/**
 * FLAC from Ogg FLAC (one FLAC frame per Ogg packet). SequenceStart carries the STREAMINFO metadata
 * block with its 4-byte METADATA_BLOCK_HEADER, which is where mpegts.js reads it from.
 */
export function flacClip(seconds = 3): AudioClip {
  const [first, ...rest] = oggPackets(readFileSync(audioFile('flac', ['-c:a', 'flac'], 'ogg', seconds)));
  if (first === undefined || first.toString('latin1', 1, 5) !== 'FLAC' || first.toString('latin1', 9, 13) !== 'fLaC') {
    throw new Error('not an Ogg FLAC stream');
  }
  const config = first.subarray(13, 13 + 4 + 34);
  const frames = rest.filter((p) => p[0] === 0xff && (p[1]! & 0xfe) === 0xf8).map((data) => {
    const code = data[2]! >>> 4;
    const samples = code === 1 ? 192 : code >= 2 && code <= 5 ? 576 << (code - 2) : code >= 8 ? 256 << (code - 8) : NaN;
    if (Number.isNaN(samples)) throw new Error(`FLAC block size code ${code} not handled`);
    return { data, samples };
  });
  return { fourcc: 'fLaC', config, ...timed(frames) };
}
