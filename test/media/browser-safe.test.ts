// The browser-safe form of Enhanced RTMP bodies (server/media/browser-safe.ts), on annotated byte
// fixtures built by hand, plus hostile input: nothing throws, and whatever comes out is a body
// mpegts.js 1.8 reads (plain header + FourCC it knows, or legacy AVC/AAC).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { browserSafeAudio, browserSafeVideo } from '../../server/media/browser-safe.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+|\/\/[^\n]*/g, ''), 'hex');

describe('browserSafeVideo', () => {
  it('returns legacy and plain enhanced bodies as the very same Buffer', () => {
    const legacy = hex('17 01 000000 00000001 65');
    const av1 = hex('91 61763031 0a0b'); // key | CodedFrames, 'av01', OBUs
    expect(browserSafeVideo(legacy)).toBe(legacy);
    expect(browserSafeVideo(av1)).toBe(av1);
  });

  it('takes track 0 out of a ManyTracks multitrack message as a plain packet', () => {
    const body = hex(`
      96           // ExHeader, key frame, PacketType Multitrack (6)
      11           // AvMultitrackType ManyTracks (1) | track PacketType CodedFrames (1)
      61763031     // shared FourCC 'av01'
      01 000002 aaaa  // track 1: 2 bytes
      00 000003 0a0b0c // track 0: 3 bytes
    `);
    expect(browserSafeVideo(body)!.toString('hex')).toBe('91617630310a0b0c');
  });

  it('reads each track\'s FourCC in a ManyTracksManyCodecs message', () => {
    const body = hex(`
      96 20              // Multitrack; ManyTracksManyCodecs (2) | SequenceStart (0)
      68766331 01 000001 ff   // 'hvc1' track 1
      61763031 00 000002 8101 // 'av01' track 0
    `);
    expect(browserSafeVideo(body)!.toString('hex')).toBe('90617630318101');
  });

  it('leaves out a multitrack message without track 0, video metadata (colorInfo) and command frames', () => {
    expect(browserSafeVideo(hex('96 01 61763031 02 0a0b'))).toBeNull(); // OneTrack, track 2 only
    expect(browserSafeVideo(hex('94 61763031 02000a636f6c6f72496e666f 03000009'))).toBeNull(); // Metadata
    expect(browserSafeVideo(hex('d1 00'))).toBeNull(); // frame type 5 (command)
    expect(browserSafeVideo(hex('95 61763031 00'))).toBeNull(); // MPEG2TSSequenceStart
  });

  it('drops ModEx prefixes and keeps the packet they modify', () => {
    const body = hex(`
      a7          // ExHeader, inter frame, ModEx (7)
      02 000100   // modExDataSize-1 = 2 → 3 bytes: TimestampOffsetNano
      01          // ModExType 0 | PacketType CodedFrames
      61763031 0a0b
    `);
    expect(browserSafeVideo(body)!.toString('hex')).toBe('a1617630310a0b');
  });

  it('turns enhanced avc1 into the legacy AVC packets mpegts.js reads', () => {
    expect(browserSafeVideo(hex('90 61766331 0164'))!.toString('hex')).toBe('1700000000' + '0164'); // SequenceStart
    expect(browserSafeVideo(hex('91 61766331 000021 00000001'))!.toString('hex')).toBe('1701' + '000021' + '00000001'); // cts kept
    expect(browserSafeVideo(hex('a3 61766331 00000001'))!.toString('hex')).toBe('2701000000' + '00000001'); // CodedFramesX: cts 0
    expect(browserSafeVideo(hex('92 61766331'))!.toString('hex')).toBe('1702000000');
  });

  it('never throws on hostile bodies, and what it keeps starts like a body mpegts.js reads', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
      const out = browserSafeVideo(Buffer.from(bytes));
      if (out === null || (out[0]! & 0x80) === 0) return;
      expect(out[0]! & 0x0f).toBeLessThanOrEqual(3);
      expect((out[0]! >> 4) & 7).not.toBe(5);
      expect(out.length).toBeGreaterThanOrEqual(5);
    }), { numRuns: 3000 });
  });
});

describe('browserSafeAudio', () => {
  it('returns legacy and plain enhanced bodies as the very same Buffer', () => {
    const aac = hex('af 01 2110');
    const opus = hex('91 4f707573 fc');
    expect(browserSafeAudio(aac)).toBe(aac);
    expect(browserSafeAudio(opus)).toBe(opus);
  });

  it('takes track 0 out of a multitrack message, and leaves out the multichannel config', () => {
    const body = hex(`
      95              // ExHeader (9) | PacketType Multitrack (5)
      11 4f707573     // ManyTracks | CodedFrames, shared 'Opus'
      00 000001 fc    // track 0
      01 000001 fd    // track 1
    `);
    expect(browserSafeAudio(body)!.toString('hex')).toBe('914f707573fc');
    expect(browserSafeAudio(hex('94 4f707573 00 02'))).toBeNull();
  });

  it('turns enhanced mp4a into legacy AAC', () => {
    expect(browserSafeAudio(hex('90 6d703461 1210'))!.toString('hex')).toBe('af001210');
    expect(browserSafeAudio(hex('91 6d703461 2110'))!.toString('hex')).toBe('af012110');
  });

  it('never throws on hostile bodies', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
      const out = browserSafeAudio(Buffer.from(bytes));
      if (out !== null && out[0]! >> 4 === 9) expect(out[0]! & 0x0f).toBeLessThanOrEqual(2);
    }), { numRuns: 3000 });
  });
});
