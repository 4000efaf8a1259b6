// The latency clock (clock offset, anchor, timeline cue) and the join decision, without a browser.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ClockOffset, LatencyClock, PRESENTATION_BREAK_MS, TIMELINE_CUE_NAME, timelineStartOf } from '../../player/latency-clock.js';
import { TimeSync } from '../../player/time-sync.js';
import { JOIN_MAX_WAIT_MS, joinPosition } from '../../player/live-join.js';
import { TIMELINE_CUE_NAME as SERVER_CUE_NAME } from '../../server/hub/browser-feed.js';

describe('ClockOffset', () => {
  it('takes the offset from the midpoint of the round trip with the shortest time', () => {
    const c = new ClockOffset();
    expect(c.offset).toBeNull();
    c.add(1000, 6000, 1100); // rtt 100: offset 6000 - 1050
    expect(c.offset).toBe(4950);
    c.add(2000, 7010, 2020); // rtt 20: better
    expect(c.offset).toBe(5000);
    c.add(3000, 9000, 3200); // rtt 200: ignored
    expect(c.offset).toBe(5000);
    expect(c.rtt).toBe(20);
  });

  it('lets a later sample replace an aged one, and ignores nonsense', () => {
    const c = new ClockOffset();
    c.add(0, 100, 10);
    c.age(15);
    c.add(100, 300, 120); // rtt 20 < 10 + 15
    expect(c.offset).toBe(190);
    c.add(500, Number.NaN, 501);
    c.add(600, 1, 590); // negative round trip
    expect(c.offset).toBe(190);
  });
});

describe('LatencyClock', () => {
  it('maps media time through the cue and the anchor to the receive time, and the presentation through the offset', () => {
    const l = new LatencyClock();
    l.clock.add(1000, 50_000, 1000); // gateway = client + 49000
    l.setAnchor({ timestamp: 12_000, receivedAt: 60_000 }); // timeline 12 s arrived at gateway 60 s
    expect(l.latencyOf(1, 11_500)).toBeNull(); // no cue yet
    l.setTimelineStart(10_000); // media time 0 = timeline 10 s
    // media 1.5 s = timeline 11.5 s, received at gateway 59.5 s; shown at client 10.7 s = gateway 59.7 s
    expect(l.presented(1.5, 10_700)).toBeCloseTo(0.2, 6);
    expect(l.latest).toBeCloseTo(0.2, 6);
    // the newest frame at client 11 s (gateway 60 s) is timeline 12 s = media 2 s
    expect(l.liveEdgeMediaTime(11_000)).toBeCloseTo(2, 6);
    l.reset();
    expect(l.latencyOf(1.5, 10_700)).toBeNull();
    expect(l.latest).toBeNull();
  });

  it('does not read high by a publisher\'s absence: frames after a break in presentation wait for a new anchor', () => {
    // Client and gateway clocks agree; the timeline starts at media time 0 = timeline 0.
    const l = new LatencyClock();
    l.clock.add(0, 0, 0);
    l.setTimelineStart(0);
    l.setAnchor({ timestamp: 1000, receivedAt: 101_000 }); // timeline 1 s arrived at 101 s
    // 30 fps, each frame shown 200 ms after the gateway got it
    let latest = 0;
    for (let i = 30; i <= 60; i++) latest = l.presented(i / 30, 100_000 + (i * 1000) / 30 + 200)!;
    expect(latest).toBeCloseTo(0.2, 6);
    // The publisher leaves for 3 s and returns; the timeline goes on at 2033 ms (one frame on),
    // which the gateway gets at 105.033 s, shown 200 ms later.
    const mediaTime = 61 / 30;
    const shownAt = 105_033 + 200;
    expect(shownAt - (100_000 + 2000 + 200)).toBeGreaterThan(PRESENTATION_BREAK_MS);
    // Through the old anchor that frame would read 3 s high:
    expect(l.latencyOf(mediaTime, shownAt)).toBeCloseTo(3.2, 1);
    expect(l.presented(mediaTime, shownAt)).toBeNull();
    expect(l.anchorStale).toBe(true);
    expect(l.latest).toBeCloseTo(0.2, 6); // the last good figure stays
    // The next answer of api/time anchors the returned timeline: timeline 2066 ms arrived at 105.066 s.
    l.setAnchor({ timestamp: 2067, receivedAt: 105_067 });
    expect(l.anchorStale).toBe(false);
    expect(l.presented(62 / 30, 105_067 + 200)).toBeCloseTo(0.2, 2);
  });

  it('keeps measuring through an ordinary run of frames, dropped ones included', () => {
    const l = new LatencyClock();
    l.clock.add(0, 0, 0);
    l.setTimelineStart(0);
    l.setAnchor({ timestamp: 0, receivedAt: 0 });
    // every third frame dropped by the browser: 100 ms between presented frames
    for (let i = 0; i < 30; i += 3) expect(l.presented(i / 30, (i * 1000) / 30 + 150)).toBeCloseTo(0.15, 6);
    expect(l.anchorStale).toBe(false);
  });

  it('reads the gateway\'s timeline cue from mpegts.js script data, nothing else', () => {
    expect(TIMELINE_CUE_NAME).toBe(SERVER_CUE_NAME);
    expect(timelineStartOf({ onCuePoint: { name: 'gateway-timeline', parameters: { start: 4200 } } })).toBe(4200);
    expect(timelineStartOf({ onCuePoint: { name: 'other', parameters: { start: 1 } } })).toBeNull();
    expect(timelineStartOf({ onMetaData: {} })).toBeNull();
    expect(timelineStartOf(null)).toBeNull();
    expect(timelineStartOf({ onCuePoint: { name: 'gateway-timeline', parameters: { start: 'x' } } })).toBeNull();
  });
});

