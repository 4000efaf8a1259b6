// What the live player does once a connection is gone: ask api/streams whether the stream is
// still published, then retry with backoff or wait offline, polling until it is back. It owns
// the one retry timer, so a reconnect, a destroy or a new failure cancels whatever was pending.
import type { LiveEvent } from './life-cycle.js';
import type { LiveTuning } from './live-types.js';
import { ReconnectPolicy } from './reconnect-policy.js';
import type { StatusExtra } from './status-board.js';
import type { ListingCheck } from './stream-listing.js';

/** What recovery needs from the player. */
export interface RecoveryHost {
  /** move by the life-cycle table; false when the event does not count now */
  go(event: LiveEvent, message: string, extra?: StatusExtra): boolean;
  /** the player is waiting offline (polls stop counting otherwise) */
  isOffline(): boolean;
  /** the player is gone: pending timers do nothing */
  isDestroyed(): boolean;
  connect(): void;
  /** stop listening to the current connection, keeping its last picture */
  quiet(): void;
  /** media had arrived on the lost connection ("connection lost" rather than "cannot connect") */
  hadMedia(): boolean;
}

export type LossKind = 'error' | 'ended' | 'stall';

const fmtSec = (ms: number): string => (ms / 1000).toFixed(ms < 1000 ? 1 : 0) + ' s';

export class LiveRecovery {
  readonly backoff: ReconnectPolicy;
  reconnects = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #retryAt = 0;

  constructor(private readonly host: RecoveryHost, private readonly tuning: LiveTuning,
    private readonly listing: ListingCheck, private readonly stream: string) {
    this.backoff = new ReconnectPolicy(tuning.retryMinMs, tuning.retryMaxMs);
  }

  /** ms until the pending attempt, or null */
  retryInMs(): number | null {
    return this.#retryAt ? Math.max(0, this.#retryAt - Date.now()) : null;
  }

  /** Cancel the pending attempt and any api/streams check in flight. */
  clear(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#retryAt = 0;
    this.listing.cancel();
  }

  schedule(fn: () => void, ms: number): void {
    this.clear();
    this.#retryAt = Date.now() + ms;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#retryAt = 0;
      if (!this.host.isDestroyed()) fn();
    }, ms);
  }

  /** Try again after the next backoff delay (no message: the caller said what failed). */
  retrySoon(): void {
    this.schedule(() => this.host.connect(), this.backoff.next());
  }

  /** Try again much later: for failures a quick retry would not fix (an expired link). */
  retrySlowly(): void {
    this.schedule(() => this.host.connect(), this.backoff.slow());
  }

  /** The connection is gone: find out whether the stream is still published, then retry or wait. */
  lost(kind: LossKind, why: string): void {
    const moved = kind === 'ended'
      ? this.host.go('stream-ended', 'Stream ended — checking whether it is still live…', { detail: why })
      : this.host.go('connection-lost', 'Reconnecting…', { detail: why });
    if (!moved) return;
    this.host.quiet();
    if (!this.tuning.checkApi) {
      this.#retryLater(kind, why);
      return;
    }
    this.listing.run((listed) => {
      if (listed === false) this.offline(kind === 'ended' ? 'ended' : 'not-live', why);
      else this.#retryLater(kind, why); // listed, or the API is unavailable: plain retry with backoff
    });
  }

  /** The stream is not published (api/streams, or a 404): wait offline and poll. */
  offline(reason: 'ended' | 'not-live', why: string): void {
    this.host.quiet();
    const msg = reason === 'ended'
      ? `The publisher stopped. Waiting for ${this.stream} to come back…`
      : `${this.stream} is not live right now. Waiting for it to start…`;
    if (this.host.go('not-live', msg, { detail: why })) this.#pollUntilLive();
  }

  #retryLater(kind: LossKind, why: string): void {
    const d = this.backoff.next();
    this.reconnects++;
    let msg = `${this.host.hadMedia() ? 'Connection lost' : 'Cannot connect to ' + this.stream} — retrying in ${fmtSec(d)}…`;
    if (kind === 'ended') msg = `Connection closed — reconnecting in ${fmtSec(d)}…`;
    if (kind === 'stall') msg = `No data from the server — reconnecting in ${fmtSec(d)}…`;
    this.host.go('retry-scheduled', msg, { retryInMs: d, detail: why });
    this.schedule(() => this.host.connect(), d);
  }

  #pollUntilLive(): void {
    if (!this.tuning.checkApi) {
      this.#retryLater('ended', 'offline');
      return;
    }
    this.schedule(() => this.listing.run((listed) => {
      if (!this.host.isOffline()) return;
      if (listed === false) {
        this.#pollUntilLive();
        return;
      }
      if (listed) this.backoff.reset();
      this.host.connect(); // listed, or the API is unavailable: try the stream itself (a 404 comes back here)
    }), this.tuning.pollMs);
  }
}
