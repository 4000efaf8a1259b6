// The live player's latency work in one place: the clock (latency-clock.ts) fed by api/time
// (time-sync.ts), every presented frame read through requestVideoFrameCallback (or, without it,
// the playhead at each tick), and the join (live-join.ts): playback held until the GOP burst is
// in, then started once near its end.
import { LatencyClock, timelineStartOf } from './latency-clock.js';
import { joinPosition } from './live-join.js';
import { bufferedEnd, now } from './media-element.js';
import { TimeSync, timeUrl, wallNow } from './time-sync.js';

export class LatencyWatch {
  readonly clock = new LatencyClock();
  readonly #sync: TimeSync;
  readonly #video: HTMLVideoElement;
  /** the join needs presented frames; without requestVideoFrameCallback playback starts at once */
  readonly #frameCallbacks: boolean;
  #frameCallback = 0;
  #joining = false;
  #joinTimer: ReturnType<typeof setInterval> | undefined;
  #startedAt = 0;
  #behindLive = false;

  /**
   * `start` plays from the given position (the join is over); `target` is the buffer to start with;
   * `connected` says whether the player's connection is current.
   */
  constructor(
    video: HTMLVideoElement, streamsApiUrl: string, stream: string,
    readonly target: number, readonly start: (at: number) => void, readonly connected: () => boolean,
  ) {
    this.#video = video;
    this.#sync = new TimeSync(timeUrl(streamsApiUrl, stream), this.clock);
    this.#frameCallbacks = typeof (video as Partial<HTMLVideoElement>).requestVideoFrameCallback === 'function';
    if (this.#frameCallbacks) this.#frameCallback = video.requestVideoFrameCallback(this.#onFrame);
  }

  /** A new connection. Returns whether playback must wait for the join (the caller then does not play). */
  connect(behindLive: boolean): boolean {
    this.clock.reset();
    this.#sync.restart();
    this.#sync.tick();
    this.#behindLive = behindLive;
    this.#startedAt = now();
    this.#joining = this.#frameCallbacks && !behindLive;
    this.#video.autoplay = !this.#joining;
    clearInterval(this.#joinTimer);
    if (this.#joining) this.#joinTimer = setInterval(() => this.checkJoin(), 40);
    return this.#joining;
  }

  /** mpegts.js script data: the gateway's timeline cue. */
  scriptData(d: unknown): void {
    const start = timelineStartOf(d);
    if (start !== null) this.clock.setTimelineStart(start);
  }

  /** The player's tick, while connected. */
  tick(): void {
    this.#sync.tick();
    this.checkJoin();
    if (!this.#frameCallbacks && !this.#video.paused && !this.#behindLive) this.clock.presented(this.#video.currentTime || 0, wallNow());
  }

  /** While joining: start once the burst is in (or waited for long enough), `target` before its end. */
  checkJoin(): void {
    if (!this.#joining) return clearInterval(this.#joinTimer);
    if (!this.connected()) return;
    const b = this.#video.buffered;
    const start = b && b.length ? b.start(b.length - 1) : 0;
    const at = joinPosition({
      start, end: bufferedEnd(this.#video), liveEdge: this.clock.liveEdgeMediaTime(wallNow()), waitedMs: now() - this.#startedAt,
    }, this.target);
    if (at === null) return;
    this.#joining = false;
    clearInterval(this.#joinTimer);
    this.#video.autoplay = true;
    this.start(at);
  }

  /** Seconds, or null while unknown or behind live. */
  get trueLatency(): number | null {
    const l = this.clock.latest;
    return this.#behindLive || l === null ? null : Math.round(l * 1000) / 1000;
  }

  destroy(): void {
    clearInterval(this.#joinTimer);
    this.#sync.cancel();
    if (this.#frameCallbacks) this.#video.cancelVideoFrameCallback(this.#frameCallback);
  }

  #onFrame = (_now: number, meta: VideoFrameCallbackMetadata): void => {
    this.#frameCallback = this.#video.requestVideoFrameCallback(this.#onFrame);
    if (!this.#behindLive) this.clock.presented(meta.mediaTime, performance.timeOrigin + meta.expectedDisplayTime);
  };
}
