// The HLS muxers of all streams, made on a stream's first HLS request and dropped after an idle
// period, and the HLS viewer sessions: a session is one client (address + user agent) on one
// stream, alive while it keeps requesting, so viewers are counted by sessions, not requests.
import type { Hub } from '../hub/hub.js';
import type { Subscriber } from '../hub/subscriber.js';
import type { SessionEndedListener } from '../events.js';
import type { Logger } from '../log.js';
import { HlsMuxer } from './muxer.js';
import type { SegmenterOptions } from './segmenter.js';

export interface HlsServiceOptions {
  segmenter: SegmenterOptions;
  /** drop a stream's muxer after this long without an HLS request */
  idleMs: number;
  /** a session without a request for this long has left */
  sessionIdleMs: number;
  /** requests that may wait (blocking reload, preload hints) per stream */
  maxWaitsPerStream: number;
  /** sessions tracked per stream; further clients are served but not counted */
  maxSessionsPerStream: number;
}

interface Session {
  address: string;
  since: number;
  lastSeen: number;
  bytes: number;
}

interface Entry {
  muxer: HlsMuxer;
  sub: Subscriber;
  sessions: Map<string, Session>;
}

export type AcquireResult = { ok: true; muxer: HlsMuxer } | { ok: false; status: 404 | 503; detail: string };

const SWEEP_MS = 1000;

export class HlsService {
  readonly options: HlsServiceOptions;
  #hub: Hub;
  #log: Logger;
  #onEnded: SessionEndedListener | undefined;
  #entries = new Map<string, Entry>();
  #timer: NodeJS.Timeout | null = null;

  constructor(hub: Hub, log: Logger, options: HlsServiceOptions, onEnded?: SessionEndedListener) {
    this.#hub = hub;
    this.#log = log;
    this.options = options;
    this.#onEnded = onEnded;
  }

  /** Streams with a muxer running. */
  get muxers(): number {
    return this.#entries.size;
  }

  /** The stream's running muxer, if any (no side effect). */
  muxer(name: string): HlsMuxer | undefined {
    return this.#entries.get(name)?.muxer;
  }

  /** The stream's muxer, attached to the hub on first use. */
  acquire(name: string): AcquireResult {
    const found = this.#entries.get(name);
    if (found !== undefined && !found.muxer.ended) {
      found.muxer.lastRequestAt = Date.now();
      return { ok: true, muxer: found.muxer };
    }
    return this.#attach(name, new Map());
  }

  #attach(name: string, sessions: Map<string, Session>): AcquireResult {
    const muxer = new HlsMuxer(this.options.segmenter, this.options.maxWaitsPerStream);
    const r = this.#hub.subscribe(name, muxer);
    if (!r.ok) return { ok: false, status: r.reason === 'not-found' ? 404 : 503, detail: r.detail };
    r.subscriber.address = 'hls muxer';
    const entry: Entry = { muxer, sub: r.subscriber, sessions };
    this.#entries.set(name, entry);
    muxer.viewers = sessions.size;
    muxer.joined();
    muxer.once('end', () => {
      if (this.#entries.get(name) === entry) this.#forget(name, entry, 'stream ended');
    });
    this.#timer ??= setInterval(() => this.#sweep(), SWEEP_MS).unref();
    this.#log.info({ stream: name, epoch: muxer.epoch }, 'HLS muxer started');
    return { ok: true, muxer };
  }

  /** A request from a client: starts or refreshes its session. */
  touch(name: string, address: string, userAgent: string, bytes: number): void {
    const entry = this.#entries.get(name);
    if (entry === undefined) return;
    const key = `${address}\n${userAgent}`;
    const now = Date.now();
    // An answer counts as a request too: one that waited longer than idleMs must not leave the
    // muxer to be dropped the moment it is answered.
    entry.muxer.lastRequestAt = now;
    const s = entry.sessions.get(key);
    if (s !== undefined) {
      s.lastSeen = now;
      s.bytes += bytes;
      return;
    }
    if (entry.sessions.size >= this.options.maxSessionsPerStream) return;
    entry.sessions.set(key, { address, since: now, lastSeen: now, bytes });
    entry.muxer.viewers = entry.sessions.size;
    this.#log.info({ stream: name, address, protocol: 'hls' }, 'viewer joined');
  }

  #sweep(): void {
    const now = Date.now();
    for (const [name, entry] of this.#entries) {
      for (const [key, s] of entry.sessions) {
        if (now - s.lastSeen > this.options.sessionIdleMs) {
          entry.sessions.delete(key);
          this.#sessionEnded(name, s, 'viewer left');
        }
      }
      entry.muxer.viewers = entry.sessions.size;
      if (now - entry.muxer.lastRequestAt > this.options.idleMs && entry.muxer.waiting === 0) {
        this.#forget(name, entry, 'no HLS requests');
        entry.sub.close('closed', 'no HLS requests');
      }
    }
    if (this.#entries.size === 0 && this.#timer !== null) {
      clearInterval(this.#timer);
      this.#timer = null;
    }
  }

  #forget(name: string, entry: Entry, reason: string): void {
    this.#entries.delete(name);
    for (const s of entry.sessions.values()) this.#sessionEnded(name, s, reason);
    entry.sessions.clear();
    this.#log.info({ stream: name, reason }, 'HLS muxer stopped');
  }

  #sessionEnded(name: string, s: Session, reason: string): void {
    const slash = name.indexOf('/');
    this.#log.info({ stream: name, address: s.address, protocol: 'hls', bytes: s.bytes, reason }, 'viewer left');
    this.#onEnded?.({ kind: 'play', app: name.slice(0, slash), key: name.slice(slash + 1), protocol: 'hls', address: s.address, reason, bytes: s.bytes });
  }

  close(): void {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
    for (const [name, entry] of [...this.#entries]) {
      this.#forget(name, entry, 'server shutting down');
      entry.sub.close('shutdown', 'server shutting down');
    }
  }
}
