import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { MediaTag } from '../../server/hub/media-tag.js';
import { Subscriber, type EndReason, type SlowViewerLimits } from '../../server/hub/subscriber.js';
import { AVC_SEQ_320X240, FakeSink, aacFrame, avcInter, avcKey, defaultWriteBatch, label } from './fixtures.js';

const LIMITS: SlowViewerLimits = { softBytes: 1000, hardBytes: 5000, maxSkipMs: 10_000 };

const key = (n: number, ts: number): MediaTag => new MediaTag(9, ts, avcKey(n), true, false);
const inter = (n: number, ts: number): MediaTag => new MediaTag(9, ts, avcInter(n), false, false);
const audio = (n: number, ts: number): MediaTag => new MediaTag(8, ts, aacFrame(n), false, false);
const vcfg = (ts: number): MediaTag => new MediaTag(9, ts, AVC_SEQ_320X240, false, true);

function make(limits = LIMITS): {
  sub: Subscriber;
  sink: FakeSink;
  onClose: ReturnType<typeof vi.fn<(s: Subscriber, r: EndReason, d: string) => void>>;
} {
  const sink = new FakeSink('ws');
  const onClose = vi.fn<(s: Subscriber, r: EndReason, d: string) => void>();
  return { sub: new Subscriber(sink, limits, defaultWriteBatch(), onClose), sink, onClose };
}

