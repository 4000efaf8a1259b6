// The registry of live streams: who publishes what, who watches what, and the
// per-second rates the API reports. Delivery adapters and the RTMP session
// only talk to the hub; the hub knows FLV tags, not protocols.
import type { WriteBatch } from './write-batch.js';
import type { Logger } from '../log.js';
import { TypedEmitter } from '../typed-emitter.js';
import { LiveStream, type LiveStreamOptions, type PublisherInfo, type StreamOwner } from './live-stream.js';
import type { EndReason, Protocol, Sink, Subscriber, ViewerProtocol } from './subscriber.js';

/** Viewers of one stream by protocol, and all of them. */
export type ViewerCounts = Record<ViewerProtocol, number> & { total: number };

export type DuplicatePublishPolicy = 'refuse' | 'takeover';

export interface HubOptions extends LiveStreamOptions {
  duplicatePublish: DuplicatePublishPolicy;
  maxStreams: number;
  maxViewersPerStream: number;
}

export type HubLimit = 'max-streams' | 'max-viewers-per-stream';

/** A viewer (or recording, protocol 'record') and where it watches from. */
export interface ViewerEvent {
  stream: LiveStream;
  subscriber: Subscriber;
  protocol: Protocol;
  address: string;
}

/** A viewer that stopped: why, and what it was sent. */
export interface ViewerStopEvent extends ViewerEvent {
  reason: EndReason;
  detail: string;
  bytes: number;
}

