// The registry of live streams: who publishes what, who watches what, and the
// per-second rates the API reports. Delivery adapters and the RTMP session
// only talk to the hub; the hub knows FLV tags, not protocols.
import type { Logger } from '../log.js';
import { LiveStream, type LiveStreamOptions, type PublisherInfo } from './live-stream.js';
import type { Protocol, Sink, Subscriber } from './subscriber.js';

export type DuplicatePublishPolicy = 'refuse' | 'takeover';

export interface HubOptions extends LiveStreamOptions {
  duplicatePublish: DuplicatePublishPolicy;
  maxStreams: number;
  maxViewersPerStream: number;
}

export const DEFAULT_HUB_OPTIONS: HubOptions = {
  // About 20 s of a 5 Mbit/s stream: enough for a 2–10 s GOP.
  gop: { maxBytes: 12 * 1024 * 1024, maxDurationMs: 20_000 },
  // Soft: ~3 s of a 5 Mbit/s stream queued for one viewer; hard: ~13 s.
  slow: { softBytes: 2 * 1024 * 1024, hardBytes: 8 * 1024 * 1024, maxSkipMs: 15_000 },
  graceMs: 0,
  duplicatePublish: 'refuse',
  maxStreams: 1000,
  maxViewersPerStream: 10_000,
};

export interface StreamRates {
  bitrateIn: number;
  bitrateOut: number;
  fps: number;
}

export type PublishResult =
  | { ok: true; stream: LiveStream }
  | { ok: false; reason: 'busy' | 'limit'; detail: string };

export type SubscribeResult =
  | { ok: true; subscriber: Subscriber; stream: LiveStream }
  | { ok: false; reason: 'not-found' | 'limit'; detail: string };

interface RateSample {
  at: number;
  bytesIn: number;
  bytesOut: number;
  frames: number;
  rates: StreamRates;
}

export class Hub {
  readonly options: HubOptions;
  readonly streams = new Map<string, LiveStream>();
  #log: Logger;
  #samples = new WeakMap<LiveStream, RateSample>();
  #timer: NodeJS.Timeout;

  /** told when a stream ends, e.g. so metrics keep its totals */
  onStreamEnded: ((stream: LiveStream) => void) | null = null;
  /** told when a publisher (re)starts a stream, e.g. to start push relays */
  onPublished: ((stream: LiveStream) => void) | null = null;
  /** asked when a viewer wants a stream that is not live; may publish it (on-demand pull) */
  onMissing: ((app: string, key: string) => void) | null = null;
  /** told when max-streams or max-viewers-per-stream refuses someone */
  onLimit: ((reason: 'max-streams' | 'max-viewers-per-stream') => void) | null = null;

  constructor(options: Partial<HubOptions>, log: Logger) {
    this.options = { ...DEFAULT_HUB_OPTIONS, ...options };
    this.#log = log;
    this.#timer = setInterval(() => this.#sampleRates(), 1000);
    this.#timer.unref();
  }

  get(name: string): LiveStream | undefined {
    return this.streams.get(name);
  }

  /** The stream, or the one onMissing creates for a viewer who asks for it (on-demand pull). */
  ensure(name: string): LiveStream | undefined {
    const found = this.streams.get(name);
    if (found !== undefined || this.onMissing === null) return found;
    const slash = name.indexOf('/');
    this.onMissing(name.slice(0, slash), name.slice(slash + 1));
    return this.streams.get(name);
  }

