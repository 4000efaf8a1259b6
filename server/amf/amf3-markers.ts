// AMF 3 type markers and integer bounds (Adobe AMF 3 Specification §3.1, §3.6), shared by reader and writer.
export const UNDEFINED = 0x00;
export const NULL = 0x01;
export const FALSE = 0x02;
export const TRUE = 0x03;
export const INTEGER = 0x04;
export const DOUBLE = 0x05;
export const STRING = 0x06;
export const XML_DOC = 0x07;
export const DATE = 0x08;
export const ARRAY = 0x09;
export const OBJECT = 0x0a;
export const XML = 0x0b;
export const BYTE_ARRAY = 0x0c;

export const INT_MIN = -0x10000000;
export const INT_MAX = 0x0fffffff;
/** Largest length a U29 can carry once the low bit is spent on the inline flag. */
export const MAX_INLINE_LENGTH = 0x0fffffff;
