// RTMP 1.0 spec §5.3 (chunking) and §5.4.1–5.4.2 (Set Chunk Size, Abort):
// an incremental push parser that turns received bytes into whole messages.
//
// Written as an explicit state machine over a queue of received Buffers. Chunk
// payload bytes are kept as zero-copy views of the received Buffers and joined
// once when the message completes, so nothing is allocated for bytes that have
// not arrived, whatever length a header announces.
import { ProtocolError } from '../errors.js';

export interface RtmpMessage {
  /** chunk stream id the message arrived on */
  csid: number;
  type: number;
  streamId: number;
  /** 32-bit message timestamp in milliseconds (wraps at 2^32) */
  timestamp: number;
  payload: Buffer;
}

export interface ChunkReaderLimits {
  /** largest message length accepted from a header */
  maxMessageBytes: number;
  /** most chunk streams that may be open at once */
  maxChunkStreams: number;
  /** most bytes held in unfinished messages across all chunk streams */
  maxPendingBytes: number;
}

export const DEFAULT_CHUNK_READER_LIMITS: ChunkReaderLimits = {
  maxMessageBytes: 16 * 1024 * 1024,
  maxChunkStreams: 64,
  maxPendingBytes: 32 * 1024 * 1024,
};

export const MSG_SET_CHUNK_SIZE = 1;
export const MSG_ABORT = 2;
export const MAX_CHUNK_SIZE = 0x7fffffff;

/** What the reader remembers per chunk stream for header compression (§5.3.1.2). */
interface ChunkStreamState {
  timestamp: number;
  /** delta (or absolute timestamp after a type-0 header) reused by type-3 headers */
  delta: number;
  length: number;
  type: number;
  streamId: number;
  /** the last header of this chunk stream used an extended timestamp field */
  extended: boolean;
  extendedValue: number;
  /** bytes of the current message received so far */
  received: number;
  pieces: Buffer[];
  /** a header has been seen: type 1–3 are legal */
  started: boolean;
}

const enum State {
  Header,
  Payload,
}

const MESSAGE_HEADER_BYTES = [11, 7, 3, 0];

export class ChunkStreamReader {
  readonly limits: ChunkReaderLimits;
  /** total bytes pushed, for acknowledgements (§5.4.3) */
  bytesReceived = 0;
  chunkSize = 128;

  #queue: Buffer[] = [];
  #queueBytes = 0;
  #state = State.Header;
  #streams = new Map<number, ChunkStreamState>();
  #current: ChunkStreamState | null = null;
  #currentCsid = 0;
  /** payload bytes left in the current chunk */
  #chunkRemaining = 0;
  #pendingBytes = 0;
  #scratch = Buffer.alloc(18);
  #onMessage: (msg: RtmpMessage) => void;

  constructor(onMessage: (msg: RtmpMessage) => void, limits: Partial<ChunkReaderLimits> = {}) {
    this.#onMessage = onMessage;
    this.limits = { ...DEFAULT_CHUNK_READER_LIMITS, ...limits };
  }