/** Everything the hub tells its listeners (metrics, relays, recorder, clustering, library users). */
export interface HubEvents {
  /** a publisher started or took over a stream, or returned within the grace period */
  published: [stream: LiveStream];
  /** the publisher left or was replaced; the stream may still wait for it (grace) */
  unpublished: [stream: LiveStream, publisher: PublisherInfo];
  /** the stream is gone: every viewer has been ended */
  'stream-ended': [stream: LiveStream];
  /**
   * A viewer asked for a stream that is not live. A listener may publish it
   * synchronously (on-demand pull); the remaining listeners are not asked once one has.
   */
  missing: [app: string, key: string];
  /** max-streams or max-viewers-per-stream refused someone */
  limit: [reason: HubLimit];
  play: [viewer: ViewerEvent];
  stop: [viewer: ViewerStopEvent];
}

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
  readonly events = new TypedEmitter<HubEvents>();
  /** how the streams report to this hub: one object shared by every stream, no closures per stream */
  #owner: StreamOwner = {
    publisherLeft: (stream, publisher) => this.events.emit('unpublished', stream, publisher),
    viewerLeft: (stream, sub) => {
      if (this.events.listenerCount('stop') === 0) return;
      this.events.emit('stop', {
        stream,
        subscriber: sub,
        protocol: sub.sink.protocol,
        address: sub.address,
        reason: sub.endReason ?? 'closed',
        detail: sub.endDetail ?? '',
        bytes: sub.bytesSent,
      });
    },
    streamEnded: (stream) => {
      if (this.streams.get(stream.name) !== stream) return;
      this.streams.delete(stream.name);
      this.events.emit('stream-ended', stream);
    },
  };

  /** the gateway's write batching: publisher reads run in it, viewers' sockets are corked by it */
  readonly writeBatch: WriteBatch;

  constructor(options: HubOptions, log: Logger, writeBatch: WriteBatch) {
    this.options = options;
    this.writeBatch = writeBatch;
    this.#log = log;
    this.#timer = setInterval(() => this.#sampleRates(), 1000);
    this.#timer.unref();
  }

  get(name: string): LiveStream | undefined {
    return this.streams.get(name);
  }

  /** The stream, or the one a 'missing' listener publishes for a viewer who asks for it (on-demand pull). */
  ensure(name: string): LiveStream | undefined {
    const found = this.streams.get(name);
    if (found !== undefined) return found;
    const slash = name.indexOf('/');
    const app = name.slice(0, slash);
    const key = name.slice(slash + 1);
    for (const listener of this.events.listeners('missing')) {
      listener(app, key);
      const made = this.streams.get(name);
      if (made !== undefined) return made;
    }
    return undefined;
  }

  publish(app: string, key: string, publisher: PublisherInfo): PublishResult {
    const name = `${app}/${key}`;
    const existing = this.streams.get(name);
    if (existing !== undefined) {
      if (existing.publisher !== null) {
        if (this.options.duplicatePublish === 'refuse') {
          return { ok: false, reason: 'busy', detail: `${name} is already being published` };
        }
        existing.takeOver(publisher);
      } else {
        existing.attach(publisher);
      }
      this.events.emit('published', existing);
      return { ok: true, stream: existing };
    }
    if (this.streams.size >= this.options.maxStreams) {
      // Reliability: every limit that refuses someone leaves a log line, whatever the protocol.
      this.#log.warn({ stream: name, limit: this.options.maxStreams }, 'publish refused: max-streams');
      this.events.emit('limit', 'max-streams');
      return { ok: false, reason: 'limit', detail: `already ${this.streams.size} streams` };
    }
    const stream = new LiveStream(app, key, this.options, this.#log, this.#owner, this.writeBatch);
    stream.attach(publisher);
    this.streams.set(name, stream);
    this.events.emit('published', stream);
    return { ok: true, stream };
  }

  /** A new viewer of a live stream; `address` is who it is, for the API, logs and the 'play' event. */
  subscribe(name: string, sink: Sink, rewindMs = 0, address = ''): SubscribeResult {
    const stream = this.ensure(name);
    if (stream === undefined) return { ok: false, reason: 'not-found', detail: `no live stream ${name}` };
    if (stream.subscribers.size + stream.waiting.size + stream.rewinders.size >= this.options.maxViewersPerStream) {
      this.#log.warn({ stream: name, protocol: sink.protocol, limit: this.options.maxViewersPerStream }, 'viewer refused: max-viewers-per-stream');
      this.events.emit('limit', 'max-viewers-per-stream');
      return { ok: false, reason: 'limit', detail: `${name} has its maximum of viewers` };
    }
    const subscriber = stream.subscribe(sink, rewindMs);
    subscriber.address = address;
    this.events.emit('play', { stream, subscriber, protocol: sink.protocol, address });
    return { ok: true, subscriber, stream };
  }

  rates(stream: LiveStream): StreamRates {
    return this.#samples.get(stream)?.rates ?? { bitrateIn: 0, bitrateOut: 0, fps: 0 };
  }

  viewersByProtocol(stream: LiveStream): ViewerCounts {
    const out: ViewerCounts = { http: 0, ws: 0, rtmp: 0, rtmpt: 0, hls: 0, total: 0 };
    for (const set of [stream.subscribers, stream.waiting, stream.rewinders]) {
      for (const sub of set) {
        // Recordings, push relays and internal links subscribe like viewers (and count toward
        // max-viewers-per-stream) but are not ones.
        const p = sub.sink.protocol;
        if (p === 'record' || p === 'relay' || p === 'internal') continue;
        const n = sub.sink.viewers ?? 1;
        out[p] += n;
        out.total += n;
      }
    }
    return out;
  }

  /** Push relays forwarding this stream to other servers. */
  relayCount(stream: LiveStream): number {
    let n = 0;
    for (const sub of stream.subscribers) if (sub.sink.protocol === 'relay') n++;
    for (const sub of stream.waiting) if (sub.sink.protocol === 'relay') n++;
    return n;
  }

  /** Internal links: other workers or nodes copying this stream from here for their own viewers. */
  internalLinkCount(stream: LiveStream): number {
    let n = 0;
    for (const set of [stream.subscribers, stream.waiting, stream.rewinders]) for (const sub of set) if (sub.sink.protocol === 'internal') n++;
    return n;
  }

  /** Viewers of every stream on one protocol: the one count the API and metrics both use. */
  viewerCount(protocol: ViewerProtocol): number {
    let n = 0;
    for (const stream of this.streams.values()) n += this.viewersByProtocol(stream)[protocol];
    return n;
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
    for (const stream of [...this.streams.values()]) stream.shutdown('server shutting down');
  }
}
