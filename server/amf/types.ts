// The value model and limits shared by the Adobe AMF 0 (2007) and AMF 3 (2013) codecs.
import { ProtocolError } from '../errors.js';

/**
 * What an AMF payload decodes to. AMF3 byte arrays surface as Uint8Array so
 * binary blobs are not mistaken for arrays of numbers; any Buffer is accepted
 * when encoding because Buffer is a Uint8Array.
 */
export type AmfValue =
  | number
  | boolean
  | string
  | null
  | undefined
  | Date
  | Uint8Array
  | AmfValue[]
  | AmfObject
  | EcmaArray;

export interface AmfObject {
  [key: string]: AmfValue;
}

/**
 * Marks an object that must be encoded as an AMF0 ECMA array (0x08) rather
 * than an anonymous object, because FLV onMetaData readers expect that type.
 * Decoders never produce it: ECMA arrays come back as plain AmfObjects.
 */
export class EcmaArray {
  constructor(readonly entries: AmfObject) {}
}

export interface AmfLimits {
  /** Containers (objects/arrays) nested inside each other, references included. */
  maxDepth: number;
  /** Bytes in one string, XML document or byte array. */
  maxStringBytes: number;
  /** Entries (properties or elements) in one container. */
  maxItems: number;
  /**
   * Upper bound on what one decode call may hand back, counted as one per
   * value plus string lengths, with a reference costing the full size of its
   * target. Without it a few hundred bytes of doubling references would make
   * anyone who walks or re-encodes the result do exponential work.
   * Defaults to 16 MiB: a reference-free message never weighs more than its
   * byte length, and an RTMP message is at most 16 MiB.
   */
  maxOutputSize?: number;
}

export const DEFAULT_AMF_LIMITS: AmfLimits = Object.freeze({
  maxDepth: 32,
  maxStringBytes: 1024 * 1024,
  maxItems: 65536,
  maxOutputSize: 16 * 1024 * 1024,
});

/** Every malformed or unencodable AMF value ends as this one error. */
export function fail(message: string): never {
  throw new ProtocolError('amf', message);
}
