// What one live connection asks of mpegts.js, and the page's options checked and completed.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { liveSettings } from '../../player/live-options.js';
import { liveFlvUnsupported, liveSource } from '../../player/live-source.js';
import { LIVE_DEFAULTS, LOW_LATENCY_CONFIG, type LivePlayerOptions, type PlayerEnvironment } from '../../player/live-types.js';
import { FakeMpegts, FakeVideo, restoreBrowser, stubBrowser } from './fakes.js';

describe('liveSource', () => {
  it('asks for a live FLV source at low latency, with the page config over the defaults', () => {
    const { source, config } = liveSource({ url: 'ws://h/live/a.flv', rewind: 0, config: { stashInitialSize: 1 }, hasAudio: false });
    expect(source).toEqual({ type: 'flv', isLive: true, url: 'ws://h/live/a.flv', cors: true, withCredentials: false, hasAudio: false });
    expect(config).toEqual({ ...LOW_LATENCY_CONFIG, stashInitialSize: 1 });
  });

  it('behind live, never chases the live edge nor speeds up, whatever the page config says', () => {
    const { config } = liveSource({ url: 'u', rewind: 30, config: { liveSync: true, liveBufferLatencyChasing: true } });
    expect(config).toMatchObject({ liveBufferLatencyChasing: false, liveBufferLatencyChasingOnPaused: false, liveSync: false });
  });
});

describe('liveFlvUnsupported', () => {
  beforeEach(() => stubBrowser());
  afterEach(restoreBrowser);

  it('says why: no MSE for H.264, or no streaming fetch for HTTP-FLV (WS-FLV still plays)', () => {
    const lib = new FakeMpegts();
    expect(liveFlvUnsupported(lib, 'http')).toBeNull();
    const noFetch = new FakeMpegts();
    noFetch.features = { msePlayback: true, networkStreamIO: false };
    expect(liveFlvUnsupported(noFetch, 'http')).toMatch(/cannot stream HTTP-FLV/);
    expect(liveFlvUnsupported(noFetch, 'ws')).toBeNull();
    const noMse = new FakeMpegts();
    noMse.features = { msePlayback: false, networkStreamIO: true };
    expect(liveFlvUnsupported(noMse, 'ws')).toMatch(/no Media Source Extensions/);
  });
});

describe('liveSettings', () => {
  const env = { defaultBase: 'http://127.0.0.1:1/' } as PlayerEnvironment;
  const video = new FakeVideo() as unknown as HTMLVideoElement;

  it('completes the tuning from LIVE_DEFAULTS and the base from the environment', () => {
    const s = liveSettings(video, { stream: 'live/a', stallTimeoutMs: 1234 } as LivePlayerOptions, env);
    expect(s.tuning).toEqual({ ...LIVE_DEFAULTS, stallTimeoutMs: 1234 });
    expect(s).toMatchObject({ stream: 'live/a', base: 'http://127.0.0.1:1/' });
  });

  it('throws at once on a wrong element or a stream name that is not APP/KEY', () => {
    expect(() => liveSettings({} as HTMLVideoElement, { stream: 'live/a' } as LivePlayerOptions, env)).toThrow(/<video> element/);
    expect(() => liveSettings(video, { stream: 'nokey' } as LivePlayerOptions, env)).toThrow(/APP\/KEY/);
  });
});
