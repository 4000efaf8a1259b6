// Fragmented MP4 (CMAF) boxes for HLS: ISO/IEC 14496-12 (ISOBMFF) §4.3 ftyp, §8.2 moov/mvhd,
// §8.3 trak/tkhd, §8.4 mdia/mdhd/hdlr/minf, §8.5 stbl/stsd, §8.8 mvex/trex and moof/mfhd/traf/
// tfhd/tfdt/trun, §8.1.1 mdat; ISO/IEC 14496-15 avc1/avcC and hvc1/hvcC; ISO/IEC 14496-14 esds;
// "Encapsulation of Opus in ISOBMFF" Opus/dOps, its edit list (§4.4) and 'roll' groups (§4.3.6.2).
// Pure: no I/O, every box built once per part.

export type TrackCodec = 'avc' | 'hevc' | 'aac' | 'opus';

export interface TrackInfo {
  id: number;
  kind: 'video' | 'audio';
  codec: TrackCodec;
  timescale: number;
  /** the codec's configuration record: avcC / hvcC body, AudioSpecificConfig, or dOps body */
  config: Buffer;
  width?: number;
  height?: number;
  channels?: number;
  sampleRate?: number;
}

export interface Sample {
  /** decode time in the track's timescale */
  dts: number;
  duration: number;
  /** composition minus decode time, in the track's timescale (B-frames) */
  cto: number;
  keyframe: boolean;
  data: Buffer;
}

export interface TrackRun {
  track: TrackInfo;
  /** decode time of the first sample (tfdt) */
  baseDts: number;
  samples: Sample[];
}

function box(type: string, ...payload: Buffer[]): Buffer {
  let size = 8;
  for (const p of payload) size += p.length;
  const head = Buffer.allocUnsafe(8);
  head.writeUInt32BE(size, 0);
  head.write(type, 4, 'latin1');
  return Buffer.concat([head, ...payload], size);
}

function fullBox(type: string, version: number, flags: number, ...payload: Buffer[]): Buffer {
  const vf = Buffer.allocUnsafe(4);
  vf.writeUInt32BE(((version & 0xff) << 24) | (flags & 0xffffff), 0);
  return box(type, vf, ...payload);
}

function u32s(...values: number[]): Buffer {
  const b = Buffer.allocUnsafe(values.length * 4);
  values.forEach((v, i) => b.writeUInt32BE(v >>> 0, i * 4));
  return b;
}

/** The unity matrix of mvhd/tkhd (§8.2.2.3): 16.16 fixed point, with w in 2.30. */
const MATRIX = u32s(0x00010000, 0, 0, 0, 0x00010000, 0, 0, 0, 0x40000000);

export function ftyp(): Buffer {
  const brands = ['iso6', 'cmfc', 'mp41', 'isom', 'dash'];
  return box('ftyp', Buffer.from('iso6', 'latin1'), u32s(0), Buffer.from(brands.join(''), 'latin1'));
}

function mvhd(nextTrackId: number): Buffer {
  // version 0: creation/modification 0, timescale 1000, duration 0 (unknown: fragmented)
  return fullBox('mvhd', 0, 0, u32s(0, 0, 1000, 0, 0x00010000), Buffer.from([0x01, 0x00, 0, 0]), u32s(0, 0), MATRIX, Buffer.alloc(24), u32s(nextTrackId));
}

function tkhd(t: TrackInfo): Buffer {
  const volume = t.kind === 'audio' ? 0x0100 : 0;
  const w = t.kind === 'video' ? (t.width ?? 0) : 0;
  const h = t.kind === 'video' ? (t.height ?? 0) : 0;
  const mid = Buffer.alloc(8);
  mid.writeUInt16BE(volume, 4);
  // flags 3: track enabled and in the presentation
  return fullBox('tkhd', 0, 3, u32s(0, 0, t.id, 0, 0), u32s(0, 0), mid, MATRIX, u32s(w * 0x10000, h * 0x10000));
}

function mdhd(t: TrackInfo): Buffer {
  // language 'und' packed as three 5-bit letters minus 0x60 (§8.4.2.3)
  return fullBox('mdhd', 0, 0, u32s(0, 0, t.timescale, 0), Buffer.from([0x55, 0xc4, 0, 0]));
}

function hdlr(t: TrackInfo): Buffer {
  const name = t.kind === 'video' ? 'VideoHandler' : 'SoundHandler';
  return fullBox('hdlr', 0, 0, u32s(0), Buffer.from(t.kind === 'video' ? 'vide' : 'soun', 'latin1'), u32s(0, 0, 0), Buffer.from(`${name}\0`, 'latin1'));
}

