// A player's current state and message, and the page's onStatus, called when either changes.
// Both players report through one of these.

export interface StatusExtra {
  /** technical detail (error names, HTTP codes) */
  detail?: string;
  /** while reconnecting: when the next attempt starts */
  retryInMs?: number;
}

export class StatusBoard<S extends string, R> {
  state: S;
  message = '';
  detail = '';
  #listener: ((report: R) => void) | null;

  constructor(initial: S, listener: ((report: R) => void) | null | undefined, readonly report: (board: StatusBoard<S, R>, extra: StatusExtra) => R) {
    this.state = initial;
    this.#listener = typeof listener === 'function' ? listener : null;
  }

  /** Set state and message; the page hears of it when either changed. */
  set(state: S, message: string, extra: StatusExtra = {}): void {
    const changed = state !== this.state || message !== this.message;
    this.state = state;
    this.message = message;
    this.detail = extra.detail ?? '';
    const listener = this.#listener;
    if (!changed || !listener) return;
    const report = this.report(this, extra);
    try {
      listener(report);
    } catch (e) {
      setTimeout(() => { throw e; }); // the page's bug, reported without breaking the player
    }
  }

  /** No more reports (after destroy). */
  silence(): void {
    this.#listener = null;
  }
}
