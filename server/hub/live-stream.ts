// One live stream: its publisher, metadata, sequence headers, GOP cache and
// viewers. Each received message becomes one MediaTag shared by every viewer.
// The stream's timeline (one for all viewers, see timeline.ts) lets one
// serialized tag serve every viewer: a viewer joining mid-stream starts at the
// cached keyframe's timestamp, not at 0.
import type { WriteBatch } from './write-batch.js';
import type { Logger } from '../log.js';
import type { PublisherInfo, RewindFeed, StreamOwner } from './stream-contracts.js';
import { ArrivalClock, type ArrivalAnchor } from './arrival-clock.js';
import { GopCache, type GopCacheLimits } from './gop-cache.js';
import { JoinSequence } from './join-sequence.js';
import { MediaTag, TagType } from './media-tag.js';
import { RewindBuffer, RewindFeeder, type RewindLimits } from './rewind.js';
import { Subscriber, type EndReason, type Sink, type SlowViewerLimits } from './subscriber.js';
import { Timeline, type TimelineLimits } from './timeline.js';
import { classifyAudio, classifyVideo, type AudioInfo, type VideoInfo } from './track-info.js';

export interface LiveStreamOptions {
  gop: GopCacheLimits;
  slow: SlowViewerLimits;
  /** keep viewers this long after the publisher leaves, waiting for it to return */
  graceMs: number;
  /** keep this much of the stream for viewers joining behind live (windowMs 0: off) */
  rewind?: RewindLimits;
  /** what counts as a timestamp discontinuity rather than jitter (defaults in timeline.ts) */
  timeline?: TimelineLimits;
}

// The types of the stream's parties live apart (stream-contracts.ts); its importers still find them here.
export type { PublisherInfo, RewindFeed, StreamOwner } from './stream-contracts.js';

export type StreamState = 'live' | 'idle';

const NO_CONFIG = { metadata: null, video: null, audio: null };

export class LiveStream {
  readonly app: string;
  readonly key: string;
  readonly name: string;
  readonly options: LiveStreamOptions;
  readonly createdAt = Date.now();
  #publisher: PublisherInfo | null = null;
  publishedAt = 0;
  state: StreamState = 'live';

  metadata: MediaTag | null = null;
  metadataObject: Record<string, unknown> | null = null;
  videoConfig: MediaTag | null = null;
  audioConfig: MediaTag | null = null;
  video: VideoInfo | null = null;
  audio: AudioInfo | null = null;
  readonly gop: GopCache;

  readonly subscribers = new Set<Subscriber>();
  /** viewers that arrived before the stream could start them on a keyframe */
  readonly waiting = new Set<Subscriber>();
  /** viewers behind live, fed from the rewind window at their own pace */
  readonly rewinders = new Set<Subscriber>();
  readonly rewind: RewindBuffer | null;
  #feeders = new Map<Subscriber, RewindFeed>();

  /** When each timeline timestamp arrived (wall clock), for /api/time's anchor. */
  readonly arrivals = new ArrivalClock();

  /**
   * The last publisher was an internal pull (a cluster copy): the stream's bytes in came over an
   * internal link, not from a publisher. Kept after it leaves, for the metrics of the ended stream.
   */
  fedByInternalLink = false;

  // counters read by the stats tick
  bytesIn = 0;
  bytesOut = 0;
  /** bytes sent over internal links that have ended (not viewers: see totalBytesOut) */
  internalBytesOut = 0;
  videoFrames = 0;
  droppedTags = 0;
  slowDisconnects = 0;

  #log: Logger;
  readonly timeline: Timeline;
  #sawAudio = false;
  #sawVideo = false;
  readonly #join = new JoinSequence();
  #graceTimer: NodeJS.Timeout | null = null;
  #owner: StreamOwner;
  #ended = false;

  /** the gateway's write batching, shared by every viewer of the stream */
  readonly writeBatch: WriteBatch;