  /** Feed received bytes; completed messages go to the callback. Throws ProtocolError on bad input. */
  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.bytesReceived += chunk.length;
    this.#queue.push(chunk);
    this.#queueBytes += chunk.length;
    let more = true;
    while (more) {
      more = this.#state === State.Header ? this.#readHeader() : this.#readPayload();
    }
  }

  /** Bytes received but not yet part of a finished message (unfinished messages + queued bytes). */
  get bufferedBytes(): number {
    return this.#pendingBytes + this.#queueBytes;
  }

  #peek(n: number): Buffer {
    const head = this.#queue[0]!;
    if (head.length >= n) return head;
    let filled = 0;
    for (const b of this.#queue) {
      const take = Math.min(b.length, n - filled);
      b.copy(this.#scratch, filled, 0, take);
      filled += take;
      if (filled === n) break;
    }
    return this.#scratch;
  }

  #skip(n: number): void {
    this.#queueBytes -= n;
    while (n > 0) {
      const head = this.#queue[0]!;
      if (head.length <= n) {
        n -= head.length;
        this.#queue.shift();
      } else {
        this.#queue[0] = head.subarray(n);
        n = 0;
      }
    }
  }

  #readHeader(): boolean {
    if (this.#queueBytes < 1) return false;
    let b = this.#peek(1);
    const fmt = b[0]! >> 6;
    let csid = b[0]! & 0x3f;
    const basic = csid === 0 ? 2 : csid === 1 ? 3 : 1;
    const fixed = basic + MESSAGE_HEADER_BYTES[fmt]!;
    if (this.#queueBytes < fixed) return false;
    b = this.#peek(fixed);
    if (basic === 2) csid = 64 + b[1]!;
    else if (basic === 3) csid = 64 + b[1]! + b[2]! * 256;

    let cs = this.#streams.get(csid);
    if (cs === undefined) {
      if (fmt !== 0) {
        throw new ProtocolError('chunk', `chunk type ${fmt} on chunk stream ${csid} with no previous header`);
      }
      if (this.#streams.size >= this.limits.maxChunkStreams) {
        throw new ProtocolError('limit', `more than ${this.limits.maxChunkStreams} chunk streams`);
      }
      cs = {
        timestamp: 0, delta: 0, length: 0, type: 0, streamId: 0,
        extended: false, extendedValue: 0, received: 0, pieces: [], started: false,
      };
      this.#streams.set(csid, cs);
    }
    let newMessage = cs.received === 0;
    if (!newMessage && fmt !== 3) {
      // §5.3.1: a message's chunks after the first carry type-3 headers. A new
      // header here restarts the chunk stream; treat it as an abort of the old message.
      this.#dropPartial(cs);
      newMessage = true;
    }

    let tsField = 0;
    let length = cs.length;
    let type = cs.type;
    let streamId = cs.streamId;
    const o = basic;
    if (fmt <= 2) tsField = b.readUIntBE(o, 3);
    if (fmt <= 1) {
      length = b.readUIntBE(o + 3, 3);
      type = b[o + 6]!;
    }
    if (fmt === 0) streamId = b.readUInt32LE(o + 7);

    let headerBytes = fixed;
    let extended = false;
    let extendedValue = 0;
    if (fmt <= 2) {
      if (tsField === 0xffffff) {
        if (this.#queueBytes < fixed + 4) return false;
        extendedValue = this.#peek(fixed + 4).readUInt32BE(fixed);
        extended = true;
        headerBytes += 4;
      }
    } else if (cs.extended) {
      // The spec repeats the extended timestamp on type-3 chunks; some encoders
      // omit it on continuation chunks. Take the 4 bytes only if they repeat it.
      if (this.#queueBytes < fixed + 4) return false;
      const candidate = this.#peek(fixed + 4).readUInt32BE(fixed);
      if (newMessage || candidate === cs.extendedValue) {
        extended = true;
        extendedValue = candidate;
        headerBytes += 4;
      }
    }
    this.#skip(headerBytes);

    if (fmt <= 2) {
      cs.extended = extended;
      if (extended) cs.extendedValue = extendedValue;
    }
    if (newMessage) {
      if (length > this.limits.maxMessageBytes) {
        throw new ProtocolError('limit', `message of ${length} bytes exceeds ${this.limits.maxMessageBytes}`);
      }
      const value = fmt <= 2 ? (extended ? extendedValue : tsField) : cs.delta;
      if (fmt === 0) {
        cs.timestamp = value;
        cs.delta = value;
      } else {
        cs.delta = value;
        cs.timestamp = (cs.timestamp + value) >>> 0;
      }
      cs.length = length;
      cs.type = type;
      cs.streamId = streamId;
    }
    cs.started = true;

    this.#current = cs;
    this.#currentCsid = csid;
    this.#chunkRemaining = Math.min(this.chunkSize, cs.length - cs.received);
    this.#state = State.Payload;
    if (this.#chunkRemaining === 0) this.#finishChunk();
    return true;
  }

  #readPayload(): boolean {
    const cs = this.#current!;
    while (this.#chunkRemaining > 0) {
      if (this.#queueBytes === 0) return false;
      const head = this.#queue[0]!;
      const take = Math.min(head.length, this.#chunkRemaining);
      cs.pieces.push(take === head.length ? head : head.subarray(0, take));
      cs.received += take;
      this.#pendingBytes += take;
      if (this.#pendingBytes > this.limits.maxPendingBytes) {
        throw new ProtocolError('limit', `more than ${this.limits.maxPendingBytes} bytes in unfinished messages`);
      }
      this.#chunkRemaining -= take;
      this.#skip(take);
    }
    this.#finishChunk();
    return true;
  }

  #finishChunk(): void {
    this.#state = State.Header;
    const cs = this.#current!;
    if (cs.received < cs.length) return;
    const payload =
      cs.pieces.length === 1 ? cs.pieces[0]! : Buffer.concat(cs.pieces, cs.received);
    this.#pendingBytes -= cs.received;
    cs.pieces = [];
    cs.received = 0;
    const msg: RtmpMessage = {
      csid: this.#currentCsid,
      type: cs.type,
      streamId: cs.streamId,
      timestamp: cs.timestamp,
      payload,
    };
    this.#applyControl(msg);
    this.#onMessage(msg);
  }

  #dropPartial(cs: ChunkStreamState): void {
    this.#pendingBytes -= cs.received;
    cs.pieces = [];
    cs.received = 0;
  }

  /** Set Chunk Size and Abort change how the following bytes parse, so the reader applies them itself. */
  #applyControl(msg: RtmpMessage): void {
    if (msg.type === MSG_SET_CHUNK_SIZE) {
      if (msg.payload.length < 4) throw new ProtocolError('message', 'Set Chunk Size shorter than 4 bytes');
      const size = msg.payload.readUInt32BE(0) & 0x7fffffff;
      if (size < 1) throw new ProtocolError('chunk', 'Set Chunk Size of 0');
      this.chunkSize = size;
    } else if (msg.type === MSG_ABORT) {
      if (msg.payload.length < 4) throw new ProtocolError('message', 'Abort shorter than 4 bytes');
      const target = this.#streams.get(msg.payload.readUInt32BE(0));
      if (target !== undefined) this.#dropPartial(target);
    }
  }
}
