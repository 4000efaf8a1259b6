// The clips' shapes and their encoding: ffmpeg makes each elementary stream once per machine (cached).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync } from 'node:fs';
import path from 'node:path';
import { CACHE_DIR } from '../ffmpeg.js';

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

export function cached(name: string, args: (out: string) => string[]): string {
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
