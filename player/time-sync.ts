// Feeds a LatencyClock from the gateway's `api/time?stream=APP/KEY`: a burst of round trips when a
// connection starts (the best one sets the offset), then one every few seconds, which also renews
// the stream's anchor, and one within a second when the clock says its anchor went stale. A failed
// request only leaves the previous figures in place.
import type { LatencyClock, TimeAnswer } from './latency-clock.js';

/** Samples per burst, and the pause between re-syncs. */
const BURST = 4;
const PERIOD_MS = 5000;
/** While the anchor is stale (and the stream perhaps not live yet), ask at most this often. */
const STALE_RETRY_MS = 1000;

/** Wall-clock milliseconds on the page's high-resolution clock (what requestVideoFrameCallback uses). */
export function wallNow(): number {
  return typeof performance !== 'undefined' && typeof performance.timeOrigin === 'number'
    ? performance.timeOrigin + performance.now()
    : Date.now();
}

export function timeUrl(streamsApiUrl: string, stream: string): string {
  const u = new URL('time', streamsApiUrl);
  u.searchParams.set('stream', stream);
  return u.href;
}

export class TimeSync {
  #last = -Infinity;
  #busy = false;
  #generation = 0;

  constructor(readonly url: string, readonly clock: LatencyClock) {}

  /** A new connection: re-sync at once. */
  restart(): void {
    this.#generation++;
    this.#busy = false;
    this.#last = -Infinity;
  }

  /** Called on the player's tick: samples when due. */
  tick(): void {
    if (this.#busy || wallNow() - this.#last < (this.clock.anchorStale ? STALE_RETRY_MS : PERIOD_MS)) return;
    void this.#sample(this.#last === -Infinity ? BURST : 1);
  }

  cancel(): void {
    this.#generation++;
  }

  async #sample(n: number): Promise<void> {
    const gen = this.#generation;
    this.#busy = true;
    this.#last = wallNow();
    // Older samples lose a little weight each period, so the offset follows slow clock drift.
    this.clock.clock.age(n > 1 ? 0 : 2);
    try {
      for (let i = 0; i < n && gen === this.#generation; i++) {
        const t0 = wallNow();
        const res = await fetch(this.url, { cache: 'no-store' });
        const body = (await res.json()) as TimeAnswer;
        const t1 = wallNow();
        if (gen !== this.#generation) return;
        this.clock.clock.add(t0, body.now, t1);
        if (body.stream) this.clock.setAnchor(body.stream);
      }
    } catch {
      // the next tick tries again
    } finally {
      if (gen === this.#generation) this.#busy = false;
    }
  }
}
