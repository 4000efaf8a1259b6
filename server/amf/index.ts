// Public surface of the AMF0 / AMF3 codecs (Adobe AMF 0 and AMF 3 specifications).
export { type AmfValue, type AmfObject, type AmfLimits, EcmaArray, DEFAULT_AMF_LIMITS } from './types.js';
export { decodeAmf0, encodeAmf0, decodeAmf3CommandPayload } from './amf0.js';
export { decodeAmf3, encodeAmf3 } from './amf3.js';
