// Rewind: a stream keeps the last few minutes of tags in memory (shared
// buffers, bounded in time and bytes), and a viewer may join behind live.
// A rewind viewer is fed from that window at real-time pace by its own timer,
// starting on a keyframe with the sequence headers in effect there.
import type { MediaTag } from './media-tag.js';
import type { Subscriber } from './subscriber.js';

export interface RewindLimits {
  windowMs: number;
  maxBytes: number;
}

/** The sequence headers and metadata in effect at a start point. */
export interface ConfigSnapshot {
  metadata: MediaTag | null;
  video: MediaTag | null;
  audio: MediaTag | null;
}

interface StartPoint {
  seq: number;
  timestamp: number;
  config: ConfigSnapshot;
}

export class RewindBuffer {
  readonly limits: RewindLimits;
  #tags: MediaTag[] = [];
  /** sequence number of #tags[#head] */
  #base = 0;
  #head = 0;
  #bytes = 0;
  #starts: StartPoint[] = [];
  #newestTs = 0;

  constructor(limits: RewindLimits) {
    this.limits = limits;
  }

  /** Next sequence number to be added. */
  get end(): number {
    return this.#base + (this.#tags.length - this.#head);
  }

  get oldest(): number {
    return this.#base;
  }

  get bytes(): number {
    return this.#bytes;
  }

  get newestTimestamp(): number {
    return this.#newestTs;
  }

  /** Add a fanned-out tag; `startHere` marks a point a viewer may start from (a keyframe). */
  add(tag: MediaTag, startHere: boolean, config: ConfigSnapshot): void {
    const seq = this.end;
    this.#tags.push(tag);
    this.#bytes += tag.flv.length;
    if (!tag.config) this.#newestTs = Math.max(this.#newestTs, tag.timestamp);
    if (startHere) this.#starts.push({ seq, timestamp: tag.timestamp, config });
    this.#evict();
  }

  #evict(): void {
    const { windowMs, maxBytes } = this.limits;
    while (this.#tags.length - this.#head > 1) {
      const first = this.#tags[this.#head]!;
      const tooOld = !first.config && this.#newestTs - first.timestamp > windowMs;
      if (this.#bytes <= maxBytes && !tooOld) break;
      this.#bytes -= first.flv.length;
      this.#head++;
      this.#base++;
    }
    while (this.#starts.length > 0 && this.#starts[0]!.seq < this.#base) this.#starts.shift();
    // Compact now and then rather than shifting the array on every tag.
    if (this.#head > 4096 && this.#head * 2 > this.#tags.length) {
      this.#tags = this.#tags.slice(this.#head);
      this.#head = 0;
    }
  }

  at(seq: number): MediaTag | undefined {
    if (seq < this.#base) return undefined;
    return this.#tags[this.#head + (seq - this.#base)];
  }

  /** The last start point at or before `timestamp`, else the oldest one; null when there is none. */
  startAtOrBefore(timestamp: number): StartPoint | null {
    let found: StartPoint | null = null;
    for (const s of this.#starts) {
      if (s.timestamp <= timestamp) found = s;
      else break;
    }
    return found ?? this.#starts[0] ?? null;
  }

  clear(): void {
    this.#tags = [];
    this.#head = 0;
    this.#base = this.end;
    this.#bytes = 0;
    this.#starts = [];
  }
}

/** How far ahead of the viewer's estimated playhead the feeder sends. */
const LEAD_MS = 1_500;
const PUMP_INTERVAL_MS = 50;

/** Feeds one rewind viewer from the buffer at real-time pace. */
export class RewindFeeder {
  #buffer: RewindBuffer;
  #sub: Subscriber;
  #seq: number;
  #startTs: number;
  #startedAt = Date.now();
  #timer: NodeJS.Timeout;

  constructor(buffer: RewindBuffer, sub: Subscriber, start: StartPoint, hasAudio: boolean, hasVideo: boolean) {
    this.#buffer = buffer;
    this.#sub = sub;
    this.#seq = start.seq;
    this.#startTs = start.timestamp;
    sub.started = true;
    sub.sink.begin(hasAudio, hasVideo);
    const { metadata, video, audio } = start.config;
    if (metadata !== null) sub.writeAlways(metadata);
    for (const cfg of [video, audio]) if (cfg !== null) sub.writeAlways(cfg.withTimestamp(start.timestamp));
    this.#timer = setInterval(() => this.#pump(), PUMP_INTERVAL_MS);
    this.#timer.unref();
    this.#pump();
  }

  /** Milliseconds this viewer is behind the newest tag. */
  get behindMs(): number {
    const playhead = this.#startTs + (Date.now() - this.#startedAt);
    return Math.max(0, this.#buffer.newestTimestamp - playhead);
  }

  #pump(): void {
    if (this.#sub.closed) {
      this.stop();
      return;
    }
    const until = this.#startTs + (Date.now() - this.#startedAt) + LEAD_MS;
    for (;;) {
      if (this.#seq >= this.#buffer.end) return;
      const tag = this.#buffer.at(this.#seq);
      if (tag === undefined) {
        // The window moved past this viewer (it fell too far behind): it cannot continue smoothly.
        this.#sub.close('slow', 'fell out of the rewind window');
        this.stop();
        return;
      }
      if (!tag.config && tag.timestamp > until) return;
      this.#sub.deliver(tag);
      if (this.#sub.closed) {
        this.stop();
        return;
      }
      this.#seq++;
    }
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}
