// AC-3 and E-AC-3 for the API: sample rate and channels. Enhanced RTMP sends ac-3/ec-3 as coded
// frames without a SequenceStart, so they come from the syncframe header (ATSC A/52 §5.3.1 syncinfo
// and bsi; Annex E §E.1.2 for E-AC-3); the ISOBMFF 'dac3'/'dec3' box bodies (ETSI TS 102 366 Annex F)
// are read too, for a publisher that sends one as the SequenceStart.
import { ProtocolError } from '../errors.js';
import type { AudioConfig } from './aac.js';
import { BitReader } from './bits.js';

const RATES = [48000, 44100, 32000];
/** fscod2 when fscod is 3 (E-AC-3 reduced rates) */
const HALF_RATES = [24000, 22050, 16000];
/** full-bandwidth channels by acmod (A/52 Table 5.8) */
const CHANNELS = [2, 1, 2, 3, 3, 4, 4, 5];
const SYNC_WORD = 0x0b77;

function config(eac3: boolean, sampleRate: number | undefined, acmod: number, lfe: number): AudioConfig {
  if (sampleRate === undefined) throw new ProtocolError('codec', 'AC-3 header with a reserved sample rate code');
  return { codec: eac3 ? 'E-AC-3' : 'AC-3', sampleRate, channels: CHANNELS[acmod]! + lfe, codecString: eac3 ? 'ec-3' : 'ac-3' };
}

/** One AC-3 or E-AC-3 syncframe (bsid up to 10 is AC-3, 11 to 16 E-AC-3). */
export function parseAc3Frame(frame: Buffer): AudioConfig {
  if (frame.length < 8 || frame.readUInt16BE(0) !== SYNC_WORD) throw new ProtocolError('codec', 'not an AC-3 syncframe');
  const bsid = frame[5]! >>> 3; // at the same place in both syntaxes
  const r = new BitReader(frame.subarray(2), 'AC-3 syncframe');
  if (bsid <= 10) {
    r.skip(16); // crc1
    const fscod = r.bits(2);
    r.skip(6 + 5 + 3); // frmsizecod, bsid, bsmod
    const acmod = r.bits(3);
    if ((acmod & 1) !== 0 && acmod !== 1) r.skip(2); // cmixlev
    if ((acmod & 4) !== 0) r.skip(2); // surmixlev
    if (acmod === 2) r.skip(2); // dsurmod
    return config(false, RATES[fscod], acmod, r.bit());
  }
  if (bsid > 16) throw new ProtocolError('codec', `AC-3 bsid ${bsid} is not AC-3 or E-AC-3`);
  r.skip(2 + 3 + 11); // strmtyp, substreamid, frmsiz
  const fscod = r.bits(2);
  let rate: number | undefined;
  if (fscod === 3) {
    rate = HALF_RATES[r.bits(2)]; // fscod2
  } else {
    r.skip(2); // numblkscod
    rate = RATES[fscod];
  }
  const acmod = r.bits(3);
  return config(true, rate, acmod, r.bit());
}

/** The 'dac3' box body (AC3SpecificBox, 3 bytes). */
export function parseDac3(body: Buffer): AudioConfig {
  const r = new BitReader(body, 'dac3');
  const fscod = r.bits(2);
  r.skip(5 + 3); // bsid, bsmod
  const acmod = r.bits(3);
  return config(false, RATES[fscod], acmod, r.bit());
}

/** The 'dec3' box body (EC3SpecificBox): the first independent substream's rate and channels. */
export function parseDec3(body: Buffer): AudioConfig {
  const r = new BitReader(body, 'dec3');
  r.skip(13 + 3); // data_rate, num_ind_sub
  const fscod = r.bits(2);
  r.skip(5 + 1 + 1 + 3); // bsid, reserved, asvc, bsmod
  const acmod = r.bits(3);
  return config(true, RATES[fscod], acmod, r.bit());
}
