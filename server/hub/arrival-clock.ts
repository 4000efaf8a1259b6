// When the gateway received each timestamp of a stream's timeline, as one line: the newest
// timestamp, and the receive time it would have had if it had come as early as the least delayed
// message of the last second or two. A publisher's messages arrive with jitter (its encoder under
// load, its network, this process's own event loop); taking the line through the newest message
// alone would carry that one message's delay into everything derived from it, and the player's
// true latency (docs/web-player.md) would read low by it.

/** A point of a stream's arrival line: timeline `timestamp` was received at `receivedAt` (wall clock ms). */
export interface ArrivalAnchor {
  timestamp: number;
  receivedAt: number;
}

/** Each bucket of the sliding minimum; the minimum spans the current and the previous bucket. */
const BUCKET_MS = 1000;
/** A message this much later than the line is a break (a publisher back after a pause), not jitter. */
const BREAK_MS = 1000;

export class ArrivalClock {
  #current = Infinity;
  #previous = Infinity;
  #bucketStart = -Infinity;
  #newest = 0;
  #seen = false;
  /** messages noted so far: a caller tells whether the message it just handed on stood on the line */
  noted = 0;

  /** A message of the timeline at `timestamp` arrived at `receivedAt` (wall clock ms). */
  note(timestamp: number, receivedAt: number): void {
    const lag = receivedAt - timestamp;
    if (receivedAt - this.#bucketStart >= BUCKET_MS) {
      this.#previous = this.#current;
      this.#current = Infinity;
      this.#bucketStart = receivedAt;
    }
    if (lag - this.#lag > BREAK_MS) {
      this.#previous = Infinity;
      this.#current = Infinity;
    }
    if (lag < this.#current) this.#current = lag;
    this.#newest = timestamp;
    this.#seen = true;
    this.noted++;
  }

  get #lag(): number {
    return Math.min(this.#current, this.#previous);
  }

  /** The newest timestamp received (0 before any). */
  get timestamp(): number {
    return this.#newest;
  }

  /** When the newest timestamp would have arrived on the line (0 before any message). */
  get receivedAt(): number {
    return this.#seen ? this.#newest + this.#lag : 0;
  }
}
