import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ProtocolError } from '../../server/errors.js';
import { parseVp9CodecConfig, parseVp9FrameSize } from '../../server/media/vp9.js';
import { hex, VP9_KEYFRAME_320X180, VPCC_320X180 } from './fixtures.js';

/** 'vpcC' as ffmpeg's MP4 muxer writes it for libvpx-vp9 320x180 4:2:0 8-bit. */

/** The start of a libvpx 320x180 profile-0 keyframe. */

describe('VP9 codec configuration', () => {
  it('reads profile, level, bit depth and chroma from a vpcC FullBox, and leaves the size to the keyframe', () => {
    expect(parseVp9CodecConfig(VPCC_320X180)).toEqual({
      codec: 'VP9', profile: '0', level: 1.1, width: 0, height: 0, bitDepth: 8, chromaFormat: '4:2:0', codecString: 'vp09.00.11.08',
    });
  });

  it('accepts the bare record without the FullBox header, and a 10-bit profile 2 one', () => {
    expect(parseVp9CodecConfig(hex('02 1f a2 09 10 09 0000'))).toMatchObject({ profile: '2', level: 3.1, bitDepth: 10, codecString: 'vp09.02.31.10' });
  });

  it('refuses a truncated record and a profile beyond 3 with ProtocolError', () => {
    expect(() => parseVp9CodecConfig(hex('01 000000 00 0b'))).toThrow(ProtocolError);
    expect(() => parseVp9CodecConfig(hex('07 1f 82 02 02 02 0000'))).toThrow(ProtocolError);
  });
});

describe('VP9 frame size', () => {
  it('reads the coded size of a keyframe', () => {
    expect(parseVp9FrameSize(VP9_KEYFRAME_320X180)).toEqual({ width: 320, height: 180 });
  });

  it('reads the size of a 4:4:4 profile-1 keyframe past its subsampling bits', () => {
    // marker 2 | profile 1 (low 1, high 0) | show_existing 0 | key | show 1 | error_res 0 => 1010 0010
    // sync | color_space 1, range 0, ss_x 0, ss_y 0, reserved 0 (7 bits) | width-1 1279 | height-1 719
    const bits = '001' + '0' + '000' + (1279).toString(2).padStart(16, '0') + (719).toString(2).padStart(16, '0') + '0';
    const tail = Buffer.from(bits.match(/.{8}/g)!.map((b) => parseInt(b, 2)));
    expect(parseVp9FrameSize(Buffer.concat([hex('a2 498342'), tail]))).toEqual({ width: 1280, height: 720 });
  });

  it('has no size for an inter frame or a shown existing frame', () => {
    expect(parseVp9FrameSize(hex('86 00 00'))).toBeNull(); // frame_type 1
    expect(parseVp9FrameSize(hex('88'))).toBeNull(); // show_existing_frame 1
  });

  it('throws only ProtocolError for any truncation of a keyframe and for arbitrary bytes', () => {
    for (let n = 0; n < 9; n++) expect(() => parseVp9FrameSize(VP9_KEYFRAME_320X180.subarray(0, n)), `${n} bytes`).toThrow(ProtocolError);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 16 }), (bytes) => {
        try {
          parseVp9FrameSize(Buffer.from(bytes));
          parseVp9CodecConfig(Buffer.from(bytes));
        } catch (err) {
          expect(err).toBeInstanceOf(ProtocolError);
        }
      }),
    );
  });
});
