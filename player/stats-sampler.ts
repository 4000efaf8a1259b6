// Playback figures from the video element: decoded and dropped frames that keep counting across
// the resets some engines make (WebKit zeroes getVideoPlaybackQuality() on every seek and
// playbackRate change), a frame rate measured over windows of at least two seconds, and the
// received bitrate mpegts.js reports.

export interface FrameCounts {
  total: number;
  dropped: number;
}

interface QualitySource {
  getVideoPlaybackQuality?: () => { totalVideoFrames: number; droppedVideoFrames: number };
  webkitDecodedFrameCount?: number;
  webkitDroppedFrameCount?: number;
}

/** The element's own counters, as it reports them (they may fall back to 0 at any time). */
export function rawFrameCounts(video: QualitySource): FrameCounts {
  if (typeof video.getVideoPlaybackQuality === 'function') {
    const q = video.getVideoPlaybackQuality();
    return { total: q.totalVideoFrames || 0, dropped: q.droppedVideoFrames || 0 };
  }
  return { total: video.webkitDecodedFrameCount || 0, dropped: video.webkitDroppedFrameCount || 0 };
}

/** Frame counts that only grow: a counter that went down was reset, so what it had is kept. */
export class FrameAccumulator {
  #base: FrameCounts = { total: 0, dropped: 0 };
  #last: FrameCounts = { total: 0, dropped: 0 };

  read(raw: FrameCounts): FrameCounts {
    if (raw.total < this.#last.total) this.#base.total += this.#last.total;
    if (raw.dropped < this.#last.dropped) this.#base.dropped += this.#last.dropped;
    this.#last = { ...raw };
    return { total: this.#base.total + raw.total, dropped: this.#base.dropped + raw.dropped };
  }
}

/** Minimum window of a frame-rate measurement, in milliseconds. */
export const FPS_WINDOW_MS = 2000;

/** Frames per second over windows of at least FPS_WINDOW_MS, from a growing frame count. */
export class FpsSampler {
  #t = 0;
  #frames = 0;
  #fps = 0;

  /** Start over (a new connection): measure from here; the figure falls to 0 until then. */
  restart(now: number, frames: number): void {
    this.#t = now;
    this.#frames = frames;
    this.#fps = 0;
  }

  /** Skip this moment (the start-up burst, a paused video): the next window starts here. */
  hold(now: number, frames: number): void {
    this.#t = now;
    this.#frames = frames;
  }

  sample(now: number, frames: number): void {
    const dt = now - this.#t;
    if (frames < this.#frames) {
      this.hold(now, frames);
    } else if (dt >= FPS_WINDOW_MS) {
      this.#fps = (frames - this.#frames) / (dt / 1000);
      this.hold(now, frames);
    }
  }

  /** frames per second, one decimal */
  get fps(): number {
    return Math.round(this.#fps * 10) / 10;
  }
}

/** Bits per second from mpegts.js's STATISTICS_INFO `speed` (KiB/s over the last second). */
export function bitrateFromSpeed(speedKiBps: number | undefined): number | null {
  return typeof speedKiBps === 'number' && Number.isFinite(speedKiBps) ? Math.round(speedKiBps * 1024 * 8) : null;
}
