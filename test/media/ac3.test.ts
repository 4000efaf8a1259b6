import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ProtocolError } from '../../server/errors.js';
import { parseAc3Frame, parseDac3, parseDec3 } from '../../server/media/ac3.js';
import { AC3_FRAME_48K_51, hex } from './fixtures.js';

// Syncframe starts and box bodies as ffmpeg 5.1's ac3/eac3 encoders and MP4 muxer write them.
const AC3_32K_MONO = hex('0b77 | 952f', '8c', '40', '2f 842b'); // fscod 2 (32 kHz) | bsid 8 | acmod 1 (1/0), lfeon 0
const EAC3_44K_STEREO = hex(
  '0b77', // syncword
  '01 a0', // strmtyp 0, substreamid 0, frmsiz 416
  '74', // fscod 1 (44.1 kHz) | numblkscod 3 | acmod 2 (2/0) | lfeon 0
  '87 c0 00 20 84', // bsid 16 | …
);

describe('AC-3 and E-AC-3 syncframes', () => {
  it('reads 48 kHz 5.1 from an AC-3 syncframe', () => {
    expect(parseAc3Frame(AC3_FRAME_48K_51)).toEqual({ codec: 'AC-3', sampleRate: 48000, channels: 6, codecString: 'ac-3' });
  });

  it('reads 32 kHz mono from an AC-3 syncframe without mix levels', () => {
    expect(parseAc3Frame(AC3_32K_MONO)).toMatchObject({ codec: 'AC-3', sampleRate: 32000, channels: 1 });
  });

  it('reads 44.1 kHz stereo from an E-AC-3 syncframe', () => {
    expect(parseAc3Frame(EAC3_44K_STEREO)).toEqual({ codec: 'E-AC-3', sampleRate: 44100, channels: 2, codecString: 'ec-3' });
  });

  it('reads the reduced E-AC-3 rates of fscod 3', () => {
    // fscod 3 | fscod2 1 (22.05 kHz) | acmod 1 | lfeon 0 => 1101 0010
    expect(parseAc3Frame(hex('0b77 01a0 d2 87 00 00'))).toMatchObject({ codec: 'E-AC-3', sampleRate: 22050, channels: 1 });
  });

  it('refuses a missing syncword, a reserved rate and a bsid beyond E-AC-3 with ProtocolError', () => {
    expect(() => parseAc3Frame(hex('0b78 b50b 1e40 ebf8'))).toThrow(ProtocolError);
    expect(() => parseAc3Frame(hex('0b77 b50b de40 ebf8'))).toThrow(ProtocolError); // fscod 3 in AC-3
    expect(() => parseAc3Frame(hex('0b77 01a0 74 f8 c000'))).toThrow(ProtocolError); // bsid 31
  });
});

describe('dac3 and dec3', () => {
  it('reads 48 kHz 5.1 from a dac3 body', () => {
    // fscod 0 | bsid 8 | bsmod 0 | acmod 7 | lfeon 1 | bit_rate_code 15 | reserved
    expect(parseDac3(hex('10 3d e0'))).toEqual({ codec: 'AC-3', sampleRate: 48000, channels: 6, codecString: 'ac-3' });
  });

  it('reads the first independent substream of a dec3 body', () => {
    // data_rate 192, num_ind_sub 0 | fscod 1, bsid 16, reserved | asvc 0, bsmod 0, acmod 2, lfeon 0 | …
    expect(parseDec3(hex('0600 60 04 00'))).toMatchObject({ codec: 'E-AC-3', sampleRate: 44100, channels: 2 });
    expect(parseDec3(hex('0e00 20 0f 00'))).toMatchObject({ codec: 'E-AC-3', sampleRate: 48000, channels: 6 });
  });

  it('throws only ProtocolError for truncations and arbitrary bytes', () => {
    for (const [parse, body] of [[parseAc3Frame, AC3_FRAME_48K_51], [parseAc3Frame, EAC3_44K_STEREO], [parseDac3, hex('103de0')], [parseDec3, hex('0e00200f00')]] as const) {
      for (let n = 0; n < body.length - 1; n++) {
        try {
          parse(body.subarray(0, n));
        } catch (err) {
          expect(err).toBeInstanceOf(ProtocolError);
        }
      }
    }
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 12 }), (bytes) => {
        for (const parse of [parseAc3Frame, parseDac3, parseDec3]) {
          try {
            parse(Buffer.concat([hex('0b77'), Buffer.from(bytes)]));
            parse(Buffer.from(bytes));
          } catch (err) {
            expect(err).toBeInstanceOf(ProtocolError);
          }
        }
      }),
    );
  });
});
