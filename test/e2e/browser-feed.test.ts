// Issue 15: a stream with the Enhanced RTMP extras OBS sends (multitrack video and audio, a video
// Metadata colorInfo packet before every keyframe, ModEx-wrapped frames) plays on the demo page in
// Chromium, because browsers get the browser-safe form (track 0 as plain packets, the rest left
// out), while an RTMP player, a recording and an `?untouched=1` viewer get every message byte for byte.
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeAmf0, encodeAmf0 } from '../../server/amf/amf0.js';
import type { AmfObject } from '../../server/amf/types.js';
import { TIMELINE_CUE_NAME } from '../../server/hub/browser-feed.js';
import { launchBrowser, type TestBrowser } from '../support/browser.js';
import { av1Clip, opusClip, type OpusClip, type VideoClip } from '../support/elementary.js';
import {
  AudioPacketType, AvMultitrackType, EnhancedPublisher, FrameType, RtmpPlayer, VideoPacketType,
  exAudioBody, exAudioMultitrackBody, exVideoBody, exVideoModExBody, exVideoMultitrackBody, fourCcNumber, interleave, type TimedMessage,
} from '../support/enhanced-publisher.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { wsViewer } from '../support/viewers.js';
import { waitFor } from '../support/wait.js';
import { readFlv, tempDir } from '../record/helpers.js';

let gw: TestGateway;
let av1: VideoClip;
let opus: OpusClip;
let browser: TestBrowser;
const tmp = tempDir('browser-feed');

beforeAll(async () => {
  av1 = av1Clip();
  opus = opusClip();
  gw = await startTestGateway({ 'record-dir': tmp.dir, record: ['mt/*'] });
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  await gw?.close();
  tmp.remove();
});

const COLOR_INFO = encodeAmf0(['colorInfo', { colorConfig: { bitDepth: 8, colorPrimaries: 1, transferCharacteristics: 1, matrixCoefficients: 1 } }]);

/** Video metadata packet (E-RTMP v2 PacketType 4) with colorInfo, as OBS sends before keyframes. */
function colorInfo(timestamp: number): TimedMessage {
  return { type: 9, timestamp, payload: Buffer.concat([Buffer.from([0x80 | (FrameType.Key << 4) | VideoPacketType.Metadata]), Buffer.from('av01', 'latin1'), COLOR_INFO]) };
}

/**
 * Laid out as OBS sends multitrack: track 0 as plain Enhanced RTMP packets, track 1 (here the same
 * AV1 and Opus again) as OneTrack multitrack messages, a colorInfo Metadata packet before every
 * keyframe; every 7th inter frame of track 0 is wrapped in a ModEx prefix. Configs in join order.
 */
function obsMessages(): { configs: TimedMessage[]; loop: TimedMessage[] } {
  const track1 = (data: Buffer) => [{ trackId: 1, data }];
  const configs: TimedMessage[] = [
    { type: 9, timestamp: 0, payload: exVideoBody({ frameType: FrameType.Key, packetType: VideoPacketType.SequenceStart, fourcc: 'av01', data: av1.config }) },
    { type: 8, timestamp: 0, payload: exAudioBody(AudioPacketType.SequenceStart, 'Opus', opus.head) },
    { type: 9, timestamp: 0, payload: exVideoMultitrackBody({ frameType: FrameType.Key, multitrackType: AvMultitrackType.OneTrack, packetType: VideoPacketType.SequenceStart, fourcc: 'av01', tracks: track1(av1.config) }) },
    { type: 8, timestamp: 0, payload: exAudioMultitrackBody({ multitrackType: AvMultitrackType.OneTrack, packetType: AudioPacketType.SequenceStart, fourcc: 'Opus', tracks: track1(opus.head) }) },
  ];
  const video: TimedMessage[] = [];
  av1.frames.forEach((f, i) => {
    const ts = f.timestamp;
    if (f.keyframe) video.push(colorInfo(ts));
    const frameType = f.keyframe ? FrameType.Key : FrameType.Inter;
    const v = { frameType, packetType: VideoPacketType.CodedFrames, fourcc: 'av01' as const, data: f.data };
    video.push({ type: 9, timestamp: ts, payload: !f.keyframe && i % 7 === 0 ? exVideoModExBody(v, 1000) : exVideoBody(v) });
    video.push({ type: 9, timestamp: ts, payload: exVideoMultitrackBody({ frameType, multitrackType: AvMultitrackType.OneTrack, packetType: VideoPacketType.CodedFrames, fourcc: 'av01', tracks: track1(f.data) }) });
  });
  const audio = opus.packets.filter((p) => p.timestamp < av1.durationMs).flatMap((p): TimedMessage[] => [
    { type: 8, timestamp: p.timestamp, payload: exAudioBody(AudioPacketType.CodedFrames, 'Opus', p.data) },
    { type: 8, timestamp: p.timestamp, payload: exAudioMultitrackBody({ multitrackType: AvMultitrackType.OneTrack, packetType: AudioPacketType.CodedFrames, fourcc: 'Opus', tracks: track1(p.data) }) },
  ]);
  return { configs, loop: interleave(video, audio) };
}

