import { describe, expect, it } from 'vitest';
import { ProtocolError } from '../../server/errors.js';
import { parseAacAudioSpecificConfig } from '../../server/media/aac.js';
import { parseOpusHead } from '../../server/media/opus.js';
import { bits } from './bitwriter.js';
import {
  AAC_TAG_44100,
  ASC_HE_AAC_EXPLICIT,
  ASC_HE_AAC_IMPLICIT,
  ASC_HE_AAC_V2_EXPLICIT,
  ASC_LC_44100,
  ASC_LC_48000,
  ASC_LC_48000_FFMPEG,
  hex,
} from './fixtures.js';

describe('parseAacAudioSpecificConfig', () => {
  it('reads `12 10` as AAC LC 44100 Hz stereo', () => {
    expect(parseAacAudioSpecificConfig(ASC_LC_44100)).toEqual({
      codec: 'AAC',
      profile: 'LC',
      sampleRate: 44100,
      channels: 2,
      codecString: 'mp4a.40.2',
    });
  });

  it('reads `11 90` as AAC LC 48000 Hz stereo', () => {
    expect(parseAacAudioSpecificConfig(ASC_LC_48000)).toMatchObject({ profile: 'LC', sampleRate: 48000, channels: 2 });
  });

  it('keeps LC when ffmpeg appends an SBR sync extension with sbrPresentFlag 0', () => {
    expect(parseAacAudioSpecificConfig(AAC_TAG_44100.subarray(2))).toMatchObject({ profile: 'LC', sampleRate: 44100 });
    expect(parseAacAudioSpecificConfig(ASC_LC_48000_FFMPEG)).toMatchObject({ profile: 'LC', sampleRate: 48000 });
  });

  it('reports explicit HE-AAC at the SBR output rate, not the 24 kHz core rate', () => {
    expect(parseAacAudioSpecificConfig(ASC_HE_AAC_EXPLICIT)).toEqual({
      codec: 'AAC',
      profile: 'HE-AAC',
      sampleRate: 48000,
      channels: 2,
      codecString: 'mp4a.40.5',
    });
  });

  it('reports explicit HE-AACv2 (PS) as stereo although the core is mono', () => {
    expect(parseAacAudioSpecificConfig(ASC_HE_AAC_V2_EXPLICIT)).toMatchObject({
      profile: 'HE-AACv2',
      sampleRate: 48000,
      channels: 2,
      codecString: 'mp4a.40.29',
    });
  });

  it('detects backward-compatible HE-AAC signalled through the 0x2b7 sync extension', () => {
    expect(parseAacAudioSpecificConfig(ASC_HE_AAC_IMPLICIT)).toMatchObject({ profile: 'HE-AAC', sampleRate: 48000, channels: 2 });
  });

  it('detects backward-compatible PS through the 0x548 sync extension', () => {
    // LC 24 kHz mono | 0x2b7, AOT 5, sbrPresent 1, ext index 3 | 0x548, psPresent 1
    const asc = bits([5, 2], [4, 6], [4, 1], [3, 0], [11, 0x2b7], [5, 5], [1, 1], [4, 3], [11, 0x548], [1, 1]);
    expect(parseAacAudioSpecificConfig(asc)).toMatchObject({ profile: 'HE-AACv2', sampleRate: 48000, channels: 2 });
  });

  it('reads an escaped object type (31 → 32 + 6 bits) and an explicit 24-bit sampling rate', () => {
    // AOT 31+10 = 42 (USAC), index 15 → 37800 Hz explicit, channel configuration 1
    const asc = bits([5, 31], [6, 10], [4, 15], [24, 37800], [4, 1]);
    expect(parseAacAudioSpecificConfig(asc)).toMatchObject({ profile: 'xHE-AAC', sampleRate: 37800, channels: 1, codecString: 'mp4a.40.42' });
  });

  it('maps channelConfiguration 7 to 8 channels (7.1)', () => {
    expect(parseAacAudioSpecificConfig(bits([5, 2], [4, 3], [4, 7], [3, 0])).channels).toBe(8);
  });

  it('counts channels from the program_config_element when channelConfiguration is 0', () => {
    // 5.1: front SCE + CPE, back CPE, one LFE → 1 + 2 + 2 + 1
    const asc = bits(
      [5, 2], [4, 3], [4, 0], [1, 0], [1, 0], [1, 0], // LC 48 kHz, PCE follows; GA flags
      [4, 0], [2, 1], [4, 3], [4, 2], [4, 0], [4, 1], [2, 1], [3, 0], [4, 0], // PCE counts
      [1, 0], [1, 0], [1, 0], // no mixdowns
      [1, 0], [4, 0], [1, 1], [4, 0], [1, 1], [4, 1], [4, 0], // front SCE, front CPE, back CPE, LFE
      [2, 0], [8, 0], // byte alignment, empty comment
    );
    expect(parseAacAudioSpecificConfig(asc)).toMatchObject({ channels: 6, sampleRate: 48000 });
  });

  it('rejects reserved sampling indexes and channel configurations, and truncation, with ProtocolError', () => {
    expect(() => parseAacAudioSpecificConfig(bits([5, 2], [4, 13], [4, 2]))).toThrow(ProtocolError);
    expect(() => parseAacAudioSpecificConfig(bits([5, 2], [4, 3], [4, 9], [3, 0]))).toThrow(ProtocolError);
    expect(() => parseAacAudioSpecificConfig(hex(''))).toThrow(ProtocolError);
    expect(() => parseAacAudioSpecificConfig(hex('12'))).toThrow(ProtocolError);
  });
});

describe('parseOpusHead', () => {
  it('reads a stereo OpusHead as 48 kHz regardless of the input sample rate', () => {
    const head = hex(
      '4f70757348656164', // "OpusHead"
      '01 02', //          version 1, 2 channels
      '3801', //           pre-skip 312 (LE)
      '44ac0000', //       input sample rate 44100 (LE)
      '0000 00', //        output gain 0, mapping family 0
    );
    expect(parseOpusHead(head)).toEqual({ codec: 'Opus', sampleRate: 48000, channels: 2, codecString: 'opus' });
  });

  it('accepts the ISOBMFF dOps body that some muxers send instead (captured from ffmpeg mp4)', () => {
    expect(parseOpusHead(hex('00 02 0138 0000bb80 0000 00'))).toMatchObject({ channels: 2, sampleRate: 48000 });
  });

  it('rejects anything else, major version 1 and zero channels with ProtocolError', () => {
    expect(() => parseOpusHead(hex('4f707573546167730000000000000000000000'))).toThrow(ProtocolError); // OpusTags
    expect(() => parseOpusHead(hex('4f70757348656164 10 02 3801 44ac0000 0000 00'))).toThrow(ProtocolError);
    expect(() => parseOpusHead(hex('4f70757348656164 01 00 3801 44ac0000 0000 00'))).toThrow(ProtocolError);
  });
});