function visualSampleEntry(type: string, t: TrackInfo, configBox: Buffer): Buffer {
  const b = Buffer.alloc(78);
  b.writeUInt16BE(1, 6); // data_reference_index
  b.writeUInt16BE(t.width ?? 0, 24);
  b.writeUInt16BE(t.height ?? 0, 26);
  b.writeUInt32BE(0x00480000, 28); // 72 dpi
  b.writeUInt32BE(0x00480000, 32);
  b.writeUInt16BE(1, 40); // frame_count
  b.writeUInt16BE(0x0018, 74); // depth
  b.writeInt16BE(-1, 76);
  return box(type, b, configBox);
}

function audioSampleEntry(type: string, t: TrackInfo, configBox: Buffer): Buffer {
  const b = Buffer.alloc(28);
  b.writeUInt16BE(1, 6);
  b.writeUInt16BE(t.channels ?? 2, 16);
  b.writeUInt16BE(16, 18);
  // samplerate is 16.16; rates above 65535 Hz do not fit and the decoder reads the real one from the config
  b.writeUInt32BE(((t.sampleRate ?? 48000) & 0xffff) * 0x10000, 24);
  return box(type, b, configBox);
}

/** An MPEG-4 descriptor (14496-1 §7.2.2.1) with a one-byte size when it fits, else four. */
function descriptor(tag: number, ...payload: Buffer[]): Buffer {
  const body = Buffer.concat(payload);
  const n = body.length;
  const size = n < 0x80 ? Buffer.from([n]) : Buffer.from([0x80 | ((n >> 21) & 0x7f), 0x80 | ((n >> 14) & 0x7f), 0x80 | ((n >> 7) & 0x7f), n & 0x7f]);
  return Buffer.concat([Buffer.from([tag]), size, body]);
}

function esds(t: TrackInfo): Buffer {
  const decoderConfig = descriptor(
    0x04,
    // objectTypeIndication 0x40 (MPEG-4 Audio), streamType 5 (audio) << 2 | upStream 0 | reserved 1
    Buffer.from([0x40, 0x15, 0, 0, 0]),
    u32s(0, 0),
    descriptor(0x05, t.config),
  );
  const es = descriptor(0x03, Buffer.from([0, t.id & 0xff, 0]), decoderConfig, descriptor(0x06, Buffer.from([0x02])));
  return fullBox('esds', 0, 0, es);
}

function sampleEntry(t: TrackInfo): Buffer {
  switch (t.codec) {
    case 'avc':
      return visualSampleEntry('avc1', t, box('avcC', t.config));
    case 'hevc':
      return visualSampleEntry('hvc1', t, box('hvcC', t.config));
    case 'aac':
      return audioSampleEntry('mp4a', t, esds(t));
    case 'opus':
      return audioSampleEntry('Opus', t, box('dOps', t.config));
  }
}

/**
 * Opus in ISOBMFF §4.4: an edit list whose one edit starts the presentation PreSkip samples (dOps
 * bytes 2-3, at 48 kHz) into the media, so the encoder's priming samples are never played. Its
 * segment_duration is 0 (ISO/IEC 14496-12 §8.6.6: the whole media, unknown while fragments are made).
 */
function opusEdits(t: TrackInfo): Buffer[] {
  if (t.codec !== 'opus' || t.config.length < 4) return [];
  const preSkip = Math.round((t.config.readUInt16BE(2) * t.timescale) / 48_000);
  // version 0: segment_duration (movie timescale), media_time (media timescale), media_rate 1.0
  return [box('edts', fullBox('elst', 0, 0, u32s(1, 0, preSkip, 0x00010000)))];
}

/**
 * Opus in ISOBMFF §4.3.6.2: a decoder needs 80 ms of pre-roll after a random access, given as a
 * 'roll' sample group (AudioRollRecoveryEntry) whose roll_distance counts samples (packets): -4 for
 * the 20 ms packets encoders send live. Every Opus track fragment maps its samples to it (sbgp).
 */
const OPUS_ROLL_DISTANCE = -4;
const ROLL = Buffer.from('roll', 'latin1');

function opusRollGroups(t: TrackInfo): Buffer[] {
  if (t.codec !== 'opus') return [];
  const entry = Buffer.alloc(2);
  entry.writeInt16BE(OPUS_ROLL_DISTANCE, 0);
  // sgpd version 1: default_length 2, one entry; sbgp: no samples in the (empty) moov tables
  return [fullBox('sgpd', 1, 0, ROLL, u32s(2, 1), entry), fullBox('sbgp', 0, 0, ROLL, u32s(0))];
}

/** The fragment's samples all in roll group 1 (the moov's sgpd entry). */
function fragmentRollGroup(run: TrackRun): Buffer[] {
  return run.track.codec === 'opus' ? [fullBox('sbgp', 0, 0, ROLL, u32s(1, run.samples.length, 1))] : [];
}
const FRAGMENT_ROLL_BYTES = 28;

