// The live player against a fake mpegts.js and a fake video element: each test plays the
// browser's part and checks what the player shows and does.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createLivePlayer } from '../../player/live-player.js';
import type { LivePlayer, LivePlayerOptions, LiveStatus } from '../../player/live-types.js';
import { FakeMpegts, FakeTimeRanges, FakeVideo, notAllowed, restoreBrowser, stubBrowser, type BrowserStubs } from './fakes.js';

let browser: BrowserStubs;
let mpegts: FakeMpegts;
let video: FakeVideo;
let statuses: LiveStatus[];
const players: LivePlayer[] = [];

function start(opts: Partial<LivePlayerOptions> = {}): LivePlayer {
  const p = createLivePlayer(video.asElement(), { stream: 'live/cam1', onStatus: (s) => statuses.push(s), ...opts }, {
    defaultBase: 'http://gw.test/',
    loadMpegts: async () => mpegts,
  });
  players.push(p);
  return p;
}

const states = () => statuses.map((s) => s.state);

/** Let promises and timers run for `ms` of fake time. */
const run = (ms = 0) => vi.advanceTimersByTimeAsync(ms);

/** Start a player and bring it to 'playing' with a picture and a growing buffer. */
async function playing(opts: Partial<LivePlayerOptions> = {}): Promise<LivePlayer> {
  const p = start(opts);
  await run();
  expect(p.state).toBe('playing');
  video.buffered = new FakeTimeRanges([[0, 0.5]]);
  return p;
}

beforeEach(() => {
  browser = stubBrowser();
  mpegts = new FakeMpegts();
  video = new FakeVideo();
  statuses = [];
});

afterEach(() => {
  for (const p of players.splice(0)) p.destroy();
  restoreBrowser();
});

