// Video tag body header: FLV spec v10.1 §E.4.3.1 VIDEODATA (legacy) and Enhanced RTMP v1/v2
// "Enhanced Video" ExVideoTagHeader (IsExHeader, VideoPacketType, FourCC, ModEx, Multitrack).
import { ProtocolError } from '../errors.js';
import { ByteReader } from './bits.js';
import { skipModEx } from './enhanced-header.js';

export type VideoCodec =
  | 'avc'
  | 'hevc'
  | 'av1'
  | 'vp9'
  | 'vp8'
  | 'h263'
  | 'screen'
  | 'vp6'
  | 'vp6a'
  | 'screen2'
  | 'unknown';

export type VideoPacketType =
  | 'sequence-start'
  | 'coded-frames'
  | 'sequence-end'
  | 'metadata'
  | 'mpeg2ts-sequence-start'
  | 'multitrack'
  | 'other';

export const VIDEO_FRAME_KEY = 1;
export const VIDEO_FRAME_INTER = 2;
export const VIDEO_FRAME_DISPOSABLE = 3;
export const VIDEO_FRAME_GENERATED_KEY = 4;
export const VIDEO_FRAME_COMMAND = 5;

export interface VideoTagInfo {
  codec: VideoCodec;
  enhanced: boolean;
  fourcc: string | null;
  /** 1 key, 2 inter, 3 disposable, 4 generated key, 5 command/info */
  frameType: number;
  keyframe: boolean;
  packetType: VideoPacketType;
  /** byte offset in the payload where the codec data (e.g. the decoder config record) starts */
  dataOffset: number;
  /** SI24 composition time offset in ms (legacy AVC/HEVC/AV1, enhanced avc1/hvc1 CodedFrames); 0 otherwise. */
  compositionTime: number;
  /** VideoCommand byte (0 start seek, 1 end seek) when frameType is 5 and the body carries no video. */
  command?: number;
  /** For packetType 'multitrack': AvMultitrackType (0 one track, 1 many tracks, 2 many tracks many codecs). */
  multitrackType?: number;
  /** For packetType 'multitrack': the packet type shared by the tracks in this message. */
  trackPacketType?: VideoPacketType;
  /** For packetType 'multitrack': the id of the first track in the message. */
  trackId?: number;
}

const LEGACY_CODECS: Record<number, VideoCodec> = {
  2: 'h263',
  3: 'screen',
  4: 'vp6',
  5: 'vp6a',
  6: 'screen2',
  7: 'avc',
  // Not in Adobe's table: 12/13 are the pre-E-RTMP HEVC/AV1 ids used by Chinese CDNs and ffmpeg forks.
  12: 'hevc',
  13: 'av1',
};

const FOURCC_CODECS: Record<string, VideoCodec> = {
  avc1: 'avc',
  hvc1: 'hevc',
  av01: 'av1',
  vp09: 'vp9',
  vp08: 'vp8',
};

const PACKET_TYPES: readonly VideoPacketType[] = [
  'sequence-start', // 0 SequenceStart
  'coded-frames', // 1 CodedFrames
  'sequence-end', // 2 SequenceEnd
  'coded-frames', // 3 CodedFramesX: composition time implicitly 0
  'metadata', // 4 Metadata (AMF)
  'mpeg2ts-sequence-start', // 5 MPEG2TSSequenceStart
  'multitrack', // 6 Multitrack
];
const EX_CODED_FRAMES = 1;
const EX_METADATA = 4;
const EX_MULTITRACK = 6;
const MULTITRACK_ONE_TRACK = 0;
const MULTITRACK_MANY_CODECS = 2;

export function parseVideoTagHeader(payload: Buffer): VideoTagInfo {
  if (payload.length === 0) throw new ProtocolError('flv', 'empty video tag');
  const b0 = payload[0]!;
  return (b0 & 0x80) !== 0 ? parseEnhanced(payload) : parseLegacy(payload);
}

