import { describe, expect, it } from 'vitest';
import { ProtocolError } from '../../server/errors.js';
import { parseAvcDecoderConfig, parseAvcSps } from '../../server/media/avc.js';
import {
  AVC_RECORD_1080I,
  AVC_RECORD_1080P,
  AVC_RECORD_320X240,
  AVC_RECORD_444,
  AVC_RECORD_720P,
  AVC_RECORD_854X480,
  hex,
} from './fixtures.js';

describe('parseAvcDecoderConfig', () => {
  it('reads x264 1280x720 High@3.1 at 30 fps from the record and its SPS', () => {
    expect(parseAvcDecoderConfig(AVC_RECORD_720P)).toEqual({
      codec: 'H.264',
      profile: 'High',
      level: 3.1,
      width: 1280,
      height: 720,
      fps: 30,
      codecString: 'avc1.64001f',
      bitDepth: 8,
      chromaFormat: '4:2:0',
      interlaced: false,
      nalLengthSize: 4,
    });
  });

  it('crops 1920x1088 coded macroblocks down to 1080 lines', () => {
    const c = parseAvcDecoderConfig(AVC_RECORD_1080P);
    expect([c.width, c.height, c.level, c.fps, c.profile]).toEqual([1920, 1080, 4, 25, 'High']);
  });

  it('doubles map units and crop units for an interlaced (field-coded) 1080 SPS', () => {
    const c = parseAvcDecoderConfig(AVC_RECORD_1080I);
    expect([c.width, c.height, c.interlaced]).toEqual([1920, 1080, true]);
  });

  it('crops an odd 854-pixel width from 54 macroblocks and reports 29.97 fps', () => {
    const c = parseAvcDecoderConfig(AVC_RECORD_854X480);
    expect(c).toMatchObject({ profile: 'Main', level: 3.1, width: 854, height: 480, fps: 29.97, codecString: 'avc1.4d401f' });
  });

  it('names constraint_set1 Baseline "Constrained Baseline" and reads 320x240 at 15 fps', () => {
    const c = parseAvcDecoderConfig(AVC_RECORD_320X240);
    expect(c).toMatchObject({ profile: 'Constrained Baseline', level: 1.2, width: 320, height: 240, fps: 15 });
  });

  it('uses a 1x1 crop unit for 4:4:4 chroma in High 4:4:4 Predictive', () => {
    const c = parseAvcDecoderConfig(AVC_RECORD_444);
    expect(c).toMatchObject({ profile: 'High 4:4:4 Predictive', chromaFormat: '4:4:4', width: 640, height: 360 });
  });

  it('parses an SPS with scaling matrices present (seq_scaling_matrix_present_flag = 1)', () => {
    // Hand-assembled High SPS: 1280x720, every scaling list signalled as delta 0 after a first delta
    // that sets nextScale to 0 ("use default"), so each list costs 1 + 1 bits after its present flag.
    const sps = buildSps({ scalingLists: true });
    const c = parseAvcSps(sps);
    expect([c.width, c.height, c.profile]).toEqual([1280, 720, 'High']);
  });

  it('reads the NAL length size from lengthSizeMinusOne', () => {
    const twoByte = Buffer.from(AVC_RECORD_720P);
    twoByte[4] = 0xfd; // lengthSizeMinusOne 1
    expect(parseAvcDecoderConfig(twoByte).nalLengthSize).toBe(2);
  });

  it('rejects a record without SPS, a wrong version, and every truncation, with ProtocolError', () => {
    expect(() => parseAvcDecoderConfig(hex('01 64 00 1f ff e0 00'))).toThrow(ProtocolError);
    expect(() => parseAvcDecoderConfig(hex('02 64 00 1f ff e1'))).toThrow(ProtocolError);
    // The SPS ends inside the VUI after the frame size; cutting before that must fail.
    for (let n = 0; n < 20; n++) {
      expect(() => parseAvcDecoderConfig(AVC_RECORD_720P.subarray(0, n))).toThrow(ProtocolError);
    }
  });

  it('keeps the frame size but drops fps when the VUI is cut short', () => {
    const sps = AVC_RECORD_720P.subarray(8, 8 + 26);
    const c = parseAvcSps(sps.subarray(0, 12));
    expect([c.width, c.height, c.fps]).toEqual([1280, 720, undefined]);
  });

  it('rejects crop offsets larger than the coded picture', () => {
    expect(() => parseAvcSps(buildSps({ cropBottom: 1000 }))).toThrow(ProtocolError);
  });
});

/** Minimal bit writer for hand-built SPS fixtures. */
function buildSps(opts: { scalingLists?: boolean; cropBottom?: number }): Buffer {
  const bits: number[] = [];
  const u = (n: number, v: number) => {
    for (let i = n - 1; i >= 0; i--) bits.push(Math.floor(v / 2 ** i) % 2);
  };
  const ue = (v: number) => {
    const len = Math.floor(Math.log2(v + 1));
    u(len, 0);
    u(len + 1, v + 1);
  };
  const se = (v: number) => ue(v <= 0 ? -2 * v : 2 * v - 1);
  u(8, 100); // profile_idc High
  u(8, 0);
  u(8, 31);
  ue(0); // sps id
  ue(1); // chroma_format_idc
  ue(0);
  ue(0);
  u(1, 0);
  u(1, opts.scalingLists ? 1 : 0);
  if (opts.scalingLists) {
    for (let i = 0; i < 8; i++) {
      u(1, 1); // list present
      se(-8); // nextScale = (8 - 8 + 256) % 256 = 0 → stop reading deltas
    }
  }
  ue(0); // log2_max_frame_num_minus4
  ue(2); // poc type 2
  ue(1); // max refs
  u(1, 0);
  ue(79); // 80 MBs wide
  ue(44); // 45 MBs high
  u(1, 1); // frame_mbs_only
  u(1, 1); // direct_8x8
  if (opts.cropBottom !== undefined) {
    u(1, 1);
    ue(0);
    ue(0);
    ue(0);
    ue(opts.cropBottom);
  } else {
    u(1, 0);
  }
  u(1, 0); // no VUI
  u(1, 1); // rbsp stop bit
  while (bits.length % 8) bits.push(0);
  const out = [0x67];
  for (let i = 0; i < bits.length; i += 8) out.push(parseInt(bits.slice(i, i + 8).join(''), 2));
  return Buffer.from(out);
}
