// True latency maps a presented frame's media time t to the gateway timeline as cue start + t
// (player/latency-clock.ts). That holds only while mpegts.js keeps the gaps of the byte stream in its
// media timeline. This runs mpegts.js's own FLV demuxer and MP4 remuxer (the code the page runs) on
// what a browser viewer of the gateway receives when the gateway skipped video for it (slow viewer)
// and when the publisher paused, and checks every remuxed video sample against the timeline.
import { beforeAll, describe, expect, it } from 'vitest';
import { LatencyClock, timelineStartOf } from '../../player/latency-clock.js';
import { BrowserFeed } from '../../server/hub/browser-feed.js';
import { TagType, type MediaTag } from '../../server/hub/media-tag.js';
import { flvFileHeader } from '../../server/media/flv.js';
import { AAC_SEQ_44100, AVC_SEQ_320X240, FakeSink, aacFrame, avcInter, avcKey, makeStream } from '../hub/fixtures.js';

interface SampleInfo { dts: number; pts: number; originalDts: number }
interface Segment { info: { firstSample: SampleInfo; lastSample: SampleInfo; syncPoints: SampleInfo[] } }
type Ctor = new (...args: unknown[]) => Record<string, unknown> & { parseChunks(chunk: ArrayBuffer, byteStart: number): number };
let FLVDemuxer: Ctor & { probe(buffer: ArrayBuffer): unknown };
let MP4Remuxer: Ctor;

beforeAll(async () => {
  // mpegts.js's modules read these browser globals when they load.
  const g = globalThis as Record<string, unknown>;
  g['self'] ??= globalThis;
  g['navigator'] ??= { userAgent: 'node' };
  FLVDemuxer = (await import('../../node_modules/mpegts.js/src/demux/flv-demuxer.js' as string)).default;
  MP4Remuxer = (await import('../../node_modules/mpegts.js/src/remux/mp4-remuxer.js' as string)).default;
});

const FPS = 30;
/** The publisher's clock starts at 5 s; the gateway's timeline at 0 (timelineTs). */
const videoTs = (i: number): number => 5000 + Math.round((i * 1000) / FPS);
const audioTs = (j: number): number => 5000 + Math.round((j * 1024 * 1000) / 44100);
const timelineTs = (publisherTs: number): number => publisherTs - 5000;

/**
 * A publisher sends 200 video frames (a keyframe every 30) and the audio beside them; a browser
 * viewer joins at the start. `slowVideo` frames find the viewer's socket backlogged, `paused` ones
 * are never sent. Returns the viewer's FLV bytes and the timeline timestamps of its video frames.
 */
function viewerBytes(o: { slowVideo?: (i: number) => boolean; paused?: (ms: number) => boolean }): { bytes: Buffer; videoTimestamps: number[] } {
  const { stream } = makeStream();
  stream.push(9, 5000, AVC_SEQ_320X240);
  stream.push(8, 5000, AAC_SEQ_44100);
  const sink = new FakeSink();
  const sends: { t: number; type: 8 | 9; i: number }[] = [];
  for (let i = 0; i < 200; i++) sends.push({ t: videoTs(i), type: 9, i });
  for (let j = 0; audioTs(j) <= videoTs(199); j++) sends.push({ t: audioTs(j), type: 8, i: j });
  sends.sort((a, b) => a.t - b.t || a.type - b.type);
  for (const s of sends) {
    if (o.paused?.(s.t) === true) continue;
    if (s.type === 9) {
      sink.bufferedBytes = o.slowVideo?.(s.i) === true ? 2000 : 0; // over the test's soft limit, under its hard one
      stream.push(9, s.t, s.i % 30 === 0 ? avcKey(s.i & 0xff) : avcInter(s.i & 0xff));
      if (s.i === 0) stream.subscribe(sink);
    } else {
      stream.push(8, s.t, aacFrame(s.i & 0xff));
    }
  }
  const out: Buffer[] = [flvFileHeader(true, true)];
  const feed = new BrowserFeed();
  for (const tag of sink.tags) feed.deliver(tag, { send: (t: MediaTag) => out.push(t.flv) });
  const videoTimestamps = sink.tags.filter((t) => t.type === TagType.Video && !t.config).map((t) => t.timestamp);
  return { bytes: Buffer.concat(out), videoTimestamps };
}

