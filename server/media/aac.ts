// ISO/IEC 14496-3 §1.6.2.1 AudioSpecificConfig (incl. explicit and backward-compatible SBR/PS
// signalling), §4.4.1 GASpecificConfig and §4.4.1.1 program_config_element (channel count only).
import { ProtocolError } from '../errors.js';
import { BitReader } from './bits.js';

export interface AudioConfig {
  codec: string; // 'AAC' | 'Opus' ...
  profile?: string; // 'LC', 'HE-AAC', ...
  /** Output sample rate: with SBR this is the doubled rate, not the AAC core rate. */
  sampleRate: number;
  /** Output channels: with PS a mono core decodes to stereo. */
  channels: number;
  codecString?: string; // mp4a.40.2
}

/** Table 1.18 samplingFrequencyIndex; 13 and 14 are reserved, 15 means an explicit 24-bit rate. */
const SAMPLE_RATES = [96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350];
/** Table 1.19 channelConfiguration → channel count; 0 = PCE, 8..10 and 15 reserved (-1). */
const CHANNELS = [0, 1, 2, 3, 4, 5, 6, 8, -1, -1, -1, 7, 8, 24, 8, -1];

const AOT_SBR = 5;
const AOT_PS = 29;
const AOT_ER_BSAC = 22;
const SYNC_SBR = 0x2b7;
const SYNC_PS = 0x548;

const PROFILES: Record<number, string> = {
  1: 'Main',
  2: 'LC',
  3: 'SSR',
  4: 'LTP',
  5: 'HE-AAC',
  6: 'Scalable',
  17: 'ER LC',
  19: 'ER LTP',
  20: 'ER Scalable',
  22: 'ER BSAC',
  23: 'LD',
  29: 'HE-AACv2',
  39: 'ELD',
  42: 'xHE-AAC',
};

/** Object types whose config is GASpecificConfig (§1.6.2.1 switch). */
const GA_TYPES = new Set([1, 2, 3, 4, 6, 7, 17, 19, 20, 21, 22, 23]);
/** Object types followed by epConfig. */
const EP_TYPES = new Set([17, 19, 20, 21, 22, 23, 24, 25, 26, 27, 39]);

export function parseAacAudioSpecificConfig(asc: Buffer): AudioConfig {
  const r = new BitReader(asc, 'AudioSpecificConfig');
  let objectType = readObjectType(r);
  const sampleRate = readSampleRate(r);
  const channelConfig = r.bits(4);
  let sbr = false;
  let ps = false;
  let extensionRate = 0;
  let extensionType = 0;

  if (objectType === AOT_SBR || objectType === AOT_PS) {
    // Explicit hierarchical signalling: the first rate is the core's, the extension rate is the output.
    extensionType = AOT_SBR;
    sbr = true;
    ps = objectType === AOT_PS;
    extensionRate = readSampleRate(r);
    objectType = readObjectType(r);
    if (objectType === AOT_ER_BSAC) r.skip(4); // extensionChannelConfiguration
  }

  let channels = CHANNELS[channelConfig]!;
  if (channels < 0) throw new ProtocolError('codec', `reserved AAC channelConfiguration ${channelConfig}`);

  if (GA_TYPES.has(objectType)) {
    const pceChannels = readGaSpecificConfig(r, channelConfig, objectType);
    if (channelConfig === 0) channels = pceChannels;
    if (EP_TYPES.has(objectType)) r.skip(2); // epConfig

    // Backward-compatible signalling: a plain LC config followed by a sync extension announcing SBR
    // (and PS). Decoders that do not know it stop reading, so trailing garbage must not fail the parse.
    if (extensionType !== AOT_SBR && r.bitsLeft >= 16) {
      try {
        if (r.bits(11) === SYNC_SBR) {
          extensionType = readObjectType(r);
          if (extensionType === AOT_SBR && r.flag()) {
            sbr = true;
            extensionRate = readSampleRate(r);
            if (r.bitsLeft >= 12 && r.bits(11) === SYNC_PS && r.flag()) ps = true;
          }
        }
      } catch (err) {
        if (!(err instanceof ProtocolError)) throw err;
      }
    }
  }

  const signalledType = ps ? AOT_PS : sbr ? AOT_SBR : objectType;
  return {
    codec: 'AAC',
    profile: PROFILES[signalledType] ?? `AOT ${signalledType}`,
    sampleRate: sbr && extensionRate > 0 ? extensionRate : sampleRate,
    // Parametric stereo turns a mono core into a stereo output.
    channels: ps && channels === 1 ? 2 : channels,
    codecString: `mp4a.40.${signalledType}`,
  };
}

/** GetAudioObjectType(): 5 bits, 31 escapes to 32 + 6 more bits. */
function readObjectType(r: BitReader): number {
  const t = r.bits(5);
  return t === 31 ? 32 + r.bits(6) : t;
}

function readSampleRate(r: BitReader): number {
  const index = r.bits(4);
  if (index === 15) {
    const rate = r.bits(24);
    if (rate === 0) throw new ProtocolError('codec', 'AAC explicit sampling frequency is 0');
    return rate;
  }
  const rate = SAMPLE_RATES[index];
  if (rate === undefined) throw new ProtocolError('codec', `reserved AAC samplingFrequencyIndex ${index}`);
  return rate;
}

/** Returns the PCE channel count when channelConfiguration is 0, else 0. */
function readGaSpecificConfig(r: BitReader, channelConfig: number, objectType: number): number {
  r.skip(1); // frameLengthFlag
  if (r.flag()) r.skip(14); // dependsOnCoreCoder → coreCoderDelay
  const extensionFlag = r.flag();
  const pceChannels = channelConfig === 0 ? readPceChannels(r) : 0;
  if (objectType === 6 || objectType === 20) r.skip(3); // layerNr
  if (extensionFlag) {
    if (objectType === AOT_ER_BSAC) r.skip(5 + 11); // numOfSubFrame, layer_length
    if (objectType === 17 || objectType === 19 || objectType === 20 || objectType === 23) r.skip(3); // resilience flags
    r.skip(1); // extensionFlag3
  }
  return pceChannels;
}

/** program_config_element(): element counts are 2-4 bit fields, so every loop is bounded by 15. */
function readPceChannels(r: BitReader): number {
  r.skip(4 + 2 + 4); // element_instance_tag, object_type, sampling_frequency_index
  const front = r.bits(4);
  const side = r.bits(4);
  const back = r.bits(4);
  const lfe = r.bits(2);
  const assoc = r.bits(3);
  const cc = r.bits(4);
  if (r.flag()) r.skip(4); // mono_mixdown_element_number
  if (r.flag()) r.skip(4); // stereo_mixdown_element_number
  if (r.flag()) r.skip(3); // matrix_mixdown_idx, pseudo_surround_enable
  let channels = lfe;
  for (let i = 0; i < front + side + back; i++) {
    channels += r.flag() ? 2 : 1; // is_cpe
    r.skip(4); // element tag
  }
  // The remaining parts carry no channels but must be consumed: GASpecificConfig continues after them.
  r.skip(4 * lfe + 4 * assoc + 5 * cc);
  // byte_alignment() is relative to the start of the AudioSpecificConfig, i.e. of this buffer.
  r.skip((8 - (r.bitPosition % 8)) % 8);
  r.skip(8 * r.bits(8)); // comment_field_data
  return channels;
}
