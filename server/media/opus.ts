// Ogg Opus ID header "OpusHead" (RFC 7845 §5.1), as carried by Enhanced RTMP Opus SequenceStart;
// also the ISOBMFF 'dOps' box body (Opus in ISOBMFF §4.3.2) that some muxers send instead.
import { ProtocolError } from '../errors.js';
import type { AudioConfig } from './aac.js';

/** Opus always decodes at 48 kHz; the header's input rate only describes the original source. */
const OPUS_RATE = 48000;

export function parseOpusHead(buf: Buffer): AudioConfig {
  let channels: number;
  if (buf.length >= 19 && buf.toString('latin1', 0, 8) === 'OpusHead') {
    // RFC 7845: the upper nibble of version is the major version; only 0 is defined.
    if ((buf[8]! & 0xf0) !== 0) throw new ProtocolError('codec', `unsupported OpusHead version ${buf[8]}`);
    channels = buf[9]!;
  } else if (buf.length >= 11 && buf[0] === 0) {
    channels = buf[1]!; // dOps Version 0, OutputChannelCount
  } else {
    throw new ProtocolError('codec', 'not an OpusHead or dOps header');
  }
  if (channels === 0) throw new ProtocolError('codec', 'Opus header with 0 channels');
  return { codec: 'Opus', sampleRate: OPUS_RATE, channels, codecString: 'opus' };
}
