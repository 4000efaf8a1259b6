// The bench's source: a 1280x720 30 fps H.264 High + AAC-LC FLV of about 2.7 Mbit/s with a 2 s GOP,
// encoded once with ffmpeg into bench/.cache/ (git-ignored) and then replayed by the publisher.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import path from 'node:path';
import { FlvDemuxer, TAG_AUDIO, TAG_HEADER_BYTES, TAG_SCRIPT, TAG_TRAILER_BYTES, TAG_VIDEO, type FlvTag } from '../server/media/flv.js';
import { CACHE_DIR, payloadId } from './common.js';

export const SOURCE = {
  width: 1280,
  height: 720,
  fps: 30,
  gopFrames: 60,
  seconds: 20,
  videoKbps: 2550,
  audioKbps: 128,
} as const;

export const SOURCE_NAME = `bench-${SOURCE.width}x${SOURCE.height}-${SOURCE.fps}fps-g${SOURCE.gopFrames}-${SOURCE.videoKbps}k-aac-${SOURCE.seconds}s.flv`;

/** ffmpeg arguments that make the source (after `-y`, before the output path). */
export function sourceArgs(): string[] {
  const s = SOURCE;
  return [
    '-hide_banner', '-loglevel', 'error', '-y',
    // Light temporal noise keeps x264 busy enough to really spend the bit budget on a synthetic pattern.
    '-f', 'lavfi', '-i', `testsrc2=size=${s.width}x${s.height}:rate=${s.fps},noise=alls=12:allf=t`,
    '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=44100',
    '-t', String(s.seconds),
    '-c:v', 'libx264', '-preset', 'veryfast', '-profile:v', 'high', '-pix_fmt', 'yuv420p',
    '-g', String(s.gopFrames), '-keyint_min', String(s.gopFrames), '-sc_threshold', '0', '-bf', '0',
    '-b:v', `${s.videoKbps}k`, '-maxrate', `${s.videoKbps}k`, '-bufsize', `${s.videoKbps / 2}k`,
    '-c:a', 'aac', '-b:a', `${s.audioKbps}k`, '-ac', '2',
    '-f', 'flv',
  ];
}

/** Encode the source once; later calls return the cached file. */
export function ensureSource(): string {
  const file = path.join(CACHE_DIR, SOURCE_NAME);
  if (existsSync(file)) return file;
  mkdirSync(CACHE_DIR, { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  process.stderr.write(`bench: encoding the source once with ffmpeg -> ${path.relative(process.cwd(), file)}\n`);
  const r = spawnSync('ffmpeg', [...sourceArgs(), tmp], { encoding: 'utf8' });
  if (r.error !== undefined) throw new Error(`ffmpeg could not be run (is it installed?): ${r.error.message}`);
  if (r.status !== 0) throw new Error(`ffmpeg failed to encode the bench source: ${r.stderr}`);
  renameSync(tmp, file);
  return file;
}

export interface SourceMedia {
  /** onMetaData script tag payload (AMF0 "onMetaData", {...}) */
  metadata: Buffer | null;
  videoConfig: FlvTag | null;
  audioConfig: FlvTag | null;
  /** coded audio/video frames in file order, timestamps relative to the first one */
  frames: FlvTag[];
  /** payload id per frame (video only, null for audio or a payload that repeats in the loop) */
  ids: (string | null)[];
  /** one loop of the file, ms */
  loopMs: number;
  /** FLV bytes a viewer receives per loop (tags with header and trailer) */
  bytesPerLoop: number;
  videoFrames: number;
}

export function isVideoConfig(t: FlvTag): boolean {
  // AVC (7) or enhanced-FLV header: AVCPacketType 0 is the sequence header.
  return t.type === TAG_VIDEO && t.payload.length >= 2 && (t.payload[0]! & 0x0f) === 7 && t.payload[1] === 0;
}

export function isAudioConfig(t: FlvTag): boolean {
  return t.type === TAG_AUDIO && t.payload.length >= 2 && t.payload[0]! >> 4 === 10 && t.payload[1] === 0;
}

/** A coded video frame (not a sequence header or end-of-sequence). */
export function isVideoFrame(t: Pick<FlvTag, 'type' | 'payload'>): boolean {
  return t.type === TAG_VIDEO && t.payload.length >= 2 && (t.payload[0]! & 0x0f) === 7 && t.payload[1] === 1;
}

export function loadSource(file: string): SourceMedia {
  const demux = new FlvDemuxer();
  const tags = demux.push(readFileSync(file));
  let metadata: Buffer | null = null;
  let videoConfig: FlvTag | null = null;
  let audioConfig: FlvTag | null = null;
  const frames: FlvTag[] = [];
  for (const t of tags) {
    if (t.type === TAG_SCRIPT) metadata ??= t.payload;
    else if (isVideoConfig(t)) videoConfig ??= t;
    else if (isAudioConfig(t)) audioConfig ??= t;
    else if (t.type === TAG_VIDEO || t.type === TAG_AUDIO) frames.push(t);
  }
  if (frames.length === 0) throw new Error(`${file}: no audio/video frames`);
  const base = frames[0]!.timestamp;
  for (const f of frames) f.timestamp -= base;
  const video = frames.filter((f) => f.type === TAG_VIDEO);
  if (video.length < 2) throw new Error(`${file}: fewer than two video frames`);
  const lastVideo = video[video.length - 1]!.timestamp;
  const loopMs = Math.round(lastVideo + lastVideo / (video.length - 1));
  // Video payload ids must be unique within a loop for the probes' matching to be unambiguous.
  const count = new Map<string, number>();
  const ids = frames.map((f) => (f.type === TAG_VIDEO ? payloadId(f.payload) : null));
  for (const id of ids) if (id !== null) count.set(id, (count.get(id) ?? 0) + 1);
  const unique = ids.map((id) => (id !== null && count.get(id) === 1 ? id : null));
  let bytesPerLoop = 0;
  for (const f of frames) bytesPerLoop += TAG_HEADER_BYTES + f.payload.length + TAG_TRAILER_BYTES;
  return { metadata, videoConfig, audioConfig, frames, ids: unique, loopMs, bytesPerLoop, videoFrames: video.length };
}