function trak(t: TrackInfo): Buffer {
  const mediaHeader = t.kind === 'video' ? fullBox('vmhd', 0, 1, Buffer.alloc(8)) : fullBox('smhd', 0, 0, Buffer.alloc(4));
  const dinf = box('dinf', fullBox('dref', 0, 0, u32s(1), fullBox('url ', 0, 1)));
  const stbl = box(
    'stbl',
    fullBox('stsd', 0, 0, u32s(1), sampleEntry(t)),
    fullBox('stts', 0, 0, u32s(0)),
    fullBox('stsc', 0, 0, u32s(0)),
    fullBox('stsz', 0, 0, u32s(0, 0)),
    fullBox('stco', 0, 0, u32s(0)),
    ...opusRollGroups(t),
  );
  return box('trak', tkhd(t), ...opusEdits(t), box('mdia', mdhd(t), hdlr(t), box('minf', mediaHeader, dinf, stbl)));
}

function trex(t: TrackInfo): Buffer {
  // default sample description 1; durations, sizes and flags are always given per sample in trun
  return fullBox('trex', 0, 0, u32s(t.id, 1, 0, 0, 0));
}

/** The initialization segment (EXT-X-MAP): ftyp + moov for the given tracks. */
export function initSegment(tracks: TrackInfo[]): Buffer {
  const nextId = Math.max(0, ...tracks.map((t) => t.id)) + 1;
  const moov = box('moov', mvhd(nextId), ...tracks.map(trak), box('mvex', ...tracks.map(trex)));
  return Buffer.concat([ftyp(), moov]);
}

// §8.8.12 sample_flags: sample_depends_on 2 (does not depend on others) for sync samples,
// 1 plus sample_is_non_sync_sample for the rest.
export const SYNC_SAMPLE_FLAGS = 0x02000000;
export const NON_SYNC_SAMPLE_FLAGS = 0x01010000;

const TFHD_DEFAULT_BASE_IS_MOOF = 0x020000;
// data-offset, sample-duration, sample-size, sample-flags, sample-composition-time-offset present
const TRUN_FLAGS = 0x000001 | 0x000100 | 0x000200 | 0x000400 | 0x000800;
const TRUN_SAMPLE_BYTES = 16;

function trun(run: TrackRun, dataOffset: number): Buffer {
  const n = run.samples.length;
  const body = Buffer.allocUnsafe(8 + n * TRUN_SAMPLE_BYTES);
  body.writeUInt32BE(n, 0);
  body.writeInt32BE(dataOffset, 4);
  let o = 8;
  for (const s of run.samples) {
    body.writeUInt32BE(s.duration >>> 0, o);
    body.writeUInt32BE(s.data.length, o + 4);
    body.writeUInt32BE(run.track.kind === 'audio' || s.keyframe ? SYNC_SAMPLE_FLAGS : NON_SYNC_SAMPLE_FLAGS, o + 8);
    body.writeInt32BE(s.cto, o + 12);
    o += TRUN_SAMPLE_BYTES;
  }
  // version 1: signed composition offsets
  return fullBox('trun', 1, TRUN_FLAGS, body);
}

function trafSize(run: TrackRun): number {
  // traf 8 + tfhd 16 + tfdt 20 + trun (12 + 8 + n*16), + sbgp for Opus
  return 8 + 16 + 20 + 20 + run.samples.length * TRUN_SAMPLE_BYTES + (run.track.codec === 'opus' ? FRAGMENT_ROLL_BYTES : 0);
}

/**
 * One fragment (moof + mdat) carrying each run's samples: an LL-HLS part. The mdat holds the runs
 * one after the other in the order given; each trun's data_offset counts from the moof's first byte.
 */
export function fragment(sequence: number, runs: TrackRun[]): Buffer {
  const live = runs.filter((r) => r.samples.length > 0);
  let moofSize = 8 + 16; // moof header + mfhd
  for (const r of live) moofSize += trafSize(r);
  let dataBytes = 0;
  for (const r of live) for (const s of r.samples) dataBytes += s.data.length;
  const trafs: Buffer[] = [];
  let offset = moofSize + 8; // past the mdat header
  for (const r of live) {
    const tfdt = Buffer.allocUnsafe(8);
    tfdt.writeBigUInt64BE(BigInt(Math.max(0, Math.round(r.baseDts))), 0);
    trafs.push(box('traf', fullBox('tfhd', 0, TFHD_DEFAULT_BASE_IS_MOOF, u32s(r.track.id)), fullBox('tfdt', 1, 0, tfdt), trun(r, offset), ...fragmentRollGroup(r)));
    for (const s of r.samples) offset += s.data.length;
  }
  const moof = box('moof', fullBox('mfhd', 0, 0, u32s(sequence)), ...trafs);
  const mdatHead = u32s(8 + dataBytes);
  const parts: Buffer[] = [moof, mdatHead, Buffer.from('mdat', 'latin1')];
  for (const r of live) for (const s of r.samples) parts.push(s.data);
  return Buffer.concat(parts, moof.length + 8 + dataBytes);
}
