// The recording player against a fake mpegts.js: the same connection helper as the live player,
// with on-demand settings, the viewer's own pauses, and failures reported once.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createRecordingPlayer, type RecordingPlayer, type RecordingStatus } from '../../player/recording-player.js';
import { FakeMpegts, FakeVideo, restoreBrowser, stubBrowser } from './fakes.js';

const NAME = 'live/cam1/20250101-120000.flv';
let mpegts: FakeMpegts;
let video: FakeVideo;
let statuses: RecordingStatus[];
let player: RecordingPlayer | null = null;

function start(): RecordingPlayer {
  player = createRecordingPlayer(video.asElement(), { recording: NAME, params: { sig: 's' }, onStatus: (s) => statuses.push(s) }, {
    defaultBase: 'http://gw.test/',
    loadMpegts: async () => mpegts,
  });
  return player;
}

beforeEach(() => {
  stubBrowser();
  mpegts = new FakeMpegts();
  video = new FakeVideo();
  statuses = [];
});

afterEach(() => {
  player?.destroy();
  player = null;
  restoreBrowser();
});

describe('the recording player with a fake mpegts.js', () => {
  it('plays the file on demand with the native controls, and restores them on destroy()', async () => {
    const p = start();
    await vi.advanceTimersByTimeAsync(0);
    expect(mpegts.last.source).toEqual({ type: 'flv', url: `http://gw.test/recordings/${NAME}?sig=s`, isLive: false });
    expect(mpegts.last.config).toEqual({ enableWorker: false });
    expect(video.controls).toBe(true);
    expect(p.state).toBe('playing');
    p.destroy();
    expect(video.controls).toBe(false);
    expect(mpegts.last.destroyed).toBe(true);
  });

  it('shows the viewer\'s pause without fighting it', async () => {
    const p = start();
    await vi.advanceTimersByTimeAsync(0);
    const calls = video.playCalls;
    video.pause();
    await vi.advanceTimersByTimeAsync(2000);
    expect(p.state).toBe('paused');
    expect(video.playCalls).toBe(calls);
  });

  it('says a deleted file was not found, once, without retrying', async () => {
    const p = start();
    await vi.advanceTimersByTimeAsync(0);
    mpegts.last.emit('error', 'NetworkError', 'HttpStatusCodeInvalid', { code: 404 });
    await vi.advanceTimersByTimeAsync(60_000);
    expect(p.state).toBe('error');
    expect(statuses.at(-1)!.message).toBe(`Recording ${NAME} was not found. It may have been deleted.`);
    expect(mpegts.players).toHaveLength(1);
  });

  it('refuses a name that is not a recording', () => {
    expect(() => createRecordingPlayer(video.asElement(), { recording: '../x.flv' }, { defaultBase: '/', loadMpegts: async () => mpegts }))
      .toThrow(TypeError);
  });
});
