import { describe, expect, it } from 'vitest';
import { ProtocolError } from '../../server/errors.js';
import { parseHevcDecoderConfig } from '../../server/media/hevc.js';
import { parseVideoTagHeader } from '../../server/media/video.js';
import { AVC_TAG_720P, HEVC_RECORD_720P, hex } from './fixtures.js';

describe('parseVideoTagHeader, legacy FLV VIDEODATA', () => {
  it('reads an AVC key frame sequence header and points dataOffset at the decoder config record', () => {
    expect(parseVideoTagHeader(AVC_TAG_720P)).toEqual({
      codec: 'avc',
      enhanced: false,
      fourcc: null,
      frameType: 1,
      keyframe: true,
      packetType: 'sequence-start',
      dataOffset: 5,
      compositionTime: 0,
    });
    expect(AVC_TAG_720P[5]).toBe(1); // configurationVersion
  });

  it('reads an AVC inter frame NALU packet with a negative SI24 composition time', () => {
    // 27: inter | AVC; 01: NALU; ffffd8: -40 ms; then a 4-byte length-prefixed NAL
    const h = parseVideoTagHeader(hex('27 01 ffffd8 00000002 4101'));
    expect(h).toMatchObject({ codec: 'avc', frameType: 2, keyframe: false, packetType: 'coded-frames', compositionTime: -40, dataOffset: 5 });
  });

  it('reads an AVC end of sequence', () => {
    expect(parseVideoTagHeader(hex('17 02 000000'))).toMatchObject({ packetType: 'sequence-end', dataOffset: 5 });
  });

  it('maps AVCPacketType values above 2 to "other"', () => {
    expect(parseVideoTagHeader(hex('17 03 000000')).packetType).toBe('other');
  });

  it('treats non-standard codec id 12 as HEVC and 13 as AV1, with the AVC packet layout', () => {
    expect(parseVideoTagHeader(hex('1c 00 000000 01')).codec).toBe('hevc');
    expect(parseVideoTagHeader(hex('2d 01 000021'))).toMatchObject({ codec: 'av1', packetType: 'coded-frames', compositionTime: 33 });
  });

  it.each([
    ['22', 'h263', 2],
    ['32', 'h263', 3],
    ['13', 'screen', 1],
    ['24', 'vp6', 2],
    ['15', 'vp6a', 1],
    ['16', 'screen2', 1],
    ['19', 'unknown', 1],
  ])('reads codec byte %s as %s frame type %i with data right after the header byte', (b0, codec, frameType) => {
    expect(parseVideoTagHeader(hex(b0, 'aabbcc'))).toMatchObject({ codec, frameType, packetType: 'coded-frames', dataOffset: 1 });
  });

  it('counts a generated key frame (type 4) as a key frame', () => {
    expect(parseVideoTagHeader(hex('47 01 000000')).keyframe).toBe(true);
  });

  it('reads a command frame (type 5) as a one-byte command with no video data', () => {
    expect(parseVideoTagHeader(hex('57 01'))).toMatchObject({ frameType: 5, keyframe: false, packetType: 'other', command: 1, dataOffset: 2 });
  });

  it('fails with ProtocolError on an empty tag or a truncated AVC header', () => {
    expect(() => parseVideoTagHeader(hex(''))).toThrow(ProtocolError);
    expect(() => parseVideoTagHeader(hex('17 00 00'))).toThrow(ProtocolError);
    expect(() => parseVideoTagHeader(hex('57'))).toThrow(ProtocolError);
  });
});

