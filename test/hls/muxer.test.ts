// The HLS muxer as a hub sink: when it starts (configs + keyframe), what it refuses, when a config
// change starts a new period, and its bounded set of waiting requests.
import { describe, expect, it } from 'vitest';
import { HlsMuxer, opusDops } from '../../server/hls/muxer.js';
import { MediaTag } from '../../server/hub/media-tag.js';
import { defaultOptions } from '../../server/options.js';
import { AAC_SEQ_44100, AAC_SEQ_48000, AVC_SEQ_320X240, aacFrame, avcInter, avcKey, hex } from '../hub/fixtures.js';
import { segmenterOptions } from './helpers.js';
import { child, readBoxes } from './mp4-reader.js';

const MAX_WAITS = defaultOptions().hls.maxWaitsPerStream;
const video = (ts: number, body: Buffer, key = false, config = false) => new MediaTag(9, ts, body, key, config);
const audio = (ts: number, body: Buffer, config = false) => new MediaTag(8, ts, body, false, config);

/** 30 fps video with a keyframe every second, and AAC frames, from `from` to `to` ms. */
function feed(m: HlsMuxer, from: number, to: number, withAudio = true): void {
  for (let i = Math.ceil((from * 30) / 1000); (i * 1000) / 30 < to; i++) {
    const ts = Math.round((i * 1000) / 30);
    if (withAudio) m.write(audio(ts, aacFrame(i)));
    m.write(i % 30 === 0 ? video(ts, avcKey(i), true) : video(ts, avcInter(i)));
  }
}

function started(hasAudio = true): HlsMuxer {
  const m = new HlsMuxer(segmenterOptions({ partTargetMs: 300, segmentMinMs: 1000 }), MAX_WAITS);
  m.begin(hasAudio, true);
  m.write(video(0, AVC_SEQ_320X240, false, true));
  if (hasAudio) m.write(audio(0, AAC_SEQ_44100, true));
  return m;
}

describe('HlsMuxer', () => {
  it('starts at the first keyframe once the announced tracks have configs, with an avc1 + mp4a init', () => {
    const m = started();
    m.write(video(0, avcInter(0)));
    expect(m.segmenter).toBeNull();
    feed(m, 0, 2100);
    expect(m.segmenter).not.toBeNull();
    const moov = readBoxes(m.init!)[1]!;
    const entries = readBoxes(moov.body).filter((b) => b.type === 'trak').map((t) => readBoxes(child(t, ['mdia', 'minf', 'stbl', 'stsd']).body, 8)[0]!.type);
    expect(entries).toEqual(['avc1', 'mp4a']);
    expect(m.segmenter!.segments.filter((s) => s.complete)).toHaveLength(2);
  });

  it('a blocked wait resolves when its part is made, and not before', async () => {
    const m = started();
    feed(m, 0, 500);
    const order: string[] = [];
    const last = m.segmenter!.lastPart!;
    const wait = m.waitForPart(last.msn, last.index + 1, 60_000).then((ok) => order.push(`resolved ${ok}`));
    m.segmenter!.on('part', (p) => order.push(`part ${p.msn}.${p.index}`));
    await Promise.resolve();
    expect(order).toEqual([]);
    feed(m, 500, 1000);
    await wait;
    expect(order[0]).toBe(`part ${last.msn}.${last.index + 1}`);
    expect(order).toContain('resolved true');
    expect(m.waiting).toBe(0);
  });

  it('waits time out false, stop on abort, are capped, and all end when the stream ends', async () => {
    const m = new HlsMuxer(segmenterOptions(), 2);
    m.begin(false, true);
    expect(await m.waitForPart(0, 0, 10)).toBe(false);
    const ctl = new AbortController();
    const aborted = m.waitForPart(0, 0, 60_000, ctl.signal);
    const ended = m.waitForPart(0, 1, 60_000);
    expect(await m.waitForPart(0, 2, 60_000)).toBe(false); // over the cap of 2
    ctl.abort();
    expect(await aborted).toBe(false);
    m.end('unpublished');
    expect(await ended).toBe(false);
    expect(m.waiting).toBe(0);
  });

  it('starts a new period (new epoch and init, one more discontinuity) at the next keyframe when a config changes, not when it is repeated', () => {
    const m = started();
    feed(m, 0, 1100);
    const first = m.epoch;
    m.write(video(1100, AVC_SEQ_320X240, false, true));
    m.write(audio(1100, AAC_SEQ_44100, true));
    feed(m, 1100, 2100);
    expect(m.epoch).toBe(first);
    const before = m.segmenter!.segments.length;
    m.write(audio(2100, AAC_SEQ_48000, true));
    // still the old period until the next keyframe (at 3000 ms)
    feed(m, 2100, 2900);
    expect(m.epoch).toBe(first);
    feed(m, 2900, 4100);
    expect(m.epoch).not.toBe(first);
    const segs = m.segmenter!.segments;
    const firstNew = segs.find((x) => x.epoch === m.epoch)!;
    expect(firstNew.startMs).toBe(3000);
    expect(firstNew.discontinuity).toBe(1);
    expect(segs.filter((x) => x.epoch === first).every((x) => x.complete && x.discontinuity === 0)).toBe(true);
    expect(segs.length).toBeGreaterThan(before);
    // the msn goes on across the period
    expect(firstNew.msn).toBe(segs[segs.indexOf(firstNew) - 1]!.msn + 1);
    // both inits are served while listed; the new one carries the 48 kHz config
    const mp4a = (init: Buffer) => readBoxes(child(readBoxes(readBoxes(init)[1]!.body).filter((b) => b.type === 'trak')[1]!, ['mdia', 'minf', 'stbl', 'stsd']).body, 8)[0]!;
    expect(mp4a(m.initFor(first)!).body.readUInt32BE(24) >>> 16).toBe(44100);
    expect(mp4a(m.initFor(m.epoch)!).body.readUInt32BE(24) >>> 16).toBe(48000);
    expect(m.init).toBe(m.initFor(m.epoch));
    expect(m.knows('00000000')).toBe(false);
  });

  it('marks a stream with unsupported video as unsupported, which ends waits at once', async () => {
    const m = new HlsMuxer(segmenterOptions(), MAX_WAITS);
    m.begin(false, true);
    const wait = m.waitForPart(0, null, 60_000);
    // VP6 (codec id 4), a keyframe
    m.write(video(0, hex('14 00 1122'), true));
    expect(m.unsupported).toMatch(/not H\.264 or HEVC/);
    expect(await wait).toBe(true);
  });

  it('starts without audio when an announced audio track sends no config for 3 s', () => {
    const m = new HlsMuxer(segmenterOptions(), MAX_WAITS);
    m.begin(true, true);
    m.write(video(0, AVC_SEQ_320X240, false, true));
    feed(m, 0, 2500, false);
    expect(m.segmenter).toBeNull();
    feed(m, 2500, 3100, false);
    expect(m.segmenter).not.toBeNull();
    expect(m.segmenter!.audio).toBeNull();
  });

  it('turns an OpusHead into a dOps body (big-endian, no magic)', () => {
    const head = hex('4f70757348656164 01 02 3801 80bb0000 0000 00');
    expect(opusDops(head)).toEqual(hex('00 02 0138 0000bb80 0000 00'));
    expect(opusDops(hex('00 02 0138 0000bb80 0000 00'))).toEqual(hex('00 02 0138 0000bb80 0000 00'));
    expect(opusDops(hex('4f707573'))).toBeNull();
  });
});