  constructor(app: string, key: string, options: LiveStreamOptions, log: Logger, owner: StreamOwner, writeBatch: WriteBatch) {
    this.app = app;
    this.writeBatch = writeBatch;
    this.key = key;
    this.name = `${app}/${key}`;
    this.options = options;
    this.gop = new GopCache(options.gop);
    this.rewind = options.rewind !== undefined && options.rewind.windowMs > 0 ? new RewindBuffer(options.rewind) : null;
    this.#log = log;
    this.#owner = owner;
    this.timeline = new Timeline(options.timeline, (d) =>
      log.warn(
        { stream: this.name, track: d.track, jumpMs: d.jumpMs, resumeAt: d.resumeAt },
        'publisher timestamps jumped: timeline re-offset to continue smoothly',
      ),
    );
  }

  /** Where the timeline stands on the wall clock of first receipt (/api/time); null before any frame. */
  arrivalAnchor(): ArrivalAnchor | null {
    const fromSource = this.#publisher?.arrivalAnchor?.();
    if (fromSource !== undefined && fromSource !== null) return fromSource;
    return this.arrivals.receivedAt === 0 ? null : { timestamp: this.arrivals.timestamp, receivedAt: this.arrivals.receivedAt };
  }

  /** Who publishes now; changed only by attach, detach, takeOver and shutdown. */
  get publisher(): PublisherInfo | null {
    return this.#publisher;
  }

  /** The tracks this stream carries: from what has arrived, else what metadata announces. */
  get hasVideo(): boolean {
    return this.#sawVideo || this.metadataObject?.['videocodecid'] !== undefined;
  }

  get hasAudio(): boolean {
    return this.#sawAudio || this.metadataObject?.['audiocodecid'] !== undefined;
  }