describe('the live player with a fake mpegts.js', () => {
  it('loads mpegts.js, connects with the low-latency settings and plays', async () => {
    const p = start({ proto: 'http', params: { exp: '1', sig: 'x' } });
    expect(p.state).toBe('loading');
    await run();
    expect(states()).toEqual(['loading', 'connecting', 'playing']);
    const mp = mpegts.last;
    expect(mp.source).toMatchObject({ type: 'flv', isLive: true, url: 'http://gw.test/live/cam1.flv?exp=1&sig=x' });
    expect(mp.config).toMatchObject({ liveBufferLatencyChasing: true, liveSync: true, enableStashBuffer: false });
    expect(mp.attached).toBe(video);
    expect(mp.loaded).toBe(true);
    expect(video.playsInline && video.autoplay).toBe(true);
    expect(statuses.at(-1)!.message).toBe('Playing live/cam1 (HTTP-FLV)');
  });

  it('turns live-edge chasing off when playing behind live, and puts the offset on the URL', async () => {
    const p = await playing({ rewind: 30 });
    expect(mpegts.last.source.url).toBe('ws://gw.test/live/cam1.flv?rewind=30');
    expect(mpegts.last.config).toMatchObject({ liveBufferLatencyChasing: false, liveSync: false });
    p.goLive();
    await run();
    expect(mpegts.last.source.url).toBe('ws://gw.test/live/cam1.flv');
    expect(mpegts.players[0]!.destroyed).toBe(true);
  });

  it('starts muted, and says so, when the browser refuses to autoplay with sound', async () => {
    video.onPlay = async (v) => {
      if (!v.muted) throw notAllowed();
      v.startPlaying();
    };
    const p = start();
    await run();
    expect(p.state).toBe('playing');
    expect(video.muted).toBe(true);
    expect(statuses.at(-1)).toMatchObject({ state: 'playing', soundMuted: true });
  });

  it('shows buffering only for a wait longer than a live-edge seek', async () => {
    const p = await playing();
    video.readyState = 1;
    video.fire('waiting');
    await run(200);
    video.readyState = 4;
    video.fire('playing'); // a seek's short wait is over
    await run(1000);
    expect(states()).not.toContain('buffering');
    video.readyState = 1;
    video.fire('waiting');
    await run(400);
    expect(p.state).toBe('buffering');
    video.readyState = 4;
    video.fire('playing');
    expect(p.state).toBe('playing');
  });

  describe('a pause the page did not ask for', () => {
    it('is shown and recovered: the player plays again', async () => {
      await playing();
      const before = video.playCalls;
      video.pause(); // the engine pauses the element by itself
      const shown = statuses.find((s) => s.state === 'paused');
      expect(shown!.message).toMatch(/browser paused the video/);
      await run();
      expect(video.playCalls).toBe(before + 1);
      expect(video.paused).toBe(false);
      expect(states().slice(-2)).toEqual(['paused', 'playing']);
    });

    it('is played muted when the browser refuses sound (NotAllowedError), and the viewer is told', async () => {
      const p = await playing();
      video.onPlay = async (v) => {
        if (!v.muted) throw notAllowed();
        v.startPlaying();
      };
      video.pause();
      await run();
      expect(video.muted).toBe(true);
      expect(p.state).toBe('playing');
      const last = statuses.at(-1)!;
      expect(last.soundMuted).toBe(true);
      expect(last.message).toMatch(/muted the sound/);
      expect(p.stats().soundMuted).toBe(true);
      video.muted = false; // the viewer unmutes
      video.fire('volumechange');
      expect(statuses.at(-1)!.message).toBe('Playing live/cam1 (WS-FLV)');
    });

    it('waits for a click when even muted playback is refused', async () => {
      const p = await playing();
      video.muted = true;
      video.onPlay = async () => { throw notAllowed(); };
      video.pause();
      await run();
      expect(p.state).toBe('blocked');
      video.onPlay = async (v) => v.startPlaying();
      video.fire('click');
      await run();
      expect(p.state).toBe('playing');
    });

    it('is reconnected by the watchdog when the picture stays paused although media arrives', async () => {
      const p = await playing();
      video.onPlay = () => new Promise(() => undefined); // play() never settles
      video.pause();
      for (let t = 0; t < 9000; t += 500) {
        video.buffered = new FakeTimeRanges([[0, 1 + t / 1000]]);
        await run(500);
      }
      expect(statuses.find((s) => s.state === 'reconnecting')?.detail).toMatch(/picture stood still for 8 s/);
      expect(mpegts.players[0]!.destroyed).toBe(true);
      expect(p.state).not.toBe('paused');
    });

    it('is told apart from a pause the page asks for, which is left alone and not watched', async () => {
      const p = await playing();
      const calls = video.playCalls;
      p.pause();
      await run(20_000); // well past the watchdog's limit, with the picture standing still
      expect(p.state).toBe('playing');
      expect(video.paused).toBe(true);
      expect(video.playCalls).toBe(calls);
      expect(mpegts.players).toHaveLength(1);
      p.play();
      await run();
      expect(video.paused).toBe(false);
    });

    it('is left alone in a background tab, where browsers pause video on purpose', async () => {
      const p = await playing();
      browser.document.hidden = true;
      video.pause();
      await run();
      expect(p.state).toBe('playing');
    });
  });

  describe('media errors', () => {
    it('reconnect after a transient MediaError 4 when the codecs are supported', async () => {
      const p = await playing();
      mpegts.last.emit('media_info', { videoCodec: 'avc1.64001f', audioCodec: 'mp4a.40.2', hasVideo: true, hasAudio: true });
      await run();
      video.error = { code: 4, message: 'Failed to push buffer' };
      video.fire('error');
      expect(p.state).toBe('reconnecting');
      await run(600);
      expect(mpegts.players).toHaveLength(2);
      expect(mpegts.players[0]!.destroyed).toBe(true);
      expect(p.state).toBe('playing');
      expect(states()).not.toContain('unsupported');
    });

    it('stop the old connection at once, since the media error closed its MediaSource, and recover once', async () => {
      const p = await playing();
      mpegts.last.emit('media_info', { videoCodec: 'avc1.64001f', audioCodec: 'mp4a.40.2', hasVideo: true, hasAudio: true });
      await run();
      const old = mpegts.last;
      old.mediaSourceClosed = true;
      video.error = { code: 3, message: 'Failed to push buffer' };
      video.fire('error');
      expect(old.loaded).toBe(false);
      expect(old.destroyed).toBe(true);
      old.segmentArrives(); // still on the wire when the error came
      old.emit('error', 'MediaError', 'MediaMSEError', { msg: 'late' });
      await run(600);
      expect(old.deadAppends).toBe(0);
      expect(mpegts.players).toHaveLength(2);
      expect(p.stats().reconnects).toBe(1);
      expect(p.state).toBe('playing');
    });

    it('stop the connection kept for its last picture when a media error comes while already reconnecting', async () => {
      const p = await playing();
      const old = mpegts.last;
      old.emit('loading_complete');
      await run();
      expect(p.state).not.toBe('playing');
      expect(old.loaded).toBe(true); // kept (quiet) while the player checks whether the stream is live
      old.mediaSourceClosed = true;
      video.error = { code: 3, message: 'Media failed to decode' };
      video.fire('error');
      expect(old.destroyed).toBe(true);
      old.segmentArrives();
      expect(old.deadAppends).toBe(0);
      await run(3000);
      expect(mpegts.players.length).toBeGreaterThan(1);
    });

    it('after a media error closed the media source, its buffers\' late updateend never reaches the closed mpegts.js', async () => {
      const p = await playing();
      const old = mpegts.last;
      const buffer = old.addSourceBuffer();
      buffer.dispatchEvent(new Event('updateend'));
      expect(old.updateEnds).toBe(1); // while the connection lives, mpegts.js hears its buffers
      video.error = { code: 3, message: 'Media failed to decode' };
      video.fire('error');
      expect(old.destroyed).toBe(true);
      buffer.dispatchEvent(new Event('updateend')); // the append the close aborted
      expect(old.lateUpdateEnds).toBe(0);
      expect(p.state).toBe('reconnecting');
    });

    it('say "cannot decode" when the codecs really are unsupported', async () => {
      const p = await playing();
      browser.supported = (mime) => !/hvc1/.test(mime);
      mpegts.last.emit('media_info', { videoCodec: 'hvc1.1.6.L93.B0', hasVideo: true, hasAudio: false });
      await run();
      expect(p.state).toBe('unsupported');
      expect(statuses.at(-1)!.message).toMatch(/cannot decode H\.265 video/);
    });

    it('reconnect without audio when only the audio cannot be decoded', async () => {
      await playing();
      browser.supported = (mime) => !/opus/.test(mime);
      mpegts.last.emit('media_info', { videoCodec: 'avc1.64001f', audioCodec: 'opus', hasVideo: true, hasAudio: true });
      await run();
      expect(mpegts.players).toHaveLength(2);
      expect(mpegts.last.source.hasAudio).toBe(false);
    });
  });

  describe('network and publisher', () => {
    it('retries with backoff after a network error while the stream is listed', async () => {
      const p = await playing();
      mpegts.last.emit('error', 'NetworkError', 'Exception', { msg: 'socket closed' });
      await run();
      expect(p.state).toBe('reconnecting');
      expect(statuses.at(-1)!.retryInMs).toBe(500);
      // (api/time requests are the latency clock's, latency-clock.test.ts)
      expect(browser.fetchCalls.filter((u) => !u.includes('/api/time'))).toEqual(['http://gw.test/api/streams']);
      await run(500);
      expect(mpegts.players).toHaveLength(2);
      expect(p.stats().reconnects).toBe(1);
    });

    it('waits offline when the publisher stopped, and plays again once the stream is listed', async () => {
      const p = await playing();
      browser.listed = [];
      mpegts.last.emit('loading_complete');
      await run();
      expect(p.state).toBe('offline');
      expect(statuses.at(-1)!.message).toMatch(/publisher stopped/);
      await run(2000);
      expect(mpegts.players).toHaveLength(1); // still not listed: keeps polling
      browser.listed = ['live/cam1'];
      await run(2000);
      expect(mpegts.players).toHaveLength(2);
      expect(p.state).toBe('playing');
    });

    it('treats 404 as "not live yet" and 403 as an access problem', async () => {
      const p = start();
      await run();
      mpegts.last.emit('error', 'NetworkError', 'HttpStatusCodeInvalid', { code: 404 });
      await run();
      expect(p.state).toBe('offline');
      expect(statuses.at(-1)!.message).toMatch(/not live right now/);
      p.reconnect();
      await run();
      mpegts.last.emit('error', 'NetworkError', 'HttpStatusCodeInvalid', { code: 403 });
      await run();
      expect(p.state).toBe('forbidden');
    });

    it('retries without asking api/streams when checkApi is off', async () => {
      const p = await playing({ checkApi: false });
      mpegts.last.emit('loading_complete');
      await run();
      expect(p.state).toBe('reconnecting');
      expect(statuses.at(-1)!.message).toBe('Connection closed — reconnecting in 0.5 s…');
      await run(500);
      expect(browser.fetchCalls.filter((u) => u.endsWith('/api/streams'))).toEqual([]);
      expect(mpegts.players).toHaveLength(2);
    });

    it('ignores events of a connection it replaced', async () => {
      const p = await playing();
      const old = mpegts.last;
      p.reconnect();
      await run();
      old.emit('error', 'NetworkError', 'Exception', { msg: 'late' });
      await run();
      expect(p.state).toBe('playing');
    });
  });

  it('keeps counting decoded frames across the engine resetting its counters', async () => {
    const p = await playing();
    video.quality = { totalVideoFrames: 300, droppedVideoFrames: 2 };
    expect(p.stats().decodedFrames).toBe(300);
    video.quality = { totalVideoFrames: 10, droppedVideoFrames: 0 }; // WebKit after a seek
    expect(p.stats()).toMatchObject({ decodedFrames: 310, droppedFrames: 2 });
  });

  it('measures the frame rate after the start-up burst, across counter resets', async () => {
    const p = await playing();
    for (let t = 0; t < 8000; t += 500) {
      video.quality.totalVideoFrames += 15; // 30 fps
      if (t === 4000) video.quality.totalVideoFrames = 0; // a reset mid-way
      video.currentTime += 0.5;
      video.buffered = new FakeTimeRanges([[0, video.currentTime + 0.4]]);
      await run(500);
    }
    expect(p.stats().fps).toBeGreaterThan(25);
  });

  it('destroy() stops everything and removes its listeners', async () => {
    const p = await playing();
    p.destroy();
    expect(p.state).toBe('destroyed');
    expect(mpegts.last.destroyed).toBe(true);
    const count = statuses.length;
    video.pause();
    video.fire('playing');
    await run(20_000);
    expect(statuses.length).toBe(count);
  });
});

