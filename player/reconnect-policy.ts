// When to try again after a connection fails: exponential backoff from `minMs`, doubling up to
// `maxMs`, back to `minMs` once video plays again.

export class ReconnectPolicy {
  #delay: number;

  constructor(readonly minMs: number, readonly maxMs: number) {
    this.#delay = minMs;
  }

  /** The delay before the next attempt; each call doubles the one after it, up to maxMs. */
  next(): number {
    const d = this.#delay;
    this.#delay = Math.min(this.maxMs, this.#delay * 2);
    return d;
  }

  /** Video played (or the user asked for a reconnect): start again from minMs. */
  reset(): void {
    this.#delay = this.minMs;
  }

  /** A slow retry for failures a quick retry would not fix (e.g. an expired link). */
  slow(): number {
    return this.maxMs * 4;
  }
}
