// The Enhanced RTMP end-to-end tests' bed: the clips, one gateway per test file, an audience on WS-FLV,
// HTTP-FLV and RTMP, and the byte-for-byte passthrough check (enhanced-rtmp-*.test.ts).
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import { decodeAmf0 } from '../../../server/amf/amf0.js';
import type { AmfObject } from '../../../server/amf/types.js';
import { parseVideoTagHeader } from '../../../server/media/video.js';
import { av1Clip, hevcClip, opusClip, type OpusClip, type VideoClip } from '../elementary.js';
import { EnhancedPublisher, RtmpPlayer, fourCcNumber, videoFourCc, type TimedMessage } from '../enhanced-publisher.js';
import { startTestGateway, type TestGateway } from '../gateway.js';
import { httpViewer, wsViewer, type TestViewer } from '../viewers.js';
import { waitFor } from '../wait.js';

interface Tag {
  type: number;
  timestamp: number;
  payload: Buffer;
}

export interface StreamSummary {
  name: string;
  video: { codec: string; width: number; height: number } | null;
  audio: { codec: string; sampleRate: number; channels: number } | null;
}

export let gw: TestGateway;
export let av1: VideoClip;
export let hevc: VideoClip;
export let opus: OpusClip;
const publishers: EnhancedPublisher[] = [];
const players: RtmpPlayer[] = [];
export const viewers: TestViewer[] = [];

/** Clips, one gateway for the calling file, and every publisher, player and viewer closed after each test. */
export function useEnhancedRtmpBed(): void {
  beforeAll(async () => {
    av1 = av1Clip();
    hevc = hevcClip();
    opus = opusClip();
    gw = await startTestGateway();
  });
  afterAll(() => gw.close());
  afterEach(async () => {
    for (const v of viewers.splice(0)) v.close();
    await Promise.all([...players.splice(0), ...publishers.splice(0)].map((c) => c.close()));
  });
}

export function metadataFor(video: VideoClip | null, audio: OpusClip | null): AmfObject {
  const m: AmfObject = { duration: 0, encoder: 'gateway-tests E-RTMP publisher' };
  if (video !== null) {
    Object.assign(m, { width: video.width, height: video.height, framerate: video.fps, videocodecid: fourCcNumber(videoFourCc(video)) });
  }
  if (audio !== null) Object.assign(m, { audiocodecid: fourCcNumber('Opus'), audiosamplerate: 48000, audiochannels: audio.channels, stereo: audio.channels === 2 });
  return m;
}

export async function publish(name: string, metadata: AmfObject | null): Promise<EnhancedPublisher> {
  const p = await EnhancedPublisher.publish(gw.rtmpUrl(name), { metadata });
  publishers.push(p);
  return p;
}

export const media = (tags: readonly Tag[]): Tag[] => tags.filter((t) => t.type === 8 || t.type === 9);

/** Is this a coded video frame whose frame type is key (what a viewer must start on)? */
function isKeyframeMessage(m: Tag): boolean {
  if (m.type !== 9) return false;
  const h = parseVideoTagHeader(m.payload);
  return (h.packetType === 'coded-frames' || h.packetType === 'other') && h.command === undefined && h.keyframe;
}

/** Differences between received and expected tags (type, timestamp, body bytes), at most 5 lines. */
function diffTags(label: string, got: readonly Tag[], want: readonly Tag[]): string[] {
  const out: string[] = [];
  if (got.length !== want.length) out.push(`${label}: ${got.length} audio/video tags, expected ${want.length}`);
  for (let i = 0; i < Math.min(got.length, want.length) && out.length < 5; i++) {
    const g = got[i]!;
    const w = want[i]!;
    if (g.type !== w.type || g.timestamp !== w.timestamp || !g.payload.equals(w.payload)) {
      out.push(`${label} tag ${i}: got type ${g.type} ts ${g.timestamp} ${g.payload.length} B ${g.payload.subarray(0, 8).toString('hex')}, ` +
        `expected type ${w.type} ts ${w.timestamp} ${w.payload.length} B ${w.payload.subarray(0, 8).toString('hex')}`);
    }
  }
  return out;
}

interface Audience {
  ws: TestViewer;
  http: TestViewer;
  rtmp: RtmpPlayer;
}

function received(a: Audience): Record<'ws' | 'http' | 'rtmp', Tag[]> {
  return { ws: media(a.ws.flv.tags), http: media(a.http.flv.tags), rtmp: media(a.rtmp.messages) };
}

