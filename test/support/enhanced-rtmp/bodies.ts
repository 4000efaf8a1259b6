// Enhanced RTMP message bodies: ExVideoTagHeader / ExAudioTagHeader, ModEx and multitrack (layouts: enhanced-publisher.ts).


export const VideoPacketType = {
  SequenceStart: 0,
  CodedFrames: 1,
  SequenceEnd: 2,
  CodedFramesX: 3,
  Metadata: 4,
  MPEG2TSSequenceStart: 5,
  Multitrack: 6,
  ModEx: 7,
} as const;

export const AudioPacketType = {
  SequenceStart: 0,
  CodedFrames: 1,
  SequenceEnd: 2,
  MultichannelConfig: 4,
  Multitrack: 5,
  ModEx: 7,
} as const;

export const FrameType = { Key: 1, Inter: 2, Disposable: 3, GeneratedKey: 4, Command: 5 } as const;

export const AvMultitrackType = { OneTrack: 0, ManyTracks: 1, ManyTracksManyCodecs: 2 } as const;

export type VideoFourCc = 'avc1' | 'hvc1' | 'av01' | 'vp09' | 'vp08';
export type AudioFourCc = 'Opus' | 'fLaC' | 'ac-3' | 'ec-3' | 'mp4a' | '.mp3';

/** A FourCC as the uint32 E-RTMP puts in onMetaData's videocodecid/audiocodecid (e.g. 'av01' → 0x61763031). */
export function fourCcNumber(fourcc: string): number {
  if (fourcc.length !== 4) throw new Error(`FourCC ${JSON.stringify(fourcc)} is not 4 characters`);
  return Buffer.from(fourcc, 'latin1').readUInt32BE(0);
}

function fourCcBytes(fourcc: string): Buffer {
  if (fourcc.length !== 4) throw new Error(`FourCC ${JSON.stringify(fourcc)} is not 4 characters`);
  return Buffer.from(fourcc, 'latin1');
}

function si24(value: number): Buffer {
  const b = Buffer.alloc(3);
  b.writeIntBE(value, 0, 3);
  return b;
}

function ui24(value: number): Buffer {
  const b = Buffer.alloc(3);
  b.writeUIntBE(value, 0, 3);
  return b;
}

/** Whether CodedFrames of this FourCC carry the SI24 composition time (E-RTMP: avc1 and hvc1 only). */
function hasCompositionTime(fourcc: string, packetType: number): boolean {
  return packetType === VideoPacketType.CodedFrames && (fourcc === 'avc1' || fourcc === 'hvc1');
}

export interface ExVideo {
  frameType: number;
  packetType: number;
  fourcc: VideoFourCc;
  data?: Buffer;
  /** SI24 composition time for avc1/hvc1 CodedFrames (default 0) */
  compositionTime?: number;
}

export function exVideoBody(v: ExVideo): Buffer {
  const parts = [Buffer.from([0x80 | (v.frameType << 4) | v.packetType]), fourCcBytes(v.fourcc)];
  if (hasCompositionTime(v.fourcc, v.packetType)) parts.push(si24(v.compositionTime ?? 0));
  if (v.data !== undefined) parts.push(v.data);
  return Buffer.concat(parts);
}

export function exAudioBody(packetType: number, fourcc: AudioFourCc, data: Buffer = Buffer.alloc(0)): Buffer {
  return Buffer.concat([Buffer.from([0x90 | packetType]), fourCcBytes(fourcc), data]);
}

/** E-RTMP v2 ModEx prefix with a TimestampOffsetNano (ModExType 0, UI24 ns) before the real packet type. */
export function exVideoModExBody(v: ExVideo, nanoseconds: number): Buffer {
  const parts = [
    Buffer.from([0x80 | (v.frameType << 4) | VideoPacketType.ModEx, 3 - 1]), // modExDataSize - 1
    ui24(nanoseconds),
    Buffer.from([(0 << 4) | v.packetType]), // ModExType TimestampOffsetNano, then the packet type
    fourCcBytes(v.fourcc),
  ];
  if (hasCompositionTime(v.fourcc, v.packetType)) parts.push(si24(v.compositionTime ?? 0));
  if (v.data !== undefined) parts.push(v.data);
  return Buffer.concat(parts);
}

export interface Track<F extends string> {
  trackId: number;
  /** only for ManyTracksManyCodecs */
  fourcc?: F;
  data: Buffer;
  compositionTime?: number;
}

function multitrackTracks<F extends string>(
  multitrackType: number, fourcc: F | undefined, tracks: Track<F>[], withCts: (f: string) => boolean,
): Buffer[] {
  const parts: Buffer[] = [];
  if (multitrackType !== AvMultitrackType.ManyTracksManyCodecs) parts.push(fourCcBytes(fourcc!));
  for (const t of tracks) {
    const f = multitrackType === AvMultitrackType.ManyTracksManyCodecs ? t.fourcc! : fourcc!;
    if (multitrackType === AvMultitrackType.ManyTracksManyCodecs) parts.push(fourCcBytes(f));
    parts.push(Buffer.from([t.trackId]));
    const body = withCts(f) ? Buffer.concat([si24(t.compositionTime ?? 0), t.data]) : t.data;
    if (multitrackType !== AvMultitrackType.OneTrack) parts.push(ui24(body.length));
    parts.push(body);
  }
  return parts;
}

/** Video Multitrack message (E-RTMP v2): every track shares `packetType`. */
export function exVideoMultitrackBody(m: {
  frameType: number;
  multitrackType: number;
  packetType: number;
  fourcc?: VideoFourCc;
  tracks: Track<VideoFourCc>[];
}): Buffer {
  return Buffer.concat([
    Buffer.from([0x80 | (m.frameType << 4) | VideoPacketType.Multitrack, (m.multitrackType << 4) | m.packetType]),
    ...multitrackTracks(m.multitrackType, m.fourcc, m.tracks, (f) => hasCompositionTime(f, m.packetType)),
  ]);
}

/** Audio Multitrack message (E-RTMP v2). */
export function exAudioMultitrackBody(m: {
  multitrackType: number;
  packetType: number;
  fourcc?: AudioFourCc;
  tracks: Track<AudioFourCc>[];
}): Buffer {
  return Buffer.concat([
    Buffer.from([0x90 | AudioPacketType.Multitrack, (m.multitrackType << 4) | m.packetType]),
    ...multitrackTracks(m.multitrackType, m.fourcc, m.tracks, () => false),
  ]);
}