describe('parseVideoTagHeader, Enhanced RTMP ExVideoTagHeader', () => {
  it('reads an hvc1 SequenceStart whose body is a parseable HEVCDecoderConfigurationRecord', () => {
    // 90: IsExHeader | key frame | SequenceStart; 68766331: 'hvc1'
    const tag = Buffer.concat([hex('90 68766331'), HEVC_RECORD_720P]);
    const h = parseVideoTagHeader(tag);
    expect(h).toEqual({
      codec: 'hevc',
      enhanced: true,
      fourcc: 'hvc1',
      frameType: 1,
      keyframe: true,
      packetType: 'sequence-start',
      dataOffset: 5,
      compositionTime: 0,
    });
    expect(parseHevcDecoderConfig(tag.subarray(h.dataOffset)).width).toBe(1280);
  });

  it('reads the SI24 composition time of hvc1/avc1 CodedFrames', () => {
    expect(parseVideoTagHeader(hex('91 68766331 000021 0000'))).toMatchObject({ packetType: 'coded-frames', compositionTime: 33, dataOffset: 8 });
    expect(parseVideoTagHeader(hex('a1 61766331 fffffe'))).toMatchObject({ codec: 'avc', frameType: 2, compositionTime: -2, dataOffset: 8 });
  });

  it('reads CodedFramesX as coded frames without a composition time field', () => {
    expect(parseVideoTagHeader(hex('a3 61766331 0000'))).toMatchObject({ codec: 'avc', packetType: 'coded-frames', compositionTime: 0, dataOffset: 5 });
  });

  it('reads av01 and vp09 CodedFrames without a composition time field', () => {
    expect(parseVideoTagHeader(hex('91 61763031 12000a'))).toMatchObject({ codec: 'av1', dataOffset: 5, compositionTime: 0 });
    expect(parseVideoTagHeader(hex('a1 76703039 82'))).toMatchObject({ codec: 'vp9', keyframe: false, dataOffset: 5 });
  });

  it('reads vp08 SequenceEnd, av01 MPEG2TSSequenceStart and Metadata packet types', () => {
    expect(parseVideoTagHeader(hex('92 76703038'))).toMatchObject({ codec: 'vp8', packetType: 'sequence-end' });
    expect(parseVideoTagHeader(hex('95 61763031 80'))).toMatchObject({ codec: 'av1', packetType: 'mpeg2ts-sequence-start' });
    // Metadata ignores the frame type, so even frame type 1 is not a key frame.
    expect(parseVideoTagHeader(hex('94 68766331 02000963'))).toMatchObject({ packetType: 'metadata', keyframe: false, dataOffset: 5 });
  });

  it('reads a command frame without a FourCC', () => {
    // d0: IsExHeader | frame type 5 | packet type 0; 00: StartSeek
    expect(parseVideoTagHeader(hex('d0 00'))).toMatchObject({ enhanced: true, fourcc: null, codec: 'unknown', packetType: 'other', command: 0, dataOffset: 2 });
  });

  it('skips a ModEx TimestampOffsetNano prefix to reach the real packet type', () => {
    // 97: key | ModEx; 02: size-1 → 3 bytes; 0003e8: 1000 ns; 01: ModExType 0 | CodedFrames; avc1; cts 0
    expect(parseVideoTagHeader(hex('97 02 0003e8 01 61766331 000000 00'))).toMatchObject({
      codec: 'avc',
      packetType: 'coded-frames',
      keyframe: true,
      dataOffset: 13,
    });
  });

  it('reads the 16-bit ModEx size escape (UI8 255 → UI16 + 1)', () => {
    const tag = Buffer.concat([hex('97 ff 0100'), Buffer.alloc(257), hex('03 61766331')]);
    expect(parseVideoTagHeader(tag)).toMatchObject({ codec: 'avc', packetType: 'coded-frames', dataOffset: 266 });
  });

  it('reads a one-track multitrack message: shared FourCC, track id, then the avc1 composition time', () => {
    // 96: key | Multitrack; 01: OneTrack | CodedFrames; avc1; track 0; cts 0
    expect(parseVideoTagHeader(hex('96 01 61766331 00 000000 00'))).toMatchObject({
      codec: 'avc',
      fourcc: 'avc1',
      packetType: 'multitrack',
      multitrackType: 0,
      trackPacketType: 'coded-frames',
      trackId: 0,
      dataOffset: 10,
    });
  });

  it('reads a many-tracks multitrack sequence start with a UI24 track size', () => {
    expect(parseVideoTagHeader(hex('96 10 68766331 02 000017'))).toMatchObject({
      codec: 'hevc',
      multitrackType: 1,
      trackPacketType: 'sequence-start',
      trackId: 2,
      dataOffset: 10,
    });
  });

  it('reads the first track codec of a many-tracks-many-codecs message', () => {
    expect(parseVideoTagHeader(hex('96 21 61763031 00 000005 1200'))).toMatchObject({ codec: 'av1', multitrackType: 2, dataOffset: 10 });
  });

  it('reports a reserved multitrack type without failing', () => {
    expect(parseVideoTagHeader(hex('96 31'))).toMatchObject({ packetType: 'multitrack', multitrackType: 3, dataOffset: 2 });
  });

  it('keeps an unknown FourCC and reports reserved packet types as "other"', () => {
    expect(parseVideoTagHeader(hex('91 78797a31'))).toMatchObject({ codec: 'unknown', fourcc: 'xyz1', dataOffset: 5 });
    expect(parseVideoTagHeader(hex('98 61766331'))).toMatchObject({ packetType: 'other', fourcc: null, dataOffset: 1 });
  });

  it('fails with ProtocolError on a truncated FourCC, composition time or ModEx', () => {
    for (const h of ['90 6876', '91 68766331 00', '97 02 0003', '97 ff 01', '96 01 617663', 'd0']) {
      expect(() => parseVideoTagHeader(hex(h)), h).toThrow(ProtocolError);
    }
  });
});