  publish(app: string, key: string, publisher: PublisherInfo): PublishResult {
    const name = `${app}/${key}`;
    const existing = this.streams.get(name);
    if (existing !== undefined) {
      if (existing.publisher !== null) {
        if (this.options.duplicatePublish === 'refuse') {
          return { ok: false, reason: 'busy', detail: `${name} is already being published` };
        }
        const old = existing.publisher;
        existing.publisher = null;
        old.kick('taken over by a new publisher');
      }
      existing.attach(publisher);
      this.onPublished?.(existing);
      return { ok: true, stream: existing };
    }
    if (this.streams.size >= this.options.maxStreams) {
      // Reliability: every limit that refuses someone leaves a log line, whatever the protocol.
      this.#log.warn({ stream: name, limit: this.options.maxStreams }, 'publish refused: max-streams');
      this.onLimit?.('max-streams');
      return { ok: false, reason: 'limit', detail: `already ${this.streams.size} streams` };
    }
    const stream = new LiveStream(app, key, this.options, this.#log, (s) => {
      if (this.streams.get(s.name) !== s) return;
      this.streams.delete(s.name);
      this.onStreamEnded?.(s);
    });
    stream.attach(publisher);
    this.streams.set(name, stream);
    this.onPublished?.(stream);
    return { ok: true, stream };
  }

  subscribe(name: string, sink: Sink, rewindMs = 0): SubscribeResult {
    const stream = this.ensure(name);
    if (stream === undefined) return { ok: false, reason: 'not-found', detail: `no live stream ${name}` };
    if (stream.subscribers.size + stream.waiting.size + stream.rewinders.size >= this.options.maxViewersPerStream) {
      this.#log.warn({ stream: name, protocol: sink.protocol, limit: this.options.maxViewersPerStream }, 'viewer refused: max-viewers-per-stream');
      this.onLimit?.('max-viewers-per-stream');
      return { ok: false, reason: 'limit', detail: `${name} has its maximum of viewers` };
    }
    return { ok: true, subscriber: stream.subscribe(sink, rewindMs), stream };
  }

  rates(stream: LiveStream): StreamRates {
    return this.#samples.get(stream)?.rates ?? { bitrateIn: 0, bitrateOut: 0, fps: 0 };
  }

  viewersByProtocol(stream: LiveStream): Record<Exclude<Protocol, 'record'>, number> & { total: number } {
    const out = { http: 0, ws: 0, rtmp: 0, hls: 0, total: 0 };
    for (const set of [stream.subscribers, stream.waiting, stream.rewinders]) {
      for (const sub of set) {
        // A recording subscribes like a viewer (and counts toward max-viewers-per-stream) but is not one.
        if (sub.sink.protocol === 'record') continue;
        const n = sub.sink.viewers ?? 1;
        out[sub.sink.protocol] += n;
        out.total += n;
      }
    }
    return out;
  }

  #sampleRates(): void {
    const now = Date.now();
    for (const stream of this.streams.values()) {
      const bytesOut = stream.totalBytesOut;
      const prev = this.#samples.get(stream);
      const sample: RateSample = {
        at: now,
        bytesIn: stream.bytesIn,
        bytesOut,
        frames: stream.videoFrames,
        rates: prev?.rates ?? { bitrateIn: 0, bitrateOut: 0, fps: 0 },
      };
      if (prev !== undefined && now > prev.at) {
        const secs = (now - prev.at) / 1000;
        sample.rates = {
          bitrateIn: Math.round(((stream.bytesIn - prev.bytesIn) * 8) / secs),
          bitrateOut: Math.round((Math.max(0, bytesOut - prev.bytesOut) * 8) / secs),
          fps: Math.round(((stream.videoFrames - prev.frames) / secs) * 10) / 10,
        };
      }
      this.#samples.set(stream, sample);
    }
  }

  /** End every stream (shutdown). */
  close(): void {
    clearInterval(this.#timer);
    for (const stream of [...this.streams.values()]) {
      // Fix: detach the publisher before kicking it, as takeover does. The RTMP session's kick() detaches
      // synchronously, which (without a grace period) ended the viewers as 'unpublished', not 'shutdown'.
      const publisher = stream.publisher;
      stream.publisher = null;
      publisher?.kick('server shutting down');
      stream.end('shutdown', 'server shutting down');
    }
  }
}
