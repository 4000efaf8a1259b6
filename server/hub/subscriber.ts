// One viewer of a live stream, whatever the protocol. Its unsent bytes are
// bounded: over the soft limit it skips video to the next keyframe (audio and
// sequence headers still go out), over the hard limit or skipping for too long
// it is disconnected. A stalled viewer therefore costs bounded memory and
// never delays the others, since nothing here waits on a socket.
import { TagType, type MediaTag } from './media-tag.js';
import type { Corkable, WriteBatch } from './write-batch.js';

/**
 * The protocols viewers watch over, in the order the API and metrics list them. RTMP players are
 * 'rtmp' (RTMPS included, as in `gateway_connections`) or 'rtmpt' when they come over the HTTP tunnel.
 */
export const VIEWER_PROTOCOLS = ['http', 'ws', 'rtmp', 'rtmpt', 'hls'] as const;
export type ViewerProtocol = (typeof VIEWER_PROTOCOLS)[number];

/**
 * How a subscriber takes the stream: viewers by protocol, a recording, a push relay to another server,
 * or an internal link (another worker or node of a cluster copying the stream for its own viewers).
 */
export type Protocol = ViewerProtocol | 'record' | 'relay' | 'internal';
export type EndReason = 'unpublished' | 'slow' | 'closed' | 'kicked' | 'shutdown';

/** The protocol adapter a subscriber writes to. Implementations never copy the tag's buffers. */
export interface Sink {
  readonly protocol: Protocol;
  /** bytes accepted by write() but not yet handed to the kernel */
  readonly bufferedBytes: number;
  /** first call for a viewer, with the tracks the stream really has */
  begin(hasAudio: boolean, hasVideo: boolean): void;
  write(tag: MediaTag): void;
  /** the stream ended or this viewer was dropped; called once */
  end(reason: EndReason, detail: string): void;
  /** viewers this one sink serves (the HLS muxer serves every HLS session of a stream); absent: 1 */
  readonly viewers?: number;
  /** hold writes in the socket until uncork (write batching); optional */
  cork?(): void;
  uncork?(): void;
}

export interface SlowViewerLimits {
  /** above this many unsent bytes, skip video to the next keyframe */
  softBytes: number;
  /** above this many unsent bytes, disconnect */
  hardBytes: number;
  /** disconnect a viewer that has been skipping for this long */
  maxSkipMs: number;
}

export class Subscriber {
  readonly sink: Sink;
  readonly limits: SlowViewerLimits;
  readonly since = Date.now();
  /** the viewer's address, for the API and logs (set by the delivery layer) */
  address = '';
  started = false;
  /** dropping video until the next keyframe */
  skipping = false;
  skipSince = 0;
  droppedTags = 0;
  bytesSent = 0;
  closed = false;
  /** why the hub or the viewer ended this subscription, once it has */
  endReason: EndReason | null = null;
  endDetail: string | null = null;
  #onClose: (sub: Subscriber, reason: EndReason, detail: string) => void;
  /** the gateway's write batching, which this viewer's socket is corked by */
  #writeBatch: WriteBatch;

  constructor(
    sink: Sink,
    limits: SlowViewerLimits,
    writeBatch: WriteBatch,
    onClose: (sub: Subscriber, reason: EndReason, detail: string) => void,
  ) {
    this.sink = sink;
    this.limits = limits;
    this.#writeBatch = writeBatch;
    this.#onClose = onClose;
  }

  /** Write without the slow-viewer policy: the join sequence and config tags. */
  writeAlways(tag: MediaTag): void {
    this.bytesSent += tag.flv.length;
    const writeBatch = this.#writeBatch;
    if (this.#batch !== writeBatch.id && writeBatch.batching && this.sink.cork !== undefined) {
      this.#batch = writeBatch.id;
      writeBatch.enlist(this.sink as Corkable);
    }
    if (tag.type !== TagType.Audio || tag.config) writeBatch.noteVideo();
    this.sink.write(tag);
  }

  /** the write batch this viewer's socket is corked for, if any */
  #batch = -1;

  /**
   * The join burst (header, sequence headers, cached GOP) is written at once
   * and may exceed the soft limit by design; it is excused until it drains, so
   * only backlog that builds up afterwards counts against the viewer.
   */
  excuseJoinBurst(): void {
    this.#allowance = this.sink.bufferedBytes;
  }

  #allowance = 0;

  /** Hot path: one call per tag per viewer. */
  deliver(tag: MediaTag): void {
    const buffered = this.sink.bufferedBytes;
    if (buffered < this.#allowance) this.#allowance = buffered;
    const backlog = buffered - this.#allowance;
    const { softBytes, hardBytes, maxSkipMs } = this.limits;
    if (backlog > hardBytes) {
      this.close('slow', `${buffered} bytes unsent, over the ${hardBytes}-byte limit`);
      return;
    }
    if (tag.config) {
      this.writeAlways(tag);
      return;
    }
    if (this.skipping) {
      if (tag.type === TagType.Video) {
        if (tag.keyframe && backlog <= softBytes) {
          this.skipping = false;
        } else {
          this.droppedTags++;
          // Only time spent behind counts: a caught-up viewer waiting for a keyframe is fine.
          if (backlog <= softBytes) this.skipSince = Date.now();
          else if (Date.now() - this.skipSince > maxSkipMs) this.close('slow', `behind for more than ${maxSkipMs} ms`);
          return;
        }
      }
    } else if (backlog > softBytes && tag.type === TagType.Video) {
      this.skipping = true;
      this.skipSince = Date.now();
      this.droppedTags++;
      return;
    }
    this.writeAlways(tag);
  }

  /** Safe to call more than once. */
  close(reason: EndReason, detail: string): void {
    if (this.closed) return;
    this.closed = true;
    this.endReason = reason;
    this.endDetail = detail;
    this.#onClose(this, reason, detail);
    this.sink.end(reason, detail);
  }
}
