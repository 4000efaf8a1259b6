// ISO/IEC 14496-15 §8.3.3.1 HEVCDecoderConfigurationRecord and Rec. ITU-T H.265 §7.3.2.2
// seq_parameter_set_rbsp(), §7.3.3 profile_tier_level(), §7.3.7 st_ref_pic_set(), Annex E.2.1 VUI.
import { ProtocolError } from '../errors.js';
import { BitReader, ByteReader, unescapeRbsp } from './bits.js';
import { CHROMA_FORMATS, MAX_DIMENSION, frameRate, readCropWindow, type VideoConfig } from './avc.js';

const NAL_SPS = 33;

export function parseHevcDecoderConfig(record: Buffer): VideoConfig {
  const r = new ByteReader(record, 'HEVCDecoderConfigurationRecord');
  const version = r.u8();
  if (version !== 1) throw new ProtocolError('codec', `unsupported HEVC configurationVersion ${version}`);
  r.skip(18); // general PTL, segmentation, parallelism, chroma, bit depths: the SPS repeats them
  const avgFrameRate = r.u16(); // frames per 256 s, 0 = unspecified
  const lengthSizeMinusOne = r.u8() & 0x03;
  if (lengthSizeMinusOne === 2) throw new ProtocolError('codec', 'HEVC NAL length size of 3 bytes is not allowed');
  const numArrays = r.u8();
  // Each array header is at least 3 bytes, so a hostile count runs out of input quickly.
  for (let i = 0; i < numArrays; i++) {
    const nalType = r.u8() & 0x3f;
    const numNalus = r.u16();
    for (let j = 0; j < numNalus; j++) {
      const nal = r.bytes(r.u16());
      if (nalType === NAL_SPS) {
        const config = parseHevcSps(nal);
        config.nalLengthSize = lengthSizeMinusOne + 1;
        if (config.fps === undefined) {
          const fps = frameRate(avgFrameRate, 256);
          if (fps !== undefined) config.fps = fps;
        }
        return config;
      }
    }
  }
  throw new ProtocolError('codec', 'HEVCDecoderConfigurationRecord has no SPS');
}

interface ProfileTierLevel {
  profileSpace: number;
  tier: number;
  profileIdc: number;
  compatibility: number;
  constraints: Buffer;
  levelIdc: number;
}

/** Parses one SPS NAL unit (2-byte NAL header included, emulation prevention still in place). */
export function parseHevcSps(nal: Buffer): VideoConfig {
  if (nal.length < 3) throw new ProtocolError('codec', 'H.265 SPS is truncated');
  const nalType = (nal[0]! >>> 1) & 0x3f;
  if (nalType !== NAL_SPS) throw new ProtocolError('codec', `expected H.265 SPS, got NAL type ${nalType}`);
  const rbsp = unescapeRbsp(nal.subarray(2));
  const r = new BitReader(rbsp, 'H.265 SPS');
  r.skip(4); // sps_video_parameter_set_id
  const maxSubLayersMinus1 = r.bits(3);
  if (maxSubLayersMinus1 > 6) throw new ProtocolError('codec', 'H.265 sps_max_sub_layers_minus1 exceeds 6');
  r.skip(1); // sps_temporal_id_nesting_flag
  const ptl = readProfileTierLevel(r, rbsp, maxSubLayersMinus1);
  r.ueMax(15, 'sps_seq_parameter_set_id');
  const chromaFormatIdc = r.ueMax(3, 'chroma_format_idc');
  const separateColourPlane = chromaFormatIdc === 3 ? r.flag() : false;
  const picWidth = r.ueMax(MAX_DIMENSION, 'pic_width_in_luma_samples');
  const picHeight = r.ueMax(MAX_DIMENSION, 'pic_height_in_luma_samples');
  // Table 6-1: conformance window offsets are in chroma units.
  const chromaArrayType = separateColourPlane ? 0 : chromaFormatIdc;
  const subWidthC = chromaArrayType === 1 || chromaArrayType === 2 ? 2 : 1;
  const subHeightC = chromaArrayType === 1 ? 2 : 1;
  const crop = readCropWindow(r);
  const width = picWidth - subWidthC * crop.horizontal;
  const height = picHeight - subHeightC * crop.vertical;
  if (width <= 0 || height <= 0) {
    throw new ProtocolError('codec', `H.265 SPS gives an invalid frame size ${width}x${height}`);
  }
  const bitDepth = r.ueMax(8, 'bit_depth_luma_minus8') + 8;

  const config: VideoConfig = {
    codec: 'H.265',
    profile: hevcProfileName(ptl.profileIdc, ptl.compatibility),
    level: Math.round((ptl.levelIdc / 30) * 10) / 10,
    width,
    height,
    codecString: hevcCodecString(ptl),
    bitDepth,
    chromaFormat: CHROMA_FORMATS[chromaFormatIdc],
  };
  const fps = readFrameRate(r, maxSubLayersMinus1);
  if (fps !== undefined) config.fps = fps;
  return config;
}

