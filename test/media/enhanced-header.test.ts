import { describe, expect, it } from 'vitest';
import { ProtocolError } from '../../server/errors.js';
import { ByteReader } from '../../server/media/bits.js';
import { EX_MODEX, skipModEx } from '../../server/media/enhanced-header.js';

const reader = (hex: string): ByteReader => new ByteReader(Buffer.from(hex.replace(/\s/g, ''), 'hex'), 'test header', 'flv');

describe('skipModEx', () => {
  it('returns any other packet type at once, reading nothing', () => {
    const r = reader('aa');
    expect(skipModEx(r, 1)).toBe(1);
    expect(r.u8()).toBe(0xaa);
  });

  it('skips a one-byte-size prefix and reads the real packet type after it', () => {
    // size-1 = 2 -> three bytes of ModEx data, then a byte whose low nibble is the type (CodedFrames)
    const r = reader('02 112233 a1 ee');
    expect(skipModEx(r, EX_MODEX)).toBe(1);
    expect(r.u8()).toBe(0xee);
  });

  it('takes a 16-bit size when the 8-bit one is 255, and several prefixes in a row', () => {
    // 0xff -> u16 size-1 = 0x0001 -> two data bytes; then another ModEx (7) of one byte; then type 3
    const r = reader('ff 0001 abcd  07  00 ef  03');
    expect(skipModEx(r, EX_MODEX)).toBe(3);
  });

  it('throws a ProtocolError when a prefix runs past the end of the payload', () => {
    expect(() => skipModEx(reader('05 0102'), EX_MODEX)).toThrow(ProtocolError);
    expect(() => skipModEx(reader('00 aa 07'), EX_MODEX)).toThrow(ProtocolError);
  });
});
