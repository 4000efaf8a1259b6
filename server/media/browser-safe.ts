// The FLV audio/video bodies the bundled browser player (mpegts.js 1.8) can
// parse. Its FLV demuxer reads an Enhanced RTMP header as one byte plus a
// FourCC and stops the whole stream with an error on anything else: the
// Multitrack and ModEx packet types (E-RTMP v2), video Metadata (colorInfo),
// command frames, the multichannel audio config, and the avc1/mp4a FourCCs,
// which it only knows in their legacy form.
//
// So for browsers: ModEx prefixes are dropped (they only refine timing), a
// multitrack message gives up its track 0 (E-RTMP's default track) as a plain
// packet, avc1/mp4a become legacy AVC/AAC packets, and what the player cannot
// use is left out. A body that needs no change is returned as the same Buffer.
// Bad input never throws: a body that does not parse is left out.
import { ProtocolError } from '../errors.js';
import { ByteReader } from './bits.js';
import { EX_MODEX, skipModEx } from './enhanced-header.js';

const VIDEO_EX_HEADER = 0x80;
const VIDEO_SEQUENCE_START = 0;
const VIDEO_CODED_FRAMES = 1;
const VIDEO_SEQUENCE_END = 2;
const VIDEO_CODED_FRAMES_X = 3;
const VIDEO_MULTITRACK = 6;
const FRAME_COMMAND = 5;
const AUDIO_EX_HEADER = 9;
const AUDIO_SEQUENCE_START = 0;
const AUDIO_SEQUENCE_END = 2;
const AUDIO_MULTITRACK = 5;
const MULTITRACK_ONE_TRACK = 0;
const MULTITRACK_MANY_CODECS = 2;
/** E-RTMP v2: track 0 is the default track, the one a single-track player shows. */
const DEFAULT_TRACK = 0;
const LEGACY_AVC = 7;
/** Legacy AAC header byte: SoundFormat 10, 44 kHz, 16-bit, stereo (fixed by the FLV spec for AAC). */
const LEGACY_AAC = 0xaf;

interface Packet {
  packetType: number;
  fourcc: Buffer;
  /** everything after the FourCC (with the SI24 composition time for avc1/hvc1 CodedFrames) */
  data: Buffer;
}

/** The video body for mpegts.js: `body` itself, a rewritten body, or null to leave it out. */
export function browserSafeVideo(body: Buffer): Buffer | null {
  if (body.length === 0) return null;
  const b0 = body[0]!;
  if ((b0 & VIDEO_EX_HEADER) === 0) return body;
  const frameType = (b0 >>> 4) & 0x07;
  if (frameType === FRAME_COMMAND) return null;
  const p = readPacket(body, b0 & 0x0f, VIDEO_MULTITRACK);
  if (p === null || p.packetType > VIDEO_CODED_FRAMES_X) return null;
  if (p.fourcc.toString('latin1') === 'avc1') return legacyAvc(frameType, p);
  if (p.data.byteOffset === body.byteOffset + 5 && p.packetType === (b0 & 0x0f)) return body;
  return Buffer.concat([Buffer.from([VIDEO_EX_HEADER | (frameType << 4) | p.packetType]), p.fourcc, p.data]);
}

/** The audio body for mpegts.js: `body` itself, a rewritten body, or null to leave it out. */
export function browserSafeAudio(body: Buffer): Buffer | null {
  if (body.length === 0) return null;
  const b0 = body[0]!;
  if (b0 >>> 4 !== AUDIO_EX_HEADER) return body;
  const p = readPacket(body, b0 & 0x0f, AUDIO_MULTITRACK);
  if (p === null || p.packetType > AUDIO_SEQUENCE_END) return null;
  if (p.fourcc.toString('latin1') === 'mp4a') {
    if (p.packetType === AUDIO_SEQUENCE_END) return null;
    return Buffer.concat([Buffer.from([LEGACY_AAC, p.packetType === AUDIO_SEQUENCE_START ? 0 : 1]), p.data]);
  }
  if (p.data.byteOffset === body.byteOffset + 5 && p.packetType === (b0 & 0x0f)) return body;
  return Buffer.concat([Buffer.from([(AUDIO_EX_HEADER << 4) | p.packetType]), p.fourcc, p.data]);
}

/** Enhanced avc1 as the legacy AVC packet mpegts.js knows: codec id 7, AVCPacketType, SI24 CompositionTime. */
function legacyAvc(frameType: number, p: Packet): Buffer | null {
  const head = Buffer.from([(frameType << 4) | LEGACY_AVC, 0, 0, 0, 0]);
  switch (p.packetType) {
    case VIDEO_SEQUENCE_START:
      return Buffer.concat([head, p.data]);
    case VIDEO_CODED_FRAMES:
      head[1] = 1;
      return Buffer.concat([head.subarray(0, 2), p.data]); // data starts with its own SI24
    case VIDEO_CODED_FRAMES_X:
      head[1] = 1;
      return Buffer.concat([head, p.data]);
    case VIDEO_SEQUENCE_END:
      head[1] = 2;
      return head;
    default:
      return null;
  }
}

/** Past ModEx prefixes and out of a multitrack wrapper: the default track's packet, or null. */
function readPacket(body: Buffer, packetType: number, multitrack: number): Packet | null {
  const r = new ByteReader(body, 'enhanced header', 'flv', 1);
  try {
    const type = skipModEx(r, packetType);
    if (type !== multitrack) return { packetType: type, fourcc: r.bytes(4), data: body.subarray(r.pos) };
    const b = r.u8();
    const layout = b >>> 4;
    const trackType = b & 0x0f;
    if (layout > MULTITRACK_MANY_CODECS || trackType === multitrack || trackType === EX_MODEX) return null;
    const shared = layout === MULTITRACK_MANY_CODECS ? null : r.bytes(4);
    while (r.left > 0) {
      const fourcc = shared ?? r.bytes(4);
      const trackId = r.u8();
      const size = layout === MULTITRACK_ONE_TRACK ? r.left : r.u24();
      const data = r.bytes(size);
      if (trackId === DEFAULT_TRACK) return { packetType: trackType, fourcc, data };
    }
    return null;
  } catch (err) {
    if (err instanceof ProtocolError) return null;
    throw err;
  }
}