function readProfileTierLevel(r: BitReader, rbsp: Buffer, maxSubLayersMinus1: number): ProfileTierLevel {
  const start = r.bitPosition / 8; // byte aligned here: 2 NAL header bytes + 8 bits read
  const b0 = r.bits(8);
  const compatibility = r.bits(32);
  r.skip(48); // progressive/interlaced/non-packed/frame-only flags and the 44 constraint bits
  const levelIdc = r.bits(8);
  const subProfile: boolean[] = [];
  const subLevel: boolean[] = [];
  for (let i = 0; i < maxSubLayersMinus1; i++) {
    subProfile.push(r.flag());
    subLevel.push(r.flag());
  }
  if (maxSubLayersMinus1 > 0) r.skip(2 * (8 - maxSubLayersMinus1)); // reserved_zero_2bits
  for (let i = 0; i < maxSubLayersMinus1; i++) {
    if (subProfile[i]) r.skip(88);
    if (subLevel[i]) r.skip(8);
  }
  return {
    profileSpace: b0 >>> 6,
    tier: (b0 >>> 5) & 1,
    profileIdc: b0 & 0x1f,
    compatibility,
    constraints: rbsp.subarray(start + 5, start + 11),
    levelIdc,
  };
}

/**
 * Walks the rest of the SPS to reach vui timing_info. A mangled tail only loses the frame rate:
 * the size and profile are already decoded and are what the gateway needs.
 */
function readFrameRate(r: BitReader, maxSubLayersMinus1: number): number | undefined {
  try {
    r.ue(); // bit_depth_chroma_minus8
    const log2MaxPocLsb = r.ueMax(12, 'log2_max_pic_order_cnt_lsb_minus4') + 4;
    const orderingInfoAll = r.flag();
    for (let i = orderingInfoAll ? 0 : maxSubLayersMinus1; i <= maxSubLayersMinus1; i++) {
      r.ue(); // sps_max_dec_pic_buffering_minus1
      r.ue(); // sps_max_num_reorder_pics
      r.ue(); // sps_max_latency_increase_plus1
    }
    for (let i = 0; i < 6; i++) r.ue(); // coding/transform block sizes and hierarchy depths
    if (r.flag() && r.flag()) skipScalingListData(r); // scaling_list_enabled, sps_scaling_list_data_present
    r.skip(2); // amp_enabled_flag, sample_adaptive_offset_enabled_flag
    if (r.flag()) {
      r.skip(8); // pcm sample bit depths
      r.ue();
      r.ue();
      r.skip(1); // pcm_loop_filter_disabled_flag
    }
    const numStRps = r.ueMax(64, 'num_short_term_ref_pic_sets');
    const numDeltaPocs: number[] = [];
    for (let i = 0; i < numStRps; i++) numDeltaPocs.push(skipStRefPicSet(r, i, numDeltaPocs));
    if (r.flag()) {
      const numLongTerm = r.ueMax(32, 'num_long_term_ref_pics_sps');
      r.skip(numLongTerm * (log2MaxPocLsb + 1)); // lt_ref_pic_poc_lsb_sps, used_by_curr_pic_lt_sps_flag
    }
    r.skip(2); // sps_temporal_mvp_enabled_flag, strong_intra_smoothing_enabled_flag
    if (!r.flag()) return undefined; // vui_parameters_present_flag
    if (r.flag() && r.bits(8) === 255) r.skip(32); // aspect ratio, Extended_SAR
    if (r.flag()) r.skip(1); // overscan
    if (r.flag()) {
      r.skip(4); // video_format, video_full_range_flag
      if (r.flag()) r.skip(24); // colour description
    }
    if (r.flag()) {
      r.ue();
      r.ue(); // chroma sample locations
    }
    r.skip(3); // neutral_chroma_indication, field_seq, frame_field_info_present
    if (r.flag()) {
      for (let i = 0; i < 4; i++) r.ue(); // default display window offsets
    }
    if (!r.flag()) return undefined; // vui_timing_info_present_flag
    const numUnitsInTick = r.bits(32);
    const timeScale = r.bits(32);
    return frameRate(timeScale, numUnitsInTick);
  } catch (err) {
    if (err instanceof ProtocolError) return undefined;
    throw err;
  }
}

