// What Enhanced RTMP's audio and video tag headers share (E-RTMP v2): ModEx prefixes, which sit
// between the first byte and the real packet type and only refine timing.
import type { ByteReader } from './bits.js';

/** The packet type that announces a ModEx prefix, in audio and video alike. */
export const EX_MODEX = 7;

/**
 * Skip every ModEx prefix starting at `exType` (the low nibble just read) and return the real
 * packet type. Each round consumes at least two bytes, so the loop ends at the payload end at the
 * latest (the reader throws there).
 */
export function skipModEx(r: ByteReader, exType: number): number {
  let type = exType;
  while (type === EX_MODEX) {
    let size = r.u8() + 1;
    if (size === 256) size = r.u16() + 1;
    r.skip(size);
    type = r.u8() & 0x0f;
  }
  return type;
}