describe('the iPhone path (ManagedMediaSource only)', () => {
  beforeEach(() => {
    restoreBrowser();
    browser = stubBrowser({ managedOnly: true });
  });

  it('plays through ManagedMediaSource: inline, no MSE worker, remote playback disabled', async () => {
    const p = start();
    await run();
    expect(p.state).toBe('playing');
    expect(video.disableRemotePlayback).toBe(true);
    expect(video.attributes.get('playsinline')).toBe('');
    expect(mpegts.last.config).toMatchObject({ enableWorker: false, enableWorkerForMSE: false });
  });

  it('leaves old media to the managed source to evict (mpegts.js cleanup off), elsewhere keeps the cleanup', async () => {
    start();
    await run();
    expect(mpegts.last.config.autoCleanupSourceBuffer).toBe(false);
    restoreBrowser();
    browser = stubBrowser();
    start();
    await run();
    expect(mpegts.last.config.autoCleanupSourceBuffer).toBe(true);
  });

  it('after a media error closed the managed source, its buffers\' late updateend never reaches the closed mpegts.js', async () => {
    const p = start();
    await run();
    expect(p.state).toBe('playing');
    const old = mpegts.last;
    const buffer = old.addSourceBuffer();
    buffer.dispatchEvent(new Event('updateend'));
    expect(old.updateEnds).toBe(1); // while the connection lives, mpegts.js hears its buffers
    old.mediaSourceClosed = true;
    video.error = { code: 3, message: 'Media failed to decode' };
    video.fire('error');
    expect(old.destroyed).toBe(true);
    buffer.dispatchEvent(new Event('updateend')); // the append the close aborted
    expect(old.lateUpdateEnds).toBe(0);
  });

  it('says unsupported only when there is no media source at all', async () => {
    vi.stubGlobal('ManagedMediaSource', undefined);
    const p = start();
    await run();
    expect(p.state).toBe('unsupported');
  });
});
