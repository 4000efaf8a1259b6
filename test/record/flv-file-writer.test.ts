// The FLV file writer on its own: file layout, the patched duration and filesize, timestamps
// rewritten without touching the shared tag, batching, names, empty files and write failures.
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { serializeFlvTag, readTagTimestamp } from '../../server/media/flv.js';
import {
  buildMetadataTag,
  FILE_DURATION_OFFSET,
  FILE_FILESIZE_OFFSET,
  FlvFileWriter,
  readRecordingHeader,
} from '../../server/record/flv-file-writer.js';
import { AAC_SEQ_44100, aacFrame, AVC_SEQ_320X240, avcInter, avcKey } from '../hub/fixtures.js';
import { labels, readFlv, tempDir } from './helpers.js';

const dirs: { remove(): void }[] = [];
afterEach(() => {
  vi.restoreAllMocks();
  for (const d of dirs.splice(0)) d.remove();
});

function tmp(): string {
  const d = tempDir('writer');
  dirs.push(d);
  return d.dir;
}

/** fs.promises' FileHandle class is not exported; its prototype is reached through an instance. */
async function fileHandlePrototype(dir: string): Promise<{ writev: (bufs: Buffer[], pos: number) => Promise<unknown> }> {
  const fh = await open(path.join(dir, 'probe'), 'w');
  await fh.close();
  return Object.getPrototypeOf(fh) as { writev: (bufs: Buffer[], pos: number) => Promise<unknown> };
}

const PUBLISHER_META = { duration: 0, filesize: 0, width: 320, height: 240, videocodecid: 7, audiocodecid: 10, encoder: 'Lavf' };