export async function join(name: string): Promise<Audience> {
  // ?untouched=1: the stream exactly as published (browsers get a reduced form by default, see browser-feed.test).
  const ws = wsViewer(gw.wsUrl(`/${name}.flv?untouched=1`));
  const http = httpViewer(gw.httpUrl(`/${name}.flv?untouched=1`));
  viewers.push(ws, http);
  const rtmp = await RtmpPlayer.play(gw.rtmpUrl(name));
  players.push(rtmp);
  return { ws, http, rtmp };
}

/** Wait until every viewer's latest audio/video tag is `last`. */
async function allReceived(a: Audience, last: TimedMessage, what: string): Promise<void> {
  await waitFor(what, () => Object.values(received(a)).every((tags) => {
    const t = tags.at(-1);
    return t !== undefined && t.timestamp === last.timestamp && t.payload.equals(last.payload);
  }), 15_000, 10);
}

export async function apiStream(name: string): Promise<StreamSummary | undefined> {
  const res = await fetch(gw.httpUrl('/api/streams'));
  const body = (await res.json()) as { streams: StreamSummary[] };
  return body.streams.find((s) => s.name === name);
}

/**
 * The common scenario: publish the config messages and `before` (which holds a keyframe past the
 * first), wait until the hub cached that GOP, start a WS-FLV, an HTTP-FLV and an RTMP viewer, then
 * publish `after`. Each viewer must get the sequence headers (restamped to the GOP start), then
 * every message from the last keyframe of `before` on, byte for byte and at the same timestamps.
 */
export async function passthrough(name: string, opts: {
  metadata: AmfObject;
  configs: TimedMessage[];
  before: TimedMessage[];
  after: TimedMessage[];
}): Promise<{ publisher: EnhancedPublisher; audience: Audience; expected: Tag[] }> {
  const publisher = await publish(name, opts.metadata);
  await publisher.send([...opts.configs, ...opts.before]);
  const stream = await waitFor(`${name} live`, () => gw.hub.get(name));
  const lastBefore = opts.before.at(-1)!;
  await waitFor(`${name}: the hub cached the GOP`, () => stream.ready && stream.gop.tags.at(-1)?.body.equals(lastBefore.payload));

  const audience = await join(name);
  await allReceived(audience, lastBefore, `${name}: viewers got the cached GOP`);
  await publisher.send(opts.after);
  await allReceived(audience, opts.after.at(-1)!, `${name}: viewers got the live messages`);

  let k = -1;
  opts.before.forEach((m, i) => {
    if (isKeyframeMessage(m)) k = i;
  });
  const gopStart = opts.before[k]!.timestamp;
  const expected: Tag[] = [
    ...opts.configs.filter((c) => c.type === 9).map((c) => ({ ...c, timestamp: gopStart })),
    ...opts.configs.filter((c) => c.type === 8).map((c) => ({ ...c, timestamp: gopStart })),
    ...opts.before.slice(k),
    ...opts.after,
  ];
  const got = received(audience);
  expect([...diffTags('WS-FLV', got.ws, expected), ...diffTags('HTTP-FLV', got.http, expected), ...diffTags('RTMP', got.rtmp, expected)]).toEqual([]);
  return { publisher, audience, expected };
}

/** The FLV viewers' first tag is onMetaData with what the publisher sent (codec ids as FourCC numbers). */
export function expectMetadata(a: Audience, metadata: AmfObject): void {
  for (const tags of [a.ws.flv.tags, a.http.flv.tags]) {
    expect(tags[0]!.type).toBe(18);
    const [name, object] = decodeAmf0(tags[0]!.payload);
    expect(name).toBe('onMetaData');
    expect(object).toMatchObject(metadata);
  }
  const onMetaData = a.rtmp.messages.find((m) => m.type === 18 && m.payload.includes('onMetaData'));
  expect(onMetaData?.payload.equals(a.ws.flv.tags[0]!.payload)).toBe(true);
}

/** The first coded video frame after the sequence header is a keyframe, and the FLV checks pass. */
export function expectKeyframeStart(v: TestViewer): void {
  const first = v.flv.firstVideoFrame();
  expect(first).toBeDefined();
  const h = parseVideoTagHeader(first!.payload);
  expect(h).toMatchObject({ enhanced: true, keyframe: true, packetType: 'coded-frames' });
  const seq = v.flv.tags.findIndex((t) => t.type === 9 && parseVideoTagHeader(t.payload).packetType === 'sequence-start');
  expect(seq).toBeGreaterThanOrEqual(0);
  expect(seq).toBeLessThan(v.flv.tags.indexOf(first!));
  expect(v.flv.problems()).toEqual([]);
}

export const SPLIT_MS = 1500; // past the second keyframe (1000 ms), so viewers join on a cached GOP
