// Audio tag body header: FLV spec v10.1 §E.4.2.1 AUDIODATA (legacy SoundFormat/Rate/Size/Type,
// AACPacketType) and Enhanced RTMP v2 "Enhanced Audio" ExAudioTagHeader (FourCC, ModEx, Multitrack).
import { ProtocolError } from '../errors.js';
import { ByteReader } from './bits.js';
import { skipModEx } from './enhanced-header.js';

export type AudioCodec =
  | 'aac'
  | 'mp3'
  | 'opus'
  | 'flac'
  | 'ac3'
  | 'eac3'
  | 'pcm'
  | 'nellymoser'
  | 'speex'
  | 'g711a'
  | 'g711u'
  | 'unknown';

export type AudioPacketType =
  | 'sequence-start'
  | 'coded-frames'
  | 'sequence-end'
  | 'multichannel-config'
  | 'multitrack'
  | 'other';

export interface AudioTagInfo {
  codec: AudioCodec;
  enhanced: boolean;
  fourcc: string | null;
  packetType: AudioPacketType;
  dataOffset: number;
  /** Legacy SoundFormat (0..15); absent for enhanced tags. */
  soundFormat?: number;
  /**
   * Legacy header fields, in Hz / bits / stereo. For AAC the spec fixes them at 44100/16/stereo,
   * so the real values must come from the AudioSpecificConfig.
   */
  soundRate?: number;
  soundSize?: number;
  stereo?: boolean;
  /** For packetType 'multitrack': AvMultitrackType (0 one track, 1 many tracks, 2 many tracks many codecs). */
  multitrackType?: number;
  /** For packetType 'multitrack': the packet type shared by the tracks in this message. */
  trackPacketType?: AudioPacketType;
  /** For packetType 'multitrack': the id of the first track in the message. */
  trackId?: number;
}

export const SOUND_FORMAT_EX_HEADER = 9;
export const SOUND_FORMAT_AAC = 10;

const LEGACY_CODECS: Record<number, AudioCodec> = {
  0: 'pcm', // platform-endian linear PCM
  2: 'mp3',
  3: 'pcm', // little-endian linear PCM
  4: 'nellymoser', // 16 kHz mono
  5: 'nellymoser', // 8 kHz mono
  6: 'nellymoser',
  7: 'g711a',
  8: 'g711u',
  10: 'aac',
  11: 'speex',
  14: 'mp3', // MP3 8 kHz
};

/** SoundRate index → Hz; index 0 is "5.5 kHz", i.e. 11025 / 2. */
const SOUND_RATES = [5512.5, 11025, 22050, 44100] as const;
/** Formats whose rate is fixed by the format itself, overriding the SoundRate bits. */
const FIXED_RATES: Record<number, number> = { 4: 16000, 5: 8000, 7: 8000, 8: 8000, 11: 16000, 14: 8000 };

const FOURCC_CODECS: Record<string, AudioCodec> = {
  Opus: 'opus',
  fLaC: 'flac',
  'ac-3': 'ac3',
  'ec-3': 'eac3',
  mp4a: 'aac',
  '.mp3': 'mp3',
};

const PACKET_TYPES: Record<number, AudioPacketType> = {
  0: 'sequence-start',
  1: 'coded-frames',
  2: 'sequence-end',
  4: 'multichannel-config',
  5: 'multitrack',
};
const EX_MULTITRACK = 5;
const MULTITRACK_ONE_TRACK = 0;
const MULTITRACK_MANY_CODECS = 2;

export function parseAudioTagHeader(payload: Buffer): AudioTagInfo {
  if (payload.length === 0) throw new ProtocolError('flv', 'empty audio tag');
  const format = payload[0]! >>> 4;
  return format === SOUND_FORMAT_EX_HEADER ? parseEnhanced(payload) : parseLegacy(payload);
}

function parseLegacy(payload: Buffer): AudioTagInfo {
  const b0 = payload[0]!;
  const format = b0 >>> 4;
  const info: AudioTagInfo = {
    codec: LEGACY_CODECS[format] ?? 'unknown',
    enhanced: false,
    fourcc: null,
    packetType: 'coded-frames',
    dataOffset: 1,
    soundFormat: format,
    soundRate: FIXED_RATES[format] ?? SOUND_RATES[(b0 >>> 2) & 0x03],
    soundSize: (b0 & 0x02) !== 0 ? 16 : 8,
    stereo: (b0 & 0x01) !== 0,
  };
  if (format === SOUND_FORMAT_AAC) {
    if (payload.length < 2) throw new ProtocolError('flv', 'AAC audio tag without AACPacketType');
    const aacPacketType = payload[1]!;
    info.packetType = aacPacketType === 0 ? 'sequence-start' : aacPacketType === 1 ? 'coded-frames' : 'other';
    info.dataOffset = 2;
  }
  return info;
}

function parseEnhanced(payload: Buffer): AudioTagInfo {
  const r = new ByteReader(payload, 'enhanced audio tag header', 'flv');
  const exType = skipModEx(r, r.u8() & 0x0f);
  const info: AudioTagInfo = {
    codec: 'unknown',
    enhanced: true,
    fourcc: null,
    packetType: PACKET_TYPES[exType] ?? 'other',
    dataOffset: 1,
  };
  if (exType === EX_MULTITRACK) {
    const b = r.u8();
    const multitrackType = b >>> 4;
    const trackType = b & 0x0f;
    info.multitrackType = multitrackType;
    info.trackPacketType = trackType === EX_MULTITRACK ? 'other' : (PACKET_TYPES[trackType] ?? 'other');
    if (multitrackType <= MULTITRACK_MANY_CODECS) {
      // Shared FourCC in the header, or the first track's own FourCC: either way the next 4 bytes.
      setFourcc(info, r.bytes(4));
      info.trackId = r.u8();
      if (multitrackType !== MULTITRACK_ONE_TRACK) r.skip(3); // sizeOfAudioTrack
    }
    info.dataOffset = r.pos;
    return info;
  }
  if (PACKET_TYPES[exType] === undefined) {
    // Reserved packet types give no guarantee that a FourCC follows; report without guessing.
    info.dataOffset = r.pos;
    return info;
  }
  setFourcc(info, r.bytes(4));
  info.dataOffset = r.pos;
  return info;
}

function setFourcc(info: AudioTagInfo, raw: Buffer): void {
  const fourcc = raw.toString('latin1');
  info.fourcc = fourcc;
  info.codec = FOURCC_CODECS[fourcc] ?? 'unknown';
}
