import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { checkSupport, describeCodec, judgeStreamCodecs, mseClass, onlyManagedMediaSource } from '../../player/codecs.js';

let accepts: (mime: string) => boolean;

beforeEach(() => {
  accepts = () => true;
  vi.stubGlobal('MediaSource', { isTypeSupported: (m: string) => accepts(m) });
});
afterEach(() => {
  vi.unstubAllGlobals();
});

describe('checkSupport (an api/streams entry)', () => {
  it('accepts H.264 + AAC where MediaSource takes them, asking for the profile and level the stream has', () => {
    const asked: string[] = [];
    accepts = (m) => { asked.push(m); return true; };
    expect(checkSupport({ video: { codec: 'H264', profile: 'High', level: 3.1 }, audio: { codec: 'AAC', profile: 'LC' } }))
      .toMatchObject({ ok: true, videoOk: true, audioOk: true, mse: true, message: '' });
    expect(asked).toEqual(['video/mp4; codecs="avc1.64001f"', 'audio/mp4; codecs="mp4a.40.2"']);
  });

  it('plays the picture without sound when only the audio cannot be decoded', () => {
    accepts = (m) => !/opus/.test(m);
    const r = checkSupport({ video: { codec: 'H264' }, audio: { codec: 'Opus' } });
    expect(r).toMatchObject({ ok: true, audioOk: false, hasAudio: false });
    expect(r.message).toBe('This browser cannot decode Opus audio. Playing the picture without sound.');
  });

  it('refuses what the player cannot demux, and H.265 where the browser has no decoder', () => {
    expect(checkSupport({ video: { codec: 'VP6' } })).toMatchObject({ ok: false, videoOk: false });
    accepts = (m) => !/hvc1/.test(m);
    expect(checkSupport({ video: { codec: 'H.265' } }).message).toMatch(/^This browser cannot decode H\.265\/HEVC video\. H\.265 needs hardware/);
  });

  it('finds ManagedMediaSource where MediaSource is missing (iPhone), and says so when there is neither', () => {
    vi.stubGlobal('MediaSource', undefined);
    vi.stubGlobal('ManagedMediaSource', class { static isTypeSupported = () => true; });
    expect(onlyManagedMediaSource()).toBe(true);
    expect(mseClass()).not.toBeNull();
    expect(checkSupport({ video: { codec: 'H264' } }).ok).toBe(true);
    vi.stubGlobal('ManagedMediaSource', undefined);
    expect(checkSupport({}).mse).toBe(false);
  });
});

describe('judgeStreamCodecs (what mpegts.js found in the stream)', () => {
  it('is ok when MediaSource takes both codecs', () => {
    expect(judgeStreamCodecs({ videoCodec: 'avc1.64001f', audioCodec: 'mp4a.40.2' }).verdict).toBe('ok');
  });

  it('drops the audio when only the audio is refused', () => {
    accepts = (m) => !/mp4a/.test(m);
    expect(judgeStreamCodecs({ videoCodec: 'avc1.64001f', audioCodec: 'mp4a.40.2' }))
      .toEqual({ verdict: 'drop-audio', message: 'This browser cannot decode AAC-LC audio (mp4a.40.2).' });
  });

  it('is unsupported when the video is refused, or the audio of an audio-only stream', () => {
    accepts = (m) => !/hvc1/.test(m);
    expect(judgeStreamCodecs({ videoCodec: 'hvc1.1.6.L93.B0', audioCodec: 'mp4a.40.2' }))
      .toEqual({ verdict: 'unsupported', message: 'This browser cannot decode H.265 video (hvc1.1.6.L93.B0).' });
    accepts = (m) => !/opus/.test(m);
    expect(judgeStreamCodecs({ hasVideo: false, audioCodec: 'opus' }).verdict).toBe('unsupported');
  });

  it('asks for MP3 either way', () => {
    accepts = (m) => m === 'audio/mp4; codecs="mp3"';
    expect(judgeStreamCodecs({ hasVideo: false, audioCodec: 'mp3' }).verdict).toBe('ok');
  });
});

describe('describeCodec', () => {
  it.each([
    ['avc1.64001f', 'H.264 High L3.1'], ['avc1.42e01e', 'H.264 Baseline L3'], ['hvc1.1.6.L93.B0', 'H.265'],
    ['mp4a.40.2', 'AAC-LC'], ['mp4a.40.5', 'HE-AAC'], ['mp4a.40.29', 'HE-AACv2'], ['mp3', 'MP3'], ['opus', 'Opus'],
    ['av01.0.08M.08', 'AV1'], ['weird', 'weird'], ['', ''],
  ])('%s -> %s', (codec, name) => {
    expect(describeCodec(codec)).toBe(name);
  });
});
