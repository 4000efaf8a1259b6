import { describe, expect, it } from 'vitest';
import { classifyAudio, classifyVideo } from '../../server/hub/track-info.js';
import { AAC_SEQ_44100, AC3_FRAME_48K_51, AV1_RECORD_320X240, VP9_KEYFRAME_320X180, VPCC_320X180, AVC_SEQ_320X240, HEVC_RECORD_720P, avcInter, avcKey, hex } from './fixtures.js';

const fourcc = (s: string): string => Buffer.from(s, 'latin1').toString('hex');

describe('classifyVideo, legacy FLV video', () => {
  it('treats an AVC sequence header as config with the SPS dimensions, not as a coded keyframe', () => {
    const c = classifyVideo(AVC_SEQ_320X240);
    expect(c.coded).toBe(false);
    expect(c.keyframe).toBe(false);
    expect(c.config).toMatchObject({ codec: 'H.264', width: 320, height: 240 });
  });

  it('still treats an AVC sequence header whose record does not parse as config, without dimensions', () => {
    const c = classifyVideo(hex('17 00 000000', '02')); // configurationVersion 2: rejected by the parser
    expect(c).toEqual({ coded: false, keyframe: false, config: { codec: 'H.264', profile: '', level: 0, width: 0, height: 0 } });
  });

  it('marks an AVC IDR NALU packet as a coded keyframe and an inter NALU packet as coded only', () => {
    expect(classifyVideo(avcKey(1))).toMatchObject({ coded: true, keyframe: true });
    expect(classifyVideo(avcInter(2))).toMatchObject({ coded: true, keyframe: false });
  });

  it('marks a disposable inter frame (frame type 3) as coded but not a keyframe', () => {
    expect(classifyVideo(hex('37 01 000000 00000002 0101'))).toMatchObject({ coded: true, keyframe: false });
  });

  it('does not start a GOP on an AVC end of sequence even though its frame type is key', () => {
    expect(classifyVideo(hex('17 02 000000'))).toEqual({ coded: false, keyframe: false });
  });

  it('reads codec id 12 as HEVC: sequence header with the hvcC dimensions, key and inter frames', () => {
    const seq = classifyVideo(Buffer.concat([hex('1c 00 000000'), HEVC_RECORD_720P])); // key | codec 12, seq header
    expect(seq.coded).toBe(false);
    expect(seq.config).toMatchObject({ codec: 'H.265', width: 1280, height: 720 });
    expect(classifyVideo(hex('1c 01 000000 00000003 2601af'))).toMatchObject({ coded: true, keyframe: true }); // IDR_W_RADL
    expect(classifyVideo(hex('2c 01 000000 00000003 0201af'))).toMatchObject({ coded: true, keyframe: false });
  });

  it('counts every frame of a codec without packet types (VP6) as coded, keyframes by frame type', () => {
    expect(classifyVideo(hex('14 00 aabb'))).toEqual({ coded: true, keyframe: true, codecName: 'VP6' }); // key | VP6
    expect(classifyVideo(hex('24 00 aabb'))).toMatchObject({ coded: true, keyframe: false }); // inter | VP6
  });

  it('returns "not coded" instead of throwing for an empty or truncated body', () => {
    expect(classifyVideo(Buffer.alloc(0))).toEqual({ coded: false, keyframe: false });
    expect(classifyVideo(hex('17 01'))).toEqual({ coded: false, keyframe: false }); // cts missing
  });

  it('does not count a video command frame (frame type 5) as a coded frame', () => {
    expect(classifyVideo(hex('57 00'))).toEqual({ coded: false, keyframe: false }); // command | AVC, start-of-seek
    expect(classifyVideo(hex('d0', '01'))).toEqual({ coded: false, keyframe: false }); // IsExHeader | command | CodedFrames, end-of-seek
  });
});

