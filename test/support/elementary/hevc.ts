// HEVC in Annex B: NAL units, hvcC and timed access units (ISO/IEC 14496-15).
import { readFileSync } from 'node:fs';
import { type VideoClipSpec, CLIP_360P, type VideoFrame, type VideoClip, hevcFile } from './clips.js';

const NAL_VPS = 32;
const NAL_SPS = 33;
const NAL_PPS = 34;
const NAL_AUD = 35;
const NAL_PREFIX_SEI = 39;

export function hevcNalType(nal: Buffer): number {
  return (nal[0]! >>> 1) & 0x3f;
}

/** Annex B byte stream → NAL units (start codes removed). */
export function splitAnnexB(buf: Buffer): Buffer[] {
  const starts: { at: number; len: number }[] = [];
  for (let i = 0; i + 2 < buf.length; i++) {
    if (buf[i] === 0 && buf[i + 1] === 0 && buf[i + 2] === 1) {
      const four = i > 0 && buf[i - 1] === 0;
      starts.push({ at: four ? i - 1 : i, len: four ? 4 : 3 });
      i += 2;
    }
  }
  return starts.map((s, k) => {
    let end = k + 1 < starts.length ? starts[k + 1]!.at : buf.length;
    while (end > s.at + s.len && buf[end - 1] === 0) end--; // trailing_zero_8bits
    return buf.subarray(s.at + s.len, end);
  });
}

function unescape(nal: Buffer): Buffer {
  const out: number[] = [];
  for (let i = 0; i < nal.length; i++) {
    if (i >= 2 && nal[i] === 3 && nal[i - 1] === 0 && nal[i - 2] === 0) continue;
    out.push(nal[i]!);
  }
  return Buffer.from(out);
}

/** HEVCDecoderConfigurationRecord (ISO/IEC 14496-15 §8.3.3.1.2) for an 8-bit 4:2:0 stream, 4-byte NAL lengths. */
export function buildHvcC(vps: Buffer, sps: Buffer, pps: Buffer, chromaFormatIdc = 1, bitDepth = 8): Buffer {
  const rbsp = unescape(sps.subarray(2));
  const maxSubLayersMinus1 = (rbsp[0]! >>> 1) & 0x07;
  const temporalIdNested = rbsp[0]! & 0x01;
  const ptl = rbsp.subarray(1, 13); // general profile_space/tier/idc, compatibility, constraints, level
  const head = Buffer.alloc(23);
  head[0] = 1;
  ptl.copy(head, 1);
  head.writeUInt16BE(0xf000, 13); // min_spatial_segmentation_idc 0
  head[15] = 0xfc; // parallelismType 0
  head[16] = 0xfc | chromaFormatIdc;
  head[17] = 0xf8 | (bitDepth - 8);
  head[18] = 0xf8 | (bitDepth - 8);
  head.writeUInt16BE(0, 19); // avgFrameRate unspecified
  head[21] = ((maxSubLayersMinus1 + 1) << 3) | (temporalIdNested << 2) | 3;
  head[22] = 3; // numOfArrays
  const arrays = [vps, sps, pps].map((nal) => {
    const a = Buffer.alloc(5);
    a[0] = 0x80 | hevcNalType(nal); // array_completeness 1
    a.writeUInt16BE(1, 1);
    a.writeUInt16BE(nal.length, 3);
    return Buffer.concat([a, nal]);
  });
  return Buffer.concat([head, ...arrays]);
}

export function hevcClip(spec: VideoClipSpec = CLIP_360P): VideoClip {
  const nals = splitAnnexB(readFileSync(hevcFile(spec)));
  let vps: Buffer | undefined;
  let sps: Buffer | undefined;
  let pps: Buffer | undefined;
  // Access units (H.265 §7.4.2.4.4): a new one starts at an AUD, a parameter set or prefix SEI after a
  // picture, or a slice with first_slice_segment_in_pic_flag set.
  const units: { nals: Buffer[]; hasVcl: boolean }[] = [];
  let cur: { nals: Buffer[]; hasVcl: boolean } | null = null;
  for (const nal of nals) {
    const t = hevcNalType(nal);
    const vcl = t < 32;
    const startsAu = vcl ? (nal[2]! & 0x80) !== 0 : t === NAL_AUD || t === NAL_VPS || t === NAL_SPS || t === NAL_PPS || t === NAL_PREFIX_SEI;
    if (cur === null || (startsAu && cur.hasVcl)) {
      cur = { nals: [], hasVcl: false };
      units.push(cur);
    }
    if (t === NAL_VPS) vps ??= nal;
    else if (t === NAL_SPS) sps ??= nal;
    else if (t === NAL_PPS) pps ??= nal;
    // Parameter sets travel in hvcC (the 'hvc1' sample entry); AUDs have no place in length-prefixed samples.
    if (t !== NAL_VPS && t !== NAL_SPS && t !== NAL_PPS && t !== NAL_AUD) cur.nals.push(nal);
    if (vcl) cur.hasVcl = true;
  }
  if (vps === undefined || sps === undefined || pps === undefined) throw new Error('HEVC stream lacks VPS/SPS/PPS');
  const frames: VideoFrame[] = units.filter((u) => u.hasVcl).map((u, i) => {
    const parts: Buffer[] = [];
    for (const nal of u.nals) {
      const len = Buffer.alloc(4);
      len.writeUInt32BE(nal.length);
      parts.push(len, nal);
    }
    const keyframe = u.nals.some((n) => hevcNalType(n) >= 16 && hevcNalType(n) <= 23); // IRAP
    return { timestamp: Math.round((i * 1000) / spec.fps), keyframe, data: Buffer.concat(parts) };
  });
  return {
    codec: 'hevc', width: spec.width, height: spec.height, fps: spec.fps,
    config: buildHvcC(vps, sps, pps), frames, durationMs: Math.round((frames.length * 1000) / spec.fps),
  };
}
