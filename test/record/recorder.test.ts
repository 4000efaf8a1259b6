// The Recorder on a real Hub fed with synthetic tags: it subscribes like a viewer, files start on a
// keyframe with metadata and sequence headers at 0, timestamps are rebased, files roll by time and by
// size on keyframes, auto-record follows publishes, a slow disk is bounded by the slow-viewer policy,
// a write failure stops only that recording, and unfinished files are repaired.
import { readdirSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Hub } from '../../server/hub/hub.js';
import type { LiveStream } from '../../server/hub/live-stream.js';
import type { Logger } from '../../server/log.js';
import { silentLogger } from '../../server/log.js';
import { serializeFlvTag } from '../../server/media/flv.js';
import { buildMetadataTag, FlvFileWriter } from '../../server/record/flv-file-writer.js';
import { defaultOptions } from '../../server/options.js';
import { Recorder, RECORD_PROTOCOL, type RecorderOptions } from '../../server/record/recorder.js';
import { encodeAmf0 } from '../../server/amf/amf0.js';
import {
  AAC_SEQ_44100,
  aacFrame,
  AV_METADATA,
  AVC_SEQ_320X240,
  avcInter,
  avcKey,
  FakePublisher,
  makeHub,
} from '../hub/fixtures.js';
import { labels, readFlv, tempDir } from './helpers.js';

const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  vi.restoreAllMocks();
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** Roomy slow-viewer limits: these tests push many tags synchronously, faster than any disk. */
const ROOMY = { slow: { softBytes: 64 * 1024 * 1024, hardBytes: 128 * 1024 * 1024, maxSkipMs: 60_000 } };

function setup(opts: Partial<RecorderOptions> = {}, hubOpts: Parameters<typeof makeHub>[0] = ROOMY) {
  const t = tempDir('recorder');
  const hub = makeHub(hubOpts);
  const recorder = new Recorder(hub, { ...defaultOptions().recorder, dir: t.dir, log: silentLogger(), ...opts });
  cleanups.push(t.remove, () => recorder.close(), () => hub.close());
  return { dir: t.dir, hub, recorder };
}

function publish(hub: Hub, name = 'live/cam'): { stream: LiveStream; publisher: FakePublisher } {
  const [app, key] = name.split('/') as [string, string];
  const publisher = new FakePublisher('p1');
  const r = hub.publish(app, key, publisher);
  if (!r.ok) throw new Error(r.detail);
  return { stream: r.stream, publisher };
}

/** onMetaData and sequence headers at t0 (as a publisher starts). */
function startAv(stream: LiveStream, t0: number): void {
  stream.setMetadata(encodeAmf0(['onMetaData', AV_METADATA]), AV_METADATA);
  stream.push(9, t0, AVC_SEQ_320X240);
  stream.push(8, t0, AAC_SEQ_44100);
}

/** One GOP: keyframe `n` at t, then audio and inter frames every `step` ms until t + ms. */
function gop(stream: LiveStream, n: number, t: number, ms: number, step = 100): void {
  stream.push(9, t, avcKey(n));
  for (let dt = step; dt < ms; dt += step) {
    stream.push(8, t + dt - 10, aacFrame(n));
    stream.push(9, t + dt, avcInter(n));
  }
}

function filesIn(dir: string, name = 'live/cam'): string[] {
  return readdirSync(path.join(dir, name)).sort();
}

