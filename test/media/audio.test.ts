import { describe, expect, it } from 'vitest';
import { ProtocolError } from '../../server/errors.js';
import { parseAudioTagHeader } from '../../server/media/audio.js';
import { AAC_TAG_44100, hex } from './fixtures.js';

describe('parseAudioTagHeader, legacy FLV AUDIODATA', () => {
  it('reads the ffmpeg AAC sequence header and points dataOffset at the AudioSpecificConfig', () => {
    expect(parseAudioTagHeader(AAC_TAG_44100)).toEqual({
      codec: 'aac',
      enhanced: false,
      fourcc: null,
      packetType: 'sequence-start',
      dataOffset: 2,
      soundFormat: 10,
      soundRate: 44100,
      soundSize: 16,
      stereo: true,
    });
  });

  it('reads raw AAC frames as coded frames and unknown AACPacketTypes as other', () => {
    expect(parseAudioTagHeader(hex('af 01 2110'))).toMatchObject({ packetType: 'coded-frames', dataOffset: 2 });
    expect(parseAudioTagHeader(hex('af 05'))).toMatchObject({ packetType: 'other' });
  });

  it.each([
    ['2f', 'mp3', 44100, 16, true],
    ['ee', 'mp3', 8000, 16, false], // MP3 8 kHz
    ['b6', 'speex', 16000, 16, false],
    ['52', 'nellymoser', 8000, 16, false],
    ['42', 'nellymoser', 16000, 16, false],
    ['69', 'nellymoser', 22050, 8, true],
    ['72', 'g711a', 8000, 16, false],
    ['82', 'g711u', 8000, 16, false],
    ['3e', 'pcm', 44100, 16, false],
    ['01', 'pcm', 5512.5, 8, true],
    ['1a', 'unknown', 22050, 16, false], // ADPCM
  ])('reads SoundFormat byte %s as %s at %d Hz, %d-bit, stereo %s', (b0, codec, soundRate, soundSize, stereo) => {
    expect(parseAudioTagHeader(hex(b0, 'fffb'))).toMatchObject({ codec, soundRate, soundSize, stereo, packetType: 'coded-frames', dataOffset: 1 });
  });

  it('fails with ProtocolError on an empty tag or AAC without AACPacketType', () => {
    expect(() => parseAudioTagHeader(hex(''))).toThrow(ProtocolError);
    expect(() => parseAudioTagHeader(hex('af'))).toThrow(ProtocolError);
  });
});

describe('parseAudioTagHeader, Enhanced RTMP ExAudioTagHeader', () => {
  it('reads an Opus SequenceStart whose body is the OpusHead', () => {
    expect(parseAudioTagHeader(hex('90 4f707573 4f70757348656164'))).toEqual({
      codec: 'opus',
      enhanced: true,
      fourcc: 'Opus',
      packetType: 'sequence-start',
      dataOffset: 5,
    });
  });

  it.each([
    ['91 6d703461', 'aac', 'mp4a', 'coded-frames'],
    ['92 664c6143', 'flac', 'fLaC', 'sequence-end'],
    ['94 61632d33', 'ac3', 'ac-3', 'multichannel-config'],
    ['91 65632d33', 'eac3', 'ec-3', 'coded-frames'],
    ['91 2e6d7033', 'mp3', '.mp3', 'coded-frames'],
    ['91 61626364', 'unknown', 'abcd', 'coded-frames'],
  ])('reads %s as %s (%s) %s', (h, codec, fourcc, packetType) => {
    expect(parseAudioTagHeader(hex(h, '00'))).toMatchObject({ codec, fourcc, packetType, dataOffset: 5 });
  });

  it('reads a one-track multitrack message', () => {
    expect(parseAudioTagHeader(hex('95 01 4f707573 00 fc'))).toMatchObject({
      codec: 'opus',
      packetType: 'multitrack',
      multitrackType: 0,
      trackPacketType: 'coded-frames',
      trackId: 0,
      dataOffset: 7,
    });
  });

  it('reads the first track of a many-tracks-many-codecs message, skipping its UI24 size', () => {
    expect(parseAudioTagHeader(hex('95 20 6d703461 01 000002 1190'))).toMatchObject({
      codec: 'aac',
      multitrackType: 2,
      trackPacketType: 'sequence-start',
      trackId: 1,
      dataOffset: 10,
    });
  });

  it('skips ModEx prefixes, including chained ones', () => {
    // ModEx (3 bytes) → ModEx (1 byte) → CodedFrames, Opus
    expect(parseAudioTagHeader(hex('97 02 000064 07 00 aa 01 4f707573'))).toMatchObject({ codec: 'opus', packetType: 'coded-frames', dataOffset: 13 });
  });

  it('reports reserved packet types as "other" without reading a FourCC', () => {
    expect(parseAudioTagHeader(hex('93 4f707573'))).toMatchObject({ packetType: 'other', fourcc: null, dataOffset: 1 });
  });

  it('fails with ProtocolError on truncated headers', () => {
    for (const h of ['90 4f70', '95 01 4f70', '95 11 4f707573 00 0000', '97 02 00', '97']) {
      expect(() => parseAudioTagHeader(hex(h)), h).toThrow(ProtocolError);
    }
  });
});
