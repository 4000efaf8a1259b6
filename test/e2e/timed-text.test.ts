// Timed text: a cue posted to the API reaches HTTP-FLV, WS-FLV and RTMP viewers (rtmpdump) and the
// recording as an onTextData script tag on the stream's timeline; a publisher's own onTextData,
// onCuePoint and onCaptionInfo pass through the same way.
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { decodeAmf0, encodeAmf0 } from '../../server/amf/amf0.js';
import { TIMELINE_CUE_NAME } from '../../server/hub/browser-feed.js';
import { FlvDemuxer, type FlvTag } from '../../server/media/flv.js';
import { EnhancedPublisher } from '../support/enhanced-publisher.js';
import { ffprobe, publish, run, testSource, type Proc } from '../support/ffmpeg.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { httpViewer, wsViewer, type TestViewer } from '../support/viewers.js';
import { waitFor } from '../support/wait.js';
import { readFlv, tempDir } from '../record/helpers.js';

const TOKEN = 'text-token';
const auth = { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' };
const procs: Proc[] = [];
const viewers: TestViewer[] = [];
afterEach(async () => {
  for (const v of viewers.splice(0)) v.close();
  await Promise.all(procs.splice(0).map((p) => p.stop()));
});

function scriptName(t: FlvTag): unknown {
  return t.type === 18 ? decodeAmf0(t.payload)[0] : undefined;
}

function textTags(tags: FlvTag[]): { index: number; tag: FlvTag; values: unknown[] }[] {
  return tags.flatMap((tag, index) => (scriptName(tag) === 'onTextData' ? [{ index, tag, values: decodeAmf0(tag.payload) }] : []));
}

async function postText(gw: TestGateway, name: string, body: unknown, headers: Record<string, string> = auth): Promise<Response> {
  return fetch(gw.httpUrl(`/api/streams/${name}/text`), { method: 'POST', headers, body: JSON.stringify(body) });
}

describe('timed text through the API', () => {
  let gw: TestGateway;
  const rec = tempDir('text');
  beforeAll(async () => {
    testSource();
    gw = await startTestGateway({ 'api-token': TOKEN, 'record-dir': rec.dir, record: ['rec/*'] });
  });
  afterAll(async () => {
    await gw.close();
    rec.remove();
  });

  it('a cue reaches HTTP-FLV and WS-FLV viewers as onTextData between the media tags, at the live position', async () => {
    procs.push(publish(gw.rtmpUrl('live/text')));
    await waitFor('stream ready', () => gw.hub.get('live/text')?.ready === true);
    const web = httpViewer(gw.httpUrl('/live/text.flv'));
    const ws = wsViewer(gw.wsUrl('/live/text.flv'));
    viewers.push(web, ws);
    await waitFor('both viewers playing', () => web.flv.videoFrames().length > 10 && ws.flv.videoFrames().length > 10);

    const res = await postText(gw, 'live/text', { text: 'Hello, viewers', lang: 'en', durationMs: 3000 });
    expect(res.status).toBe(201);
    const answer = (await res.json()) as { timestamp: number; text: string };
    expect(answer).toMatchObject({ stream: 'live/text', text: 'Hello, viewers', lang: 'en', durationMs: 3000 });
    expect(answer.timestamp).toBeGreaterThan(0);

    for (const v of [web, ws]) {
      const [cue] = await waitFor('the cue and media after it', () => {
        const found = textTags(v.flv.tags);
        return found.length === 1 && v.flv.tags.length > found[0]!.index + 5 ? found : false;
      });
      // Browser viewers' copy also carries its own timestamp (mpegts.js does not pass it to the page).
      expect(cue!.values).toEqual(['onTextData', { text: 'Hello, viewers', language: 'en', trackid: 1, durationMs: 3000, gatewayTimestamp: answer.timestamp }]);
      expect(cue!.tag.timestamp).toBe(answer.timestamp);
      const media = v.flv.tags.map((t, i) => ({ t, i })).filter(({ t }) => t.type === 8 || t.type === 9);
      const before = media.filter(({ i }) => i < cue!.index);
      const after = media.filter(({ i }) => i > cue!.index);
      // The live position: the newest media timestamp sent before it, and nothing after it is earlier.
      expect(Math.max(...before.map(({ t }) => t.timestamp))).toBe(cue!.tag.timestamp);
      expect(after.length).toBeGreaterThan(0);
      for (const { t } of after) expect(t.timestamp).toBeGreaterThanOrEqual(cue!.tag.timestamp);
      expect(v.flv.problems()).toEqual([]);
    }
  });

  it('an RTMP player (rtmpdump) writes the cue into its FLV file', async () => {
    procs.push(publish(gw.rtmpUrl('live/dumptext')));
    await waitFor('stream ready', () => gw.hub.get('live/dumptext')?.ready === true);
    const out = path.join(mkdtempSync(path.join(os.tmpdir(), 'gw-text-')), 'out.flv');
    const dump = run('rtmpdump', ['-q', '-v', '-r', gw.rtmpUrl('live/dumptext'), '-o', out]);
    procs.push(dump);
    const stream = gw.hub.get('live/dumptext')!;
    await waitFor('rtmpdump receiving', () => [...stream.subscribers].some((s) => s.bytesSent > 200_000));
    const res = await postText(gw, 'live/dumptext', { text: 'over RTMP' });
    expect(res.status).toBe(201);
    const { timestamp } = (await res.json()) as { timestamp: number };
    const sub = [...stream.subscribers][0]!;
    const sentAtCue = sub.bytesSent;
    await waitFor('more media after the cue', () => sub.bytesSent > sentAtCue + 200_000);
    await dump.stop();
    const tags = new FlvDemuxer().push(readFileSync(out));
    const cues = textTags(tags);
    expect(cues.map((c) => c.values)).toEqual([['onTextData', { text: 'over RTMP', language: 'und', trackid: 1 }]]);
    // rtmpdump rebases the file to its first tag; the cue keeps its place relative to the media.
    const first = tags.find((t) => t.type === 9)!;
    expect(cues[0]!.tag.timestamp).toBeGreaterThan(first.timestamp);
    expect(tags.slice(0, cues[0]!.index).some((t) => t.type === 9)).toBe(true);
    expect(tags.slice(cues[0]!.index + 1).some((t) => t.type === 9)).toBe(true);
    expect(timestamp).toBeGreaterThan(0);
    const probe = await ffprobe(out);
    // FFmpeg's FLV reader turns onTextData into a subtitle stream of its own.
    expect(probe.streams.map((s) => `${s.codec_type}:${s.codec_name}`).sort()).toEqual(['audio:aac', 'subtitle:text', 'video:h264']);
  });

  it('the recording of the stream contains the cue', async () => {
    const p = publish(gw.rtmpUrl('rec/cam'));
    procs.push(p);
    const recording = await waitFor('recording', () => gw.recorder.get('rec/cam'));
    await waitFor('1 s recorded', () => recording.lastTimestamp >= 1000, 30_000);
    expect((await postText(gw, 'rec/cam', { text: 'in the file' })).status).toBe(201);
    const at = recording.lastTimestamp;
    await waitFor('more recorded', () => recording.lastTimestamp >= at + 500, 30_000);
    await p.stop();
    const done = await recording.done;
    const back = readFlv(path.join(rec.dir, done.name!));
    expect(textTags(back.tags).map((c) => c.values[1])).toEqual([{ text: 'in the file', language: 'und', trackid: 1 }]);
    expect(back.problems).toEqual([]);
  });

  it('bad requests get clear errors: token, unknown stream, invalid body, wrong type, too large', async () => {
    procs.push(publish(gw.rtmpUrl('live/badtext')));
    await waitFor('stream ready', () => gw.hub.get('live/badtext')?.ready === true);
    expect((await postText(gw, 'live/badtext', { text: 'x' }, { 'Content-Type': 'application/json' })).status).toBe(401);
    const missing = await postText(gw, 'live/nothing', { text: 'x' });
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ error: 'not-found' });
    const invalid = await postText(gw, 'live/badtext', { text: '' });
    expect(invalid.status).toBe(400);
    expect(((await invalid.json()) as { message: string }).message).toMatch(/"text"/);
    const notJson = await fetch(gw.httpUrl('/api/streams/live/badtext/text'), { method: 'POST', headers: auth, body: '{"text":' });
    expect(notJson.status).toBe(400);
    expect(((await notJson.json()) as { message: string }).message).toMatch(/not valid JSON/);
    const plain = await fetch(gw.httpUrl('/api/streams/live/badtext/text'), {
      method: 'POST',
      headers: { Authorization: auth.Authorization, 'Content-Type': 'text/plain' },
      body: 'hello',
    });
    expect(plain.status).toBe(415);
    const big = await postText(gw, 'live/badtext', { text: 'x'.repeat(20_000) });
    expect(big.status).toBe(413);
    expect(await big.json()).toMatchObject({ error: 'too-large' });
  });
});