function parseLegacy(payload: Buffer): VideoTagInfo {
  const r = new ByteReader(payload, 'video tag header', 'flv');
  const b0 = r.u8();
  const frameType = b0 >>> 4;
  const codec = LEGACY_CODECS[b0 & 0x0f] ?? 'unknown';
  const info: VideoTagInfo = {
    codec,
    enhanced: false,
    fourcc: null,
    frameType,
    keyframe: isKeyFrameType(frameType),
    packetType: 'coded-frames',
    dataOffset: 1,
    compositionTime: 0,
  };
  if (frameType === VIDEO_FRAME_COMMAND) {
    // §E.4.3.1: a command frame carries a UI8 instead of video data, whatever the codec id.
    info.command = r.u8();
    info.packetType = 'other';
    info.dataOffset = r.pos;
    return info;
  }
  if (codec === 'avc' || codec === 'hevc' || codec === 'av1') {
    const packetType = r.u8();
    info.compositionTime = r.s24();
    info.packetType = packetType <= 2 ? PACKET_TYPES[packetType]! : 'other';
    info.dataOffset = r.pos;
  }
  return info;
}

function parseEnhanced(payload: Buffer): VideoTagInfo {
  const r = new ByteReader(payload, 'enhanced video tag header', 'flv');
  const b0 = r.u8();
  const frameType = (b0 >>> 4) & 0x07;
  // ModEx prefixes (E-RTMP v2) only modify timing; skip them to reach the real packet type.
  const exType = skipModEx(r, b0 & 0x0f);
  const info: VideoTagInfo = {
    codec: 'unknown',
    enhanced: true,
    fourcc: null,
    frameType,
    // Metadata tags ignore the frame type by definition, so they never count as key frames.
    keyframe: exType !== EX_METADATA && isKeyFrameType(frameType),
    packetType: PACKET_TYPES[exType] ?? 'other',
    dataOffset: 1,
    compositionTime: 0,
  };
  if (exType !== EX_METADATA && frameType === VIDEO_FRAME_COMMAND) {
    // No FourCC follows a command: the spec reads the UI8 and stops processing the body.
    info.command = r.u8();
    info.packetType = 'other';
    info.dataOffset = r.pos;
    return info;
  }
  if (exType === EX_MULTITRACK) {
    parseMultitrack(r, info);
    return info;
  }
  if (PACKET_TYPES[exType] === undefined) {
    // Reserved packet types give no guarantee that a FourCC follows; report without guessing.
    info.dataOffset = r.pos;
    return info;
  }
  setFourcc(info, r.bytes(4));
  if (exType === EX_CODED_FRAMES && (info.codec === 'avc' || info.codec === 'hevc')) {
    info.compositionTime = r.s24();
  }
  info.dataOffset = r.pos;
  return info;
}

/** Identifies the (first) track's codec and where its data starts; the body itself stays opaque. */
function parseMultitrack(r: ByteReader, info: VideoTagInfo): void {
  const b = r.u8();
  const multitrackType = b >>> 4;
  const trackType = b & 0x0f;
  info.multitrackType = multitrackType;
  info.trackPacketType = trackType === EX_MULTITRACK ? 'other' : (PACKET_TYPES[trackType] ?? 'other');
  if (multitrackType > MULTITRACK_MANY_CODECS) {
    info.dataOffset = r.pos;
    return;
  }
  // Shared FourCC in the header, or the first track's own FourCC: either way the next 4 bytes.
  setFourcc(info, r.bytes(4));
  info.trackId = r.u8();
  if (multitrackType !== MULTITRACK_ONE_TRACK) r.skip(3); // sizeOfVideoTrack
  if (trackType === EX_CODED_FRAMES && (info.codec === 'avc' || info.codec === 'hevc')) {
    info.compositionTime = r.s24();
  }
  info.dataOffset = r.pos;
}

function setFourcc(info: VideoTagInfo, raw: Buffer): void {
  const fourcc = raw.toString('latin1');
  info.fourcc = fourcc;
  info.codec = FOURCC_CODECS[fourcc] ?? 'unknown';
}

function isKeyFrameType(frameType: number): boolean {
  return frameType === VIDEO_FRAME_KEY || frameType === VIDEO_FRAME_GENERATED_KEY;
}
