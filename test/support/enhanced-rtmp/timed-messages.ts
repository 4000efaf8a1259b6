// Timed E-RTMP audio/video messages made from elementary clips (elementary.ts), interleaved as a publisher sends them.
import type { OpusClip, VideoClip } from '../elementary.js';
import { VideoPacketType, AudioPacketType, FrameType, type VideoFourCc, exVideoBody, exAudioBody } from './bodies.js';

export interface TimedMessage {
  type: 8 | 9 | 18;
  timestamp: number;
  payload: Buffer;
}

export function videoFourCc(clip: VideoClip): VideoFourCc {
  return clip.codec === 'av1' ? 'av01' : 'hvc1';
}

export function videoSequenceStart(clip: VideoClip, timestamp = 0): TimedMessage {
  const payload = exVideoBody({ frameType: FrameType.Key, packetType: VideoPacketType.SequenceStart, fourcc: videoFourCc(clip), data: clip.config });
  return { type: 9, timestamp, payload };
}

export function videoSequenceEnd(clip: VideoClip, timestamp: number): TimedMessage {
  return { type: 9, timestamp, payload: exVideoBody({ frameType: FrameType.Key, packetType: VideoPacketType.SequenceEnd, fourcc: videoFourCc(clip) }) };
}

/**
 * The clip's frames as CodedFrames, shifted by offsetMs. For hvc1, `codedFramesX(i)` picks which
 * frames use CodedFramesX (no composition time) instead of CodedFrames with an SI24 0.
 */
export function videoFrameMessages(clip: VideoClip, opts: { offsetMs?: number; codedFramesX?: (i: number) => boolean } = {}): TimedMessage[] {
  const fourcc = videoFourCc(clip);
  const offset = opts.offsetMs ?? 0;
  return clip.frames.map((f, i) => {
    const x = fourcc === 'hvc1' && (opts.codedFramesX?.(i) ?? false);
    const payload = exVideoBody({
      frameType: f.keyframe ? FrameType.Key : FrameType.Inter,
      packetType: x ? VideoPacketType.CodedFramesX : VideoPacketType.CodedFrames,
      fourcc,
      data: f.data,
    });
    return { type: 9, timestamp: f.timestamp + offset, payload };
  });
}

export function opusSequenceStart(clip: OpusClip, timestamp = 0): TimedMessage {
  return { type: 8, timestamp, payload: exAudioBody(AudioPacketType.SequenceStart, 'Opus', clip.head) };
}

export function opusFrameMessages(clip: OpusClip, offsetMs = 0): TimedMessage[] {
  return clip.packets.map((p) => ({ type: 8, timestamp: p.timestamp + offsetMs, payload: exAudioBody(AudioPacketType.CodedFrames, 'Opus', p.data) }));
}

/** Merge by timestamp; at equal timestamps video goes first, and each list keeps its order. */
export function interleave(...lists: TimedMessage[][]): TimedMessage[] {
  const rank = (m: TimedMessage): number => (m.type === 9 ? 0 : m.type === 8 ? 1 : 2);
  return lists.flat().map((m, i) => ({ m, i })).sort((a, b) => a.m.timestamp - b.m.timestamp || rank(a.m) - rank(b.m) || a.i - b.i).map((x) => x.m);
}
