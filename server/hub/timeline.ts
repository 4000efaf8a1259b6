// One stream's timeline: maps each publisher's clock onto the timeline every
// viewer shares, so that one serialized tag serves them all.
//
// - The timeline starts at 0 at the first coded audio/video frame. Sequence
//   headers and other non-frame packets never anchor it nor cause a re-offset:
//   before the first frame they are stamped at their track's current position,
//   so a publisher whose headers say 0 while its frames start at 90 s still
//   starts at 0; later they keep their own time when it is plausible.
// - RTMP timestamps are 32-bit and wrap (every 49.7 days); the wrap is undone by
//   taking the 2^32 epoch nearest the previous frame.
// - Within a track timestamps never go backwards; small backward steps
//   (encoder jitter) are clamped to the track's last value.
// - A step far outside jitter is a discontinuity: backwards by more than
//   `backwardToleranceMs` (an encoder clock reset on the same connection, or
//   ffmpeg's FLV muxer wrapping its 31-bit timestamps at 2^31 ms), or forwards
//   by more than `forwardToleranceMs` beyond the wall-clock time since the
//   track's previous frame. The timeline is then re-offset so the stream goes
//   on one frame interval after where viewers are, as for a returning publisher.
// - The second track's first frame is no jump: publishers stamp audio and video
//   from unrelated clocks more often than one would think (hardware encoders;
//   ffmpeg given two inputs with `-itsoffset` or a filter shifting one of them,
//   whose muxer then holds one track back up to its 10 s interleave limit). The
//   offset between the tracks as stamped is what players sync on, so it is kept
//   when it is plausible (within the same tolerances, measured against the other
//   track's newest frame); a larger one is no sync anyone means, and the track
//   starts beside the other track's newest frame instead. Either way no warning.
//   Audio stamped from before the track's floor (the timeline's start, or where
//   a previous publisher left it) is dropped rather than clamped to a run of
//   equal timestamps; video is clamped, as its first frame is a keyframe.
export type TimelineTrack = 'audio' | 'video' | 'data';

/** What a message is to the timeline: a coded frame anchors and moves it, anything else only follows. */
export type TimelineRole = 'frame' | 'other';

export interface TimelineLimits {
  /** a backward step larger than this within a track is a discontinuity, not jitter */
  backwardToleranceMs: number;
  /** a forward step larger than the wall-clock gap plus this is a discontinuity */
  forwardToleranceMs: number;
}

export const DEFAULT_TIMELINE_LIMITS: TimelineLimits = { backwardToleranceMs: 1_000, forwardToleranceMs: 5_000 };

export interface Discontinuity {
  track: 'audio' | 'video';
  /** publisher timestamp minus the track's previous one: negative for a backward step */
  jumpMs: number;
  /** where the timeline goes on */
  resumeAt: number;
}

const WRAP = 2 ** 32;
const MAX_PENDING_JUMPS = 4;

interface FrameTrack {
  /** the publisher's last frame timestamp on this track, unwrapped (null: none from this publisher yet) */
  raw: number | null;
  /** wall-clock time that frame arrived */
  arrivedAt: number;
  /** timeline = publisher clock + offset for this track; it lags the stream's offset until its own jump arrives */
  offset: number | null;
  /** the last timeline timestamp given to this track */
  out: number;
  /** the last positive step of this track (its frame interval), used to resume smoothly */
  step: number;
  /** whether a frame of the current publisher went out on this track (until then audio from before `out` is dropped) */
  started: boolean;
  /** how far this track's offset moved at its own last discontinuity, to go back if that was one wild timestamp */
  shift: number;
  /** how far the other track's offset moved at its discontinuities this track has not made yet, newest last */
  pending: number[];
}

function frameTrack(): FrameTrack {
  return { raw: null, arrivedAt: 0, offset: null, out: 0, step: 0, started: false, shift: 0, pending: [] };
}

export class Timeline {
  readonly limits: TimelineLimits;
  /** discontinuities re-offset so far */
  discontinuities = 0;
  #now: () => number;
  #onDiscontinuity: (d: Discontinuity) => void;
  /** the offset of the publisher's current clock; null until the current publisher's first frame */
  #offset: number | null = null;
  /** the publisher's last frame timestamp on any track, unwrapped */
  #lastRaw: number | null = null;
  #lastArrival = 0;
  #started = false;
  #audio = frameTrack();
  #video = frameTrack();
  #dataOut = 0;

  constructor(
    limits: TimelineLimits = DEFAULT_TIMELINE_LIMITS,
    onDiscontinuity: (d: Discontinuity) => void = () => {},
    now: () => number = Date.now,
  ) {
    this.limits = limits;
    this.#onDiscontinuity = onDiscontinuity;
    this.#now = now;
  }

