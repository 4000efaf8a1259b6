// RTMP 1.0 spec §5.4 (protocol control messages), §6.2 / §7.1.7 (user control
// messages) and §7.1.6 (aggregate messages): typed encoders and decoders.
import { ProtocolError } from '../errors.js';
import type { RtmpMessage } from './chunk-reader.js';
import type { OutgoingMessage } from './chunk-writer.js';

export const MessageType = {
  SetChunkSize: 1,
  Abort: 2,
  Acknowledgement: 3,
  UserControl: 4,
  WindowAckSize: 5,
  SetPeerBandwidth: 6,
  Audio: 8,
  Video: 9,
  DataAmf3: 15,
  SharedObjectAmf3: 16,
  CommandAmf3: 17,
  DataAmf0: 18,
  SharedObjectAmf0: 19,
  CommandAmf0: 20,
  Aggregate: 22,
} as const;

export const UserControlEvent = {
  StreamBegin: 0,
  StreamEOF: 1,
  StreamDry: 2,
  SetBufferLength: 3,
  StreamIsRecorded: 4,
  PingRequest: 6,
  PingResponse: 7,
} as const;

/** Chunk stream ids this server sends on; any id ≥ 2 is legal, these follow common practice. */
export const Csid = {
  Control: 2,
  Command: 3,
  Audio: 4,
  Video: 6,
  Data: 5,
  /** data tags of a played stream (onMetaData, onTextData…), encoded once for all players */
  MediaData: 7,
} as const;

function u32(value: number): Buffer {
  const b = Buffer.allocUnsafe(4);
  b.writeUInt32BE(value >>> 0, 0);
  return b;
}

function control(type: number, payload: Buffer): OutgoingMessage {
  return { csid: Csid.Control, type, streamId: 0, timestamp: 0, payload };
}

export const setChunkSize = (size: number): OutgoingMessage => control(MessageType.SetChunkSize, u32(size & 0x7fffffff));
export const acknowledgement = (bytes: number): OutgoingMessage => control(MessageType.Acknowledgement, u32(bytes));
export const windowAckSize = (size: number): OutgoingMessage => control(MessageType.WindowAckSize, u32(size));

/** Set Peer Bandwidth; limit type 2 is "dynamic". */
export function setPeerBandwidth(size: number, limitType: 0 | 1 | 2 = 2): OutgoingMessage {
  const b = Buffer.allocUnsafe(5);
  b.writeUInt32BE(size >>> 0, 0);
  b[4] = limitType;
  return control(MessageType.SetPeerBandwidth, b);
}

export function userControl(event: number, value: number, extra?: number): OutgoingMessage {
  const b = Buffer.allocUnsafe(extra === undefined ? 6 : 10);
  b.writeUInt16BE(event, 0);
  b.writeUInt32BE(value >>> 0, 2);
  if (extra !== undefined) b.writeUInt32BE(extra >>> 0, 6);
  return control(MessageType.UserControl, b);
}

export type UserControlMessage =
  | { event: 'stream-begin' | 'stream-eof' | 'stream-dry' | 'stream-is-recorded'; streamId: number }
  | { event: 'set-buffer-length'; streamId: number; bufferMs: number }
  | { event: 'ping-request' | 'ping-response'; timestamp: number }
  | { event: 'unknown'; type: number };

export function parseUserControl(payload: Buffer): UserControlMessage {
  if (payload.length < 2) throw new ProtocolError('message', 'user control message shorter than 2 bytes');
  const type = payload.readUInt16BE(0);
  const need = type === UserControlEvent.SetBufferLength ? 10 : 6;
  if (type <= 7 && type !== 5 && payload.length < need) {
    throw new ProtocolError('message', `user control event ${type} shorter than ${need} bytes`);
  }
  switch (type) {
    case UserControlEvent.StreamBegin:
      return { event: 'stream-begin', streamId: payload.readUInt32BE(2) };
    case UserControlEvent.StreamEOF:
      return { event: 'stream-eof', streamId: payload.readUInt32BE(2) };
    case UserControlEvent.StreamDry:
      return { event: 'stream-dry', streamId: payload.readUInt32BE(2) };
    case UserControlEvent.StreamIsRecorded:
      return { event: 'stream-is-recorded', streamId: payload.readUInt32BE(2) };
    case UserControlEvent.SetBufferLength:
      return { event: 'set-buffer-length', streamId: payload.readUInt32BE(2), bufferMs: payload.readUInt32BE(6) };
    case UserControlEvent.PingRequest:
      return { event: 'ping-request', timestamp: payload.readUInt32BE(2) };
    case UserControlEvent.PingResponse:
      return { event: 'ping-response', timestamp: payload.readUInt32BE(2) };
    default:
      return { event: 'unknown', type };
  }
}

/** The answer a user control message needs from either end of a connection: a ping is answered with its timestamp. */
export function userControlAnswer(payload: Buffer): OutgoingMessage | null {
  const ev = parseUserControl(payload);
  return ev.event === 'ping-request' ? userControl(UserControlEvent.PingResponse, ev.timestamp) : null;
}

export function readU32Payload(msg: RtmpMessage, what: string): number {
  if (msg.payload.length < 4) throw new ProtocolError('message', `${what} shorter than 4 bytes`);
  return msg.payload.readUInt32BE(0);
}

/**
 * §7.1.6: an aggregate message holds FLV-tag-shaped sub-messages (11-byte
 * header, body, 4-byte back pointer). Sub-message timestamps are rebased so
 * the first one equals the aggregate's own timestamp. Sub-message bodies are
 * views of the aggregate payload, not copies.
 */
export function splitAggregate(msg: RtmpMessage): RtmpMessage[] {
  const p = msg.payload;
  const out: RtmpMessage[] = [];
  let at = 0;
  let base: number | null = null;
  while (at < p.length) {
    if (p.length - at < 11) throw new ProtocolError('message', 'aggregate sub-message header truncated');
    const type = p[at]!;
    const size = p.readUIntBE(at + 1, 3);
    const ts = (p.readUIntBE(at + 4, 3) | (p[at + 7]! << 24)) >>> 0;
    const bodyStart = at + 11;
    if (p.length - bodyStart < size) throw new ProtocolError('message', 'aggregate sub-message body truncated');
    if (type !== MessageType.Audio && type !== MessageType.Video && type !== MessageType.DataAmf0) {
      throw new ProtocolError('message', `aggregate holds message type ${type}`);
    }
    if (base === null) base = ts;
    out.push({
      csid: msg.csid,
      type,
      streamId: msg.streamId,
      timestamp: (msg.timestamp + (ts - base)) >>> 0,
      payload: p.subarray(bodyStart, bodyStart + size),
    });
    // The back pointer may be missing after the last sub-message.
    at = Math.min(p.length, bodyStart + size + 4);
  }
  return out;
}
