// RTMP play (RTMP 1.0 spec §7.2.2.1): a hub Sink that writes the stream to an
// RTMP player. Media messages use a stateless type-0 chunk encoding made once
// per tag and shared by every player on the same stream id and chunk size.
import type { MediaTag } from '../hub/media-tag.js';
import type { EndReason, Sink } from '../hub/subscriber.js';
import { encodeMessage, type OutgoingMessage } from './chunk-writer.js';
import { dataMessage, onStatus, status } from './commands.js';
import { Csid, MessageType, userControl, UserControlEvent } from './messages.js';
import type { Transport } from './session.js';

/** Every connection switches to this outgoing chunk size at connect, so shared encodings fit all. */
export const OUT_CHUNK_SIZE = 4096;
/** The stream id nearly every player gets from its first createStream; shared encodings use it. */
const SHARED_STREAM_ID = 1;

/**
 * Shared encodings always use full (type-0) headers, on chunk streams the
 * session's own header-compressing writer never uses (it sends its stream
 * data messages on Csid.Data), so neither can confuse the other's state.
 */
const CSID_BY_TYPE: Record<number, number> = { 8: Csid.Audio, 9: Csid.Video, 18: Csid.MediaData };

export function encodeTagForRtmp(tag: MediaTag, streamId: number): Buffer {
  // Timed script data (onTextData, onCuePoint, …) goes out as an aggregate message (spec §7.1.6) holding
  // the FLV tag itself: librtmp writes only onMetaData of plain data messages into its FLV output, but
  // copies aggregates whole, and every RTMP player splits them back into the same data message.
  const aggregate = tag.type === 18 && !tag.config;
  return encodeMessage(
    {
      csid: CSID_BY_TYPE[tag.type]!,
      type: aggregate ? MessageType.Aggregate : tag.type,
      streamId,
      timestamp: tag.timestamp,
      payload: aggregate ? tag.flv : tag.body,
    },
    OUT_CHUNK_SIZE,
  );
}

export class RtmpPlaySink implements Sink {
  readonly protocol = 'rtmp' as const;
  readonly #transport: Transport;
  readonly #streamId: number;
  readonly #name: string;
  readonly #amf3: boolean;
  readonly #send: (msg: OutgoingMessage) => void;
  readonly #close: (reason: string) => void;

  constructor(
    transport: Transport,
    streamId: number,
    name: string,
    amf3: boolean,
    send: (msg: OutgoingMessage) => void,
    close: (reason: string) => void,
  ) {
    this.#transport = transport;
    this.#streamId = streamId;
    this.#name = name;
    this.#amf3 = amf3;
    this.#send = send;
    this.#close = close;
  }

  get bufferedBytes(): number {
    return this.#transport.bufferedBytes;
  }

  /**
   * The replies to `play`, sent when the stream can start this player (at once,
   * or at the first keyframe), so a refused play is never announced as started.
   */
  begin(): void {
    const id = this.#streamId;
    const name = this.#name;
    this.#send(userControl(UserControlEvent.StreamBegin, id));
    this.#send(onStatus(id, status('status', 'NetStream.Play.Reset', `Playing and resetting ${name}.`), this.#amf3));
    this.#send(onStatus(id, status('status', 'NetStream.Play.Start', `Started playing ${name}.`), this.#amf3));
    // What nginx-rtmp sends too. A type-18 `onStatus NetStream.Data.Start` (as SRS sends) would reach
    // ffmpeg's FLV reader as an unknown data message, which it turns into a data stream that no
    // container can take, so `-map 0 -c copy` fails; `|RtmpSampleAccess` is a name it knows and skips.
    this.#send(dataMessage(['|RtmpSampleAccess', true, true], id));
  }

  write(tag: MediaTag): void {
    if (this.#streamId === SHARED_STREAM_ID) {
      tag.rtmp ??= encodeTagForRtmp(tag, SHARED_STREAM_ID);
      this.#transport.write(tag.rtmp);
    } else {
      this.#transport.write(encodeTagForRtmp(tag, this.#streamId));
    }
  }

  cork(): void {
    this.#transport.cork?.();
  }

  uncork(): void {
    this.#transport.uncork?.();
  }

  end(reason: EndReason, detail: string): void {
    if (reason === 'closed') return;
    if (reason === 'unpublished') {
      const id = this.#streamId;
      this.#send(onStatus(id, status('status', 'NetStream.Play.UnpublishNotify', detail), this.#amf3));
      this.#send(userControl(UserControlEvent.StreamEOF, id));
      this.#send(onStatus(id, status('status', 'NetStream.Play.Stop', detail), this.#amf3));
    }
    this.#close(`play ended: ${detail}`);
  }
}
