// One received audio, video or data message, serialized as an FLV tag once and
// shared by every viewer. RTMP players need the same body chunked instead; that
// encoding is made on first use and shared too.
import { browserSafeAudio, browserSafeVideo } from '../media/browser-safe.js';
import { browserTimedScript } from '../media/browser-script.js';
import { serializeFlvTag, TAG_HEADER_BYTES, TAG_TRAILER_BYTES } from '../media/flv.js';

/** FLV tag types (FLV spec E.4.1), the same numbers as the RTMP message types of the media. */
export const TagType = { Audio: 8, Video: 9, Script: 18 } as const;
export type TagType = (typeof TagType)[keyof typeof TagType];

/**
 * The header a WebSocket frame carrying a tag has, by the frame's place in its message: the tag
 * alone, first in a message of several tags, or after that (server/ws/frame-head.ts).
 */
export interface WsFrameHeads {
  readonly whole: Buffer;
  readonly first: Buffer;
  readonly more: Buffer;
}

export class MediaTag {
  readonly type: TagType;
  readonly timestamp: number;
  /** FLV tag: 11-byte header, body, PreviousTagSize */
  readonly flv: Buffer;
  /** a video coded frame that starts a GOP */
  readonly keyframe: boolean;
  /** metadata or a sequence header: never dropped for a slow viewer */
  readonly config: boolean;
  /** RTMP chunk encoding of this message for players, made once on demand */
  rtmp: Buffer | null = null;
  /** the FLV tag as one HTTP chunk (size line, tag, CRLF), made once on demand by HTTP-FLV */
  httpChunk: Buffer | null = null;
  /** WebSocket frame headers for the FLV tag as payload, made once on demand by WS-FLV */
  wsHeads: WsFrameHeads | null = null;

  constructor(type: TagType, timestamp: number, body: Buffer, keyframe: boolean, config: boolean) {
    this.type = type;
    this.timestamp = timestamp;
    this.flv = serializeFlvTag(type, timestamp, body);
    this.keyframe = keyframe;
    this.config = config;
  }

  /** The message body (a view into the FLV tag, no copy). */
  get body(): Buffer {
    return this.flv.subarray(TAG_HEADER_BYTES, this.flv.length - TAG_TRAILER_BYTES);
  }

  #browser: MediaTag | null | undefined = undefined;

  /**
   * This tag as the browser player can parse it (see media/browser-safe.ts): itself, a rewritten tag, or
   * null to leave it out. Made once, on first use by a browser viewer, and shared by all of them.
   */
  get browser(): MediaTag | null {
    if (this.#browser !== undefined) return this.#browser;
    const body = this.body;
    const safe = this.type === TagType.Video ? browserSafeVideo(body) : this.type === TagType.Audio ? browserSafeAudio(body) : browserTimedScript(body, this.timestamp);
    this.#browser = safe === null ? null : safe === body ? this : new MediaTag(this.type, this.timestamp, safe, this.keyframe, this.config);
    return this.#browser;
  }

  /** Same body at another timestamp (used for the join sequence of a new viewer, not per tag). */
  withTimestamp(timestamp: number): MediaTag {
    return new MediaTag(this.type, timestamp, this.body, this.keyframe, this.config);
  }
}