  attach(publisher: PublisherInfo): void {
    if (this.#graceTimer !== null) {
      clearTimeout(this.#graceTimer);
      this.#graceTimer = null;
    }
    this.#publisher = publisher;
    this.fedByInternalLink = publisher.internal === true;
    this.publishedAt = Date.now();
    this.state = 'live';
    // The new publisher's timestamps are rebased onto the existing timeline at its first frame.
    this.timeline.restart();
    this.gop.clear();
    this.#join.invalidate();
  }

  /** The publisher left. Without a grace period (or viewers to keep), the stream ends now. */
  detach(publisher: PublisherInfo): void {
    if (this.#publisher !== publisher) return;
    this.#publisher = null;
    this.#owner.publisherLeft(this, publisher);
    if (this.options.graceMs > 0 && this.subscribers.size + this.waiting.size > 0) {
      this.state = 'idle';
      this.#graceTimer = setTimeout(() => this.end('unpublished', 'publisher did not return'), this.options.graceMs);
      this.#graceTimer.unref();
      return;
    }
    this.end('unpublished', 'publisher ended the stream');
  }

  /** A new publisher replaces the current one (duplicate-publish takeover); viewers stay. */
  takeOver(publisher: PublisherInfo): void {
    this.#release('taken over by a new publisher');
    this.attach(publisher);
  }

  /** Server shutdown: the publisher is kicked and viewers end with 'shutdown', never 'unpublished'. */
  shutdown(detail: string): void {
    this.#release(detail);
    this.end('shutdown', detail);
  }

  /** Detach the publisher before kicking it: its kick() may detach synchronously, which must find nothing. */
  #release(reason: string): void {
    const old = this.#publisher;
    if (old === null) return;
    this.#publisher = null;
    this.#owner.publisherLeft(this, old);
    old.kick(reason);
  }

  /** End the stream and every viewer. Safe to call twice. */
  end(reason: EndReason, detail: string): void {
    if (this.#graceTimer !== null) clearTimeout(this.#graceTimer);
    this.#graceTimer = null;
    for (const sub of [...this.subscribers, ...this.waiting, ...this.rewinders]) sub.close(reason, detail);
    if (this.#ended) return;
    this.#ended = true;
    this.#owner.streamEnded(this);
  }

  /** `onMetaData` from the publisher (the body is `"onMetaData", {…}` in AMF0). */
  setMetadata(body: Buffer, object: Record<string, unknown>): void {
    this.bytesIn += body.length;
    this.metadataObject = object;
    this.metadata = new MediaTag(TagType.Script, 0, body, false, true);
    this.#join.invalidate();
    this.#fanOut(this.metadata);
  }

  /** One audio (8), video (9) or data (18) message from the publisher. */
  push(type: TagType, timestamp: number, body: Buffer): void {
    this.bytesIn += body.length;
    if (type === TagType.Video) {
      const v = classifyVideo(body);
      const ts = this.timeline.map('video', timestamp, v.coded ? 'frame' : 'other');
      // Only frames stand on the line: headers carry whatever timestamp the publisher gave them.
      if (v.coded) this.arrivals.note(ts, Date.now());
      this.#sawVideo = true;
      if (v.config !== undefined) {
        const tag = new MediaTag(TagType.Video, ts, body, false, true);
        this.videoConfig = tag;
        this.video = v.config;
        // Cached frames were coded against the old parameters; new viewers must wait for a keyframe.
        this.gop.clear();
        this.#join.invalidate();
        this.#fanOut(tag);
        return;
      }
      if (v.trackConfig !== undefined) {
        // A plain sequence header describes the stream; without one, multitrack track 0 does.
        if (v.defaultTrack !== undefined && this.videoConfig === null) this.video = v.defaultTrack;
        this.#cacheTrackConfig(v.trackConfig, new MediaTag(TagType.Video, ts, body, false, true));
        return;
      }
      const tag = new MediaTag(TagType.Video, ts, body, v.keyframe, false);
      if (v.coded) this.videoFrames++;
      if (this.video === null && v.codecName !== undefined && v.coded) {
        this.video = { codec: v.codecName, profile: '', level: 0, width: 0, height: 0 };
      }
      if (v.frameSize !== undefined && this.video !== null && this.video.width !== v.frameSize.width) {
        this.video = { ...this.video, ...v.frameSize };
      }
      this.gop.add(tag);
      if (v.keyframe) {
        this.#join.invalidate();
        // Waiting viewers start on this keyframe, which the fan-out below delivers.
        if (this.waiting.size > 0) this.#startWaiting();
      }
      this.#fanOut(tag);
      return;
    }
    if (type === TagType.Audio) {
      const a = classifyAudio(body);
      const isFrame = a.config === undefined && a.trackConfig === undefined;
      const ts = this.timeline.map('audio', timestamp, isFrame ? 'frame' : 'other');
      if (ts === null) return; // stamped before the audio track's start on the timeline
      if (isFrame) this.arrivals.note(ts, Date.now());
      this.#sawAudio = true;
      if (a.config !== undefined) {
        const tag = new MediaTag(TagType.Audio, ts, body, false, true);
        // Cached audio frames were coded against the old config, and a new viewer would get them
        // after the new one: a changed header drops the GOP like a video one; a repeated identical header
        // (some encoders resend it) keeps it.
        if (this.audioConfig !== null && !this.audioConfig.body.equals(body)) this.gop.clear();
        this.audioConfig = tag;
        this.audio = a.config;
        this.#join.invalidate();
        this.#fanOut(tag);
        return;
      }
      if (a.trackConfig !== undefined) {
        this.#cacheTrackConfig(a.trackConfig, new MediaTag(TagType.Audio, ts, body, false, true));
        return;
      }
      // AC-3, E-AC-3, MP3 and other codecs without a sequence header are known from their frames.
      if (this.audio === null && a.seen !== undefined) this.audio = a.seen;
      const tag = new MediaTag(TagType.Audio, ts, body, false, false);
      if (this.hasVideo) this.gop.add(tag);
      else if (this.waiting.size > 0) this.#startWaiting();
      this.#fanOut(tag);
      return;
    }
    this.#fanOut(new MediaTag(TagType.Script, this.timeline.map('data', timestamp, 'other'), body, false, false));
  }

  /**
   * A script tag made here rather than by the publisher (an operator's text cue): it goes on the
   * timeline at the live position, the newest timestamp any track reached, so every viewer and
   * recording gets it in order with the media around it. Returns that timestamp.
   */
  injectData(body: Buffer): number {
    const ts = this.timeline.injectData();
    this.#fanOut(new MediaTag(TagType.Script, ts, body, false, false));
    return ts;
  }

  #cacheTrackConfig(track: string, tag: MediaTag): void {
    if (this.#join.setTrack(track, tag)) this.gop.clear();
    this.#fanOut(tag);
  }

  #fanOut(tag: MediaTag): void {
    for (const sub of this.subscribers) sub.deliver(tag);
    // A cluster copy keeps no rewind window: its rewind viewers are fed by the owner's.
    if (this.rewind !== null && !this.fedByInternalLink) {
      const start = tag.keyframe || (!this.hasVideo && tag.type === TagType.Audio && !tag.config);
      this.rewind.add(
        tag,
        start,
        start ? { metadata: this.metadata, video: this.videoConfig, audio: this.audioConfig } : NO_CONFIG,
      );
    }
  }

  /** Can a new viewer start now? With video it needs a cached keyframe; audio-only starts at once. */
  get ready(): boolean {
    if (this.hasVideo) return this.gop.startTimestamp !== null;
    return this.#sawAudio;
  }

  /** A new viewer; with rewindMs it starts that far behind live when the rewind window allows. */
  subscribe(sink: Sink, rewindMs = 0): Subscriber {
    const sub = new Subscriber(sink, this.options.slow, this.writeBatch, (s, reason, detail) => this.#removed(s, reason, detail));
    const remote = rewindMs > 0 ? this.#publisher?.rewind?.(sub, rewindMs) : undefined;
    if (remote !== undefined && remote !== null) {
      this.rewinders.add(sub);
      this.#feeders.set(sub, remote);
      return sub;
    }
    if (rewindMs > 0 && this.rewind !== null && !this.fedByInternalLink) {
      const start = this.rewind.startAtOrBefore(this.rewind.newestTimestamp - rewindMs);
      if (start !== null) {
        this.rewinders.add(sub);
        this.#feeders.set(sub, new RewindFeeder(this.rewind, sub, start, this.hasAudio, this.hasVideo));
        return sub;
      }
    }
    if (this.ready) this.#start(sub);
    else this.waiting.add(sub);
    return sub;
  }

  #removed(sub: Subscriber, reason: EndReason, detail: string): void {
    this.subscribers.delete(sub);
    this.waiting.delete(sub);
    if (this.rewinders.delete(sub)) {
      this.#feeders.get(sub)?.stop();
      this.#feeders.delete(sub);
    }
    if (sub.sink.protocol === 'internal') this.internalBytesOut += sub.bytesSent;
    else this.bytesOut += sub.bytesSent;
    this.droppedTags += sub.droppedTags;
    if (reason === 'slow') {
      this.slowDisconnects++;
      this.#log.warn({ stream: this.name, protocol: sub.sink.protocol, detail }, 'slow viewer disconnected');
    }
    this.#owner.viewerLeft(this, sub);
  }

  /** Start the waiting viewers just before the tag at `at` is fanned out: no GOP, that tag comes next. */
  #startWaiting(): void {
    const at = this.timeline.last(this.#sawVideo ? 'video' : 'audio');
    for (const sub of this.waiting) {
      this.waiting.delete(sub);
      this.#start(sub, at, false);
    }
  }

  /** Header, metadata and sequence headers at the GOP's start time, then the GOP. */
  #start(sub: Subscriber, at = this.gop.startTimestamp ?? 0, withGop = true): void {
    sub.started = true;
    this.subscribers.add(sub);
    sub.sink.begin(this.hasAudio, this.hasVideo);
    // One batch: the burst leaves in one writev (one WS-FLV message) rather than one write per tag.
    this.writeBatch.run(() => {
      for (const tag of this.#join.tagsAt(at, this.metadata, this.videoConfig, this.audioConfig)) sub.writeAlways(tag);
      if (withGop) for (const tag of this.gop.tags) sub.writeAlways(tag);
      sub.excuseJoinBurst();
    });
  }

  /** Bytes sent to viewers, including those still connected; internal links are counted apart. */
  get totalBytesOut(): number {
    return this.bytesOut + this.#sentOver(false);
  }

  /** Bytes sent over internal links to other workers or nodes, including those still open. */
  get totalInternalBytesOut(): number {
    return this.internalBytesOut + this.#sentOver(true);
  }

  #sentOver(internal: boolean): number {
    let n = 0;
    for (const set of [this.subscribers, this.rewinders]) {
      for (const sub of set) if ((sub.sink.protocol === 'internal') === internal) n += sub.bytesSent;
    }
    return n;
  }
}
