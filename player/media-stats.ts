// The playback figures both players report, read from the element and mpegts.js's media info.
import type { MpegtsMediaInfo } from './mpegts-api.js';
import { FpsSampler, FrameAccumulator, rawFrameCounts, type FrameCounts } from './stats-sampler.js';

export interface MediaStats {
  /** frames decoded since the player started (kept across engine counter resets) */
  decodedFrames: number;
  droppedFrames: number;
  currentTime: number;
  videoWidth: number;
  videoHeight: number;
  /** measured frames per second (one decimal) */
  fps: number;
  /** frame rate from the stream's metadata */
  metadataFps: number | null;
  videoCodec: string | null;
  audioCodec: string | null;
  hasAudio: boolean | null;
  hasVideo: boolean | null;
  playbackRate: number;
  paused: boolean;
  muted: boolean;
}

/** Frame counts and frame rate of one element, for the life of one player. */
export class FrameMeter {
  readonly #frames = new FrameAccumulator();
  readonly #fps = new FpsSampler();

  constructor(readonly video: HTMLVideoElement) {}

  counts(): FrameCounts {
    return this.#frames.read(rawFrameCounts(this.video));
  }

  /** A new connection: the frame rate is measured afresh. */
  restart(now: number): void {
    this.#fps.restart(now, this.counts().total);
  }

  /** Every tick; `skip` for moments that say nothing about the rate (paused, start-up burst). */
  tick(now: number, skip: boolean): void {
    const total = this.counts().total;
    if (skip) this.#fps.hold(now, total);
    else this.#fps.sample(now, total);
  }

  get fps(): number {
    return this.#fps.fps;
  }
}

export function mediaStats(video: HTMLVideoElement, meter: FrameMeter, info: MpegtsMediaInfo | null): MediaStats {
  const q = meter.counts();
  const mi = info ?? {};
  return {
    decodedFrames: q.total,
    droppedFrames: q.dropped,
    currentTime: video.currentTime || 0,
    videoWidth: video.videoWidth || 0,
    videoHeight: video.videoHeight || 0,
    fps: meter.fps,
    metadataFps: mi.fps || null,
    videoCodec: mi.videoCodec || null,
    audioCodec: mi.audioCodec || null,
    hasAudio: mi.hasAudio != null ? !!mi.hasAudio : null,
    hasVideo: mi.hasVideo != null ? !!mi.hasVideo : null,
    playbackRate: video.playbackRate,
    paused: video.paused,
    muted: video.muted,
  };
}