function metadata(): AmfObject {
  return { width: av1.width, height: av1.height, framerate: av1.fps, videocodecid: fourCcNumber('av01'), audiocodecid: fourCcNumber('Opus'), audiosamplerate: 48000, audiochannels: opus.channels, stereo: opus.channels === 2 };
}

const hexes = (payloads: Buffer[]): string[] => payloads.map((p) => p.toString('hex'));

describe('browser feed', () => {
  it('multitrack + colorInfo + ModEx plays on the page in Chromium; RTMP, recording and ?untouched=1 get every byte', { timeout: 150_000 }, async () => {
    const name = 'mt/obs';
    const publisher = await EnhancedPublisher.publish(gw.rtmpUrl(name), { metadata: metadata() });
    const { configs, loop } = obsMessages();
    await publisher.send(configs);
    // Everyone joins before the first frame, so each must get every message from the first keyframe on.
    // (RTMP play answers NetStream.Play.Start only once the stream has a keyframe.)
    const playing = RtmpPlayer.play(gw.rtmpUrl(name));
    const untouched = wsViewer(gw.wsUrl(`/${name}.flv?untouched=1`));
    const safe = wsViewer(gw.wsUrl(`/${name}.flv`));
    const recording = await waitFor('auto recording', () => gw.recorder.get(name));
    await waitFor('recorder, RTMP and WS viewers waiting', () => gw.hub.get(name)!.waiting.size === 4);
    const looping = publisher.loop(loop, av1.durationMs);
    const rtmp = await playing;
    await waitFor(`${name} ready`, () => gw.hub.get(name)?.ready);

    for (const proto of ['ws', 'http']) {
      const tp = await browser.open(gw.httpUrl(`/?stream=${name}&proto=${proto}`));
      const stats = (): Promise<{ state: string; decodedFrames: number; currentTime: number } | null> =>
        tp.page.evaluate('window.__player ? window.__player.stats() : null') as Promise<never>;
      const describe = async (): Promise<string> => JSON.stringify({ stats: await stats(), errors: tp.errors.map((e) => e.message), console: tp.console.slice(-8) });
      const first = await waitFor(`${proto}: frames decoded`, async () => {
        const s = await stats();
        return s !== null && s.state === 'playing' && s.decodedFrames > 0 ? s : undefined;
      }, 30_000, 100).catch(async (err: Error) => { throw new Error(`${err.message}: ${await describe()}`); });
      await waitFor(`${proto}: frames advance`, async () => {
        const s = await stats();
        // 'playing' at the moment of a reading: a 0.2 s live buffer may dip into 'buffering' for a beat.
        return s !== null && s.state === 'playing' && s.decodedFrames >= first.decodedFrames + 30 && s.currentTime > first.currentTime + 0.5;
      }, 20_000, 100).catch(async (err: Error) => { throw new Error(`${err.message}: ${await describe()}`); });
      expect(tp.errors.map((e) => e.message)).toEqual([]);
      await tp.close();
    }

    await looping.stop();
    const sent = publisher.sent.filter((m) => m.type !== 18);
    const last = sent.at(-1)!;
    await waitFor('viewers got the last message', () =>
      rtmp.media().at(-1)?.payload.equals(last.payload) && untouched.flv.tags.at(-1)?.payload.equals(last.payload), 15_000, 20);
    await publisher.close();
    const done = await recording.done;

    // The publisher's messages from the first video keyframe on, configs first (the join sequence).
    const firstKey = sent.findIndex((m) => m.type === 9 && m.payload[0] === (0x80 | (FrameType.Key << 4) | VideoPacketType.CodedFrames));
    const want = hexes([...configs.map((m) => m.payload), ...sent.slice(firstKey).map((m) => m.payload)]);
    const media = <T extends { type: number; payload: Buffer }>(tags: T[]) => hexes(tags.filter((t) => t.type === 8 || t.type === 9).map((t) => t.payload));
    expect(media(rtmp.messages)).toEqual(want);
    expect(media(untouched.flv.tags)).toEqual(want);
    expect(media(readFlv(path.join(tmp.dir, done.name!)).tags)).toEqual(want);

    // The browser feed: track 0 as plain packets, no Metadata, ModEx or multitrack; a timeline cue first.
    const safeMedia = safe.flv.tags.filter((t) => t.type === 8 || t.type === 9);
    expect(safe.flv.error).toBeNull();
    expect(safeMedia.every((t) => t.type === 9 ? (t.payload[0]! & 0x0f) <= 3 : (t.payload[0]! & 0x0f) <= 2)).toBe(true);
    const plainVideo = sent.slice(firstKey).filter((m) => m.type === 9 && ([VideoPacketType.CodedFrames, VideoPacketType.ModEx] as number[]).includes(m.payload[0]! & 0x0f));
    expect(safeMedia.filter((t) => t.type === 9).length).toBe(1 + plainVideo.length);
    expect(safeMedia[0]!.payload.equals(configs[0]!.payload)).toBe(true);
    expect(safeMedia[1]!.payload.equals(configs[1]!.payload)).toBe(true);
    const cue = safe.flv.tags.find((t) => t.type === 18 && decodeAmf0(t.payload)[0] === 'onCuePoint')!;
    expect(decodeAmf0(cue.payload)[1]).toMatchObject({ name: TIMELINE_CUE_NAME, parameters: { start: safeMedia[2]!.timestamp } });
    untouched.close();
    safe.close();
    await rtmp.close();
  });

  it('a stream whose video and audio come only as multitrack (track 0) is ready and plays on the page in Chromium', { timeout: 120_000 }, async () => {
    const name = 'mto/only';
    const track0 = (data: Buffer) => [{ trackId: 0, data }];
    const configs: TimedMessage[] = [
      { type: 9, timestamp: 0, payload: exVideoMultitrackBody({ frameType: FrameType.Key, multitrackType: AvMultitrackType.OneTrack, packetType: VideoPacketType.SequenceStart, fourcc: 'av01', tracks: track0(av1.config) }) },
      { type: 8, timestamp: 0, payload: exAudioMultitrackBody({ multitrackType: AvMultitrackType.OneTrack, packetType: AudioPacketType.SequenceStart, fourcc: 'Opus', tracks: track0(opus.head) }) },
    ];
    const video = av1.frames.map((f): TimedMessage => ({
      type: 9, timestamp: f.timestamp,
      payload: exVideoMultitrackBody({ frameType: f.keyframe ? FrameType.Key : FrameType.Inter, multitrackType: AvMultitrackType.OneTrack, packetType: VideoPacketType.CodedFrames, fourcc: 'av01', tracks: track0(f.data) }),
    }));
    const audio = opus.packets.filter((p) => p.timestamp < av1.durationMs).map((p): TimedMessage => ({
      type: 8, timestamp: p.timestamp,
      payload: exAudioMultitrackBody({ multitrackType: AvMultitrackType.OneTrack, packetType: AudioPacketType.CodedFrames, fourcc: 'Opus', tracks: track0(p.data) }),
    }));
    const publisher = await EnhancedPublisher.publish(gw.rtmpUrl(name), { metadata: metadata() });
    await publisher.send(configs);
    const looping = publisher.loop(interleave(video, audio), av1.durationMs);
    // Readiness needs a cached keyframe: here only multitrack messages can give one.
    await waitFor(`${name} ready`, () => gw.hub.get(name)?.ready, 20_000);
    const safe = wsViewer(gw.wsUrl(`/${name}.flv`));
    const tp = await browser.open(gw.httpUrl(`/?stream=${name}&proto=ws`));
    const stats = (): Promise<{ state: string; decodedFrames: number; currentTime: number } | null> =>
      tp.page.evaluate('window.__player ? window.__player.stats() : null') as Promise<never>;
    const describe = async (): Promise<string> => JSON.stringify({ stats: await stats(), errors: tp.errors.map((e) => e.message), console: tp.console.slice(-8) });
    const first = await waitFor('frames decoded', async () => {
      const s = await stats();
      return s !== null && s.state === 'playing' && s.decodedFrames > 0 ? s : undefined;
    }, 30_000, 100).catch(async (err: Error) => { throw new Error(`${err.message}: ${await describe()}`); });
    await waitFor('frames advance', async () => {
      const s = await stats();
      return s !== null && s.state === 'playing' && s.decodedFrames >= first.decodedFrames + 30 && s.currentTime > first.currentTime + 0.5;
    }, 20_000, 100).catch(async (err: Error) => { throw new Error(`${err.message}: ${await describe()}`); });
    expect(tp.errors.map((e) => e.message)).toEqual([]);
    await tp.close();
    // The browser feed starts with track 0's sequence start as a plain packet, then a keyframe.
    await waitFor('the viewer has video frames', () => safe.flv.videoFrames().length > 10);
    const safeVideo = safe.flv.tags.filter((t) => t.type === 9);
    expect(safeVideo[0]!.payload[0]).toBe(0x80 | (FrameType.Key << 4) | VideoPacketType.SequenceStart);
    expect(safeVideo[1]!.payload[0]).toBe(0x80 | (FrameType.Key << 4) | VideoPacketType.CodedFrames);
    expect(safe.flv.problems()).toEqual([]);
    safe.close();
    await looping.stop();
    await publisher.close();
  });
});
