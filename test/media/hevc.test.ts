import { describe, expect, it } from 'vitest';
import { ProtocolError } from '../../server/errors.js';
import { parseHevcDecoderConfig } from '../../server/media/hevc.js';
import { HEVC_RECORD_1080P_MAIN10, HEVC_RECORD_720P, HEVC_RECORD_854X480, hex } from './fixtures.js';

/** 23-byte record header, VPS array (5-byte array header + 24-byte VPS), SPS array header. */
const SPS_OFFSET_720P = 23 + 5 + 24 + 5;

describe('parseHevcDecoderConfig', () => {
  it('reads x265 1280x720 Main@3.1 at 30 fps, with the RFC 6381 hvc1 codec string', () => {
    expect(parseHevcDecoderConfig(HEVC_RECORD_720P)).toEqual({
      codec: 'H.265',
      profile: 'Main',
      level: 3.1,
      width: 1280,
      height: 720,
      fps: 30,
      codecString: 'hvc1.1.6.L93.90',
      bitDepth: 8,
      chromaFormat: '4:2:0',
      nalLengthSize: 4,
    });
  });

  it('reads Main 10 at level 4.1 (general_level_idc 123 / 30) and 60 fps', () => {
    expect(parseHevcDecoderConfig(HEVC_RECORD_1080P_MAIN10)).toMatchObject({
      profile: 'Main 10',
      level: 4.1,
      width: 1920,
      height: 1080,
      fps: 60,
      bitDepth: 10,
      codecString: 'hvc1.2.4.L123.90',
    });
  });

  it('subtracts the conformance window from an 856-sample-wide picture to get 854', () => {
    expect(parseHevcDecoderConfig(HEVC_RECORD_854X480)).toMatchObject({ width: 854, height: 480, level: 3, fps: 25 });
  });

  it('finds the SPS even when other arrays come first or an array is empty', () => {
    const header = HEVC_RECORD_720P.subarray(0, 22);
    const arrays = HEVC_RECORD_720P.subarray(23);
    const withEmpty = Buffer.concat([header, hex('04', '27 0000'), arrays]);
    expect(parseHevcDecoderConfig(withEmpty).width).toBe(1280);
  });

  it('uses avgFrameRate from the record when the SPS has no VUI timing', () => {
    // Record-level avgFrameRate is in frames per 256 s: 25 fps = 6400 = 0x1900.
    const rec = Buffer.from(HEVC_RECORD_720P);
    rec.writeUInt16BE(6400, 19);
    // Cut the SPS right after the conformance window / bit depth so the VUI is unreachable.
    const spsStart = SPS_OFFSET_720P;
    const truncated = Buffer.concat([rec.subarray(0, 22), hex('01 a1 0001 0018'), rec.subarray(spsStart, spsStart + 24)]);
    const c = parseHevcDecoderConfig(truncated);
    expect([c.width, c.height, c.fps]).toEqual([1280, 720, 25]);
  });

  it('rejects a record without SPS, a wrong version, and truncations, with ProtocolError', () => {
    expect(() => parseHevcDecoderConfig(HEVC_RECORD_720P.subarray(0, 23).fill(0, 22))).toThrow(ProtocolError);
    const v2 = Buffer.from(HEVC_RECORD_720P);
    v2[0] = 2;
    expect(() => parseHevcDecoderConfig(v2)).toThrow(ProtocolError);
    for (let n = 0; n < SPS_OFFSET_720P + 16; n++) {
      expect(() => parseHevcDecoderConfig(HEVC_RECORD_720P.subarray(0, n))).toThrow(ProtocolError);
    }
  });
});
