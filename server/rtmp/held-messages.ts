// Media an encoder pipelines behind `publish` while the access check (e.g. a webhook) runs: kept in
// arrival order for the stream once the publish is accepted, and bounded, because a peer that keeps
// sending while the check is slow must not grow memory without limit.
import { ProtocolError } from '../errors.js';
import type { RtmpMessage } from './chunk-reader.js';

/** What an encoder may send ahead of an accepted publish: seconds of media at any sane bitrate. */
export const HELD_BYTES_LIMIT = 4 * 1024 * 1024;

export class HeldMessages {
  #messages: RtmpMessage[] = [];
  #bytes = 0;

  constructor(readonly limitBytes = HELD_BYTES_LIMIT) {}

  /** Payload bytes held now. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Keeps `msg`; a ProtocolError('limit') once more than limitBytes of payload are held. */
  hold(msg: RtmpMessage): void {
    this.#bytes += msg.payload.length;
    if (this.#bytes > this.limitBytes) {
      throw new ProtocolError('limit', `more than ${this.limitBytes} bytes of media sent before publish was accepted`);
    }
    this.#messages.push(msg);
  }

  /** The held messages in arrival order; none are held afterwards. */
  takeAll(): RtmpMessage[] {
    const held = this.#messages;
    this.#messages = [];
    this.#bytes = 0;
    return held;
  }
}
