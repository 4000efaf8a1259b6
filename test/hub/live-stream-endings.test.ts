// LiveStream: viewers ended when the publisher leaves (with and without a grace period) or when they are too slow.
import { describe, expect, it, vi } from 'vitest';
import {
  AAC_SEQ_44100, AVC_SEQ_320X240, FakePublisher, FakeSink, aacFrame, avcInter, avcKey, makeStream, startAv,
  BEGIN_AV, useFakeTimersEachTest,
} from './fixtures.js';

useFakeTimersEachTest();

/** A stream with a 5 s grace period whose only publisher left while `sink` was watching. */
function publisherLeftWhileWatched(): ReturnType<typeof makeStream> & { sink: FakeSink } {
  const made = makeStream({ graceMs: 5000 });
  const p1 = new FakePublisher('p1');
  made.stream.attach(p1);
  startAv(made.stream);
  const sink = new FakeSink();
  made.stream.subscribe(sink);
  made.stream.detach(p1);
  return { ...made, sink };
}

describe('LiveStream publisher leaving', () => {
  it('without a grace period ends every viewer, waiting ones included, with reason unpublished', () => {
    const { stream, onEnd } = makeStream();
    const pub = new FakePublisher('p1');
    stream.attach(pub);
    stream.push(9, 0, AVC_SEQ_320X240);
    stream.push(9, 0, avcKey(1));
    const watching = new FakeSink();
    stream.subscribe(watching);
    stream.gop.clear(); // make the next viewer wait
    const waiting = new FakeSink();
    stream.subscribe(waiting);
    stream.detach(pub);
    expect(watching.ends).toEqual([{ reason: 'unpublished', detail: 'publisher ended the stream' }]);
    expect(waiting.ends).toEqual([{ reason: 'unpublished', detail: 'publisher ended the stream' }]);
    expect(onEnd).toHaveBeenCalledExactlyOnceWith(stream);
    expect(stream.subscribers.size + stream.waiting.size).toBe(0);
  });

  it('ignores a detach from a publisher that is no longer the current one', () => {
    const { stream, onEnd } = makeStream();
    const old = new FakePublisher('old');
    stream.attach(old);
    stream.attach(new FakePublisher('new'));
    stream.detach(old);
    expect(onEnd).not.toHaveBeenCalled();
    expect(stream.publisher?.id).toBe('new');
  });

  it('keeps viewers through the grace period and lets a returning publisher continue them on a later timeline', () => {
    const { stream, onEnd, sink } = publisherLeftWhileWatched();
    expect(stream.state).toBe('idle');
    vi.advanceTimersByTime(4999);
    expect(sink.ends).toEqual([]);

    const p2 = new FakePublisher('p2');
    stream.attach(p2);
    expect(stream.state).toBe('live');
    expect(vi.getTimerCount()).toBe(0); // the grace timer is gone, not just ignored
    const mark = sink.events.length;
    stream.push(9, 0, AVC_SEQ_320X240); // the new encoder's clock restarts at 0
    stream.push(8, 0, AAC_SEQ_44100);
    stream.push(9, 0, avcKey(3));
    stream.push(8, 10, aacFrame(3));
    // headers stay at their track's position; the first frame comes one frame interval after the last one
    expect(sink.labelsFrom(mark)).toEqual(['vcfg@40', 'acfg@10', 'K3@80', 'a3@90']);
    vi.advanceTimersByTime(60_000);
    expect(sink.ends).toEqual([]);
    expect(onEnd).not.toHaveBeenCalled();
  });

  it('does not give a viewer joining after the return frames from the previous publisher', () => {
    const { stream } = makeStream({ graceMs: 5000 });
    const p1 = new FakePublisher('p1');
    stream.attach(p1);
    startAv(stream);
    stream.subscribe(new FakeSink());
    stream.detach(p1);
    stream.attach(new FakePublisher('p2'));
    const sink = new FakeSink();
    stream.subscribe(sink);
    expect(sink.events).toEqual([]);
    stream.push(9, 0, avcKey(3));
    expect(sink.log).toEqual([BEGIN_AV, 'meta@0', 'vcfg@80', 'acfg@80', 'K3@80']);
  });

  it('ends the viewers once the grace period runs out without a return', () => {
    const { stream, onEnd, sink } = publisherLeftWhileWatched();
    vi.advanceTimersByTime(5000);
    expect(sink.ends).toEqual([{ reason: 'unpublished', detail: 'publisher did not return' }]);
    expect(onEnd).toHaveBeenCalledExactlyOnceWith(stream);
  });

  it('ends at once despite a grace period when nobody is watching', () => {
    const { stream, onEnd } = makeStream({ graceMs: 5000 });
    const p1 = new FakePublisher('p1');
    stream.attach(p1);
    startAv(stream);
    stream.detach(p1);
    expect(onEnd).toHaveBeenCalledExactlyOnceWith(stream);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('ends each viewer once even when the stream is ended twice', () => {
    const { stream } = makeStream();
    startAv(stream);
    const sink = new FakeSink();
    stream.subscribe(sink);
    stream.end('kicked', 'by the API');
    stream.end('shutdown', 'server shutting down');
    expect(sink.ends).toEqual([{ reason: 'kicked', detail: 'by the API' }]);
  });
});

describe('LiveStream slow viewers', () => {
  it('lets a slow viewer skip and then disconnect without changing what a fast viewer receives', () => {
    const { stream } = makeStream();
    startAv(stream);
    const slow = new FakeSink('ws');
    const fast = new FakeSink('http');
    stream.subscribe(slow); // iterated first, so its removal happens mid-fan-out
    stream.subscribe(fast);
    const mark = { slow: slow.events.length, fast: fast.events.length };

    slow.bufferedBytes = 1001; // over softBytes
    stream.push(9, 80, avcInter(3));
    stream.push(8, 90, aacFrame(2));
    stream.push(9, 100, AVC_SEQ_320X240);
    stream.push(9, 120, avcKey(4)); // still over softBytes: skipped
    slow.bufferedBytes = 5001; // over hardBytes
    stream.push(9, 160, avcInter(5));
    stream.push(9, 200, avcInter(6));

    expect(slow.labelsFrom(mark.slow)).toEqual(['a2@90', 'vcfg@100']);
    expect(slow.ends.map((e) => e.reason)).toEqual(['slow']);
    expect(fast.labelsFrom(mark.fast)).toEqual(['P3@80', 'a2@90', 'vcfg@100', 'K4@120', 'P5@160', 'P6@200']);
    expect(stream.slowDisconnects).toBe(1);
    expect(stream.droppedTags).toBe(2);
    expect([...stream.subscribers].map((s) => s.sink)).toEqual([fast]);
  });

  it('counts the bytes of closed and connected viewers in totalBytesOut', () => {
    const { stream } = makeStream();
    startAv(stream);
    const a = new FakeSink();
    const b = new FakeSink();
    stream.subscribe(a);
    const subB = stream.subscribe(b);
    subB.close('closed', 'viewer left');
    stream.push(9, 80, avcInter(3));
    const bytes = (s: FakeSink): number => s.tags.reduce((n, t) => n + t.flv.length, 0);
    expect(stream.totalBytesOut).toBe(bytes(a) + bytes(b));
  });
});
