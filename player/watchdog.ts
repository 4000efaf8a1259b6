// The live player's watchdog: has media arrived, and has the picture moved? Two clocks, because a
// stream can keep arriving while the picture stands still (an engine paused the element by
// itself, a decoder hung, the playhead sits before a gap): that is as dead to the viewer as a
// network that went quiet.
import type { LiveState } from './life-cycle.js';

export class ProgressWatch {
  #dataAt = 0;
  #playheadAt = 0;
  #end = 0;
  #time = 0;

  /** A new connection: nothing buffered yet, both clocks start now. */
  restart(now: number): void {
    this.#dataAt = this.#playheadAt = now;
    this.#end = this.#time = 0;
  }

  /** Look at the element: the end of its buffer and its playhead. */
  observe(now: number, bufferedEnd: number, currentTime: number): void {
    if (bufferedEnd > this.#end + 0.001) this.#dataAt = now;
    if (Math.abs(currentTime - this.#time) > 0.001) this.#playheadAt = now;
    this.#end = bufferedEnd;
    this.#time = currentTime;
  }

  get bufferedEnd(): number {
    return this.#end;
  }

  /** ms since media last arrived or the playhead last moved, whichever is later */
  sinceProgress(now: number): number {
    return now - Math.max(this.#dataAt, this.#playheadAt);
  }

  /** ms since the playhead last moved */
  sincePlayhead(now: number): number {
    return now - this.#playheadAt;
  }
}

export interface WatchdogInput {
  state: LiveState;
  now: number;
  connectStartedAt: number;
  watch: ProgressWatch;
  /** the page paused the element on purpose (its own controls, or the viewer's gesture) */
  pausedByPage: boolean;
  /** the page is in a background tab (browsers pause or throttle video there on purpose) */
  hidden: boolean;
}

export interface WatchdogLimits {
  connectTimeoutMs: number;
  stallTimeoutMs: number;
}

export type WatchdogVerdict = 'no-media' | 'stalled' | 'frozen' | null;

/** Whether the connection is dead: no media since connecting, no progress at all, or a frozen picture. */
export function watchdogVerdict(w: WatchdogInput, limits: WatchdogLimits): WatchdogVerdict {
  if (w.state === 'connecting') {
    return w.now - w.connectStartedAt > limits.connectTimeoutMs && w.watch.bufferedEnd === 0 ? 'no-media' : null;
  }
  // 'paused' is a pause the page did not ask for: it is watched like playing. A pause the page
  // asked for, and a background tab, are left alone (the player catches up when the tab is visible).
  if (w.state !== 'playing' && w.state !== 'buffering' && w.state !== 'paused') return null;
  if (w.hidden || w.pausedByPage) return null;
  if (w.watch.sinceProgress(w.now) > limits.stallTimeoutMs) return 'stalled';
  if (w.watch.sincePlayhead(w.now) > limits.stallTimeoutMs) return 'frozen';
  return null;
}
