// VP9 for the API: profile, level and bit depth from the VPCodecConfigurationRecord ('vpcC',
// "VP Codec ISO Media File Format Binding" §2.2; Enhanced RTMP's vp09 SequenceStart carries it, as a
// FullBox with version and flags first), and the frame size from a keyframe's uncompressed header
// (VP9 Bitstream Specification §6.2: frame_marker … frame_sync_code, color_config, frame_size).
import { ProtocolError } from '../errors.js';
import type { VideoConfig } from './avc.js';
import { BitReader } from './bits.js';

const RECORD_BYTES = 8;
const CHROMA = ['4:2:0', '4:2:0', '4:2:2', '4:4:4'];

export function parseVp9CodecConfig(box: Buffer): VideoConfig {
  // The FullBox header (version 1, flags 0) is what muxers write; a bare record is accepted too.
  const record = box.length >= 4 + RECORD_BYTES && box[0] === 1 && box.readUIntBE(1, 3) === 0 ? box.subarray(4) : box;
  if (record.length < RECORD_BYTES) throw new ProtocolError('codec', 'VPCodecConfigurationRecord is truncated');
  const profile = record[0]!;
  const level = record[1]!;
  const bitDepth = record[2]! >>> 4;
  const chroma = (record[2]! >>> 1) & 0x07;
  if (profile > 3) throw new ProtocolError('codec', `VP9 profile ${profile} does not exist`);
  return {
    codec: 'VP9',
    profile: String(profile),
    // level 31 is 3.1, 10 is 1 (§2.2: level * 10)
    level: level / 10,
    width: 0,
    height: 0,
    bitDepth,
    chromaFormat: CHROMA[chroma] ?? '4:2:0',
    codecString: `vp09.${pad2(profile)}.${pad2(level)}.${pad2(bitDepth)}`,
  };
}

const SYNC_CODE = 0x498342;
const CS_RGB = 7;

/** The coded size of a VP9 keyframe, or null for inter frames and shown-existing frames. */
export function parseVp9FrameSize(frame: Buffer): { width: number; height: number } | null {
  const r = new BitReader(frame, 'VP9 uncompressed header');
  if (r.bits(2) !== 2) throw new ProtocolError('codec', 'VP9 frame_marker is not 2');
  const profile = r.bit() | (r.bit() << 1);
  if (profile === 3) r.skip(1); // reserved_zero
  if (r.flag()) return null; // show_existing_frame
  if (r.bit() !== 0) return null; // frame_type: 0 is KEY_FRAME
  r.skip(2); // show_frame, error_resilient_mode
  if (r.bits(24) !== SYNC_CODE) throw new ProtocolError('codec', 'VP9 keyframe without frame_sync_code');
  if (profile >= 2) r.skip(1); // ten_or_twelve_bit
  const colorSpace = r.bits(3);
  if (colorSpace !== CS_RGB) {
    r.skip(1); // color_range
    if (profile === 1 || profile === 3) r.skip(3); // subsampling_x, subsampling_y, reserved_zero
  } else if (profile === 1 || profile === 3) {
    r.skip(1); // reserved_zero
  }
  return { width: r.bits(16) + 1, height: r.bits(16) + 1 };
}

function pad2(n: number): string {
  return String(n).padStart(2, '0');
}
