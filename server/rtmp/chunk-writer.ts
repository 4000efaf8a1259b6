// RTMP 1.0 spec §5.3.1: splitting messages into chunks for sending.
//
// `encodeMessage` is stateless (always a type-0 header), so one encoding of a
// media message can be shared by every RTMP player. `ChunkStreamWriter` adds
// the header compression of §5.3.1.2 (types 1–3) for a single connection.
import type { RtmpMessage } from './chunk-reader.js';

export type OutgoingMessage = Omit<RtmpMessage, 'csid'> & { csid: number };

interface WriterStreamState {
  timestamp: number;
  delta: number;
  length: number;
  type: number;
  streamId: number;
}

function basicHeaderSize(csid: number): number {
  return csid < 64 ? 1 : csid < 320 ? 2 : 3;
}

function writeBasicHeader(buf: Buffer, at: number, fmt: number, csid: number): number {
  if (csid < 2 || csid > 65599) throw new RangeError(`chunk stream id ${csid} out of range`);
  if (csid < 64) {
    buf[at] = (fmt << 6) | csid;
    return at + 1;
  }
  if (csid < 320) {
    buf[at] = fmt << 6;
    buf[at + 1] = csid - 64;
    return at + 2;
  }
  buf[at] = (fmt << 6) | 1;
  buf.writeUInt16LE(csid - 64, at + 1);
  return at + 3;
}

/**
 * Encode one message as chunks. `fmt` and `field` describe the first chunk's
 * header: field is the timestamp (type 0) or delta (types 1–2), and for type 3
 * the value whose extended form, if any, the chunk repeats.
 */
function encodeWithHeader(
  msg: OutgoingMessage,
  chunkSize: number,
  fmt: number,
  field: number,
): Buffer {
  const { csid, payload } = msg;
  const basic = basicHeaderSize(csid);
  const extended = field >= 0xffffff;
  const ext = extended ? 4 : 0;
  const chunks = Math.max(1, Math.ceil(payload.length / chunkSize));
  const headerBytes = [11, 7, 3, 0][fmt]!;
  // §5.3.1.3: when the first header carries an extended timestamp, every
  // type-3 continuation chunk repeats it.
  const size = basic + headerBytes + ext + payload.length + (chunks - 1) * (basic + ext);
  const out = Buffer.allocUnsafe(size);
  let at = writeBasicHeader(out, 0, fmt, csid);
  if (fmt <= 2) {
    out.writeUIntBE(extended ? 0xffffff : field, at, 3);
    at += 3;
  }
  if (fmt <= 1) {
    out.writeUIntBE(payload.length, at, 3);
    out[at + 3] = msg.type;
    at += 4;
  }
  if (fmt === 0) {
    out.writeUInt32LE(msg.streamId, at);
    at += 4;
  }
  if (extended) {
    out.writeUInt32BE(field, at);
    at += 4;
  }
  for (let offset = 0; offset < payload.length || offset === 0; ) {
    if (offset > 0) {
      at = writeBasicHeader(out, at, 3, csid);
      if (extended) {
        out.writeUInt32BE(field, at);
        at += 4;
      }
    }
    const end = Math.min(payload.length, offset + chunkSize);
    payload.copy(out, at, offset, end);
    at += end - offset;
    offset = end;
    if (payload.length === 0) break;
  }
  return out;
}

/** Stateless encoding: a type-0 header, so the result can be shared between connections. */
export function encodeMessage(msg: OutgoingMessage, chunkSize: number): Buffer {
  return encodeWithHeader(msg, chunkSize, 0, msg.timestamp >>> 0);
}

/** Per-connection writer that compresses headers against what it sent before on each chunk stream. */
export class ChunkStreamWriter {
  chunkSize = 128;
  #streams = new Map<number, WriterStreamState>();

  /** Change the chunk size for messages encoded after this one (the caller sends Set Chunk Size). */
  setChunkSize(size: number): void {
    if (!Number.isInteger(size) || size < 1 || size > 0x7fffffff) {
      throw new RangeError(`chunk size ${size} out of range`);
    }
    this.chunkSize = size;
  }

  encode(msg: OutgoingMessage): Buffer {
    const timestamp = msg.timestamp >>> 0;
    const prev = this.#streams.get(msg.csid);
    let fmt = 0;
    let field = timestamp;
    if (prev !== undefined && prev.streamId === msg.streamId && timestamp >= prev.timestamp) {
      const delta = timestamp - prev.timestamp;
      if (prev.type === msg.type && prev.length === msg.payload.length) {
        fmt = prev.delta === delta ? 3 : 2;
      } else {
        fmt = 1;
      }
      field = delta;
    }
    this.#streams.set(msg.csid, {
      timestamp,
      // A type-0 header makes the reader's stored delta the absolute timestamp.
      delta: fmt === 0 ? timestamp : field,
      length: msg.payload.length,
      type: msg.type,
      streamId: msg.streamId,
    });
    return encodeWithHeader(msg, this.chunkSize, fmt, field);
  }

  /** Forget compression state, e.g. after a message on a stream was aborted or sent elsewhere. */
  reset(csid?: number): void {
    if (csid === undefined) this.#streams.clear();
    else this.#streams.delete(csid);
  }
}
