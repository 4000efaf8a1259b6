// RTMP output of the stream's media, for every RTMP writer (the play sink and
// the push relay's client): one outgoing chunk size, and one stateless type-0
// chunk encoding per tag, made once and shared by every writer on the same
// stream id. The bottom of RTMP output: it imports no session or client.
import type { MediaTag } from '../hub/media-tag.js';
import { encodeMessage } from './chunk-writer.js';
import { Csid, MessageType } from './messages.js';

/** Every connection (served or dialled) switches to this outgoing chunk size first, so shared encodings fit all. */
export const OUT_CHUNK_SIZE = 4096;
/** The stream id nearly every peer gets from its first createStream; the shared encoding uses it. */
export const SHARED_STREAM_ID = 1;

/**
 * Shared encodings always use full (type-0) headers, on chunk streams the
 * connection's own header-compressing writer never uses (it sends its stream
 * data messages on Csid.Data), so neither can confuse the other's state.
 */
const CSID_BY_TYPE: Record<MediaTag['type'], number> = {
  [MessageType.Audio]: Csid.Audio,
  [MessageType.Video]: Csid.Video,
  [MessageType.DataAmf0]: Csid.MediaData,
};

export function encodeTagForRtmp(tag: MediaTag, streamId: number): Buffer {
  // Timed script data (onTextData, onCuePoint, …) goes out as an aggregate message (spec §7.1.6) holding
  // the FLV tag itself: librtmp writes only onMetaData of plain data messages into its FLV output, but
  // copies aggregates whole, and every RTMP player splits them back into the same data message.
  const aggregate = tag.type === MessageType.DataAmf0 && !tag.config;
  return encodeMessage(
    {
      csid: CSID_BY_TYPE[tag.type],
      type: aggregate ? MessageType.Aggregate : tag.type,
      streamId,
      timestamp: tag.timestamp,
      payload: aggregate ? tag.flv : tag.body,
    },
    OUT_CHUNK_SIZE,
  );
}

/** The bytes of `tag` for a peer on `streamId`: the shared encoding when it can be, else one of its own. */
export function rtmpBytesOf(tag: MediaTag, streamId: number): Buffer {
  if (streamId !== SHARED_STREAM_ID) return encodeTagForRtmp(tag, streamId);
  return (tag.rtmp ??= encodeTagForRtmp(tag, SHARED_STREAM_ID));
}

/**
 * Where one stream's RTMP media goes: a player's connection (play-sink.ts) or
 * a relay's connection to another server (relay/rtmp-client.ts). Media writers
 * depend on this, not on the session or the client.
 */
export interface RtmpMediaPort {
  /** the message stream id the peer knows this stream by */
  readonly streamId: number;
  /** bytes accepted but not yet handed to the kernel */
  readonly bufferedBytes: number;
  /** already chunk-encoded bytes, written as they are */
  writeEncoded(buf: Buffer): void;
}

/** Hot path: the tag's shared encoding when the port's stream id allows, never copied. */
export function writeTagTo(port: RtmpMediaPort, tag: MediaTag): void {
  port.writeEncoded(rtmpBytesOf(tag, port.streamId));
}
