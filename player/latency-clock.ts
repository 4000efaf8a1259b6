// True latency: from the moment the gateway received a frame from the publisher to the moment
// that frame is on screen. Three pieces, each learnt separately:
//   - the clock offset to the gateway, NTP-style from `api/time` round trips (the sample with the
//     shortest round trip wins, since its midpoint is the least uncertain);
//   - the anchor from `api/time?stream=`: a timeline timestamp and the gateway's wall time at
//     which that message arrived, so any timestamp maps to its receive time;
//   - the timeline start from the gateway's `onCuePoint` (name 'gateway-timeline'): mpegts.js
//     rebases timestamps so that the first frame plays at media time 0, and the cue says which
//     timeline timestamp that first frame had. Media time t is then timeline start + t.
// All client times here are wall milliseconds on the page's high-resolution clock
// (performance.timeOrigin + performance.now()), the clock requestVideoFrameCallback reports in.

/** The cue's name (server/hub/browser-feed.ts). */
export const TIMELINE_CUE_NAME = 'gateway-timeline';

export interface StreamAnchor {
  /** timeline timestamp of the gateway's newest audio/video message, ms */
  timestamp: number;
  /** when the gateway received it, gateway wall clock ms */
  receivedAt: number;
}

export interface TimeAnswer {
  now: number;
  stream?: StreamAnchor | null;
}

/** The offset to add to a client time to get the gateway's time, from the best of the samples. */
export class ClockOffset {
  #best: { rtt: number; offset: number } | null = null;

  /** One round trip: sent at t0, answered with the gateway's `serverNow`, back at t1 (client ms). */
  add(t0: number, serverNow: number, t1: number): void {
    const rtt = t1 - t0;
    if (!(rtt >= 0) || !Number.isFinite(serverNow)) return;
    if (this.#best === null || rtt <= this.#best.rtt) this.#best = { rtt, offset: serverNow - (t0 + t1) / 2 };
  }

  /** Allow a better sample to replace an old one after the clocks may have drifted (periodic re-sync). */
  age(byMs: number): void {
    if (this.#best !== null) this.#best.rtt += byMs;
  }

  get offset(): number | null {
    return this.#best?.offset ?? null;
  }

  /** The round trip of the sample in use: the offset is good to about half of it. */
  get rtt(): number | null {
    return this.#best?.rtt ?? null;
  }
}

/** The `start` of a timeline cue in mpegts.js's SCRIPTDATA_ARRIVED payload, or null. */
export function timelineStartOf(scriptData: unknown): number | null {
  const cue = (scriptData as { onCuePoint?: { name?: unknown; parameters?: { start?: unknown } } } | null)?.onCuePoint;
  if (cue === undefined || cue === null || cue.name !== TIMELINE_CUE_NAME) return null;
  const start = cue.parameters?.start;
  return typeof start === 'number' && Number.isFinite(start) ? start : null;
}

/**
 * No frame presented for this long (ms of presentation time) is a break: a publisher that left and
 * came back, a stalled network, a hidden page. The anchor is not trusted across one (see presented()).
 */
export const PRESENTATION_BREAK_MS = 1000;

export class LatencyClock {
  readonly clock = new ClockOffset();
  #anchor: StreamAnchor | null = null;
  #start: number | null = null;
  #latest: number | null = null;
  #lastPresentedAt: number | null = null;
  /** the anchor predates a break in the presented frames: wait for a new one (TimeSync fetches it at once) */
  #anchorStale = false;

  /** A new connection: its media times start from a new timeline position. */
  reset(): void {
    this.#start = null;
    this.#latest = null;
    this.#lastPresentedAt = null;
  }

  setTimelineStart(start: number): void {
    this.#start = start;
  }

  setAnchor(anchor: StreamAnchor): void {
    this.#anchor = anchor;
    this.#anchorStale = false;
  }

  /** The anchor must be renewed before more frames are measured. */
  get anchorStale(): boolean {
    return this.#anchorStale;
  }

  /** The timeline timestamp (ms) of media time `mediaTime` (s), once the cue has arrived. */
  timelineOf(mediaTime: number): number | null {
    return this.#start === null ? null : this.#start + mediaTime * 1000;
  }

  /** Seconds from the gateway's receipt of the frame at `mediaTime` to `presentedAt` (client ms); null while unknown. */
  latencyOf(mediaTime: number, presentedAt: number): number | null {
    const ts = this.timelineOf(mediaTime);
    const offset = this.clock.offset;
    if (ts === null || offset === null || this.#anchor === null) return null;
    const receivedAt = this.#anchor.receivedAt + (ts - this.#anchor.timestamp);
    return (presentedAt + offset - receivedAt) / 1000;
  }

  /**
   * Record a presented frame; returns (and keeps) its latency. The anchor says when the gateway got
   * each timestamp only while the timeline keeps pace with the wall clock; a publisher that left and
   * returned (the timeline goes on where it stopped, behind the wall clock by the absence) or one
   * that stalled and caught up breaks that. Frames after a break in presentation are therefore not
   * measured until a new anchor arrives, rather than read high by the break for up to a period.
   */
  presented(mediaTime: number, presentedAt: number): number | null {
    const last = this.#lastPresentedAt;
    this.#lastPresentedAt = presentedAt;
    if (last !== null && presentedAt - last > PRESENTATION_BREAK_MS) this.#anchorStale = true;
    if (this.#anchorStale) return null;
    const l = this.latencyOf(mediaTime, presentedAt);
    if (l !== null && Number.isFinite(l)) this.#latest = l;
    return l;
  }

  /** The latency of the last presented frame, seconds (null while unknown). */
  get latest(): number | null {
    return this.#latest;
  }

  /** Media time (s) of the newest frame the gateway has at client time `at`, for the join; null while unknown. */
  liveEdgeMediaTime(at: number): number | null {
    const offset = this.clock.offset;
    if (this.#start === null || offset === null || this.#anchor === null) return null;
    const gatewayNow = at + offset;
    return (this.#anchor.timestamp + (gatewayNow - this.#anchor.receivedAt) - this.#start) / 1000;
  }
}