describe('Recorder', () => {
  it('subscribes like a viewer and writes a file that starts at 0 on the cached keyframe', async () => {
    const { dir, hub, recorder } = setup();
    const { stream } = publish(hub);
    startAv(stream, 10_000);
    gop(stream, 1, 10_000, 1000); // cached GOP: the recording starts from its keyframe
    const r = recorder.start('live/cam');
    if (!r.ok) throw new Error(r.detail);
    expect(await r.recording.opened).toMatch(/^live\/cam\/\d{8}-\d{6}\.flv$/);
    // It is a subscriber of the stream, with its own protocol.
    expect([...stream.subscribers].map((s) => s.sink.protocol)).toEqual([RECORD_PROTOCOL]);
    expect(recorder.start('live/cam')).toMatchObject({ ok: false, reason: 'busy' });
    gop(stream, 2, 11_000, 500);
    expect(r.recording.lastTimestamp).toBe(1400);
    const info = await recorder.stop('live/cam')!;
    expect(stream.subscribers.size).toBe(0);
    expect(recorder.get('live/cam')).toBeUndefined();
    expect(info).toMatchObject({ stream: 'live/cam', trigger: 'api', recording: false, duration: 1.4, reason: 'recording stopped' });
    expect(info.files).toHaveLength(1);
    expect(info.files[0]).toMatchObject({ name: info.name, stream: 'live/cam', duration: 1.4, recording: false, url: `recordings/${info.name}` });

    const back = readFlv(path.join(dir, info.name!));
    expect(back.pending).toBe(0);
    expect(back.problems).toEqual([]);
    expect(back.header).toEqual({ hasAudio: true, hasVideo: true });
    expect(back.bytes.length).toBe(info.bytes);
    expect(back.meta).toMatchObject({ ...AV_METADATA, duration: 1.4, filesize: info.bytes });
    expect(labels(back.tags).slice(0, 6)).toEqual(['meta@0', 'vcfg@0', 'acfg@0', 'K1@0', 'a1@90', 'P1@100']);
    expect(labels(back.tags).slice(-3)).toEqual(['P2@1300', 'a2@1390', 'P2@1400']);
  });

  it('a recording started before the first keyframe waits for it, then starts there at 0', async () => {
    const { dir, hub, recorder } = setup();
    const { stream } = publish(hub);
    const r = recorder.start('live/cam');
    if (!r.ok) throw new Error(r.detail);
    expect(stream.waiting.size).toBe(1);
    startAv(stream, 5_000);
    stream.push(8, 5_000, aacFrame(0)); // before any keyframe: not recorded
    gop(stream, 1, 5_040, 300);
    const info = await r.recording.stop();
    const back = readFlv(path.join(dir, info.name!));
    expect(labels(back.tags)).toEqual(['meta@0', 'vcfg@0', 'acfg@0', 'K1@0', 'a1@90', 'P1@100', 'a1@190', 'P1@200']);
    expect(back.problems).toEqual([]);
  });

  it('rolls by time on the next keyframe: every file starts with metadata, sequence headers and a keyframe at 0', async () => {
    const { dir, hub, recorder } = setup({ maxSeconds: 1 });
    const { stream } = publish(hub);
    startAv(stream, 0);
    const r = recorder.start('live/cam');
    if (!r.ok) throw new Error(r.detail);
    // Keyframes every 600 ms: the limit is reached inside a GOP, the roll waits for the next keyframe.
    for (let i = 0; i < 5; i++) gop(stream, i + 1, i * 600, 600);
    const info = await r.recording.stop();
    const names = filesIn(dir);
    expect(info.files.map((f) => f.name.split('/')[2]).sort()).toEqual(names);
    expect(names).toHaveLength(3); // [0, 1200) [1200, 2400) [2400, 3000)
    const files = info.files.map((f) => readFlv(path.join(dir, f.name)));
    for (const [i, f] of files.entries()) {
      expect(f.problems).toEqual([]);
      expect(f.pending).toBe(0);
      expect(labels(f.tags).slice(0, 4)).toEqual(['meta@0', 'vcfg@0', 'acfg@0', `K${2 * i + 1}@0`]);
      expect(f.meta['filesize']).toBe(f.bytes.length);
    }
    expect(files.map((f) => f.meta['duration'])).toEqual([1.1, 1.1, 0.5]);
    expect(info.files.map((f) => f.duration)).toEqual([1.1, 1.1, 0.5]);
    // Nothing lost or duplicated at the seams: every frame of the stream is in exactly one file.
    const frames = files.flatMap((f) => labels(f.tags).filter((l) => /^[KPa]\d/.test(l)).map((l) => l.split('@')[0]));
    expect(frames).toHaveLength(5 * (1 + 2 * 5));
  });

  it('rolls by size on the next keyframe after the limit', async () => {
    const { dir, hub, recorder } = setup({ maxBytes: 2000 });
    const { stream } = publish(hub);
    startAv(stream, 0);
    const r = recorder.start('live/cam');
    if (!r.ok) throw new Error(r.detail);
    const big = (n: number, key: boolean) => Buffer.concat([key ? avcKey(n) : avcInter(n), Buffer.alloc(700, n)]);
    for (let g = 0; g < 4; g++) {
      stream.push(9, g * 1000, big(g, true));
      stream.push(9, g * 1000 + 500, big(g, false));
    }
    const info = await r.recording.stop();
    // Each GOP is ~1.5 KB: a file passes 2000 bytes during its second GOP, so files hold two GOPs.
    expect(filesIn(dir)).toHaveLength(2);
    for (const f of info.files) {
      const back = readFlv(path.join(dir, f.name));
      expect(back.problems).toEqual([]);
      expect(labels(back.tags).slice(0, 4).map((l) => l.replace(/\d+@/, '@'))).toEqual(['meta@0', 'vcfg@0', 'acfg@0', 'K@0']);
      expect(back.tags.filter((t) => t.type === 9 && (t.payload[0]! >> 4) === 1 && t.payload[1] === 1)).toHaveLength(2);
      expect(back.bytes.length).toBeGreaterThan(2000);
      expect(f.bytes).toBe(back.bytes.length);
    }
  });

  it('keeps a mid-stream onMetaData for the next file and writes other script data through', async () => {
    const { dir, hub, recorder } = setup({ maxSeconds: 1 });
    const { stream } = publish(hub);
    startAv(stream, 0);
    const r = recorder.start('live/cam');
    if (!r.ok) throw new Error(r.detail);
    gop(stream, 1, 0, 600);
    stream.setMetadata(encodeAmf0(['onMetaData', { width: 640 }]), { width: 640 });
    stream.push(18, 700, encodeAmf0(['onCuePoint', { name: 'x' }]));
    gop(stream, 2, 1000, 600);
    const info = await r.recording.stop();
    const [a, b] = info.files.map((f) => readFlv(path.join(dir, f.name)));
    expect(labels(a!.tags).filter((l) => l.startsWith('meta') || l.startsWith('data'))).toEqual(['meta@0', 'data@700']);
    expect(a!.meta['width']).toBe(320);
    expect(b!.meta['width']).toBe(640);
  });

  it('records an audio-only stream, rolling on any audio frame', async () => {
    const { dir, hub, recorder } = setup({ maxSeconds: 1 });
    const { stream } = publish(hub);
    stream.push(8, 0, AAC_SEQ_44100);
    const r = recorder.start('live/cam');
    if (!r.ok) throw new Error(r.detail);
    for (let t = 0; t <= 1500; t += 100) stream.push(8, t, aacFrame(t / 100));
    const info = await r.recording.stop();
    expect(info.files).toHaveLength(2);
    const a = readFlv(path.join(dir, info.files[0]!.name));
    expect(a.header).toEqual({ hasAudio: true, hasVideo: false });
    expect(labels(a.tags).slice(0, 3)).toEqual(['meta@0', 'acfg@0', 'a0@0']);
    expect(labels(readFlv(path.join(dir, info.files[1]!.name)).tags).slice(0, 3)).toEqual(['meta@0', 'acfg@0', 'a10@0']);
  });

  it('auto-records on publish and closes the file when the stream ends', async () => {
    const { dir, hub, recorder } = setup({ auto: ['live/*'] });
    expect(recorder.autoRecords('live/cam')).toBe(true);
    expect(recorder.autoRecords('other/cam')).toBe(false);
    // The gateway's wiring: the hub tells the recorder about each publish.
    hub.events.on('published', (s) => recorder.streamPublished(s));
    const { stream, publisher } = publish(hub);
    const rec = recorder.get('live/cam');
    expect(rec?.trigger).toBe('auto');
    startAv(stream, 0);
    gop(stream, 1, 0, 1000);
    stream.detach(publisher); // no grace period: the stream ends
    const info = await rec!.done;
    expect(info).toMatchObject({ recording: false, duration: 0.9 });
    expect(info.reason).toMatch(/^unpublished/);
    expect(recorder.get('live/cam')).toBeUndefined();
    const list = await recorder.list();
    expect(list).toEqual([expect.objectContaining({ name: info.name, recording: false, duration: 0.9, bytes: info.bytes })]);
    expect(readFlv(path.join(dir, info.name!)).problems).toEqual([]);

    publish(hub, 'other/cam');
    expect(recorder.get('other/cam')).toBeUndefined();
    // A new publish of the stream (after it ended) starts a new recording.
    const again = publish(hub);
    expect(recorder.get('live/cam')?.trigger).toBe('auto');
    await recorder.stop('live/cam');
    again.stream.detach(again.publisher);
  });

  it('a stopped recording that never got media leaves no file', async () => {
    const { dir, hub, recorder } = setup();
    publish(hub);
    const r = recorder.start('live/cam');
    if (!r.ok) throw new Error(r.detail);
    await r.recording.opened;
    const info = await r.recording.stop();
    expect(info).toMatchObject({ name: null, files: [], recording: false });
    expect(filesIn(dir)).toEqual([]);
    expect(recorder.start('live/nothing')).toMatchObject({ ok: false, reason: 'not-found' });
    expect(recorder.start('../x')).toMatchObject({ ok: false, reason: 'not-found' });
  });

  it('its unwritten bytes count for the slow-viewer policy: a stalled disk ends it, with a valid file', async () => {
    // hardBytes 5000: a burst larger than that, pushed before any write can complete, is over the limit.
    const { dir, hub, recorder } = setup({}, { slow: { softBytes: 1000, hardBytes: 5000, maxSkipMs: 10_000 } });
    const { stream } = publish(hub);
    startAv(stream, 0);
    const r = recorder.start('live/cam');
    if (!r.ok) throw new Error(r.detail);
    stream.push(9, 0, Buffer.concat([avcKey(1), Buffer.alloc(3000, 1)]));
    expect(r.recording.bufferedBytes).toBeGreaterThan(3000);
    // Over the soft limit: video is skipped to the next keyframe (audio still goes in).
    stream.push(9, 40, Buffer.concat([avcInter(2), Buffer.alloc(3000, 2)]));
    stream.push(8, 50, aacFrame(3));
    const sub = [...stream.subscribers][0]!;
    expect(sub.droppedTags).toBe(1);
    // Once the disk has caught up, the next keyframe is recorded again.
    await vi.waitFor(() => expect(r.recording.bufferedBytes).toBe(0));
    stream.push(9, 80, avcKey(4));
    // A burst over the hard limit before the disk catches up: disconnected as slow.
    stream.push(9, 120, Buffer.concat([avcKey(5), Buffer.alloc(6000, 5)]));
    stream.push(8, 130, aacFrame(6));
    const info = await r.recording.done;
    expect(sub.endReason).toBe('slow');
    expect(info.reason).toMatch(/^slow/);
    expect(stream.subscribers.size).toBe(0);
    const back = readFlv(path.join(dir, info.name!));
    expect(back.pending).toBe(0);
    expect(back.problems).toEqual([]);
    expect(labels(back.tags)).toEqual(['meta@0', 'vcfg@0', 'acfg@0', 'K1@0', 'a3@50', 'K4@80', 'K5@120']);
  });

  it('a write failure stops that recording with a log line; the stream and other viewers go on', async () => {
    const errors: unknown[][] = [];
    const log = { ...silentLogger(), info: vi.fn(), warn: vi.fn(), error: (...a: unknown[]) => errors.push(a) } as unknown as Logger;
    const { dir, hub, recorder } = setup({ log });
    const { stream } = publish(hub);
    const other = publish(hub, 'live/other');
    startAv(stream, 0);
    startAv(other.stream, 0);
    const r = recorder.start('live/cam');
    const r2 = recorder.start('live/other');
    if (!r.ok || !r2.ok) throw new Error('start');
    await Promise.all([r.recording.opened, r2.recording.opened]);
    gop(stream, 1, 0, 300);
    gop(other.stream, 1, 0, 300);
    await vi.waitFor(() => expect(r.recording.bufferedBytes + r2.recording.bufferedBytes).toBe(0));

    const fh = await open(path.join(dir, 'probe'), 'w');
    const proto = Object.getPrototypeOf(fh) as { writev: () => Promise<unknown> };
    await fh.close();
    vi.spyOn(proto, 'writev').mockRejectedValueOnce(Object.assign(new Error('EIO: i/o error, write'), { code: 'EIO' }));
    gop(stream, 2, 300, 300);
    const info = await r.recording.done;
    expect(info.error).toMatch(/EIO/);
    expect(info.reason).toMatch(/write failed/);
    expect(errors.some(([, msg]) => msg === 'recording failed; stopping it')).toBe(true);
    expect(hub.get('live/cam')).toBe(stream); // the stream itself is untouched
    expect(readFlv(path.join(dir, info.name!)).problems).toEqual([]);

    // The other recording is unaffected.
    gop(other.stream, 2, 300, 300);
    const info2 = await r2.recording.stop();
    expect(info2.error).toBeUndefined();
    expect(info2.duration).toBe(0.5);
  });

  it('close() stops every recording and waits for the files to be finished', async () => {
    const { dir, hub, recorder } = setup();
    const { stream } = publish(hub);
    startAv(stream, 0);
    gop(stream, 1, 0, 500);
    const r = recorder.start('live/cam');
    if (!r.ok) throw new Error(r.detail);
    hub.close(); // the gateway ends every stream first
    await recorder.close();
    const [file] = filesIn(dir);
    const back = readFlv(path.join(dir, 'live/cam', file!));
    expect(back.meta).toMatchObject({ duration: 0.4, filesize: back.bytes.length });
    expect(recorder.start('live/cam')).toMatchObject({ ok: false });
  });

  it('repairs a file a crash left unfinished: cuts the partial tag, patches duration and filesize', async () => {
    const t = tempDir('recover');
    cleanups.push(t.remove);
    const keyDir = path.join(t.dir, 'live', 'cam');
    const w = new FlvFileWriter({ dir: keyDir, stem: '20250102-030405' });
    await w.opened;
    w.writeHeader(true, true, { width: 320 });
    for (let i = 0; i < 10; i++) w.writeTag(serializeFlvTag(9, 0, i === 0 ? avcKey(i) : avcInter(i)), i * 40);
    await vi.waitFor(() => expect(w.bufferedBytes).toBe(0));
    // "Crash": the writer is never closed; add half a tag, as a write cut short would leave.
    const file = path.join(keyDir, '20250102-030405.flv');
    const whole = readFlv(file);
    expect(whole.meta).toMatchObject({ duration: 0, filesize: 0 });
    writeFileSync(file, Buffer.concat([whole.bytes, serializeFlvTag(9, 400, avcInter(10)).subarray(0, 9)]));
    // Plus a finished file and a foreign one, which are left alone.
    const done = new FlvFileWriter({ dir: keyDir, stem: '20250102-030406' });
    done.writeHeader(true, false, {});
    done.writeTag(serializeFlvTag(8, 0, aacFrame(1)), 0);
    await done.close();
    writeFileSync(path.join(keyDir, '20250102-030407.flv'), Buffer.concat([buildMetadataTag({}), Buffer.alloc(100)]));

    const hub = makeHub();
    cleanups.push(() => hub.close());
    const recorder = new Recorder(hub, { ...defaultOptions().recorder, dir: t.dir, log: silentLogger() });
    await recorder.recovered;
    const back = readFlv(file);
    expect(back.pending).toBe(0);
    expect(back.tags).toHaveLength(11);
    expect(back.meta).toMatchObject({ duration: 0.36, filesize: back.bytes.length, width: 320 });
    const list = await recorder.list();
    expect(list.map((e) => [e.name, e.duration])).toEqual([
      ['live/cam/20250102-030407.flv', 0],
      ['live/cam/20250102-030406.flv', 0],
      ['live/cam/20250102-030405.flv', 0.36],
    ]);
    await recorder.close();
  });
});
