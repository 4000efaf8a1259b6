// The owner's arrival line carried over an internal link. A copy receives every
// frame later than the owner did (the link, the owner's write batching, a busy
// worker), and on another timeline (the copy's starts at its pull). Its viewers'
// true latency (docs/web-player.md) is from the gateway's receipt of a frame,
// which is the owner's: so the owner sends its anchor in the link, once a
// second, as an FLV script tag `|gatewayArrival` { timestamp, receivedAt } on the
// link's own timeline, and the copy maps it onto its timeline through the frames
// it ingests. The name starts with `|` like |RtmpSampleAccess: stream ingest
// drops such messages, so a copy that does not know the tag never forwards it.
// Nodes' clocks are taken to agree (NTP); workers share one clock.
import type { ServerResponse } from 'node:http';
import { decodeAmf0, encodeAmf0 } from '../amf/amf0.js';
import { HttpFlvSink } from '../http/flv-route.js';
import type { ArrivalAnchor } from '../hub/arrival-clock.js';
import { MediaTag, TagType } from '../hub/media-tag.js';

export const ARRIVAL_ANCHOR_NAME = '|gatewayArrival';
/** how often a link carries the anchor: the line moves only by jitter and clock drift in between */
export const ANCHOR_EVERY_MS = 1_000;

const WRAP = 2 ** 32;
const PREFIX = encodeAmf0([ARRIVAL_ANCHOR_NAME]);

/** The anchor as a script tag; its FLV timestamp is the anchor's, as every tag's, modulo 2^32. */
export function arrivalAnchorTag(a: ArrivalAnchor): MediaTag {
  return new MediaTag(TagType.Script, a.timestamp % WRAP, encodeAmf0([ARRIVAL_ANCHOR_NAME, { timestamp: a.timestamp, receivedAt: a.receivedAt }]), false, false);
}

/** The anchor in a script tag's body; null for any other script tag or a malformed anchor. */
export function readArrivalAnchor(body: Buffer): ArrivalAnchor | null {
  if (body.length <= PREFIX.length || !body.subarray(0, PREFIX.length).equals(PREFIX)) return null;
  let values;
  try {
    values = decodeAmf0(body);
  } catch {
    return null;
  }
  const o = values[1];
  if (typeof o !== 'object' || o === null || Array.isArray(o) || o instanceof Date || o instanceof Uint8Array) return null;
  const { timestamp, receivedAt } = o as Record<string, unknown>;
  if (typeof timestamp !== 'number' || typeof receivedAt !== 'number' || !Number.isFinite(timestamp) || !Number.isFinite(receivedAt)) return null;
  return { timestamp, receivedAt };
}

/** `a - b` for two timestamps of one link, across the 32-bit wrap of FLV timestamps. */
export function linkDelta(a: number, b: number): number {
  const d = (((a - b) % WRAP) + WRAP) % WRAP;
  return d >= WRAP / 2 ? d - WRAP : d;
}

/**
 * On the copy: the owner's anchor as received and how the link's timestamps map onto the copy's
 * timeline; together they answer the copy's anchor.
 */
export class LinkAnchor {
  #owner: ArrivalAnchor | null = null;
  /** copy timeline minus link timestamp, from the newest frame that stood on the copy's arrival line */
  #offset: number | null = null;

  /** A new link: its anchor and timeline are unknown until it says. */
  reset(): void {
    this.#owner = null;
    this.#offset = null;
  }

  received(anchor: ArrivalAnchor): void {
    this.#owner = anchor;
  }

  /** A frame at `linkTimestamp` was mapped to `timestamp` on the copy's timeline. */
  mapped(linkTimestamp: number, timestamp: number): void {
    this.#offset = timestamp - linkTimestamp;
  }

  /** The owner's receipt of the copy's timeline `timestamp` (the copy's newest frame); null until known. */
  at(timestamp: number): ArrivalAnchor | null {
    if (this.#owner === null || this.#offset === null) return null;
    return { timestamp, receivedAt: this.#owner.receivedAt + linkDelta(timestamp - this.#offset, this.#owner.timestamp) };
  }
}

/** The owner's side: an internal link's HTTP-FLV response with the anchor put in front of a tag once a second. */
export class AnchoredLinkSink extends HttpFlvSink {
  #sentAt = 0;

  constructor(
    res: ServerResponse,
    browser: boolean,
    readonly anchor: () => ArrivalAnchor | null,
  ) {
    super(res, browser, 'internal');
  }

  override send(tag: MediaTag): void {
    const now = Date.now();
    if (now - this.#sentAt >= ANCHOR_EVERY_MS) {
      const a = this.anchor();
      if (a !== null) {
        this.#sentAt = now;
        super.send(arrivalAnchorTag(a));
      }
    }
    super.send(tag);
  }
}
