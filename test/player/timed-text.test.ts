// Text and cue points in the stream: parsed from mpegts.js's script data, held until the playhead
// reaches their timestamp on the gateway's timeline, then handed to every listener.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createLivePlayer } from '../../player/live-player.js';
import type { LivePlayer } from '../../player/live-types.js';
import { MAX_PENDING, parseTimedData, TimedEvents, TimedQueue, type TextEvent, type TimedItem } from '../../player/timed-text.js';
import { FakeMpegts, FakeVideo, restoreBrowser, stubBrowser } from './fakes.js';

const text = (t: string, timestamp: number | null): TimedItem => ({
  type: 'text', event: { text: t, lang: 'und', trackId: 1, durationMs: null, timestamp },
});

describe('parseTimedData', () => {
  it('reads onTextData with the timestamp the gateway added', () => {
    expect(parseTimedData({ onTextData: { text: 'Hello', language: 'en', trackid: 1, durationMs: 3000, gatewayTimestamp: 4200 } })).toEqual({
      type: 'text', event: { text: 'Hello', lang: 'en', trackId: 1, durationMs: 3000, timestamp: 4200 },
    });
  });

  it('reads a publisher onCuePoint, and onCaptionInfo as sent', () => {
    expect(parseTimedData({ onCuePoint: { name: 'chapter-2', time: 1.5, type: 'navigation', parameters: { title: 'Two' }, gatewayTimestamp: 100 } })).toEqual({
      type: 'cuepoint', event: { name: 'chapter-2', type: 'navigation', time: 1.5, parameters: { title: 'Two' }, timestamp: 100 },
    });
    expect(parseTimedData({ onCaptionInfo: { type: '708', data: 'AAEC', gatewayTimestamp: 300 } })).toEqual({
      type: 'captioninfo', event: { info: { type: '708', data: 'AAEC' }, timestamp: 300 },
    });
  });

  it('without a gateway timestamp the item has none (it is due at once)', () => {
    expect(parseTimedData({ onTextData: { text: 'x' } })?.event.timestamp).toBeNull();
  });

  it("ignores the gateway's own timeline cue, other names and malformed values", () => {
    for (const d of [
      { onCuePoint: { name: 'gateway-timeline', type: 'event', time: 0, parameters: { start: 5 } } },
      { onMetaData: { width: 1 } },
      { onTextData: { text: 5 } },
      { onTextData: 'text' },
      { onCuePoint: { time: 1 } },
      null, 'onTextData', [],
    ]) expect(parseTimedData(d)).toBeNull();
  });
});

describe('TimedQueue', () => {
  it('releases items in order once the position reaches their timestamp, and not before', () => {
    const q = new TimedQueue();
    q.push(text('a', 1000));
    q.push(text('b', 2000));
    expect(q.due(null)).toEqual([]);
    expect(q.due(999)).toEqual([]);
    expect(q.due(1000).map((i) => i.event.timestamp)).toEqual([1000]);
    expect(q.due(1999)).toEqual([]);
    expect(q.due(5000).map((i) => i.event.timestamp)).toEqual([2000]);
    expect(q.size).toBe(0);
  });

  it('an item without a timestamp is due at once; the queue is bounded', () => {
    const q = new TimedQueue();
    q.push(text('now', null));
    expect(q.due(null).length).toBe(1);
    for (let i = 0; i < MAX_PENDING + 10; i++) q.push(text(String(i), i));
    expect(q.size).toBe(MAX_PENDING);
    expect((q.due(Infinity)[0]!.event as TextEvent).text).toBe('10');
  });
});

describe('TimedEvents', () => {
  it('calls every listener of the type; unsubscribing and a throwing listener leave the others alone', () => {
    vi.useFakeTimers();
    try {
      const ev = new TimedEvents();
      const seen: string[] = [];
      ev.on('text', () => { throw new Error('page bug'); });
      const off = ev.on('text', (e) => seen.push(`1:${e.text}`));
      ev.on('text', (e) => seen.push(`2:${e.text}`));
      ev.on('cuepoint', () => seen.push('cue'));
      ev.emit(text('x', 0));
      off();
      ev.emit(text('y', 0));
      expect(seen).toEqual(['1:x', '2:x', '2:y']);
      expect(() => vi.runAllTimers()).toThrow('page bug');
    } finally {
      vi.useRealTimers();
    }
  });
});

class ScriptMpegts extends FakeMpegts {
  override readonly Events = { ...new FakeMpegts().Events, SCRIPTDATA_ARRIVED: 'scriptdata_arrived' };
}

describe('the live player hands text over when its timestamp plays', () => {
  let video: FakeVideo;
  let player: LivePlayer;
  beforeEach(() => {
    stubBrowser();
    video = new FakeVideo();
  });
  afterEach(() => {
    player.destroy();
    restoreBrowser();
  });

  it('onText and on("text") fire when currentTime maps past the tag timestamp, not on arrival', async () => {
    const mpegts = new ScriptMpegts();
    const fromOption: TextEvent[] = [];
    const fromOn: TextEvent[] = [];
    player = createLivePlayer(video.asElement(), { stream: 'live/cam1', onText: (e) => fromOption.push(e) }, {
      defaultBase: 'http://gw.test/', loadMpegts: async () => mpegts,
    });
    player.on('text', (e) => fromOn.push(e));
    await vi.advanceTimersByTimeAsync(0);
    expect(player.state).toBe('playing');
    // First frame at timeline 10 000 ms = media time 0; the text is at 12 000 ms = media time 2 s.
    mpegts.last.emit('scriptdata_arrived', { onCuePoint: { name: 'gateway-timeline', type: 'event', time: 0, parameters: { start: 10_000 } } });
    mpegts.last.emit('scriptdata_arrived', { onTextData: { text: 'Hello', language: 'en', gatewayTimestamp: 12_000 } });
    video.currentTime = 1.9;
    await vi.advanceTimersByTimeAsync(1000);
    expect(fromOption).toEqual([]);
    video.currentTime = 2.0;
    await vi.advanceTimersByTimeAsync(1000);
    expect(fromOption.map((e) => [e.text, e.lang, e.timestamp])).toEqual([['Hello', 'en', 12_000]]);
    expect(fromOn).toEqual(fromOption);
  });
});
