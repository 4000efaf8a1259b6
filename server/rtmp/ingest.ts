// Handing a publisher's RTMP media and data messages to a hub stream. Shared
// by the RTMP session (encoders) and the pull relay (other servers).
import { decodeAmf0, decodeAmf3CommandPayload, encodeAmf0 } from '../amf/amf0.js';
import { EcmaArray, type AmfLimits, type AmfObject, type AmfValue } from '../amf/types.js';
import type { LiveStream } from '../hub/live-stream.js';
import type { RtmpMessage } from './chunk-reader.js';
import { MessageType } from './messages.js';

function toPlainObject(v: AmfValue | undefined): AmfObject {
  if (v instanceof EcmaArray) return v.entries;
  if (typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date) && !(v instanceof Uint8Array)) {
    return v;
  }
  return {};
}

/** Feed one audio (8), video (9) or data (15/18) message to the stream; other types are ignored. */
export function ingestMessage(stream: LiveStream, msg: RtmpMessage, limits?: AmfLimits): void {
  if (msg.type === MessageType.Audio || msg.type === MessageType.Video) {
    stream.push(msg.type, msg.timestamp, msg.payload);
    return;
  }
  if (msg.type !== MessageType.DataAmf0 && msg.type !== MessageType.DataAmf3) return;
  const values =
    msg.type === MessageType.DataAmf3 ? decodeAmf3CommandPayload(msg.payload, limits) : decodeAmf0(msg.payload, limits);
  // Encoders send `@setDataFrame, onMetaData, {...}`; viewers expect `onMetaData, {...}`.
  const body = values[0] === '@setDataFrame' ? values.slice(1) : values;
  if (body[0] === 'onMetaData') {
    const object = toPlainObject(body[1]);
    stream.setMetadata(encodeAmf0(['onMetaData', object]), object);
    return;
  }
  // |RtmpSampleAccess and onStatus notifications concern one RTMP connection, not the stream's content.
  if (typeof body[0] === 'string' && (body[0].startsWith('|') || body[0] === 'onStatus')) return;
  const payload = msg.type === MessageType.DataAmf0 && body === values ? msg.payload : encodeAmf0(body);
  stream.push(MessageType.DataAmf0, msg.timestamp, payload);
}
