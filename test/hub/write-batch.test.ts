import { afterEach, describe, expect, it, vi } from 'vitest';
import { MediaTag } from '../../server/hub/media-tag.js';
import { Subscriber } from '../../server/hub/subscriber.js';
import { WriteBatch } from '../../server/hub/write-batch.js';
import { FakeSink, avcInter } from './fixtures.js';

/** A sink that records cork/uncork calls between its writes. */
class CorkSink extends FakeSink {
  readonly calls: string[] = [];
  corks = 0;
  cork(): void {
    this.corks++;
    this.calls.push('cork');
  }
  uncork(): void {
    this.calls.push('uncork');
  }
  override write(tag: MediaTag): void {
    super.write(tag);
    this.calls.push('write');
  }
}

const LIMITS = { softBytes: 1 << 20, hardBytes: 1 << 22, maxSkipMs: 10_000 };
const tag = (n: number): MediaTag => new MediaTag(9, n * 40, avcInter(n), false, false);
const audioTag = (n: number): MediaTag => new MediaTag(8, n * 23, Buffer.from([0xaf, 0x01, n]), false, false);

const batching = (mergeMs = 0, audioHoldMs = 0): WriteBatch => new WriteBatch({ mergeMs, audioHoldMs });

describe('write batching', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('corks each viewer once per batch and uncorks it when the batch ends', () => {
    const batch = batching();
    const sinks = [new CorkSink('ws'), new CorkSink('http')];
    const subs = sinks.map((s) => new Subscriber(s, LIMITS, batch, () => {}));
    batch.run(() => {
      for (let i = 1; i <= 3; i++) for (const sub of subs) sub.deliver(tag(i));
    });
    for (const s of sinks) expect(s.calls).toEqual(['cork', 'write', 'write', 'write', 'uncork']);
    // A second batch corks again.
    batch.run(() => subs[0]!.deliver(tag(4)));
    expect(sinks[0]!.calls.slice(5)).toEqual(['cork', 'write', 'uncork']);
  });

  it('writes outside a batch go straight through, uncorked', () => {
    const batch = batching();
    const sink = new CorkSink();
    new Subscriber(sink, LIMITS, batch, () => {}).deliver(tag(1));
    expect(sink.calls).toEqual(['write']);
  });

  it('nested batches flush once, at the outermost end', () => {
    const batch = batching();
    const sink = new CorkSink();
    const sub = new Subscriber(sink, LIMITS, batch, () => {});
    batch.run(() => {
      sub.deliver(tag(1));
      batch.run(() => sub.deliver(tag(2)));
      expect(sink.calls).toEqual(['cork', 'write', 'write']);
    });
    expect(sink.calls.at(-1)).toBe('uncork');
  });

  it('with a merge window, writes from several reads share one uncork after the window', () => {
    vi.useFakeTimers();
    const batch = batching(30);
    const sink = new CorkSink();
    const sub = new Subscriber(sink, LIMITS, batch, () => {});
    batch.run(() => sub.deliver(tag(1)));
    vi.advanceTimersByTime(10);
    batch.run(() => sub.deliver(tag(2)));
    expect(sink.calls).toEqual(['cork', 'write', 'write']);
    vi.advanceTimersByTime(25);
    expect(sink.calls).toEqual(['cork', 'write', 'write', 'uncork']);
    expect(sink.corks).toBe(1);
  });

  it('holds audio-only batches until the next video batch, never holding video', () => {
    vi.useFakeTimers();
    const batch = batching(0, 40);
    const sink = new CorkSink();
    const sub = new Subscriber(sink, LIMITS, batch, () => {});
    batch.run(() => sub.deliver(audioTag(1)));
    batch.run(() => sub.deliver(audioTag(2)));
    expect(sink.calls).toEqual(['cork', 'write', 'write']);
    batch.run(() => sub.deliver(tag(3))); // video: everything goes out now, no timer needed
    expect(sink.calls).toEqual(['cork', 'write', 'write', 'write', 'uncork']);
    // Audio with no video following goes out when the hold window ends.
    batch.run(() => sub.deliver(audioTag(4)));
    vi.advanceTimersByTime(39);
    expect(sink.calls.at(-1)).toBe('write');
    vi.advanceTimersByTime(1);
    expect(sink.calls.at(-1)).toBe('uncork');
  });

  it('writes outside a publisher read (a join burst) are not held by a pending audio batch', () => {
    vi.useFakeTimers();
    const batch = batching(0, 40);
    const held = new CorkSink();
    batch.run(() => new Subscriber(held, LIMITS, batch, () => {}).deliver(audioTag(1)));
    const joiner = new CorkSink();
    new Subscriber(joiner, LIMITS, batch, () => {}).writeAlways(tag(2));
    expect(joiner.calls).toEqual(['write']);
  });

  it('two instances batch apart: a merge window on one holds nothing of the other', () => {
    vi.useFakeTimers();
    const merging = batching(30);
    const direct = batching();
    const held = new CorkSink();
    const prompt = new CorkSink();
    const heldSub = new Subscriber(held, LIMITS, merging, () => {});
    const promptSub = new Subscriber(prompt, LIMITS, direct, () => {});
    merging.run(() => {
      heldSub.deliver(tag(1));
      // A read of the other gateway inside this one's: it ends, and flushes, on its own.
      direct.run(() => promptSub.deliver(tag(1)));
      expect(prompt.calls).toEqual(['cork', 'write', 'uncork']);
    });
    expect(held.calls).toEqual(['cork', 'write']);
    direct.run(() => promptSub.deliver(tag(2)));
    expect(prompt.calls.slice(3)).toEqual(['cork', 'write', 'uncork']);
    expect(held.calls).toEqual(['cork', 'write']);
    vi.advanceTimersByTime(30);
    expect(held.calls).toEqual(['cork', 'write', 'uncork']);
  });
});
