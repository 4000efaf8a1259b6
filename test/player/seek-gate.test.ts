// Seeks held until the first decoded frame on WebKit over GStreamer, against an element whose
// currentTime is an accessor of its prototype (as in a browser) and against the test fake.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { HOLD_LIMIT_MS, holdsEarlySeeks, SeekGate } from '../../player/seek-gate.js';
import { Connection } from '../../player/connection.js';
import { FakeMpegts, FakeVideo, restoreBrowser, stubBrowser } from './fakes.js';

/** currentTime on the prototype, every write recorded: what a real media element looks like to the gate. */
class AccessorVideo {
  frames = 0;
  seeks: number[] = [];
  #t = 0;
  get currentTime(): number {
    return this.#t;
  }
  set currentTime(t: number) {
    this.seeks.push(t);
    this.#t = t;
  }
  getVideoPlaybackQuality(): { totalVideoFrames: number } {
    return { totalVideoFrames: this.frames };
  }
  asElement(): HTMLVideoElement {
    return this as unknown as HTMLVideoElement;
  }
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('holdsEarlySeeks', () => {
  it('is true for WebKit on Linux (WebKitGTK, WPE) and false for Safari, Chromium, Firefox and Android', () => {
    expect(holdsEarlySeeks('Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.0 Safari/605.1.15')).toBe(true);
    expect(holdsEarlySeeks('Mozilla/5.0 (Linux; armv7l) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Safari/605.1.15 WPE')).toBe(true);
    expect(holdsEarlySeeks('Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.0 Safari/605.1.15')).toBe(false);
    expect(holdsEarlySeeks('Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1')).toBe(false);
    expect(holdsEarlySeeks('Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36')).toBe(false);
    expect(holdsEarlySeeks('Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Mobile Safari/537.36')).toBe(false);
    expect(holdsEarlySeeks('Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0')).toBe(false);
  });
});

describe('SeekGate', () => {
  it('holds seeks until the first decoded frame, then makes the latest one if it still points ahead', async () => {
    const v = new AccessorVideo();
    const gate = new SeekGate(v.asElement());
    v.asElement().currentTime = 0.4; // mpegts.js's jump to the buffer's start
    v.asElement().currentTime = 1.2; // the latency chase
    expect(v.seeks).toEqual([]);
    expect(gate.holding).toBe(true);
    expect(v.asElement().currentTime).toBe(0);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(v.seeks).toEqual([]);
    v.frames = 1;
    await vi.advanceTimersByTimeAsync(200);
    expect(v.seeks).toEqual([1.2]);
    expect(gate.holding).toBe(false);
    // the element is itself again: the own property is gone, seeks go straight through
    expect(Object.getOwnPropertyDescriptor(v, 'currentTime')).toBeUndefined();
    v.asElement().currentTime = 3;
    expect(v.seeks).toEqual([1.2, 3]);
  });

  it('drops a held seek that points behind where the first frame left the playhead', async () => {
    const v = new AccessorVideo();
    new SeekGate(v.asElement());
    v.asElement().currentTime = 0.4;
    v.frames = 1;
    v.seeks.length = 0;
    // the engine played on from the buffer's start by itself (no write through the element)
    Object.getOwnPropertyDescriptor(AccessorVideo.prototype, 'currentTime')!.set!.call(v, 0.9);
    v.seeks.length = 0;
    await vi.advanceTimersByTimeAsync(200);
    expect(v.seeks).toEqual([]);
    expect(v.asElement().currentTime).toBe(0.9);
  });

  it('lets seeks through at once after a frame was decoded', () => {
    const v = new AccessorVideo();
    v.frames = 2;
    const gate = new SeekGate(v.asElement());
    v.asElement().currentTime = 5;
    expect(v.seeks).toEqual([5]);
    expect(gate.holding).toBe(false);
  });

  it('makes a held seek after the hold limit when the element decodes nothing from where it is', async () => {
    const v = new AccessorVideo();
    new SeekGate(v.asElement());
    v.asElement().currentTime = 0.4;
    await vi.advanceTimersByTimeAsync(HOLD_LIMIT_MS - 200);
    expect(v.seeks).toEqual([]);
    await vi.advanceTimersByTimeAsync(300);
    expect(v.seeks).toEqual([0.4]);
  });

  it('on close drops what it holds, stops checking and restores the element', async () => {
    const v = new AccessorVideo();
    const gate = new SeekGate(v.asElement());
    v.asElement().currentTime = 0.4;
    gate.close();
    gate.close();
    v.frames = 1;
    await vi.advanceTimersByTimeAsync(HOLD_LIMIT_MS * 2);
    expect(v.seeks).toEqual([]);
    expect(vi.getTimerCount()).toBe(0);
    v.asElement().currentTime = 2;
    expect(v.seeks).toEqual([2]);
  });

  it('works on an element whose currentTime is a plain own property, restoring it with its value', async () => {
    const v = new FakeVideo();
    v.currentTime = 0.1;
    new SeekGate(v.asElement());
    v.currentTime = 0.5;
    expect(v.currentTime).toBe(0.1);
    v.quality.totalVideoFrames = 1;
    await vi.advanceTimersByTimeAsync(200);
    expect(v.currentTime).toBe(0.5);
    expect(Object.getOwnPropertyDescriptor(v, 'currentTime')).toMatchObject({ value: 0.5, writable: true });
  });
});

describe('Connection and the gate', () => {
  const GTK = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.0 Safari/605.1.15';

  function connect(userAgent: string): { conn: Connection; video: FakeVideo } {
    stubBrowser();
    vi.stubGlobal('navigator', { userAgent });
    const video = new FakeVideo();
    const conn = new Connection(new FakeMpegts(), video.asElement(), { type: 'flv', isLive: true, url: 'http://gw.test/live/cam1.flv' }, {}, { error: () => {} });
    conn.start();
    return { conn, video };
  }
  afterEach(() => {
    restoreBrowser();
  });

  it('on WebKit over GStreamer holds seeks from the start until the connection closes', () => {
    const { conn, video } = connect(GTK);
    video.currentTime = 2;
    expect(video.currentTime).toBe(0);
    conn.close();
    video.currentTime = 3;
    expect(video.currentTime).toBe(3);
  });

  it('elsewhere leaves the element alone', () => {
    const { conn, video } = connect('Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36');
    video.currentTime = 2;
    expect(video.currentTime).toBe(2);
    conn.close();
  });
});