describe('classifyVideo, Enhanced RTMP', () => {
  it('treats `0x90 hvc1` SequenceStart as config and parses the hvcC record after the FourCC', () => {
    const c = classifyVideo(Buffer.concat([hex('90', fourcc('hvc1')), HEVC_RECORD_720P])); // IsExHeader | key | SequenceStart
    expect(c.coded).toBe(false);
    expect(c.keyframe).toBe(false);
    expect(c.config).toMatchObject({ codec: 'H.265', width: 1280, height: 720 });
  });

  it('treats `0x90 av01` SequenceStart as config with the av1C dimensions', () => {
    const c = classifyVideo(Buffer.concat([hex('90', fourcc('av01')), AV1_RECORD_320X240]));
    expect(c.coded).toBe(false);
    expect(c.config).toMatchObject({ codec: 'AV1', width: 320, height: 240 });
  });

  it('still treats an av01 SequenceStart whose record does not parse as config', () => {
    const c = classifyVideo(hex('90', fourcc('av01'), '81 00 0c 00')); // av1C without its sequence header OBU
    expect(c.coded).toBe(false);
    expect(c.config?.codec).toBe('AV1');
  });

  it('marks `0x91 av01` CodedFrames as a coded keyframe and `0xa1 av01` as a coded inter frame', () => {
    expect(classifyVideo(hex('91', fourcc('av01'), '12 00 0a0b'))).toMatchObject({ coded: true, keyframe: true });
    expect(classifyVideo(hex('a1', fourcc('av01'), '12 00 0a0b'))).toMatchObject({ coded: true, keyframe: false }); // frame type 2
  });

  it('marks `0x93 hvc1` CodedFramesX (no composition time) as a coded keyframe', () => {
    expect(classifyVideo(hex('93', fourcc('hvc1'), '00000003 2601af'))).toMatchObject({ coded: true, keyframe: true });
  });

  it('does not take an enhanced SequenceEnd or Metadata packet as a keyframe', () => {
    expect(classifyVideo(hex('92', fourcc('hvc1')))).toEqual({ coded: false, keyframe: false });
    expect(classifyVideo(hex('94', fourcc('hvc1'), '02 0003 616263'))).toEqual({ coded: false, keyframe: false });
  });

  it('returns "not coded" for an enhanced header cut inside the FourCC', () => {
    expect(classifyVideo(hex('91 6176'))).toEqual({ coded: false, keyframe: false });
  });
});

describe('classifyVideo, Enhanced RTMP multitrack', () => {
  // 96: IsExHeader | key | Multitrack; a6: inter; then AvMultitrackType OneTrack (0) | PacketType, avc1, TrackId
  it('counts a multitrack CodedFrames message of track 0 (the default track) as a coded frame, key by its frame type', () => {
    expect(classifyVideo(hex('96', '01', fourcc('avc1'), '00', '000000', '00000002 6588'))).toEqual({ coded: true, keyframe: true, codecName: 'H.264' });
    expect(classifyVideo(hex('a6', '01', fourcc('avc1'), '00', '000000', '00000002 4188'))).toEqual({ coded: true, keyframe: false, codecName: 'H.264' });
    // CodedFramesX (3): no composition time
    expect(classifyVideo(hex('96', '03', fourcc('av01'), '00', '12000a0b'))).toEqual({ coded: true, keyframe: true, codecName: 'AV1' });
  });

  it('does not count another track\'s frames: its keyframes must not restart the GOP of track 0', () => {
    expect(classifyVideo(hex('96', '01', fourcc('avc1'), '01', '000000', '00000002 6588'))).toEqual({ coded: false, keyframe: false });
  });

  it('keeps a multitrack SequenceStart as a per-track config, and a multitrack Metadata packet as neither', () => {
    expect(classifyVideo(Buffer.concat([hex('96', '00', fourcc('avc1'), '00'), AVC_SEQ_320X240.subarray(5)]))).toMatchObject({
      coded: false, keyframe: false, trackConfig: 'video:0', defaultTrack: { codec: 'H.264', width: 320, height: 240 },
    });
    expect(classifyVideo(Buffer.concat([hex('96', '00', fourcc('avc1'), '01'), AVC_SEQ_320X240.subarray(5)]))).toEqual({ coded: false, keyframe: false, trackConfig: 'video:1' });
    expect(classifyVideo(hex('96', '04', fourcc('avc1'), '00', '02000a636f6c6f72496e666f'))).toEqual({ coded: false, keyframe: false });
  });
});