describe('Subscriber slow-viewer policy', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('writes every tag while the unsent bytes stay at or below softBytes', () => {
    const { sub, sink } = make();
    sink.bufferedBytes = LIMITS.softBytes;
    for (const t of [key(1, 0), audio(1, 10), inter(2, 40)]) sub.deliver(t);
    expect(sink.tags.map(label)).toEqual(['K1@0', 'a1@10', 'P2@40']);
    expect(sub.droppedTags).toBe(0);
  });

  it('over softBytes skips video until a keyframe, still sending audio and config tags, and counts the drops', () => {
    const { sub, sink } = make();
    sub.deliver(key(1, 0));
    sink.bufferedBytes = LIMITS.softBytes + 1;
    sub.deliver(inter(2, 40)); // dropped, starts skipping
    sub.deliver(audio(1, 50)); // audio still goes out
    sub.deliver(vcfg(60)); // so does a sequence header
    sink.bufferedBytes = 0; // caught up, but mid-GOP: inter frames stay dropped
    sub.deliver(inter(3, 80));
    sub.deliver(key(4, 120)); // resumes exactly here
    sub.deliver(inter(5, 160));
    expect(sink.tags.map(label)).toEqual(['K1@0', 'a1@50', 'vcfg@60', 'K4@120', 'P5@160']);
    expect(sub.droppedTags).toBe(2);
    expect(sub.skipping).toBe(false);
  });

  it('does not count the join burst against a new viewer: only backlog built afterwards makes it skip', () => {
    const { sub, sink } = make();
    sink.bufferedBytes = 4 * LIMITS.softBytes; // a cached GOP larger than the soft limit, just written
    sub.excuseJoinBurst();
    sub.deliver(inter(1, 40));
    sink.bufferedBytes = 2 * LIMITS.softBytes; // draining
    sub.deliver(inter(2, 80));
    expect(sink.tags.map(label)).toEqual(['P1@40', 'P2@80']);
    expect(sub.skipping).toBe(false);
    // Once drained, the excuse is gone: new backlog over the soft limit counts again.
    sink.bufferedBytes = 0;
    sub.deliver(inter(3, 120));
    sink.bufferedBytes = LIMITS.softBytes + 1;
    sub.deliver(inter(4, 160));
    expect(sub.skipping).toBe(true);
  });

  it('does not disconnect a caught-up viewer that is only waiting for the next keyframe of a long GOP', () => {
    const { sub, sink, onClose } = make();
    sink.bufferedBytes = LIMITS.softBytes + 1;
    sub.deliver(inter(1, 0)); // starts skipping
    sink.bufferedBytes = 0; // caught up at once
    for (let i = 0; i < 30; i++) {
      vi.advanceTimersByTime(1_000); // 30 s in all, three times maxSkipMs
      sub.deliver(inter(i + 2, 40 * (i + 1)));
    }
    expect(onClose).not.toHaveBeenCalled();
    sub.deliver(key(99, 2_000));
    expect(sub.skipping).toBe(false);
    expect(sink.tags.map(label)).toEqual(['K99@2000']);
  });

  it('keeps skipping past a keyframe that arrives while still over softBytes', () => {
    const { sub, sink } = make();
    sink.bufferedBytes = LIMITS.softBytes + 1;
    sub.deliver(inter(1, 0));
    sub.deliver(key(2, 40)); // still behind: dropped
    sub.deliver(inter(3, 80));
    sink.bufferedBytes = LIMITS.softBytes;
    sub.deliver(inter(4, 120));
    sub.deliver(key(5, 160));
    expect(sink.tags.map(label)).toEqual(['K5@160']);
    expect(sub.droppedTags).toBe(4);
  });

  it('closes the viewer with reason slow once the unsent bytes exceed hardBytes, even for a config tag', () => {
    const { sub, sink, onClose } = make();
    sub.deliver(key(1, 0));
    sink.bufferedBytes = LIMITS.hardBytes + 1;
    sub.deliver(vcfg(40));
    expect(sink.tags.map(label)).toEqual(['K1@0']);
    expect(sink.ends).toEqual([{ reason: 'slow', detail: expect.stringContaining('5001 bytes unsent') }]);
    expect(onClose).toHaveBeenCalledExactlyOnceWith(sub, 'slow', expect.any(String));
    expect(sub.closed).toBe(true);
  });

  it('closes a viewer that keeps skipping for longer than maxSkipMs', () => {
    const { sub, sink } = make();
    sink.bufferedBytes = LIMITS.softBytes + 1;
    sub.deliver(inter(1, 0)); // skipping starts now
    vi.advanceTimersByTime(LIMITS.maxSkipMs);
    sub.deliver(inter(2, 40));
    expect(sink.ends).toEqual([]); // exactly maxSkipMs is still allowed
    vi.advanceTimersByTime(1);
    sub.deliver(inter(3, 80));
    expect(sink.ends).toEqual([{ reason: 'slow', detail: expect.stringContaining('10000 ms') }]);
  });

  it('measures maxSkipMs from the start of the current skip, not from an earlier one', () => {
    const { sub, sink } = make();
    sink.bufferedBytes = LIMITS.softBytes + 1;
    sub.deliver(inter(1, 0));
    vi.advanceTimersByTime(LIMITS.maxSkipMs - 1);
    sink.bufferedBytes = 0;
    sub.deliver(key(2, 40)); // recovered
    vi.advanceTimersByTime(LIMITS.maxSkipMs - 1);
    sink.bufferedBytes = LIMITS.softBytes + 1;
    sub.deliver(inter(3, 80)); // a new skip starts here
    vi.advanceTimersByTime(LIMITS.maxSkipMs - 1);
    sub.deliver(inter(4, 120));
    expect(sink.ends).toEqual([]);
    expect(sub.closed).toBe(false);
  });

  it('is safe to close twice: the sink is ended once and the owner told once', () => {
    const { sub, sink, onClose } = make();
    sub.close('closed', 'viewer left');
    sub.close('unpublished', 'publisher ended the stream');
    expect(sink.ends).toEqual([{ reason: 'closed', detail: 'viewer left' }]);
    expect(onClose).toHaveBeenCalledTimes(1);
  });

  it('writes the join sequence past the limits and counts the bytes sent', () => {
    const { sub, sink } = make();
    sink.bufferedBytes = LIMITS.hardBytes + 1;
    const tags = [vcfg(0), key(1, 0), inter(2, 40)];
    for (const t of tags) sub.writeAlways(t);
    expect(sink.tags).toEqual(tags);
    expect(sub.bytesSent).toBe(tags.reduce((n, t) => n + t.flv.length, 0));
    expect(sub.closed).toBe(false);
  });

  it('never lets a video frame through after a drop unless a keyframe came first, and never drops audio below hardBytes', () => {
    const step = fc.record({
      kind: fc.constantFrom('key', 'inter', 'audio'),
      buffered: fc.integer({ min: 0, max: LIMITS.hardBytes }),
    });
    fc.assert(
      fc.property(fc.array(step, { maxLength: 80 }), (script) => {
        const { sub, sink } = make({ ...LIMITS, maxSkipMs: Number.MAX_SAFE_INTEGER });
        let gapSinceDrop = false; // a video frame was dropped and no keyframe has been written since
        for (const [i, s] of script.entries()) {
          sink.bufferedBytes = s.buffered;
          const tag = s.kind === 'key' ? key(i, i) : s.kind === 'inter' ? inter(i, i) : audio(i, i);
          const before = sink.tags.length;
          sub.deliver(tag);
          const written = sink.tags.length > before;
          if (tag.type === 8) expect(written).toBe(true);
          if (tag.type === 9) {
            if (!written) gapSinceDrop = true;
            else if (tag.keyframe) gapSinceDrop = false;
            else expect(gapSinceDrop).toBe(false);
            if (!written) expect(sub.skipping).toBe(true);
          }
        }
        expect(sub.droppedTags).toBe(script.length - sink.tags.length);
      }),
    );
  });
});
