// ISO/IEC 14496-15 §5.3.3.1 AVCDecoderConfigurationRecord and Rec. ITU-T H.264 §7.3.2.1.1
// seq_parameter_set_data() / Annex E.1.1 vui_parameters() (timing only).
import { ProtocolError } from '../errors.js';
import { BitReader, ByteReader, unescapeRbsp } from './bits.js';

export interface VideoConfig {
  codec: string; // 'H.264' | 'H.265' | 'AV1'
  profile: string;
  level: number;
  width: number;
  height: number;
  fps?: number;
  /** RFC 6381 / MSE codec parameter, e.g. avc1.64001f */
  codecString?: string;
  bitDepth?: number;
  /** '4:0:0' | '4:2:0' | '4:2:2' | '4:4:4' */
  chromaFormat?: string;
  /** True when the SPS allows field coding (H.264 frame_mbs_only_flag = 0). */
  interlaced?: boolean;
  /** Bytes in each NAL unit length prefix of the coded frames (1, 2 or 4). */
  nalLengthSize?: number;
}

/** Frame dimensions beyond this come only from corrupt or hostile headers (8K is 7680x4320). */
export const MAX_DIMENSION = 65535;

export const CHROMA_FORMATS = ['4:0:0', '4:2:0', '4:2:2', '4:4:4'] as const;

export function parseAvcDecoderConfig(record: Buffer): VideoConfig {
  const r = new ByteReader(record, 'AVCDecoderConfigurationRecord');
  const version = r.u8();
  if (version !== 1) throw new ProtocolError('codec', `unsupported AVC configurationVersion ${version}`);
  r.skip(3); // profile, compatibility, level: the SPS repeats them and is authoritative
  const lengthSizeMinusOne = r.u8() & 0x03;
  if (lengthSizeMinusOne === 2) throw new ProtocolError('codec', 'AVC NAL length size of 3 bytes is not allowed');
  const numSps = r.u8() & 0x1f;
  if (numSps === 0) throw new ProtocolError('codec', 'AVCDecoderConfigurationRecord has no SPS');
  const sps = r.bytes(r.u16());
  const config = parseAvcSps(sps);
  config.nalLengthSize = lengthSizeMinusOne + 1;
  return config;
}

/** High-profile family: these carry chroma_format_idc, bit depths and scaling matrices (§7.3.2.1.1). */
const HIGH_FAMILY = new Set([100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135]);

/** Parses one SPS NAL unit (with its 1-byte NAL header, emulation prevention still in place). */
export function parseAvcSps(nal: Buffer): VideoConfig {
  if (nal.length < 4) throw new ProtocolError('codec', 'H.264 SPS is truncated');
  if ((nal[0]! & 0x1f) !== 7) throw new ProtocolError('codec', `expected H.264 SPS, got NAL type ${nal[0]! & 0x1f}`);
  const r = new BitReader(unescapeRbsp(nal.subarray(1)), 'H.264 SPS');
  const profileIdc = r.bits(8);
  const constraints = r.bits(8);
  const levelIdc = r.bits(8);
  r.ueMax(31, 'seq_parameter_set_id');

  let chromaFormatIdc = 1; // inferred 4:2:0 when absent
  let separateColourPlane = false;
  let bitDepth = 8;
  if (HIGH_FAMILY.has(profileIdc)) {
    chromaFormatIdc = r.ueMax(3, 'chroma_format_idc');
    if (chromaFormatIdc === 3) separateColourPlane = r.flag();
    bitDepth = r.ueMax(6, 'bit_depth_luma_minus8') + 8;
    r.ueMax(6, 'bit_depth_chroma_minus8');
    r.skip(1); // qpprime_y_zero_transform_bypass_flag
    if (r.flag()) {
      const lists = chromaFormatIdc !== 3 ? 8 : 12;
      for (let i = 0; i < lists; i++) {
        if (r.flag()) skipScalingList(r, i < 6 ? 16 : 64);
      }
    }
  }

  r.ueMax(12, 'log2_max_frame_num_minus4');
  const pocType = r.ueMax(2, 'pic_order_cnt_type');
  if (pocType === 0) {
    r.ueMax(12, 'log2_max_pic_order_cnt_lsb_minus4');
  } else if (pocType === 1) {
    r.skip(1); // delta_pic_order_always_zero_flag
    r.se(); // offset_for_non_ref_pic
    r.se(); // offset_for_top_to_bottom_field
    const cycle = r.ueMax(255, 'num_ref_frames_in_pic_order_cnt_cycle');
    for (let i = 0; i < cycle; i++) r.se();
  }
  r.ue(); // max_num_ref_frames
  r.skip(1); // gaps_in_frame_num_value_allowed_flag
  const widthMbs = r.ueMax(MAX_DIMENSION / 16, 'pic_width_in_mbs_minus1') + 1;
  const heightMapUnits = r.ueMax(MAX_DIMENSION / 16, 'pic_height_in_map_units_minus1') + 1;
  const frameMbsOnly = r.flag();
  if (!frameMbsOnly) r.skip(1); // mb_adaptive_frame_field_flag
  r.skip(1); // direct_8x8_inference_flag

  // §7.4.2.1.1: crop offsets are in chroma sample units, doubled vertically for field coding.
  const chromaArrayType = separateColourPlane ? 0 : chromaFormatIdc;
  const subWidthC = chromaArrayType === 1 || chromaArrayType === 2 ? 2 : 1;
  const subHeightC = chromaArrayType === 1 ? 2 : 1;
  const fieldFactor = frameMbsOnly ? 1 : 2;
  const cropUnitX = chromaArrayType === 0 ? 1 : subWidthC;
  const cropUnitY = (chromaArrayType === 0 ? 1 : subHeightC) * fieldFactor;
  const crop = readCropWindow(r);
  const width = widthMbs * 16 - cropUnitX * crop.horizontal;
  const height = heightMapUnits * 16 * fieldFactor - cropUnitY * crop.vertical;
  if (width <= 0 || height <= 0 || width > MAX_DIMENSION || height > MAX_DIMENSION) {
    throw new ProtocolError('codec', `H.264 SPS gives an invalid frame size ${width}x${height}`);
  }

  const config: VideoConfig = {
    codec: 'H.264',
    profile: avcProfileName(profileIdc, constraints),
    level: levelIdc / 10,
    width,
    height,
    codecString: `avc1.${hex2(profileIdc)}${hex2(constraints)}${hex2(levelIdc)}`,
    bitDepth,
    chromaFormat: CHROMA_FORMATS[chromaFormatIdc],
    interlaced: !frameMbsOnly,
  };
  if (r.flag()) {
    const fps = readVuiFrameRate(r);
    if (fps !== undefined) config.fps = fps;
  }
  return config;
}