describe('classifyAudio', () => {
  it('treats an AAC sequence header as config with the AudioSpecificConfig rate and channels', () => {
    expect(classifyAudio(AAC_SEQ_44100).config).toMatchObject({ codec: 'AAC', sampleRate: 44100, channels: 2 });
  });

  it('still treats an AAC sequence header with an unparsable AudioSpecificConfig as config', () => {
    expect(classifyAudio(hex('af 00')).config?.codec).toBe('AAC'); // no ASC bytes at all
  });

  it('returns no config for raw AAC, MP3 frames and empty bodies', () => {
    expect(classifyAudio(hex('af 01 2101')).config).toBeUndefined();
    expect(classifyAudio(hex('2f fffb9000')).config).toBeUndefined(); // MP3 44k stereo
    expect(classifyAudio(Buffer.alloc(0)).config).toBeUndefined();
  });

  it('treats `0x90 Opus` SequenceStart as config and `0x91 Opus` CodedFrames as a frame', () => {
    const opusHead = hex(
      fourcc('OpusHead'),
      '01 02 3801 80bb0000 0000 00', // version 1, 2 channels, pre-skip 312, 48000 Hz, gain 0, mapping 0
    );
    expect(classifyAudio(Buffer.concat([hex('90', fourcc('Opus')), opusHead])).config?.codec).toBe('Opus');
    expect(classifyAudio(hex('91', fourcc('Opus'), 'fc ff fe')).config).toBeUndefined();
  });

  it('reads the rate and channels of E-RTMP ac-3 CodedFrames, which come without a SequenceStart, from the syncframe', () => {
    expect(classifyAudio(Buffer.concat([hex('91', fourcc('ac-3')), AC3_FRAME_48K_51])).seen).toEqual({
      codec: 'AC-3', sampleRate: 48000, channels: 6, codecString: 'ac-3',
    });
    expect(classifyAudio(hex('91', fourcc('ac-3'), '0b77')).seen).toMatchObject({ codec: 'AC-3', sampleRate: 0 }); // cut short
  });

  it('reads an ac-3 or ec-3 SequenceStart as a dac3 or dec3 body', () => {
    expect(classifyAudio(hex('90', fourcc('ac-3'), '103de0')).config).toMatchObject({ codec: 'AC-3', sampleRate: 48000, channels: 6 });
    expect(classifyAudio(hex('90', fourcc('ec-3'), '0600 60 04 00')).config).toMatchObject({ codec: 'E-AC-3', sampleRate: 44100, channels: 2 });
  });
});

describe('classifyVideo, VP9', () => {
  it('reads profile and level from a vp09 SequenceStart and the size from a vp09 keyframe', () => {
    expect(classifyVideo(Buffer.concat([hex('90', fourcc('vp09')), VPCC_320X180])).config).toMatchObject({
      codec: 'VP9', profile: '0', level: 1.1, width: 0, height: 0,
    });
    expect(classifyVideo(Buffer.concat([hex('91', fourcc('vp09')), VP9_KEYFRAME_320X180]))).toEqual({
      coded: true, keyframe: true, codecName: 'VP9', frameSize: { width: 320, height: 180 },
    });
    expect(classifyVideo(hex('a1', fourcc('vp09'), '86 0000'))).toEqual({ coded: true, keyframe: false, codecName: 'VP9' });
  });
});
