// RTMP play (RTMP 1.0 spec §7.2.2.1): a hub Sink that writes the stream to an
// RTMP player, with the shared media encoding of media-output.ts.
import type { MediaTag } from '../hub/media-tag.js';
import type { EndReason, Sink } from '../hub/subscriber.js';
import type { OutgoingMessage } from './chunk-writer.js';
import { dataMessage, onStatus, status } from './commands.js';
import { writeTagTo, type RtmpMediaPort } from './media-output.js';
import { userControl, UserControlEvent } from './messages.js';
import type { Transport } from './session-contract.js';

/** The play side of a served connection as a media port: the stream id the player asked on. */
class PlayPort implements RtmpMediaPort {
  readonly transport: Transport;
  readonly streamId: number;

  constructor(transport: Transport, streamId: number) {
    this.transport = transport;
    this.streamId = streamId;
  }

  get bufferedBytes(): number {
    return this.transport.bufferedBytes;
  }

  writeEncoded(buf: Buffer): void {
    this.transport.write(buf);
  }
}

export class RtmpPlaySink implements Sink {
  /** how the player came: a tunnelled one counts as an 'rtmpt' viewer, RTMPS as 'rtmp' */
  readonly protocol: 'rtmp' | 'rtmpt';
  readonly #port: PlayPort;
  readonly #streamId: number;
  readonly #name: string;
  readonly #amf3: boolean;
  readonly #send: (msg: OutgoingMessage) => void;
  readonly #close: (reason: string) => void;

  constructor(
    protocol: 'rtmp' | 'rtmpt',
    transport: Transport,
    streamId: number,
    name: string,
    amf3: boolean,
    send: (msg: OutgoingMessage) => void,
    close: (reason: string) => void,
  ) {
    this.protocol = protocol;
    this.#port = new PlayPort(transport, streamId);
    this.#streamId = streamId;
    this.#name = name;
    this.#amf3 = amf3;
    this.#send = send;
    this.#close = close;
  }

  get bufferedBytes(): number {
    return this.#port.bufferedBytes;
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
    writeTagTo(this.#port, tag);
  }

  cork(): void {
    this.#port.transport.cork?.();
  }

  uncork(): void {
    this.#port.transport.uncork?.();
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
