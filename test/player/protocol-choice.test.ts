// Issue 14: the page chooses its protocol from the browser's capabilities.
import { describe, expect, it } from 'vitest';
import { CANNOT_PLAY, chooseProtocol, detectCapabilities, normalizeRequestedProto, type PlaybackCapabilities } from '../../player/protocol-choice.js';
import { normalizeProto } from '../../player/urls.js';

const caps = (mse: boolean, managedMediaSource: boolean, nativeHls: boolean): PlaybackCapabilities => ({ mse, managedMediaSource, nativeHls });

describe('chooseProtocol', () => {
  it('auto: WS-FLV with MSE or ManagedMediaSource, native HLS without either, else a clear refusal', () => {
    expect(chooseProtocol('auto', caps(true, false, false))).toEqual({ proto: 'ws', engine: 'mpegts.js' });
    expect(chooseProtocol('auto', caps(false, true, true))).toEqual({ proto: 'ws', engine: 'mpegts.js' });
    expect(chooseProtocol('auto', caps(false, false, true))).toEqual({ proto: 'hls', engine: 'native' });
    expect(chooseProtocol('auto', caps(false, false, false))).toEqual({ proto: null, reason: CANNOT_PLAY });
  });

  it('hls: hls.js where MSE exists (even with native HLS), native HLS otherwise', () => {
    expect(chooseProtocol('hls', caps(true, false, true))).toEqual({ proto: 'hls', engine: 'hls.js' });
    expect(chooseProtocol('hls', caps(false, true, false))).toEqual({ proto: 'hls', engine: 'hls.js' });
    expect(chooseProtocol('hls', caps(false, false, true))).toEqual({ proto: 'hls', engine: 'native' });
    expect(chooseProtocol('hls', caps(false, false, false)).proto).toBeNull();
  });

  it('ws and http stay mpegts.js whatever the browser has', () => {
    for (const c of [caps(true, false, false), caps(false, false, true), caps(false, false, false)]) {
      expect(chooseProtocol('ws', c)).toEqual({ proto: 'ws', engine: 'mpegts.js' });
      expect(chooseProtocol('http', c)).toEqual({ proto: 'http', engine: 'mpegts.js' });
    }
  });
});

describe('normalizeRequestedProto', () => {
  it('knows auto and the HLS spellings on top of the FLV ones', () => {
    expect(['auto', 'AUTO', 'hls', 'LL-HLS', 'm3u8', 'ws', 'wss', 'http-flv', '', 'rtmp', null].map((p) => normalizeRequestedProto(p, normalizeProto)))
      .toEqual(['auto', 'auto', 'hls', 'hls', 'hls', 'ws', 'ws', 'http', null, null, null]);
  });
});

describe('detectCapabilities', () => {
  const video = (answer: CanPlayTypeResult) => ({
    canPlayType: (t: string): CanPlayTypeResult => (t === 'application/vnd.apple.mpegurl' ? answer : ''),
  });
  const source = (ok: boolean) => ({ isTypeSupported: () => ok });

  it('reads MediaSource, ManagedMediaSource (with H.264) and native HLS', () => {
    expect(detectCapabilities({ MediaSource: source(true) }, video(''))).toEqual(caps(true, false, false));
    expect(detectCapabilities({ ManagedMediaSource: source(true) }, video('maybe'))).toEqual(caps(false, true, true));
    expect(detectCapabilities({ MediaSource: source(false) }, video('probably'))).toEqual(caps(false, false, true));
    expect(detectCapabilities({}, { canPlayType: () => { throw new Error('odd'); } })).toEqual(caps(false, false, false));
  });
});
