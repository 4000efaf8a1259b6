// Opus in Ogg: packets, their durations and OpusHead (RFC 3533, 6716, 7845).
import { readFileSync } from 'node:fs';
import { CLIP_360P, type AudioPacket, type OpusClip, opusFile } from './clips.js';

/** Ogg pages (RFC 3533) → packets of the first logical stream, lacing values joined. */
export function oggPackets(buf: Buffer): Buffer[] {
  const packets: Buffer[] = [];
  let pending: Buffer[] = [];
  let at = 0;
  while (at + 27 <= buf.length) {
    if (buf.toString('latin1', at, at + 4) !== 'OggS') throw new Error(`no Ogg capture pattern at ${at}`);
    const segments = buf[at + 26]!;
    const table = buf.subarray(at + 27, at + 27 + segments);
    let body = at + 27 + segments;
    for (const lace of table) {
      pending.push(buf.subarray(body, body + lace));
      body += lace;
      if (lace < 255) {
        packets.push(Buffer.concat(pending));
        pending = [];
      }
    }
    at = body;
  }
  return packets;
}

/** Samples at 48 kHz in one Opus packet, from its TOC byte (RFC 6716 §3.1). */
export function opusPacketSamples(packet: Buffer): number {
  const toc = packet[0]!;
  const config = toc >>> 3;
  let frameSamples: number;
  if (config < 12) frameSamples = [480, 960, 1920, 2880][config & 3]!; // SILK
  else if (config < 16) frameSamples = [480, 960][config & 1]!; // hybrid
  else frameSamples = [120, 240, 480, 960][config & 3]!; // CELT
  const code = toc & 3;
  const count = code === 0 ? 1 : code === 3 ? packet[1]! & 0x3f : 2;
  return frameSamples * count;
}

export function opusClip(seconds = CLIP_360P.seconds, channels = 2): OpusClip {
  const [head, tags, ...audio] = oggPackets(readFileSync(opusFile(seconds, channels)));
  if (head === undefined || head.toString('latin1', 0, 8) !== 'OpusHead') throw new Error('Ogg stream does not start with OpusHead');
  if (tags === undefined || tags.toString('latin1', 0, 8) !== 'OpusTags') throw new Error('OpusTags missing');
  let samples = 0;
  const packets: AudioPacket[] = audio.map((data) => {
    const p = { timestamp: Math.round(samples / 48), data };
    samples += opusPacketSamples(data);
    return p;
  });
  return { head, channels: head[9]!, inputSampleRate: head.readUInt32LE(12), packets, durationMs: Math.round(samples / 48) };
}
