// An Enhanced RTMP (E-RTMP v1/v2) publisher and a tiny RTMP player for tests, built from the
// gateway's own pure RTMP modules. Debian's ffmpeg 5.1 can neither publish nor read Enhanced RTMP,
// so the tests build the ExVideoTagHeader / ExAudioTagHeader bodies themselves (from elementary
// streams, see elementary.ts) and check what comes out byte for byte.
//
// Body layouts follow the veovera "Enhanced RTMP" v2 specification:
//   video: [IsExHeader(1) | FrameType(3) | PacketType(4)] FourCC(4) [SI24 CompositionTime: avc1/hvc1 CodedFrames] data
//   audio: [SoundFormat 9 (4) | PacketType(4)] FourCC(4) data
//   multitrack: [.. | Multitrack] [AvMultitrackType(4) | PacketType(4)] FourCC? { [FourCC] TrackId(8) [Size(24)] data }*
//
// The parts live under enhanced-rtmp/; this module gathers them.
export * from './enhanced-rtmp/bodies.js';
export * from './enhanced-rtmp/timed-messages.js';
export { parseRtmpUrl, type RtmpTarget } from './enhanced-rtmp/client-connection.js';
export * from './enhanced-rtmp/publisher.js';
