// RTMP 1.0 spec §7.2 (NetConnection and NetStream commands): decoding command
// messages into a typed union, and building the server's replies.
import { decodeAmf0, decodeAmf3CommandPayload, encodeAmf0 } from '../amf/amf0.js';
import type { AmfLimits, AmfObject, AmfValue } from '../amf/types.js';
import { ProtocolError } from '../errors.js';
import type { OutgoingMessage } from './chunk-writer.js';
import { Csid, MessageType } from './messages.js';
import { isSafeName } from '../names.js';

export type Command =
  | { name: 'connect'; txn: number; object: AmfObject; args: AmfValue[] }
  | { name: 'createStream'; txn: number }
  | { name: 'publish'; txn: number; streamName: string; publishType: string }
  | { name: 'play'; txn: number; streamName: string }
  | { name: 'releaseStream' | 'FCPublish' | 'FCUnpublish' | 'FCSubscribe' | 'FCUnsubscribe'; txn: number; streamName: string }
  | { name: 'deleteStream'; txn: number; streamId: number }
  | { name: 'closeStream'; txn: number }
  | { name: 'reply'; txn: number; method: string }
  | { name: 'other'; txn: number; method: string; args: AmfValue[] };

function isObject(v: AmfValue): v is AmfObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date) && !(v instanceof Uint8Array);
}

const str = (v: AmfValue | undefined): string => (typeof v === 'string' ? v : '');
const num = (v: AmfValue | undefined): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);

/** Decode the AMF payload of a command message (type 20, or 17 with its leading format byte). */
export function decodeCommand(type: number, payload: Buffer, limits?: AmfLimits): Command {
  const values =
    type === MessageType.CommandAmf3 ? decodeAmf3CommandPayload(payload, limits) : decodeAmf0(payload, limits);
  const method = values[0];
  if (typeof method !== 'string') throw new ProtocolError('command', 'command message does not start with a name');
  const txn = num(values[1]);
  // values[2] is the command object (usually null after connect); arguments follow.
  const args = values.slice(3);
  switch (method) {
    case 'connect': {
      const object = values[2];
      if (object === undefined || !isObject(object)) {
        throw new ProtocolError('command', 'connect without a command object');
      }
      return { name: 'connect', txn, object, args };
    }
    case 'createStream':
      return { name: 'createStream', txn };
    case 'publish':
      return { name: 'publish', txn, streamName: str(args[0]), publishType: str(args[1]) || 'live' };
    case 'play':
      return { name: 'play', txn, streamName: str(args[0]) };
    case 'releaseStream':
    case 'FCPublish':
    case 'FCUnpublish':
    case 'FCSubscribe':
    case 'FCUnsubscribe':
      return { name: method, txn, streamName: str(args[0]) };
    case 'deleteStream':
      return { name: 'deleteStream', txn, streamId: num(args[0]) };
    case 'closeStream':
      return { name: 'closeStream', txn };
    case '_result':
    case '_error':
    case 'onStatus':
    case 'onBWDone':
      return { name: 'reply', txn, method };
    default:
      return { name: 'other', txn, method, args };
  }
}

/** A command message to send. Replies on a NetStream go on that stream's id. */
export function commandMessage(values: AmfValue[], streamId = 0, amf3 = false): OutgoingMessage {
  const body = encodeAmf0(values);
  // AMF3 clients get type 17: a zero format byte, then AMF0 values (§7.1.1).
  const payload = amf3 ? Buffer.concat([Buffer.alloc(1), body]) : body;
  return {
    csid: Csid.Command,
    type: amf3 ? MessageType.CommandAmf3 : MessageType.CommandAmf0,
    streamId,
    timestamp: 0,
    payload,
  };
}

export function status(level: 'status' | 'error' | 'warning', code: string, description: string, extra: AmfObject = {}): AmfObject {
  return { level, code, description, ...extra };
}

export function onStatus(streamId: number, info: AmfObject, amf3 = false): OutgoingMessage {
  return commandMessage(['onStatus', 0, null, info], streamId, amf3);
}

export function result(txn: number, properties: AmfValue, info: AmfValue, amf3 = false): OutgoingMessage {
  return commandMessage(['_result', txn, properties, info], 0, amf3);
}

export function error(txn: number, info: AmfObject, amf3 = false): OutgoingMessage {
  return commandMessage(['_error', txn, null, info], 0, amf3);
}

/** A data message (type 18) on a stream, e.g. `|RtmpSampleAccess`. */
export function dataMessage(values: AmfValue[], streamId: number): OutgoingMessage {
  return { csid: Csid.Data, type: MessageType.DataAmf0, streamId, timestamp: 0, payload: encodeAmf0(values) };
}

/**
 * Stream names arrive as `key?query`. The key becomes part of URLs, log lines
 * and (later) file names, so only a safe character set and length pass.
 */
export interface StreamPath {
  name: string;
  query: URLSearchParams;
}

export function splitQuery(raw: string): StreamPath | null {
  const q = raw.indexOf('?');
  const name = q < 0 ? raw : raw.slice(0, q);
  if (!isSafeName(name)) return null;
  return { name, query: new URLSearchParams(q < 0 ? '' : raw.slice(q + 1)) };
}