describe('joinPosition', () => {
  it('waits until the burst reaches the live edge, then starts target seconds before its end', () => {
    expect(joinPosition({ start: 0, end: 0.6, liveEdge: 1.9, waitedMs: 100 }, 0.3)).toBeNull();
    expect(joinPosition({ start: 0, end: 1.8, liveEdge: 1.9, waitedMs: 150 }, 0.3)).toBeCloseTo(1.5, 6);
  });

  it('starts anyway after the longest wait, from the end of what it has (or its start)', () => {
    expect(joinPosition({ start: 0, end: 1.0, liveEdge: null, waitedMs: JOIN_MAX_WAIT_MS - 1 }, 0.3)).toBeNull();
    expect(joinPosition({ start: 0, end: 1.0, liveEdge: null, waitedMs: JOIN_MAX_WAIT_MS }, 0.3)).toBeCloseTo(0.7, 6);
    expect(joinPosition({ start: 0, end: 0.1, liveEdge: 0.1, waitedMs: 10 }, 0.3)).toBe(0);
    expect(joinPosition({ start: 0, end: 0, liveEdge: null, waitedMs: JOIN_MAX_WAIT_MS }, 0.3)).toBe(0);
  });
});

describe('TimeSync', () => {
  afterEach(() => {
    vi.unstubAllGlobals();
    vi.restoreAllMocks();
  });

  it('renews a stale anchor within a second instead of at the next 5 s period', async () => {
    let now = 50_000;
    vi.spyOn(performance, 'now').mockImplementation(() => now - performance.timeOrigin);
    const asked: number[] = [];
    vi.stubGlobal('fetch', async () => {
      asked.push(now);
      return { json: async () => ({ now, stream: { timestamp: now - 40_000, receivedAt: now } }) };
    });
    const clock = new LatencyClock();
    const sync = new TimeSync('http://127.0.0.1/api/time?stream=live/x', clock);
    const settle = async (): Promise<void> => { for (let i = 0; i < 20; i++) await Promise.resolve(); };
    sync.tick();
    await settle();
    expect(asked.length).toBe(4); // the first burst
    now += 1500;
    sync.tick();
    await settle();
    expect(asked.length).toBe(4); // nothing due: the period is 5 s
    // a break in presentation makes the anchor stale
    clock.setTimelineStart(0);
    clock.presented(0, now);
    clock.presented(0.033, now + PRESENTATION_BREAK_MS + 500);
    expect(clock.anchorStale).toBe(true);
    sync.tick();
    await settle();
    expect(asked.length).toBe(5);
    expect(clock.anchorStale).toBe(false);
  });
});
