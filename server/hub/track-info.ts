// What the hub needs to know of each audio/video message: is it a sequence
// header (and what does it configure), a coded frame, a keyframe. A sequence
// header whose codec record does not parse still counts as a sequence header;
// only the API's codec details are then missing.
import { parseAacAudioSpecificConfig, type AudioConfig } from '../media/aac.js';
import { parseAc3Frame, parseDac3, parseDec3 } from '../media/ac3.js';
import { parseAudioTagHeader } from '../media/audio.js';
import { parseAvcDecoderConfig, type VideoConfig } from '../media/avc.js';
import { parseAv1CodecConfig } from '../media/av1.js';
import { parseHevcDecoderConfig } from '../media/hevc.js';
import { parseOpusHead } from '../media/opus.js';
import { parseVideoTagHeader } from '../media/video.js';
import { parseVp9CodecConfig, parseVp9FrameSize } from '../media/vp9.js';
import { ProtocolError } from '../errors.js';

export type VideoInfo = VideoConfig;
export type AudioInfo = AudioConfig;

export interface VideoClass {
  /** a frame a decoder consumes (not a sequence header, end, or metadata packet) */
  coded: boolean;
  keyframe: boolean;
  config?: VideoInfo;
  /** a multitrack sequence start: cached per track for the join sequence */
  trackConfig?: string;
  /** a multitrack sequence start of the default track: what it configures, for the API */
  defaultTrack?: VideoInfo;
  /** what the codec is, from any packet (for codecs that never send a sequence header) */
  codecName?: string;
  /** the coded size, for codecs whose configuration record lacks it (VP9: from each keyframe) */
  frameSize?: { width: number; height: number };
}

export interface AudioClass {
  config?: AudioInfo;
  trackConfig?: string;
  /** the codec and what the legacy header says of it, for codecs without a sequence header */
  seen?: AudioInfo;
}

const VIDEO_NAMES: Record<string, string> = {
  avc: 'H.264', hevc: 'H.265', av1: 'AV1', vp9: 'VP9', vp8: 'VP8', h263: 'Sorenson H.263',
  screen: 'Screen Video', screen2: 'Screen Video 2', vp6: 'VP6', vp6a: 'VP6 Alpha',
};
const AUDIO_NAMES: Record<string, string> = {
  aac: 'AAC', mp3: 'MP3', opus: 'Opus', flac: 'FLAC', ac3: 'AC-3', eac3: 'E-AC-3', pcm: 'PCM',
  nellymoser: 'Nellymoser', speex: 'Speex', g711a: 'G.711 A-law', g711u: 'G.711 mu-law',
};

/** E-RTMP v2: track 0 is a multitrack stream's default track. */
const DEFAULT_TRACK = 0;

function unparsed(codec: string): VideoInfo {
  return { codec, profile: '', level: 0, width: 0, height: 0 };
}

export function classifyVideo(body: Buffer): VideoClass {
  let h;
  try {
    h = parseVideoTagHeader(body);
  } catch (err) {
    if (err instanceof ProtocolError) return { coded: false, keyframe: false };
    throw err;
  }
  const name = VIDEO_NAMES[h.codec] ?? h.fourcc ?? 'unknown';
  if (h.packetType === 'sequence-start') {
    return { coded: false, keyframe: false, config: videoRecord(h.codec, body.subarray(h.dataOffset), name) };
  }
  if (h.packetType === 'multitrack' && h.trackPacketType === 'sequence-start') {
    const trackConfig = `video:${h.trackId ?? 0}`;
    if (h.trackId !== DEFAULT_TRACK) return { coded: false, keyframe: false, trackConfig };
    return { coded: false, keyframe: false, trackConfig, defaultTrack: videoRecord(h.codec, body.subarray(h.dataOffset), name) };
  }
  // Codecs without sequence headers (VP6, H.263) have no packet type; every frame is coded. A
  // multitrack message counts when it carries the default track (the one a single-track player
  // shows and the browser feed gives as plain packets), so a stream whose video comes only as
  // multitrack gets a GOP and becomes ready, while another track's keyframe (OBS sends track 0
  // plain and track 1 as multitrack) never restarts the GOP between track 0's keyframes.
  const coded = h.command === undefined && (
    h.packetType === 'multitrack' ? h.trackPacketType === 'coded-frames' && h.trackId === DEFAULT_TRACK
    : h.packetType === 'coded-frames' || h.packetType === 'other');
  if (!coded) return { coded, keyframe: false };
  if (h.codec === 'vp9' && h.keyframe) {
    const size = vp9FrameSize(body.subarray(h.dataOffset));
    if (size !== null) return { coded, keyframe: true, codecName: name, frameSize: size };
  }
  return { coded, keyframe: h.keyframe, codecName: name };
}

/** A decoder configuration record, parsed as far as its codec allows; never throws. */
function videoRecord(codec: string, record: Buffer, name: string): VideoInfo {
  try {
    return codec === 'avc' ? parseAvcDecoderConfig(record)
      : codec === 'hevc' ? parseHevcDecoderConfig(record)
      : codec === 'av1' ? parseAv1CodecConfig(record)
      : codec === 'vp9' ? parseVp9CodecConfig(record)
      : unparsed(name);
  } catch {
    return unparsed(name);
  }
}

function vp9FrameSize(frame: Buffer): { width: number; height: number } | null {
  try {
    return parseVp9FrameSize(frame);
  } catch {
    return null;
  }
}

export function classifyAudio(body: Buffer): AudioClass {
  let h;
  try {
    h = parseAudioTagHeader(body);
  } catch (err) {
    if (err instanceof ProtocolError) return {};
    throw err;
  }
  const name = AUDIO_NAMES[h.codec] ?? h.fourcc ?? 'unknown';
  if (h.packetType === 'multitrack' && h.trackPacketType === 'sequence-start') {
    return { trackConfig: `audio:${h.trackId ?? 0}` };
  }
  if (h.packetType !== 'sequence-start') {
    if (h.codec === 'ac3' || h.codec === 'eac3') {
      // E-RTMP sends these without a SequenceStart: rate and channels come from the syncframe.
      try {
        return { seen: parseAc3Frame(body.subarray(h.dataOffset)) };
      } catch {
        // fall through to what the tag header says
      }
    }
    return {
      seen: { codec: name, sampleRate: Math.round(h.soundRate ?? 0), channels: h.stereo === undefined ? 0 : h.stereo ? 2 : 1 },
    };
  }
  try {
    const record = body.subarray(h.dataOffset);
    if (h.codec === 'aac') return { config: parseAacAudioSpecificConfig(record) };
    if (h.codec === 'opus') return { config: parseOpusHead(record) };
    if (h.codec === 'ac3') return { config: parseDac3(record) };
    if (h.codec === 'eac3') return { config: parseDec3(record) };
  } catch {
    // fall through to the bare codec name
  }
  return { config: { codec: name, sampleRate: 0, channels: 0 } };
}
