import { describe, expect, it } from 'vitest';
import { ProtocolError } from '../../server/errors.js';
import { parseAv1CodecConfig } from '../../server/media/av1.js';
import { bits } from './bitwriter.js';
import { AV1_RECORD_320X240, hex } from './fixtures.js';

describe('parseAv1CodecConfig', () => {
  it('reads libaom 320x240 Main profile level 2.0 from the sequence header OBU', () => {
    expect(parseAv1CodecConfig(AV1_RECORD_320X240)).toEqual({
      codec: 'AV1',
      profile: 'Main',
      level: 2,
      width: 320,
      height: 240,
      bitDepth: 8,
      chromaFormat: '4:2:0',
      codecString: 'av01.0.00M.08',
    });
  });

  it('reads a reduced still-picture sequence header and its frame rate-free config', () => {
    // seq_profile 0, still 1, reduced 1, seq_level_idx 8 (4.0); 11-bit width/height fields 1919/1079.
    const obu = bits([3, 0], [1, 1], [1, 1], [5, 8], [4, 10], [4, 10], [11, 1919], [11, 1079]);
    const rec = Buffer.concat([hex('81 08 0c 00'), Buffer.from([0x0a, obu.length]), obu]);
    expect(parseAv1CodecConfig(rec)).toMatchObject({ width: 1920, height: 1080, level: 4, codecString: 'av01.0.08M.08' });
  });

  it('derives fps from timing_info with equal_picture_interval', () => {
    // not reduced; timing_info: 1 tick, time_scale 50, equal interval, uvlc(0) → 1 tick per picture;
    // no decoder model; no initial display delay; one operating point at level 9 (tier bit follows).
    const obu = bits(
      [3, 0], [1, 0], [1, 0], [1, 1], [32, 1], [32, 50], [1, 1], [1, 1], [1, 0], [1, 0], [5, 0],
      [12, 0], [5, 9], [1, 1], [4, 11], [4, 11], [12, 3839], [12, 2159],
    );
    const rec = Buffer.concat([hex('81 29 0c 00'), Buffer.from([0x0a, obu.length]), obu]);
    expect(parseAv1CodecConfig(rec)).toMatchObject({ width: 3840, height: 2160, fps: 50, level: 4.1, codecString: 'av01.0.09H.08' });
  });

  it('skips OBUs other than the sequence header and fails with ProtocolError when none is present', () => {
    const metadataObu = hex('2a 02 0000'); // type 5 (metadata), size 2
    const rec = Buffer.concat([hex('81000c00'), metadataObu, AV1_RECORD_320X240.subarray(4)]);
    expect(parseAv1CodecConfig(rec).width).toBe(320);
    expect(() => parseAv1CodecConfig(hex('81000c00', '2a 02 0000'))).toThrow(ProtocolError);
    expect(() => parseAv1CodecConfig(hex('01000c00'))).toThrow(ProtocolError);
  });

  it('rejects every truncation of the record with ProtocolError', () => {
    for (let n = 0; n < AV1_RECORD_320X240.length - 2; n++) {
      expect(() => parseAv1CodecConfig(AV1_RECORD_320X240.subarray(0, n))).toThrow(ProtocolError);
    }
  });
});