/** scaling_list_data() (§7.3.4): bounded loops, values irrelevant. */
function skipScalingListData(r: BitReader): void {
  for (let sizeId = 0; sizeId < 4; sizeId++) {
    for (let matrixId = 0; matrixId < 6; matrixId += sizeId === 3 ? 3 : 1) {
      if (!r.flag()) {
        r.ue(); // scaling_list_pred_matrix_id_delta
        continue;
      }
      const coefNum = Math.min(64, 1 << (4 + (sizeId << 1)));
      if (sizeId > 1) r.se(); // scaling_list_dc_coef_minus8
      for (let i = 0; i < coefNum; i++) r.se();
    }
  }
}

/** st_ref_pic_set(idx) inside an SPS; returns NumDeltaPocs[idx], which later sets depend on. */
function skipStRefPicSet(r: BitReader, idx: number, numDeltaPocs: number[]): number {
  if (idx !== 0 && r.flag()) {
    // inter_ref_pic_set_prediction: delta_idx_minus1 is only coded in slice headers, so RefRpsIdx = idx - 1.
    r.skip(1); // delta_rps_sign
    r.ue(); // abs_delta_rps_minus1
    const refCount = numDeltaPocs[idx - 1]!;
    let count = 0;
    for (let j = 0; j <= refCount; j++) {
      const usedByCurr = r.flag();
      // use_delta_flag is inferred to be 1 when absent.
      const useDelta = usedByCurr ? true : r.flag();
      if (useDelta) count++;
    }
    return count;
  }
  const negative = r.ueMax(16, 'num_negative_pics');
  const positive = r.ueMax(16, 'num_positive_pics');
  for (let i = 0; i < negative + positive; i++) {
    r.ue(); // delta_poc_minus1
    r.skip(1); // used_by_curr_pic_flag
  }
  return negative + positive;
}

const HEVC_PROFILES: Record<number, string> = {
  1: 'Main',
  2: 'Main 10',
  3: 'Main Still Picture',
  4: 'Format Range Extensions',
  5: 'High Throughput',
  6: 'Multiview Main',
  7: 'Scalable Main',
  8: '3D Main',
  9: 'Screen Content Coding Extensions',
  10: 'Scalable Format Range Extensions',
  11: 'High Throughput Screen Content Coding Extensions',
};

export function hevcProfileName(profileIdc: number, compatibility: number): string {
  let idc = profileIdc;
  if (idc === 0) {
    // Some encoders leave general_profile_idc 0 and signal only via the compatibility flags.
    for (let j = 1; j < 32; j++) {
      if ((compatibility >>> (31 - j)) & 1) {
        idc = j;
        break;
      }
    }
  }
  return HEVC_PROFILES[idc] ?? `general_profile_idc ${profileIdc}`;
}

/** ISO/IEC 14496-15 Annex E.3 'hvc1' codecs parameter, e.g. hvc1.1.6.L93.B0. */
function hevcCodecString(ptl: ProfileTierLevel): string {
  const space = ['', 'A', 'B', 'C'][ptl.profileSpace]!;
  let reversed = 0;
  for (let i = 0; i < 32; i++) reversed = reversed * 2 + ((ptl.compatibility >>> i) & 1);
  const parts = [`hvc1`, `${space}${ptl.profileIdc}`, reversed.toString(16).toUpperCase(), `${ptl.tier ? 'H' : 'L'}${ptl.levelIdc}`];
  const bytes = [...ptl.constraints];
  while (bytes.length > 0 && bytes[bytes.length - 1] === 0) bytes.pop();
  for (const b of bytes) parts.push(b.toString(16).toUpperCase());
  return parts.join('.');
}
