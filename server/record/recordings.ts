// Recording files on disk: `RECORD_DIR/APP/KEY/YYYYMMDD-HHMMSS[-N].flv` (UTC). Names, path checks
// that refuse anything outside the directory, the listing the API shows, and the repair of files a
// crash left without their final duration and size.
import { createReadStream, type Dirent } from 'node:fs';
import { open, readdir, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { FLV_HEADER_BYTES, TAG_HEADER_BYTES, TAG_TRAILER_BYTES } from '../media/flv.js';
import { TagType } from '../hub/media-tag.js';
import { isSafeName } from '../names.js';
import { METADATA_PROBE_BYTES, patchRecordingHeader, readRecordingHeader } from './flv-file-writer.js';

export const FILE_NAME = /^(\d{4})(\d{2})(\d{2})-(\d{2})(\d{2})(\d{2})(?:-(\d{1,4}))?\.flv$/;

/** One file as the API lists it. */
export interface RecordingEntry {
  /** `APP/KEY/FILE.flv` */
  name: string;
  /** `APP/KEY` */
  stream: string;
  bytes: number;
  /** seconds */
  duration: number;
  /** ISO time from the file name (UTC, whole seconds) */
  startedAt: string;
  /** still being written */
  recording: boolean;
  /** relative to the gateway's base URL */
  url: string;
}

/** `YYYYMMDD-HHMMSS` in UTC. */
export function fileStem(at: Date): string {
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return (
    `${p(at.getUTCFullYear(), 4)}${p(at.getUTCMonth() + 1)}${p(at.getUTCDate())}-` +
    `${p(at.getUTCHours())}${p(at.getUTCMinutes())}${p(at.getUTCSeconds())}`
  );
}

/** The start time a file name encodes, or null for a name this module did not make. */
export function startedAtOf(fileName: string): Date | null {
  const m = FILE_NAME.exec(fileName);
  if (m === null) return null;
  const [y, mo, d, h, mi, s] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const t = new Date(Date.UTC(y, mo - 1, d, h, mi, s));
  return Number.isNaN(t.getTime()) ? null : t;
}

export function isRecordingFileName(fileName: string): boolean {
  return FILE_NAME.test(fileName);
}

export interface RecordingName {
  app: string;
  key: string;
  file: string;
  /** `APP/KEY/FILE.flv` */
  name: string;
}

/** Validate the three parts of a recording name; null unless every part is safe. */
export function parseRecordingName(app: string, key: string, file: string): RecordingName | null {
  if (!isSafeName(app) || !isSafeName(key) || !isRecordingFileName(file)) return null;
  return { app, key, file, name: `${app}/${key}/${file}` };
}

/** `APP/KEY/FILE.flv` as one string (e.g. a page's `?recording=` parameter). */
export function parseRecordingPath(name: string): RecordingName | null {
  const parts = name.split('/');
  if (parts.length !== 3) return null;
  return parseRecordingName(parts[0]!, parts[1]!, parts[2]!);
}

/**
 * The absolute path of a part below `root`, or null if it would leave it (belt and braces: the
 * names are already validated, but a path is only used after this check).
 */
export function resolveInside(root: string, ...parts: string[]): string | null {
  const abs = path.resolve(root, ...parts);
  const rel = path.relative(root, abs);
  if (rel === '' || rel === '..' || rel.startsWith(`..${path.sep}`) || path.isAbsolute(rel)) return null;
  return abs;
}

export interface LocatedRecording {
  /** the real path of the file */
  path: string;
  /** the real path of the recording directory, and the file relative to it */
  root: string;
  relative: string;
}

/**
 * Where an existing recording file really is, or null if it is missing, not a regular file, or
 * (through a symlink) outside the recording directory.
 */
export async function locateRecording(root: string, rec: RecordingName): Promise<LocatedRecording | null> {
  const abs = resolveInside(root, rec.app, rec.key, rec.file);
  if (abs === null) return null;
  try {
    const [realRoot, real] = await Promise.all([realpath(root), realpath(abs)]);
    const inside = resolveInside(realRoot, path.relative(realRoot, real));
    if (inside === null || !(await stat(real)).isFile()) return null;
    return { path: real, root: realRoot, relative: path.relative(realRoot, real) };
  } catch {
    return null;
  }
}

/**
 * Names in `dir` whose entry passes `keep`; none when it cannot be read. Symlinks are not
 * followed: the Dirent of one is neither a file nor a directory.
 */
async function namesIn(dir: string, keep: (e: Dirent) => boolean): Promise<string[]> {
  try {
    return (await readdir(dir, { withFileTypes: true })).filter(keep).map((e) => e.name);
  } catch {
    return [];
  }
}

const dirNames = (dir: string): Promise<string[]> => namesIn(dir, (e) => e.isDirectory() && isSafeName(e.name));
const fileNames = (dir: string): Promise<string[]> => namesIn(dir, (e) => e.isFile() && isRecordingFileName(e.name));

/** Every recording file name below root, as `{ app, key, file, name }`. */
export async function findRecordingFiles(root: string): Promise<RecordingName[]> {
  const out: RecordingName[] = [];
  for (const app of await dirNames(root)) {
    for (const key of await dirNames(path.join(root, app))) {
      for (const file of await fileNames(path.join(root, app, key))) {
        const rec = parseRecordingName(app, key, file);
        if (rec !== null) out.push(rec);
      }
    }
  }
  return out;
}

/** Size and the `duration` in the file's own metadata (0 for a file that is not ours). */
export async function readFileInfo(file: string): Promise<{ bytes: number; duration: number; filesize: number } | null> {
  let fh;
  try {
    fh = await open(file, 'r');
  } catch {
    return null;
  }
  try {
    const st = await fh.stat();
    const head = Buffer.alloc(METADATA_PROBE_BYTES);
    const { bytesRead } = await fh.read(head, 0, head.length, 0);
    const meta = readRecordingHeader(head.subarray(0, bytesRead));
    return { bytes: st.size, duration: meta?.duration ?? 0, filesize: meta?.filesize ?? 0 };
  } catch {
    return null;
  } finally {
    await fh.close().catch(() => undefined);
  }
}

/** What a recording in progress reports about its open file. */
export interface OpenFileInfo {
  bytes: number;
  duration: number;
}

export function entryFor(rec: RecordingName, bytes: number, duration: number, recording: boolean): RecordingEntry {
  return {
    name: rec.name,
    stream: `${rec.app}/${rec.key}`,
    bytes,
    duration: Math.round(duration * 1000) / 1000,
    startedAt: (startedAtOf(rec.file) ?? new Date(0)).toISOString(),
    recording,
    url: `recordings/${rec.name}`,
  };
}

/** The listing: newest first. Files being written report their live size and duration. */
export async function listRecordings(
  root: string,
  openFile: (name: string) => OpenFileInfo | undefined,
): Promise<RecordingEntry[]> {
  const files = await findRecordingFiles(root);
  const entries: RecordingEntry[] = [];
  // A few files at a time: a listing of thousands must not open them all at once.
  const BATCH = 16;
  for (let i = 0; i < files.length; i += BATCH) {
    const batch = await Promise.all(
      files.slice(i, i + BATCH).map(async (rec) => {
        const live = openFile(rec.name);
        if (live !== undefined) return entryFor(rec, live.bytes, live.duration, true);
        const info = await readFileInfo(path.join(root, rec.app, rec.key, rec.file));
        return info === null ? null : entryFor(rec, info.bytes, info.duration, false);
      }),
    );
    for (const e of batch) if (e !== null) entries.push(e);
  }
  entries.sort((a, b) => (a.startedAt === b.startedAt ? b.name.localeCompare(a.name) : b.startedAt.localeCompare(a.startedAt)));
  return entries;
}

export interface RepairResult {
  bytes: number;
  duration: number;
  /** bytes cut from the end (a partly written last tag) */
  truncated: number;
}

/**
 * Finish a file a crash left open: keep the complete tags, cut anything after them, and patch
 * `duration` (the last timestamp) and `filesize`. Returns null for a file that is not ours or is
 * already finished (its `filesize` is set).
 */
export async function repairRecording(file: string): Promise<RepairResult | null> {
  const info = await readFileInfo(file);
  if (info === null || info.filesize !== 0) return null;
  const { end, lastTs } = await scanTags(file);
  // The metadata tag itself must be complete, or there is nothing to patch.
  if (end < METADATA_PROBE_BYTES) return null;
  const fh = await open(file, 'r+');
  try {
    if (end < info.bytes) await fh.truncate(end);
    await patchRecordingHeader(fh, lastTs / 1000, end);
  } finally {
    await fh.close();
  }
  return { bytes: end, duration: lastTs / 1000, truncated: info.bytes - end };
}

/**
 * Walk the tags of an FLV file: the end of the last complete, well-formed tag (a tag whose
 * PreviousTagSize does not match, or an unknown type, ends the walk) and the largest audio/video
 * timestamp before it.
 */
export async function scanTags(file: string): Promise<{ end: number; lastTs: number }> {
  let end = FLV_HEADER_BYTES;
  let lastTs = 0;
  let pending: Buffer = Buffer.alloc(0);
  let pendingAt = FLV_HEADER_BYTES;
  const stream = createReadStream(file, { start: FLV_HEADER_BYTES, highWaterMark: 1024 * 1024 });
  try {
    for await (const chunk of stream) {
      const buf: Buffer = pending.length === 0 ? (chunk as Buffer) : Buffer.concat([pending, chunk as Buffer]);
      let o = 0;
      for (;;) {
        if (buf.length - o < TAG_HEADER_BYTES) break;
        const type = buf[o]!;
        const size = buf.readUIntBE(o + 1, 3);
        const total = TAG_HEADER_BYTES + size + TAG_TRAILER_BYTES;
        if (type !== TagType.Audio && type !== TagType.Video && type !== TagType.Script) return { end, lastTs };
        if (buf.length - o < total) break;
        if (buf.readUInt32BE(o + TAG_HEADER_BYTES + size) !== TAG_HEADER_BYTES + size) return { end, lastTs };
        const ts = ((buf[o + 7]! << 24) | buf.readUIntBE(o + 4, 3)) >>> 0;
        if (type !== TagType.Script && ts > lastTs) lastTs = ts;
        o += total;
        end = pendingAt + o;
      }
      pending = buf.subarray(o);
      pendingAt += o;
    }
  } finally {
    stream.destroy();
  }
  return { end, lastTs };
}