  /** A new publisher: its clock is unrelated, so it is rebased onto this timeline at its first frame. */
  restart(): void {
    this.#offset = null;
    this.#lastRaw = null;
    for (const t of [this.#audio, this.#video]) {
      t.raw = null;
      t.offset = null;
      t.started = false;
      t.shift = 0;
      t.pending = [];
    }
  }

  /** The last timeline timestamp of a track. */
  last(track: TimelineTrack): number {
    return track === 'data' ? this.#dataOut : this.#track(track).out;
  }

  /** A data message made by the gateway itself goes at the live position: the newest time any track reached. */
  injectData(): number {
    this.#dataOut = Math.max(this.#audio.out, this.#video.out, this.#dataOut);
    return this.#dataOut;
  }

  /**
   * Map one message's publisher timestamp (as RTMP delivers it, 0 to 2^32-1) onto the timeline.
   * null: an audio frame from before its track's start on the timeline, to drop.
   */
  map(track: 'video' | 'data', timestamp: number, role: TimelineRole): number;
  map(track: TimelineTrack, timestamp: number, role: TimelineRole): number | null;
  map(track: TimelineTrack, timestamp: number, role: TimelineRole): number | null {
    if (track === 'data') {
      if (this.#offset === null) return this.#dataOut;
      // on either track's clock, which may be far apart: past the live position by more than jitter, it goes there
      const live = Math.max(this.#audio.out, this.#video.out);
      const own = unwrap(timestamp, this.#lastRaw) + this.#offset;
      const ts = Math.max(own - live > this.limits.backwardToleranceMs ? live : own, this.#dataOut);
      this.#dataOut = ts;
      return ts;
    }
    const t = this.#track(track);
    const raw = unwrap(timestamp, t.raw ?? this.#lastRaw);
    const now = this.#now();
    if (role === 'other') {
      // Keeps its own time when that is plausible; never anchors, re-offsets or goes back.
      if (this.#offset === null) return t.out;
      // Before the track's first frame its clock may be unrelated to the other track's (see above).
      if (t.raw === null) return Math.max(t.out, this.#audio.out, this.#video.out);
      const ts = raw + (t.offset ?? this.#offset);
      if (ts > t.out && this.#within(ts - t.out, Math.max(0, now - t.arrivedAt))) t.out = ts;
      return t.out;
    }
    let offset: number;
    if (this.#offset === null) {
      offset = this.#offset = this.#resumeAt(t) - raw;
    } else if (t.raw === null) {
      offset = this.#startBeside(raw, this.#offset, Math.max(0, now - this.#lastArrival));
    } else {
      offset = t.offset ?? this.#offset;
      const ref = t.raw;
      const wallGap = Math.max(0, now - t.arrivedAt);
      if (!this.#within(raw - ref, wallGap)) offset = this.#follow(t, raw, offset, wallGap) ?? this.#reoffset(track, t, raw, raw - ref);
    }
    t.offset = offset;
    t.raw = raw;
    t.arrivedAt = now;
    this.#lastRaw = raw;
    this.#lastArrival = now;
    if (track === 'audio' && !t.started && raw + offset < t.out) return null;
    t.started = true;
    const ts = Math.max(raw + offset, t.out);
    if (ts > t.out && ts - t.out <= this.limits.backwardToleranceMs) t.step = ts - t.out;
    t.out = ts;
    this.#started = true;
    return ts;
  }

  #track(track: 'audio' | 'video'): FrameTrack {
    return track === 'audio' ? this.#audio : this.#video;
  }

  /** Is a step of `jump` ms, `wallGap` ms of wall-clock after the previous frame, ordinary? */
  #within(jump: number, wallGap: number): boolean {
    return jump >= -this.limits.backwardToleranceMs && jump <= wallGap + this.limits.forwardToleranceMs;
  }

  /**
   * The offset for a track's first frame when the other track is under way on `offset`: kept when the
   * start it gives is plausible next to the other track's newest frame, else the start is that frame.
   */
  #startBeside(raw: number, offset: number, wallGap: number): number {
    const live = Math.max(this.#audio.out, this.#video.out);
    return this.#within(raw + offset - live, wallGap) ? offset : live - raw;
  }

  /** One frame interval of `t` after the latest timestamp given to any track (0 for a new stream). */
  #resumeAt(t: FrameTrack): number {
    if (!this.#started) return 0;
    return Math.max(this.#audio.out, this.#video.out, this.#dataOut) + Math.max(1, t.step);
  }

  /**
   * The offset after a jump that is no new discontinuity, or null: the same jump the other track made
   * already (the same shift of this track's offset, whether the tracks share a clock or not), or the way
   * back to the clock this track left at its own last discontinuity while the other track is still on it
   * (one wild timestamp). Only those: any other offset that happens to look plausible is a coincidence.
   */
  #follow(t: FrameTrack, raw: number, offset: number, wallGap: number): number | null {
    const other = t === this.#audio ? this.#video : this.#audio;
    const plausible = (o: number): boolean => this.#within(raw + o - t.out, wallGap);
    // one of the other track's jumps at a time (a wrap and a reset can come one track at a time), newest first
    for (let i = t.pending.length - 1; i >= 0; i--) {
      if (!plausible(offset + t.pending[i]!)) continue;
      const followed = offset + t.pending[i]!;
      t.pending.splice(i, 1);
      return followed;
    }
    const all = t.pending.reduce((sum, shift) => sum + shift, 0);
    if (t.pending.length > 1 && plausible(offset + all)) {
      t.pending = [];
      return offset + all;
    }
    if (t.shift !== 0 && other.pending.at(-1) === t.shift && plausible(offset - t.shift)) {
      other.pending.pop();
      const back = offset - t.shift;
      t.shift = 0;
      return back;
    }
    return null;
  }

  #reoffset(track: 'audio' | 'video', t: FrameTrack, raw: number, jump: number): number {
    const resumeAt = this.#resumeAt(t);
    const other = t === this.#audio ? this.#video : this.#audio;
    const previous = t.offset ?? this.#offset ?? 0;
    this.#offset = resumeAt - raw;
    t.shift = this.#offset - previous;
    t.pending = [];
    other.pending.push(t.shift);
    // jumps the other track never makes (a reset of this track's clock alone) need not be kept for long
    if (other.pending.length > MAX_PENDING_JUMPS) other.pending.shift();
    this.discontinuities++;
    this.#onDiscontinuity({ track, jumpMs: jump, resumeAt });
    return this.#offset;
  }
}

/** The publisher clock past 2^32: the epoch nearest the reference frame. */
function unwrap(timestamp: number, reference: number | null): number {
  if (reference === null) return timestamp;
  return timestamp + Math.round((reference - timestamp) / WRAP) * WRAP;
}
