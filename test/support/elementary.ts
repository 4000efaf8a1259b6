// Elementary streams for Enhanced RTMP tests: ffmpeg encodes short AV1 (IVF), HEVC (Annex B) and
// Opus (Ogg) clips once per machine into test-artifacts/cache, and this module parses them into
// timed access units plus the decoder configuration records Enhanced RTMP carries in SequenceStart
// (av1C, hvcC, OpusHead). Written independently of server/media so it can serve as the tests' oracle.
// One module per format under elementary/; this one gathers them.
export * from './elementary/clips.js';
export * from './elementary/av1.js';
export * from './elementary/hevc.js';
export * from './elementary/opus.js';
export * from './elementary/audio.js';
