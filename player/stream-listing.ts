// Is the stream published? `api/streams` tells "the publisher stopped" from "the network
// dropped". One check at a time: a new one, or cancel(), aborts the one in flight.
import { normalizeStream } from './urls.js';

/** true: listed; false: not listed; null: the API could not be used (no fetch, error, timeout) */
export type Listed = boolean | null;

export class ListingCheck {
  #seq = 0;
  #abort: AbortController | null = null;
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(readonly apiUrl: string, readonly stream: string, readonly timeoutMs = 5000) {}

  /** Ask the API; `done` runs once, unless the check is cancelled or replaced first. */
  run(done: (listed: Listed) => void): void {
    this.cancel();
    if (typeof fetch !== 'function') {
      done(null);
      return;
    }
    const seq = ++this.#seq;
    const ctrl = new AbortController();
    this.#abort = ctrl;
    this.#timer = setTimeout(() => ctrl.abort(), this.timeoutMs);
    const finish = (listed: Listed): void => {
      if (seq !== this.#seq) return;
      this.#clear();
      done(listed);
    };
    fetch(this.apiUrl, { cache: 'no-store', signal: ctrl.signal, credentials: 'same-origin' })
      .then((r) => {
        if (!r.ok) throw new Error(`HTTP ${r.status}`);
        return r.json() as Promise<{ streams?: { name?: string }[] } | null>;
      })
      .then((data) => {
        const list = data?.streams ?? [];
        finish(list.some((s) => s && normalizeStream(s.name) === this.stream));
      }, () => finish(null)); // a cancelled check never gets here: its sequence number is stale
  }

  /** Drop the check in flight, if any: its answer will not be delivered. */
  cancel(): void {
    this.#seq++;
    const ctrl = this.#abort;
    this.#clear();
    ctrl?.abort();
  }

  #clear(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#abort = null;
  }
}
