// What a browser viewer (WS-FLV or HTTP-FLV without `?untouched=1`) is sent
// in place of each tag: its browser-safe form, shared by every browser viewer
// (MediaTag.browser), and, once before the first audio/video frame, a timeline
// cue. mpegts.js rebases timestamps so that the first frame it gets plays at
// media time 0; the cue tells the player that frame's timestamp on the
// gateway's timeline, which is how it maps a presented frame back to the time
// the gateway received it (true latency, docs/web-player.md).
import { encodeAmf0 } from '../amf/amf0.js';
import { MediaTag, TagType } from './media-tag.js';

/** The cue's `name`, as the player looks for it in mpegts.js's SCRIPTDATA_ARRIVED event. */
export const TIMELINE_CUE_NAME = 'gateway-timeline';

/**
 * An `onCuePoint` at timestamp 0 with `parameters.start` = the first frame's timestamp. onCuePoint is a
 * standard FLV data name: ffmpeg's FLV reader skips it at timestamp 0 instead of opening a data stream.
 * One small tag per viewer join, never per tag.
 */
export function timelineCue(start: number): MediaTag {
  const body = encodeAmf0(['onCuePoint', { name: TIMELINE_CUE_NAME, type: 'event', time: 0, parameters: { start } }]);
  return new MediaTag(TagType.Script, 0, body, false, true);
}

export interface TagOutput {
  send(tag: MediaTag): void;
}

export class BrowserFeed {
  #cued = false;

  /** Hot path (per tag per browser viewer): no allocation but the one cue per viewer. */
  deliver(tag: MediaTag, out: TagOutput): void {
    const safe = tag.browser;
    if (safe === null) return;
    if (!this.#cued && safe.type !== TagType.Script && !safe.config) {
      this.#cued = true;
      out.send(timelineCue(safe.timestamp));
    }
    out.send(safe);
  }
}

/** `?untouched=1` (or `true`) asks for the stream exactly as published; anything else gets the browser feed. */
export function wantsUntouched(query: URLSearchParams): boolean {
  const v = query.get('untouched');
  return v === '1' || v === 'true';
}
