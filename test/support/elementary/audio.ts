// The other E-RTMP audio FourCCs, mp4a (AAC), ac-3, ec-3 and fLaC: timed packets and SequenceStart bodies.
import { readFileSync } from 'node:fs';
import { type AudioPacket, cached } from './clips.js';
import { oggPackets } from './opus.js';

export interface AudioClip {
  fourcc: 'mp4a' | 'ac-3' | 'ec-3' | 'fLaC';
  /** the SequenceStart body, or null for codecs E-RTMP sends without one (AC-3, E-AC-3) */
  config: Buffer | null;
  packets: AudioPacket[];
  durationMs: number;
}

function audioFile(name: string, codec: string[], format: string, seconds: number): string {
  return cached(`es-${name}-48k-2ch-${seconds}s.${format}`, (out) => [
    '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000', '-t', String(seconds), '-ac', '2', ...codec, '-f', format, out,
  ]);
}

function timed(frames: { data: Buffer; samples: number }[]): { packets: AudioPacket[]; durationMs: number } {
  let samples = 0;
  const packets = frames.map((f) => {
    const p = { timestamp: Math.round(samples / 48), data: f.data };
    samples += f.samples;
    return p;
  });
  return { packets, durationMs: Math.round(samples / 48) };
}

/** AAC from ADTS: raw frames and a 2-byte AudioSpecificConfig (ISO/IEC 14496-3 §1.6.2.1). */
export function aacClip(seconds = 3): AudioClip {
  const buf = readFileSync(audioFile('aac', ['-c:a', 'aac', '-b:a', '128k'], 'adts', seconds));
  const frames: { data: Buffer; samples: number }[] = [];
  let config: Buffer | null = null;
  for (let at = 0; at + 7 <= buf.length; ) {
    if (buf[at] !== 0xff || (buf[at + 1]! & 0xf0) !== 0xf0) throw new Error(`no ADTS sync at ${at}`);
    const headerLen = (buf[at + 1]! & 1) === 1 ? 7 : 9;
    const profile = buf[at + 2]! >>> 6;
    const sfi = (buf[at + 2]! >>> 2) & 0x0f;
    const channels = ((buf[at + 2]! & 1) << 2) | (buf[at + 3]! >>> 6);
    const len = ((buf[at + 3]! & 3) << 11) | (buf[at + 4]! << 3) | (buf[at + 5]! >>> 5);
    config ??= Buffer.from([((profile + 1) << 3) | (sfi >>> 1), ((sfi & 1) << 7) | (channels << 3)]);
    frames.push({ data: buf.subarray(at + headerLen, at + len), samples: 1024 });
    at += len;
  }
  return { fourcc: 'mp4a', config, ...timed(frames) };
}

/** 48 kHz AC-3 frame sizes in 16-bit words by frmsizecod (ATSC A/52 Table 5.18). */
const AC3_WORDS_48K = [64, 64, 80, 80, 96, 96, 112, 112, 128, 128, 160, 160, 192, 192, 224, 224, 256, 256, 320, 320, 384, 384, 448, 448, 512, 512, 640, 640, 768, 768, 896, 896, 1024, 1024, 1152, 1152, 1280, 1280];

/** AC-3 / E-AC-3 syncframes (E-RTMP sends them as CodedFrames with no SequenceStart). */
export function dolbyClip(kind: 'ac3' | 'eac3', seconds = 3): AudioClip {
  const buf = readFileSync(audioFile(kind, ['-c:a', kind, '-b:a', '192k'], kind, seconds));
  const frames: { data: Buffer; samples: number }[] = [];
  for (let at = 0; at + 6 <= buf.length; ) {
    if (buf.readUInt16BE(at) !== 0x0b77) throw new Error(`no AC-3 sync at ${at}`);
    let size: number;
    let samples = 1536;
    if (kind === 'ac3') {
      if (buf[at + 4]! >>> 6 !== 0) throw new Error('AC-3 test clip is not 48 kHz');
      size = AC3_WORDS_48K[buf[at + 4]! & 0x3f]! * 2;
    } else {
      size = ((buf.readUInt16BE(at + 2) & 0x07ff) + 1) * 2;
      const fscod = buf[at + 4]! >>> 6;
      samples = 256 * (fscod === 3 ? 6 : [1, 2, 3, 6][(buf[at + 4]! >>> 4) & 3]!);
    }
    frames.push({ data: buf.subarray(at, at + size), samples });
    at += size;
  }
  return { fourcc: kind === 'ac3' ? 'ac-3' : 'ec-3', config: null, ...timed(frames) };
}

/**
 * FLAC from Ogg FLAC (one FLAC frame per Ogg packet). SequenceStart carries the STREAMINFO metadata
 * block with its 4-byte METADATA_BLOCK_HEADER, which is where mpegts.js reads it from.
 */
export function flacClip(seconds = 3): AudioClip {
  const [first, ...rest] = oggPackets(readFileSync(audioFile('flac', ['-c:a', 'flac'], 'ogg', seconds)));
  if (first === undefined || first.toString('latin1', 1, 5) !== 'FLAC' || first.toString('latin1', 9, 13) !== 'fLaC') {
    throw new Error('not an Ogg FLAC stream');
  }
  const config = first.subarray(13, 13 + 4 + 34);
  const frames = rest.filter((p) => p[0] === 0xff && (p[1]! & 0xfe) === 0xf8).map((data) => {
    const code = data[2]! >>> 4;
    const samples = code === 1 ? 192 : code >= 2 && code <= 5 ? 576 << (code - 2) : code >= 8 ? 256 << (code - 8) : NaN;
    if (Number.isNaN(samples)) throw new Error(`FLAC block size code ${code} not handled`);
    return { data, samples };
  });
  return { fourcc: 'fLaC', config, ...timed(frames) };
}
