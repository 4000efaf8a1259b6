import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Hub } from '../../server/hub/hub.js';
import type { LiveStream } from '../../server/hub/live-stream.js';
import type { Subscriber } from '../../server/hub/subscriber.js';
import {
  AVC_SEQ_320X240,
  FakePublisher,
  FakeSink,
  aacFrame,
  avcInter,
  avcKey,
  hex,
  label,
  makeHub,
  startAv,
} from './fixtures.js';

let hubs: Hub[] = [];

beforeEach(() => {
  vi.useFakeTimers();
  hubs = [];
});
afterEach(() => {
  for (const h of hubs) h.close();
  vi.useRealTimers();
});

function hubWith(options: Parameters<typeof makeHub>[0] = {}): Hub {
  const hub = makeHub(options);
  hubs.push(hub);
  return hub;
}

/** A publisher that, like the RTMP session, detaches from its stream when kicked. */
function publishAs(hub: Hub, id: string, key = 'cam'): { pub: FakePublisher; stream: LiveStream } {
  const pub = new FakePublisher(id);
  const r = hub.publish('live', key, pub);
  if (!r.ok) throw new Error(`publish refused: ${r.detail}`);
  pub.onKick = () => r.stream.detach(pub);
  return { pub, stream: r.stream };
}

function watch(hub: Hub, sink: FakeSink, name = 'live/cam'): Subscriber {
  const r = hub.subscribe(name, sink);
  if (!r.ok) throw new Error(`subscribe refused: ${r.detail}`);
  return r.subscriber;
}

