// Timed script data for browser viewers: mpegts.js hands the page an FLV script tag's AMF values
// (SCRIPTDATA_ARRIVED) but not the tag's timestamp, and the player must show text and cue points
// when that timestamp plays, not when the tag arrives. So the browser form of onTextData,
// onCuePoint and onCaptionInfo carries its own timestamp as one more property. Made once per
// tag (MediaTag.browser) and shared; `?untouched=1` viewers, RTMP players and recordings get the
// tag as published.
import { decodeAmf0, encodeAmf0 } from '../amf/amf0.js';
import { EcmaArray, type AmfObject } from '../amf/types.js';

/** The property the player reads (player/timed-text.ts). */
export const TIMESTAMP_PROPERTY = 'gatewayTimestamp';

const TIMED_NAMES = new Set(['onTextData', 'onCuePoint', 'onCaptionInfo']);

function isPlainObject(v: unknown): v is AmfObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date) && !(v instanceof Uint8Array) && !(v instanceof EcmaArray);
}

/** The body with `gatewayTimestamp` added for the timed names; any other body (or one that does not decode) as it is. */
export function browserTimedScript(body: Buffer, timestamp: number): Buffer {
  // Cheap check before decoding: an AMF0 string marker, then the name.
  if (body.length < 3 || body[0] !== 0x02) return body;
  let values;
  try {
    values = decodeAmf0(body);
  } catch {
    return body; // the player ignores what it cannot parse; pass it on unchanged as before
  }
  const [name, value] = values;
  if (typeof name !== 'string' || !TIMED_NAMES.has(name) || !isPlainObject(value)) return body;
  return encodeAmf0([name, { ...value, [TIMESTAMP_PROPERTY]: timestamp }, ...values.slice(2)]);
}
