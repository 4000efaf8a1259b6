// AV1 Codec ISO Media File Format Binding §2.3 AV1CodecConfigurationRecord, and AV1 bitstream spec
// §5.3 OBU header and §5.5 sequence_header_obu() (through max_frame_width/height).
import { ProtocolError } from '../errors.js';
import { BitReader, ByteReader } from './bits.js';
import { frameRate, type VideoConfig } from './avc.js';

const OBU_SEQUENCE_HEADER = 1;
const PROFILES = ['Main', 'High', 'Professional'];

export function parseAv1CodecConfig(record: Buffer): VideoConfig {
  const r = new ByteReader(record, 'AV1CodecConfigurationRecord');
  const b0 = r.u8();
  if (b0 !== 0x81) throw new ProtocolError('codec', 'AV1CodecConfigurationRecord marker/version is not 1/1');
  r.skip(3); // profile/level/tier/bit depth/chroma: taken from the sequence header, which is authoritative
  const b2 = record[2]!;
  const highBitdepth = (b2 & 0x40) !== 0;
  const twelveBit = (b2 & 0x20) !== 0;
  const mono = (b2 & 0x10) !== 0;
  const subX = (b2 & 0x08) !== 0;
  const subY = (b2 & 0x04) !== 0;
  // configOBUs: each OBU consumes at least its 1-byte header, so this loop is bounded by the input.
  while (r.left > 0) {
    const header = r.u8();
    if ((header & 0x80) !== 0) throw new ProtocolError('codec', 'AV1 OBU forbidden bit set');
    const type = (header >>> 3) & 0x0f;
    if ((header & 0x04) !== 0) r.skip(1); // obu_extension_header
    const size = (header & 0x02) !== 0 ? readLeb128(r) : r.left;
    const body = r.bytes(size);
    if (type !== OBU_SEQUENCE_HEADER) continue;
    const { config, seqProfile, seqLevelIdx, seqTier } = parseSequenceHeader(body);
    const bitDepth = highBitdepth ? (twelveBit ? 12 : 10) : 8;
    config.bitDepth = bitDepth;
    config.chromaFormat = mono ? '4:0:0' : subX && subY ? '4:2:0' : subX ? '4:2:2' : '4:4:4';
    // "Codecs Parameter String" of the AV1 ISOBMFF binding: av01.P.LLT.DD
    config.codecString = `av01.${seqProfile}.${pad2(seqLevelIdx)}${seqTier ? 'H' : 'M'}.${pad2(bitDepth)}`;
    return config;
  }
  throw new ProtocolError('codec', 'AV1CodecConfigurationRecord has no sequence header OBU');
}

/** leb128() (§4.10.5): at most 8 bytes; values beyond 2^32-1 cannot fit in a record anyway. */
function readLeb128(r: ByteReader): number {
  let value = 0;
  for (let i = 0; i < 8; i++) {
    const b = r.u8();
    value += (b & 0x7f) * 2 ** (7 * i);
    if ((b & 0x80) === 0) return value;
  }
  throw new ProtocolError('codec', 'AV1 leb128 longer than 8 bytes');
}

interface SequenceHeader {
  config: VideoConfig;
  seqProfile: number;
  seqLevelIdx: number;
  seqTier: number;
}

function parseSequenceHeader(obu: Buffer): SequenceHeader {
  const r = new BitReader(obu, 'AV1 sequence header');
  const seqProfile = r.bits(3);
  if (seqProfile > 2) throw new ProtocolError('codec', `reserved AV1 seq_profile ${seqProfile}`);
  r.skip(1); // still_picture
  const reduced = r.flag();
  let seqLevelIdx: number;
  let seqTier = 0;
  let fps: number | undefined;
  if (reduced) {
    seqLevelIdx = r.bits(5);
  } else {
    let decoderModelInfo = false;
    let bufferDelayLength = 0;
    if (r.flag()) {
      // timing_info()
      const numUnitsInDisplayTick = r.bits(32);
      const timeScale = r.bits(32);
      if (r.flag()) {
        const ticksPerPicture = r.uvlc() + 1;
        fps = frameRate(timeScale, numUnitsInDisplayTick * ticksPerPicture);
      }
      decoderModelInfo = r.flag();
      if (decoderModelInfo) {
        bufferDelayLength = r.bits(5) + 1;
        r.skip(32 + 5 + 5); // num_units_in_decoding_tick, removal/presentation time lengths
      }
    }
    const initialDisplayDelay = r.flag();
    const opCount = r.bits(5) + 1;
    seqLevelIdx = 0;
    for (let i = 0; i < opCount; i++) {
      r.skip(12); // operating_point_idc
      const level = r.bits(5);
      const tier = level > 7 ? r.bit() : 0;
      // Operating point 0 describes the full stream, which is what a viewer decodes.
      if (i === 0) {
        seqLevelIdx = level;
        seqTier = tier;
      }
      if (decoderModelInfo && r.flag()) r.skip(2 * bufferDelayLength + 1);
      if (initialDisplayDelay && r.flag()) r.skip(4);
    }
  }
  const widthBits = r.bits(4) + 1;
  const heightBits = r.bits(4) + 1;
  const width = r.bits(widthBits) + 1;
  const height = r.bits(heightBits) + 1;
  const config: VideoConfig = {
    codec: 'AV1',
    profile: PROFILES[seqProfile]!,
    // §A.3: seq_level_idx encodes level X.Y as (X - 2) * 4 + Y; 31 means "no level restriction".
    level: 2 + (seqLevelIdx >>> 2) + (seqLevelIdx & 3) / 10,
    width,
    height,
  };
  if (fps !== undefined) config.fps = fps;
  return { config, seqProfile, seqLevelIdx, seqTier };
}

function pad2(n: number): string {
  return String(n).padStart(2, '0');
}