/** Runs the bytes through mpegts.js in ~1 KB pieces, as the network hands them over; returns the clock and the video segments. */
function playInMpegts(bytes: Buffer): { clock: LatencyClock; segments: Segment[] } {
  const ab = (b: Buffer): ArrayBuffer => b.buffer.slice(b.byteOffset, b.byteOffset + b.length) as ArrayBuffer;
  const config = { isLive: true, fixAudioTimestampGap: true };
  const demux = new FLVDemuxer(FLVDemuxer.probe(ab(bytes)), config);
  const remux = new MP4Remuxer(config);
  (remux['bindDataSource'] as (d: unknown) => void).call(remux, demux);
  const clock = new LatencyClock();
  const segments: Segment[] = [];
  demux['onMediaInfo'] = () => {};
  demux['onMetaDataArrived'] = () => {};
  demux['onScriptDataArrived'] = (d: unknown) => {
    const start = timelineStartOf(d);
    if (start !== null) clock.setTimelineStart(start);
  };
  demux['onError'] = (type: unknown, info: unknown) => {
    throw new Error(`mpegts.js demux error ${String(type)} ${JSON.stringify(info)}`);
  };
  remux['onInitSegment'] = () => {};
  remux['onMediaSegment'] = (type: string, segment: Segment) => {
    if (type === 'video') segments.push(segment);
  };
  let stash = Buffer.alloc(0);
  let stashStart = 0;
  for (let pos = 0; pos < bytes.length; pos += 1000) {
    const merged = Buffer.concat([stash, bytes.subarray(pos, pos + 1000)]);
    const consumed = demux.parseChunks(ab(merged), stashStart);
    stash = merged.subarray(consumed);
    stashStart += consumed;
  }
  return { clock, segments };
}

/** The samples a segment tells of: its first and last, and its keyframes. */
function samplesOf(segments: Segment[]): SampleInfo[] {
  return segments.flatMap((s) => [s.info.firstSample, s.info.lastSample, ...s.info.syncPoints]);
}

/** Every remuxed video sample's media time, through the clock, must be a frame the viewer got. */
function expectOnTimeline(r: { clock: LatencyClock; segments: Segment[] }, videoTimestamps: number[]): void {
  expect(r.segments.length).toBeGreaterThan(5);
  const got = new Set(videoTimestamps);
  const mapped = samplesOf(r.segments).map((x) => r.clock.timelineOf(x.pts / 1000));
  expect(mapped.filter((ts) => ts === null || !got.has(Math.round(ts)))).toEqual([]);
}

describe('media time -> gateway timeline through mpegts.js', () => {
  it('holds across the video a slow viewer skipped: the frame after the gap maps to its own timestamp', () => {
    const { bytes, videoTimestamps } = viewerBytes({ slowVideo: (i) => i >= 40 && i < 90 });
    // the gateway skipped frames 40..89 and resumed at the keyframe 90
    expect(videoTimestamps).toContain(timelineTs(videoTs(39)));
    expect(videoTimestamps).not.toContain(timelineTs(videoTs(40)));
    expect(videoTimestamps).toContain(timelineTs(videoTs(90)));
    const r = playInMpegts(bytes);
    expectOnTimeline(r, videoTimestamps);
    // the keyframe after the gap keeps its own time
    const mapped = r.segments.flatMap((seg) => seg.info.syncPoints).map((x) => r.clock.timelineOf(x.pts / 1000));
    expect(mapped).toContain(timelineTs(videoTs(90)));
  });

  it('holds across a publisher pause of both tracks', () => {
    const { bytes, videoTimestamps } = viewerBytes({ paused: (ms) => ms > videoTs(60) && ms < videoTs(60) + 1500 });
    const r = playInMpegts(bytes);
    expectOnTimeline(r, videoTimestamps);
  });
});
