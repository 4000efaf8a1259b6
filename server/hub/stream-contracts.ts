// What a live stream asks of its publisher (whoever feeds it: an RTMP session, a relay, a cluster
// copy) and what it tells the registry that holds it. Types only: the stream and its parties meet here.
import type { ArrivalAnchor } from './arrival-clock.js';
import type { LiveStream } from './live-stream.js';
import type { Subscriber } from './subscriber.js';

export interface PublisherInfo {
  id: string;
  address: string;
  protocol: 'rtmp' | 'rtmps' | 'rtmpt' | 'relay';
  /** an internal pull: the stream is a copy of one that another worker or node of the cluster owns */
  internal?: boolean;
  /** disconnect the publisher (API kick, takeover, shutdown) */
  kick(reason: string): void;
  /**
   * A copy holds no history of its own: a viewer who joins it behind live is fed from the source's
   * (a cluster copy asks its owner). Starts feeding `viewer`; null when it cannot.
   */
  rewind?(viewer: Subscriber, rewindMs: number): RewindFeed | null;
  /** with rewind(): how far back the source's window reaches now (ms) */
  rewindSpanMs?(): number;
  /**
   * A copy's frames were received first by its source: the source's arrival line, on this
   * stream's timeline (a cluster copy maps its owner's). null when not known (yet).
   */
  arrivalAnchor?(): ArrivalAnchor | null;
}

/** A rewind viewer's feed, stopped when the viewer leaves. */
export interface RewindFeed {
  stop(): void;
}

/** What a stream tells the registry that holds it (the hub), which turns it into events. */
export interface StreamOwner {
  /** the publisher left or was replaced; the stream may wait for it (grace) */
  publisherLeft(stream: LiveStream, publisher: PublisherInfo): void;
  /** a viewer's subscription ended, for whatever reason */
  viewerLeft(stream: LiveStream, viewer: Subscriber): void;
  /** the stream ended; called once */
  streamEnded(stream: LiveStream): void;
}