describe('FlvFileWriter', () => {
  it('writes the FLV header, onMetaData, then the tags; close patches duration and filesize in place', async () => {
    const dir = tmp();
    const w = new FlvFileWriter({ dir, stem: '20250102-030405' });
    w.writeHeader(true, true, PUBLISHER_META);
    w.writeTag(serializeFlvTag(9, 0, AVC_SEQ_320X240), 0);
    w.writeTag(serializeFlvTag(8, 0, AAC_SEQ_44100), 0);
    w.writeTag(serializeFlvTag(9, 0, avcKey(1)), 0);
    w.writeTag(serializeFlvTag(8, 0, aacFrame(1)), 23);
    w.writeTag(serializeFlvTag(9, 0, avcInter(2)), 33);
    w.writeTag(serializeFlvTag(9, 0, avcInter(3)), 2533);
    expect(await w.opened).toBe('20250102-030405.flv');
    const result = await w.close();
    const file = path.join(dir, '20250102-030405.flv');
    expect(result).toMatchObject({ fileName: '20250102-030405.flv', path: file, duration: 2.533, removed: false, error: null });

    const bytes = readFileSync(file);
    expect(result.bytes).toBe(bytes.length);
    // FLV header: signature, version 1, audio+video flags, DataOffset 9, PreviousTagSize0 0.
    expect(bytes.subarray(0, 13)).toEqual(Buffer.from('464c5601050000000900000000', 'hex'));

    const r = readFlv(file);
    expect(r.pending).toBe(0);
    expect(r.header).toEqual({ hasAudio: true, hasVideo: true });
    expect(labels(r.tags)).toEqual(['meta@0', 'vcfg@0', 'acfg@0', 'K1@0', 'a1@23', 'P2@33', 'P3@2533']);
    // duration and filesize come first, with the closed file's values; the publisher's others follow.
    expect(Object.keys(r.meta).slice(0, 2)).toEqual(['duration', 'filesize']);
    expect(r.meta).toEqual({ ...PUBLISHER_META, duration: 2.533, filesize: bytes.length });
    expect(bytes.readDoubleBE(FILE_DURATION_OFFSET)).toBe(2.533);
    expect(bytes.readDoubleBE(FILE_FILESIZE_OFFSET)).toBe(bytes.length);
    expect(readRecordingHeader(bytes.subarray(0, 200))).toEqual({ duration: 2.533, filesize: bytes.length });
    expect(r.problems).toEqual([]);
  });

  it('writes each tag at the timestamp given, never modifying the shared serialized tag', async () => {
    const dir = tmp();
    const shared = serializeFlvTag(9, 0x12345678, avcKey(7));
    const before = Buffer.from(shared);
    const w = new FlvFileWriter({ dir, stem: '20250102-030405' });
    w.writeHeader(false, true, {});
    w.writeTag(shared, 0);
    w.writeTag(shared, 40);
    // Timestamps past 2^24 use TimestampExtended.
    w.writeTag(shared, 0x01abcdef);
    expect(shared).toEqual(before);
    await w.close();
    expect(shared).toEqual(before);
    expect(readTagTimestamp(shared)).toBe(0x12345678);
    const r = readFlv(path.join(dir, '20250102-030405.flv'));
    expect(r.header).toEqual({ hasAudio: false, hasVideo: true });
    expect(r.tags.slice(1).map((t) => t.timestamp)).toEqual([0, 40, 0x01abcdef]);
    expect(r.tags.slice(1).every((t) => t.payload.equals(avcKey(7)))).toBe(true);
  });

  it('queues writes (bufferedBytes) and writes them in bounded batches', async () => {
    const dir = tmp();
    const w = new FlvFileWriter({ dir, stem: '20250102-030405', maxBatchBytes: 1000 });
    await w.opened;
    const writev = vi.spyOn(await fileHandlePrototype(dir), 'writev');
    w.writeHeader(true, true, {});
    const frame = serializeFlvTag(9, 0, Buffer.alloc(300, 1));
    for (let i = 0; i < 20; i++) w.writeTag(frame, i * 33);
    // Nothing is on disk synchronously: everything accepted is buffered.
    expect(w.bufferedBytes).toBe(w.bytes);
    expect(w.bufferedBytes).toBeGreaterThan(20 * frame.length);
    const result = await w.close();
    expect(w.bufferedBytes).toBe(0);
    expect(result.bytes).toBe(statSync(path.join(dir, '20250102-030405.flv')).size);
    // 20 tags of 315 bytes in batches of at most 1000 bytes (a batch holds at least one tag).
    const sizes = writev.mock.calls.map((c) => (c[0] as Buffer[]).reduce((n, b) => n + b.length, 0));
    expect(sizes.length).toBeGreaterThanOrEqual(7);
    for (const s of sizes.slice(1)) expect(s).toBeLessThanOrEqual(1000);
    expect(readFlv(path.join(dir, '20250102-030405.flv')).tags).toHaveLength(21);
  });

  it('never overwrites: a taken name gets -1, -2, …', async () => {
    const dir = tmp();
    const a = new FlvFileWriter({ dir, stem: '20250102-030405' });
    const b = new FlvFileWriter({ dir, stem: '20250102-030405' });
    const c = new FlvFileWriter({ dir, stem: '20250102-030405' });
    const names = await Promise.all([a.opened, b.opened, c.opened]);
    expect(names.sort()).toEqual(['20250102-030405-1.flv', '20250102-030405-2.flv', '20250102-030405.flv']);
    for (const w of [a, b, c]) {
      w.writeHeader(true, false, {});
      w.writeTag(serializeFlvTag(8, 0, aacFrame(1)), 0);
      await w.close();
    }
    expect(readdirSync(dir).sort()).toEqual(['20250102-030405-1.flv', '20250102-030405-2.flv', '20250102-030405.flv']);
  });

  it('deletes a file that never got any media', async () => {
    const dir = tmp();
    const w = new FlvFileWriter({ dir, stem: '20250102-030405' });
    await w.opened;
    expect(existsSync(path.join(dir, '20250102-030405.flv'))).toBe(true);
    const result = await w.close();
    expect(result).toMatchObject({ removed: true, bytes: 0, error: null });
    expect(readdirSync(dir)).toEqual([]);
  });

  it('reports a directory it cannot create through onError and close(), without throwing', async () => {
    const dir = tmp();
    writeFileSync(path.join(dir, 'not-a-dir'), 'x');
    const onError = vi.fn();
    const w = new FlvFileWriter({ dir: path.join(dir, 'not-a-dir', 'sub'), stem: '20250102-030405', onError });
    w.writeHeader(true, true, {});
    w.writeTag(serializeFlvTag(8, 0, aacFrame(1)), 0);
    const result = await w.close();
    expect(onError).toHaveBeenCalledTimes(1);
    expect(result.fileName).toBeNull();
    expect(result.error?.message).toMatch(/ENOTDIR|EEXIST/);
    expect(w.writable).toBe(false);
  });

  it('after a failed write: one onError, later tags dropped, the file cut back to whole tags and patched', async () => {
    const dir = tmp();
    const onError = vi.fn();
    const w = new FlvFileWriter({ dir, stem: '20250102-030405', onError });
    await w.opened;
    w.writeHeader(true, true, {});
    w.writeTag(serializeFlvTag(9, 0, avcKey(1)), 0);
    w.writeTag(serializeFlvTag(9, 0, avcInter(2)), 40);
    // Let those reach the disk, then make the next write fail after writing half of its bytes.
    await vi.waitFor(() => expect(w.bufferedBytes).toBe(0));
    const proto = await fileHandlePrototype(dir);
    const real = proto.writev;
    vi.spyOn(proto, 'writev').mockImplementationOnce(async function (this: unknown, bufs: Buffer[], pos: number) {
      const all = Buffer.concat(bufs);
      await real.call(this, [all.subarray(0, all.length >> 1)], pos);
      throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    });
    w.writeTag(serializeFlvTag(9, 0, avcInter(3)), 80);
    await vi.waitFor(() => expect(onError).toHaveBeenCalledTimes(1));
    expect(w.writable).toBe(false);
    w.writeTag(serializeFlvTag(9, 0, avcInter(4)), 120); // dropped
    const result = await w.close();
    expect(onError).toHaveBeenCalledTimes(1);
    expect(result.error?.message).toMatch(/ENOSPC/);
    // Only what was known written stays: the duration of the last whole tag, and no partial tag.
    expect(result.duration).toBe(0.04);
    const r = readFlv(path.join(dir, '20250102-030405.flv'));
    expect(r.pending).toBe(0);
    expect(labels(r.tags)).toEqual(['meta@0', 'K1@0', 'P2@40']);
    expect(r.meta).toMatchObject({ duration: 0.04, filesize: r.bytes.length });
  });

  it('builds onMetaData without integer-like keys (they would sort before duration)', () => {
    const tag = buildMetadataTag({ '0': 1, width: 640, duration: 99 });
    const head = Buffer.concat([Buffer.from('464c5601050000000900000000', 'hex'), tag]);
    expect(readRecordingHeader(head)).toEqual({ duration: 0, filesize: 0 });
  });
});