/** scaling_list() (§7.3.2.1.1.1): only the bit positions matter, the matrix values do not. */
/**
 * The cropping window (H.264 frame_cropping, H.265 conformance_window): a flag, then left, right,
 * top and bottom offsets in chroma units. Returns the offsets summed per direction, 0 without it.
 */
export function readCropWindow(r: BitReader): { horizontal: number; vertical: number } {
  if (!r.flag()) return { horizontal: 0, vertical: 0 };
  const horizontal = r.ue() + r.ue();
  return { horizontal, vertical: r.ue() + r.ue() };
}

function skipScalingList(r: BitReader, size: number): void {
  let last = 8;
  let next = 8;
  for (let j = 0; j < size; j++) {
    if (next !== 0) {
      const delta = r.se();
      if (delta < -128 || delta > 127) throw new ProtocolError('codec', 'H.264 delta_scale out of range');
      next = (last + delta + 256) % 256;
    }
    last = next === 0 ? last : next;
  }
}

/**
 * VUI up to timing_info (Annex E.1.1). Encoders sometimes truncate or mangle the VUI tail; the frame
 * size is already known by then, so a broken VUI costs only the frame rate, not the whole config.
 */
function readVuiFrameRate(r: BitReader): number | undefined {
  try {
    if (r.flag()) {
      // aspect_ratio_idc 255 = Extended_SAR, followed by sar_width and sar_height
      if (r.bits(8) === 255) r.skip(32);
    }
    if (r.flag()) r.skip(1); // overscan_appropriate_flag
    if (r.flag()) {
      r.skip(4); // video_format, video_full_range_flag
      if (r.flag()) r.skip(24); // colour_primaries, transfer_characteristics, matrix_coefficients
    }
    if (r.flag()) {
      r.ue(); // chroma_sample_loc_type_top_field
      r.ue(); // chroma_sample_loc_type_bottom_field
    }
    if (!r.flag()) return undefined;
    const numUnitsInTick = r.bits(32);
    const timeScale = r.bits(32);
    // One frame is two ticks in H.264's field-based clock (E.2.1).
    return frameRate(timeScale, 2 * numUnitsInTick);
  } catch (err) {
    if (err instanceof ProtocolError) return undefined;
    throw err;
  }
}

/** Rounded to 1/1000 so 30000/1001 reads as 29.97, not 29.970029970029973. */
export function frameRate(timeScale: number, ticksPerFrame: number): number | undefined {
  if (timeScale === 0 || ticksPerFrame === 0) return undefined;
  const fps = Math.round((timeScale / ticksPerFrame) * 1000) / 1000;
  // Below 1/1000 fps or above 1000 fps is a broken header, not a video.
  return fps > 0 && fps <= 1000 ? fps : undefined;
}

export function avcProfileName(profileIdc: number, constraints: number): string {
  const cs1 = (constraints & 0x40) !== 0;
  const cs3 = (constraints & 0x10) !== 0;
  const cs4 = (constraints & 0x08) !== 0;
  const cs5 = (constraints & 0x04) !== 0;
  switch (profileIdc) {
    case 66:
      return cs1 ? 'Constrained Baseline' : 'Baseline';
    case 77:
      return 'Main';
    case 88:
      return 'Extended';
    case 100:
      if (cs4 && cs5) return 'Constrained High';
      return cs4 ? 'Progressive High' : 'High';
    case 110:
      return cs3 ? 'High 10 Intra' : 'High 10';
    case 122:
      return cs3 ? 'High 4:2:2 Intra' : 'High 4:2:2';
    case 244:
      return cs3 ? 'High 4:4:4 Intra' : 'High 4:4:4 Predictive';
    case 44:
      return 'CAVLC 4:4:4 Intra';
    case 83:
      return 'Scalable Baseline';
    case 86:
      return 'Scalable High';
    case 118:
      return 'Multiview High';
    case 128:
      return 'Stereo High';
    case 134:
      return 'MFC High';
    case 135:
      return 'MFC Depth High';
    case 138:
      return 'Multiview Depth High';
    case 139:
      return 'Enhanced Multiview Depth High';
    default:
      return `profile_idc ${profileIdc}`;
  }
}

function hex2(n: number): string {
  return n.toString(16).padStart(2, '0');
}