describe("publishers' own text and cue points", () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway();
  });
  afterAll(() => gw.close());

  it('onTextData, onCuePoint and onCaptionInfo from the publisher reach an HTTP-FLV viewer in order', async () => {
    const pub = await EnhancedPublisher.publish(gw.rtmpUrl('live/cues'), { metadata: { audiocodecid: 10 } });
    try {
      // AAC-LC 44.1 kHz stereo: sequence header, then frames; an audio-only stream starts viewers at once.
      pub.write({ type: 8, timestamp: 0, payload: Buffer.from([0xaf, 0x00, 0x12, 0x10]) });
      pub.write({ type: 8, timestamp: 0, payload: Buffer.from([0xaf, 0x01, 0x21, 0x00]) });
      await waitFor('stream ready', () => gw.hub.get('live/cues')?.ready === true);
      const web = httpViewer(gw.httpUrl('/live/cues.flv'));
      viewers.push(web);
      await waitFor('viewer started', () => web.flv.tags.some((t) => t.type === 8));
      const data = [
        ['onCuePoint', { name: 'chapter-2', time: 1.5, type: 'navigation', parameters: { title: 'Two' } }],
        ['onTextData', { text: 'from the encoder', trackid: 1 }],
        ['onCaptionInfo', { type: '708', data: 'AAEC' }],
      ] as const;
      data.forEach((values, i) => {
        pub.write({ type: 18, timestamp: 100 + i * 100, payload: encodeAmf0([...values]) });
        pub.write({ type: 8, timestamp: 100 + i * 100 + 20, payload: Buffer.from([0xaf, 0x01, 0x21, 0x00]) });
      });
      await waitFor('three script tags', () => web.flv.tags.filter((t) => t.type === 18 && scriptName(t) === 'onCaptionInfo').length === 1);
      // The gateway's own timeline cue for browser viewers (TIMELINE_CUE_NAME) is not the publisher's.
      const scripts = web.flv.tags.filter(
        (t) => t.type === 18 && scriptName(t) !== 'onMetaData' && !JSON.stringify(decodeAmf0(t.payload)).includes(TIMELINE_CUE_NAME),
      );
      expect(scripts.map((t) => decodeAmf0(t.payload))).toEqual(data.map(([name, value], i) => [name, { ...value, gatewayTimestamp: 100 + i * 100 }]));
      expect(scripts.map((t) => t.timestamp)).toEqual([100, 200, 300]);
    } finally {
      await pub.close();
    }
  });
});