describe('Hub publishing', () => {
  it('ends every viewer with unpublished when the publisher leaves, unlists the stream and accepts the key again at once', () => {
    const hub = hubWith();
    const { pub, stream } = publishAs(hub, 'p1');
    startAv(stream, 3000);
    const sinks = [new FakeSink('http'), new FakeSink('ws'), new FakeSink('rtmp')];
    for (const s of sinks) watch(hub, s);
    stream.detach(pub);
    for (const s of sinks) expect(s.ends.map((e) => e.reason)).toEqual(['unpublished']);
    expect(hub.get('live/cam')).toBeUndefined();
    expect(hub.streams.size).toBe(0);

    const again = publishAs(hub, 'p2');
    expect(again.stream).not.toBe(stream);
    expect(hub.get('live/cam')).toBe(again.stream);
    again.stream.push(9, 9000, AVC_SEQ_320X240);
    again.stream.push(9, 9000, avcKey(1));
    const viewer = new FakeSink();
    watch(hub, viewer);
    expect(viewer.log).toEqual(['begin(audio=false,video=true)', 'vcfg@0', 'K1@0']); // a fresh timeline
  });

  it('does not let a finished stream that is ended again unlist its successor with the same key', () => {
    const hub = hubWith();
    const first = publishAs(hub, 'p1');
    first.stream.detach(first.pub);
    const second = publishAs(hub, 'p2');
    first.stream.end('shutdown', 'late cleanup');
    expect(hub.get('live/cam')).toBe(second.stream);
  });

  it('refuses a second publisher of a live key as busy by default, leaving the first one alone', () => {
    const hub = hubWith();
    const { pub, stream } = publishAs(hub, 'p1');
    const intruder = new FakePublisher('p2');
    const r = hub.publish('live', 'cam', intruder);
    expect(r).toEqual({ ok: false, reason: 'busy', detail: 'live/cam is already being published' });
    expect(pub.kicks).toEqual([]);
    expect(stream.publisher).toBe(pub);
  });

  it('with takeover kicks the old publisher and lets the new one continue the same stream for its viewers', () => {
    const hub = hubWith({ duplicatePublish: 'takeover' });
    const { pub: old, stream } = publishAs(hub, 'p1');
    startAv(stream);
    const sink = new FakeSink();
    watch(hub, sink);
    const mark = sink.events.length;

    const { pub: next, stream: same } = publishAs(hub, 'p2');
    expect(same).toBe(stream);
    expect(old.kicks).toEqual(['taken over by a new publisher']);
    expect(stream.publisher).toBe(next);
    expect(hub.get('live/cam')).toBe(stream);
    expect(sink.ends).toEqual([]); // the old publisher's detach inside kick() did not end the stream

    stream.push(9, 500, AVC_SEQ_320X240); // the new encoder's own clock
    stream.push(9, 500, avcKey(7));
    expect(sink.labelsFrom(mark)).toEqual(['vcfg@40', 'K7@80']); // one frame interval after the old publisher's last frame
    stream.detach(old); // a late detach of the old session changes nothing
    expect(sink.ends).toEqual([]);
  });

  it('with a grace period lets a returning publisher of the same key continue, and unlists the stream when none returns', () => {
    const hub = hubWith({ graceMs: 3000 });
    const { pub, stream } = publishAs(hub, 'p1');
    startAv(stream);
    const sink = new FakeSink();
    watch(hub, sink);
    stream.detach(pub);
    expect(hub.get('live/cam')).toBe(stream);
    const back = publishAs(hub, 'p1-again');
    expect(back.stream).toBe(stream);
    back.stream.push(8, 0, aacFrame(9));
    expect(label(sink.tags.at(-1)!)).toBe('a9@50'); // one audio frame interval after the latest tag

    back.stream.detach(back.pub);
    vi.advanceTimersByTime(2999);
    expect(sink.ends).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(sink.ends).toEqual([{ reason: 'unpublished', detail: 'publisher did not return' }]);
    expect(hub.get('live/cam')).toBeUndefined();
  });

  it('refuses new streams beyond maxStreams until one ends', () => {
    const hub = hubWith({ maxStreams: 2 });
    publishAs(hub, 'a', 'one');
    const two = publishAs(hub, 'b', 'two');
    expect(hub.publish('live', 'three', new FakePublisher('c'))).toEqual({
      ok: false,
      reason: 'limit',
      detail: 'already 2 streams',
    });
    two.stream.detach(two.pub);
    expect(hub.publish('live', 'three', new FakePublisher('c')).ok).toBe(true);
  });

  it('ends every viewer with reason shutdown and kicks every publisher on close, leaving no timer behind', () => {
    const hub = hubWith();
    const { pub, stream } = publishAs(hub, 'p1');
    startAv(stream);
    const watching = new FakeSink('ws');
    watch(hub, watching);
    const other = publishAs(hub, 'p2', 'other'); // nothing sent yet: its viewer waits
    const waiting = new FakeSink('rtmp');
    watch(hub, waiting, 'live/other');
    hub.close();
    expect(pub.kicks).toEqual(['server shutting down']);
    expect(other.pub.kicks).toEqual(['server shutting down']);
    expect(watching.ends.map((e) => e.reason)).toEqual(['shutdown']);
    expect(waiting.ends.map((e) => e.reason)).toEqual(['shutdown']);
    expect(hub.streams.size).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('Hub viewers', () => {
  it('reports not-found for a stream nobody publishes', () => {
    const hub = hubWith();
    expect(hub.subscribe('live/none', new FakeSink())).toEqual({
      ok: false,
      reason: 'not-found',
      detail: 'no live stream live/none',
    });
  });

  it('counts viewers by protocol, waiting ones included, and forgets those who leave', () => {
    const hub = hubWith();
    const { stream } = publishAs(hub, 'p1');
    stream.push(9, 0, AVC_SEQ_320X240); // no keyframe yet: every viewer waits
    const rtmp = watch(hub, new FakeSink('rtmp'));
    const tunnelled = watch(hub, new FakeSink('rtmpt'));
    const h1 = watch(hub, new FakeSink('http'));
    watch(hub, new FakeSink('http'));
    expect(stream.waiting.size).toBe(4);
    expect(hub.viewersByProtocol(stream)).toEqual({ http: 2, ws: 0, rtmp: 1, rtmpt: 1, hls: 0, total: 4 });
    stream.push(9, 0, avcKey(1)); // they start
    watch(hub, new FakeSink('ws'));
    expect(stream.waiting.size).toBe(0);
    expect(hub.viewersByProtocol(stream)).toEqual({ http: 2, ws: 1, rtmp: 1, rtmpt: 1, hls: 0, total: 5 });
    expect([hub.viewerCount('rtmp'), hub.viewerCount('rtmpt')]).toEqual([1, 1]);
    h1.close('closed', 'viewer left');
    rtmp.close('closed', 'viewer left');
    expect(hub.viewersByProtocol(stream)).toEqual({ http: 1, ws: 1, rtmp: 0, rtmpt: 1, hls: 0, total: 3 });
    tunnelled.close('closed', 'viewer left');
    expect(hub.viewersByProtocol(stream)).toEqual({ http: 1, ws: 1, rtmp: 0, rtmpt: 0, hls: 0, total: 2 });
  });

  it('a sink that stands for many viewers (the HLS muxer) counts as that many, and a recording as none', () => {
    const hub = hubWith();
    const { stream } = publishAs(hub, 'p1');
    const muxer = Object.assign(new FakeSink('hls'), { viewers: 7 });
    watch(hub, muxer);
    watch(hub, new FakeSink('record'));
    watch(hub, new FakeSink('ws'));
    expect(hub.viewersByProtocol(stream)).toEqual({ http: 0, ws: 1, rtmp: 0, rtmpt: 0, hls: 7, total: 8 });
    muxer.viewers = 0;
    expect(hub.viewersByProtocol(stream)).toEqual({ http: 0, ws: 1, rtmp: 0, rtmpt: 0, hls: 0, total: 1 });
  });

  it('refuses viewers beyond maxViewersPerStream, counting waiting ones, until one leaves', () => {
    const hub = hubWith({ maxViewersPerStream: 2 });
    publishAs(hub, 'p1'); // nothing sent yet: viewers wait
    const first = watch(hub, new FakeSink());
    watch(hub, new FakeSink());
    expect(hub.subscribe('live/cam', new FakeSink())).toEqual({
      ok: false,
      reason: 'limit',
      detail: 'live/cam has its maximum of viewers',
    });
    first.close('closed', 'viewer left');
    expect(hub.subscribe('live/cam', new FakeSink()).ok).toBe(true);
  });

  it('counts a viewer closed as slow in slowDisconnects and its dropped tags in droppedTags', () => {
    const hub = hubWith();
    const { stream } = publishAs(hub, 'p1');
    startAv(stream);
    const slow = new FakeSink();
    watch(hub, slow);
    slow.bufferedBytes = 1001;
    stream.push(9, 80, avcInter(3));
    slow.bufferedBytes = 5001;
    stream.push(9, 120, avcInter(4));
    expect(slow.ends.map((e) => e.reason)).toEqual(['slow']);
    expect(stream.slowDisconnects).toBe(1);
    expect(stream.droppedTags).toBe(1);
    expect(hub.viewersByProtocol(stream).total).toBe(0);
  });
});

describe('Hub rates', () => {
  it('reports bits per second in and out and video frames per second over each sampling second', () => {
    const hub = hubWith();
    const { stream } = publishAs(hub, 'p1');
    startAv(stream);
    const sink = new FakeSink();
    const viewer = watch(hub, sink);
    const leaver = new FakeSink();
    const leaving = watch(hub, leaver);
    vi.advanceTimersByTime(1000); // first sample: the baseline

    const sent = (s: FakeSink): number => s.tags.reduce((n, t) => n + t.flv.length, 0);
    const out0 = sent(sink) + sent(leaver);
    const in0 = stream.bytesIn;
    for (let i = 0; i < 30; i++) stream.push(9, 100 + i * 33, i % 10 === 0 ? avcKey(i) : avcInter(i)); // 11-byte bodies
    for (let i = 0; i < 10; i++) stream.push(8, 100 + i * 23, aacFrame(i)); // 4-byte bodies
    stream.push(9, 1200, AVC_SEQ_320X240); // a sequence header is not a frame
    stream.push(9, 1200, hex('17 02 000000')); // nor is an AVC end of sequence
    leaving.close('closed', 'viewer left'); // its bytes still count
    const bytesIn = stream.bytesIn - in0;
    const bytesOut = sent(sink) + sent(leaver) - out0;
    expect(bytesIn).toBe(30 * 11 + 10 * 4 + AVC_SEQ_320X240.length + 5);
    vi.advanceTimersByTime(1000);
    expect(hub.rates(stream)).toEqual({ bitrateIn: bytesIn * 8, bitrateOut: bytesOut * 8, fps: 30 });
    expect(viewer.closed).toBe(false);

    vi.advanceTimersByTime(1000); // a silent second
    expect(hub.rates(stream)).toEqual({ bitrateIn: 0, bitrateOut: 0, fps: 0 });
  });

  it('reports zero rates for a stream it has not sampled yet', () => {
    const hub = hubWith();
    const { stream } = publishAs(hub, 'p1');
    startAv(stream);
    expect(hub.rates(stream)).toEqual({ bitrateIn: 0, bitrateOut: 0, fps: 0 });
  });
});
