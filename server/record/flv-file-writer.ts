// One FLV recording file on disk. Layout: the FLV header, an `onMetaData` script tag whose first two
// entries are `duration` and `filesize` (AMF0 numbers are fixed 8-byte doubles, so close() patches
// them in place with positioned writes), then the stream's tags with the timestamps the caller gives.
//
// Writes are asynchronous and batched: tags queue in memory and one positioned writev() at a time
// takes whatever has queued (bounded per call), so a slow disk shows up as queued bytes, which the
// hub's slow-viewer policy bounds like any viewer's. The shared serialized tag is never modified: only
// its 11-byte header is copied (to carry the new timestamp); the body and PreviousTagSize are written
// from the shared buffer as they are.
//
// A failure (open, write) is reported once through onError; the writer then drops further tags, and
// close() still truncates the file to the bytes known written and patches its header, best effort.
import { mkdir, open, unlink, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { encodeAmf0 } from '../amf/amf0.js';
import { EcmaArray, type AmfObject, type AmfValue } from '../amf/types.js';
import { flvFileHeader, FLV_HEADER_BYTES, serializeFlvTag, TAG_HEADER_BYTES, TAG_SCRIPT, writeTagTimestamp } from '../media/flv.js';

/**
 * Offsets of the patched doubles inside the metadata tag body: `02 000a "onMetaData"` (13 bytes),
 * `08 <u32 count>` (5), `0008 "duration" 00` (11) → 29; then 8 bytes, `0008 "filesize" 00` (11) → 48.
 */
const BODY_DURATION_OFFSET = 29;
const BODY_FILESIZE_OFFSET = 48;
/** Where the doubles sit in the file: after the FLV header and the script tag's header. */
export const FILE_DURATION_OFFSET = FLV_HEADER_BYTES + TAG_HEADER_BYTES + BODY_DURATION_OFFSET;
export const FILE_FILESIZE_OFFSET = FLV_HEADER_BYTES + TAG_HEADER_BYTES + BODY_FILESIZE_OFFSET;
/** Bytes to read from a file's start to get both patched values. */
export const METADATA_PROBE_BYTES = FILE_FILESIZE_OFFSET + 8;

/** The fixed bytes in front of the duration double, to recognise a file this writer made. */
const BODY_PREFIX = Buffer.concat([
  Buffer.from([0x02, 0x00, 0x0a]), Buffer.from('onMetaData', 'latin1'), Buffer.from([0x08]),
]);
const DURATION_KEY = Buffer.concat([Buffer.from([0x00, 0x08]), Buffer.from('duration', 'latin1'), Buffer.from([0x00])]);
const FILESIZE_KEY = Buffer.concat([Buffer.from([0x00, 0x08]), Buffer.from('filesize', 'latin1'), Buffer.from([0x00])]);

/** Metadata keys the writer owns or that would be wrong in a file (the publisher's own values are live ones). */
const OWN_KEYS = new Set(['duration', 'filesize']);

/**
 * The `onMetaData` tag for a recording: placeholder `duration` and `filesize` first (so their offsets
 * are fixed), then the publisher's other entries. Integer-like keys are left out because JavaScript
 * would order them before `duration`.
 */
export function buildMetadataTag(meta: AmfObject): Buffer {
  const entries: AmfObject = { duration: 0, filesize: 0 };
  for (const [k, v] of Object.entries(meta)) {
    if (OWN_KEYS.has(k) || /^\d+$/.test(k)) continue;
    entries[k] = v;
  }
  const body = encodeAmf0(['onMetaData', new EcmaArray(entries)]);
  if (!hasRecordingLayout(body)) throw new Error('onMetaData layout mismatch'); // cannot happen; guards the offsets
  return serializeFlvTag(TAG_SCRIPT, 0, body);
}

function hasRecordingLayout(body: Buffer): boolean {
  return (
    body.length >= BODY_FILESIZE_OFFSET + 8 &&
    body.subarray(0, BODY_PREFIX.length).equals(BODY_PREFIX) &&
    body.subarray(BODY_DURATION_OFFSET - DURATION_KEY.length, BODY_DURATION_OFFSET).equals(DURATION_KEY) &&
    body.subarray(BODY_FILESIZE_OFFSET - FILESIZE_KEY.length, BODY_FILESIZE_OFFSET).equals(FILESIZE_KEY)
  );
}

/**
 * Reads the patched `duration` (seconds) and `filesize` from the first METADATA_PROBE_BYTES of a
 * file; null when the file was not made by this writer (or is too short).
 */
export function readRecordingHeader(head: Buffer): { duration: number; filesize: number } | null {
  if (head.length < METADATA_PROBE_BYTES) return null;
  if (head[0] !== 0x46 || head[1] !== 0x4c || head[2] !== 0x56 || head[FLV_HEADER_BYTES] !== TAG_SCRIPT) return null;
  if (!hasRecordingLayout(head.subarray(FLV_HEADER_BYTES + TAG_HEADER_BYTES))) return null;
  return { duration: head.readDoubleBE(FILE_DURATION_OFFSET), filesize: head.readDoubleBE(FILE_FILESIZE_OFFSET) };
}

/** Patch the two doubles of a file this writer made (also used to repair unfinished files). */
export async function patchRecordingHeader(fh: FileHandle, durationSeconds: number, filesize: number): Promise<void> {
  const b = Buffer.allocUnsafe(8);
  b.writeDoubleBE(durationSeconds);
  await fh.write(b, 0, 8, FILE_DURATION_OFFSET);
  const s = Buffer.allocUnsafe(8);
  s.writeDoubleBE(filesize);
  await fh.write(s, 0, 8, FILE_FILESIZE_OFFSET);
}

export interface FlvFileWriterOptions {
  /** absolute directory; created if missing */
  dir: string;
  /** file name without extension, e.g. `20250102-030405`; `-1`, `-2`, … are added while the name is taken */
  stem: string;
  /** told once, on the first open or write failure */
  onError?: (err: Error) => void;
  /** told when the file exists on disk, with its final name */
  onOpen?: (fileName: string) => void;
  /** bytes handed to one writev() at most (default 1 MiB) */
  maxBatchBytes?: number;
}

export interface FileResult {
  /** file name inside the directory, null if it could not be created */
  fileName: string | null;
  path: string | null;
  /** bytes in the file after close */
  bytes: number;
  /** seconds: the last tag's timestamp */
  duration: number;
  /** the file held no tags and was deleted */
  removed: boolean;
  error: Error | null;
}

interface Item {
  bufs: Buffer[];
  bytes: number;
  /** timestamp of the tag, -1 for the file header */
  ts: number;
}

/** Writes in one call at most this many buffers (Linux IOV_MAX is 1024; libuv splits bigger calls anyway). */
const MAX_BATCH_BUFFERS = 512;
const MAX_NAME_TRIES = 1000;

export class FlvFileWriter {
  readonly dir: string;
  readonly stem: string;
  /** the file name once created, e.g. `20250102-030405-1.flv` */
  fileName: string | null = null;
  /** resolves with the file name once the file exists; rejects if it could not be created */
  readonly opened: Promise<string>;

  #fh: FileHandle | null = null;
  #opts: FlvFileWriterOptions;
  #maxBatchBytes: number;
  #items: Item[] = [];
  #queuedBytes = 0;
  #inFlightBytes = 0;
  /** bytes confirmed on disk: the next write position */
  #position = 0;
  #headerWritten = false;
  /** timestamp of the last tag accepted, and of the last one confirmed written */
  #lastTs = 0;
  #writtenTs = 0;
  #pumping = false;
  #pumpDone: Promise<void> = Promise.resolve();
  #closing = false;
  #closed: Promise<FileResult> | null = null;
  #error: Error | null = null;

  constructor(opts: FlvFileWriterOptions) {
    this.#opts = opts;
    this.dir = opts.dir;
    this.stem = opts.stem;
    this.#maxBatchBytes = opts.maxBatchBytes ?? 1024 * 1024;
    this.opened = this.#open();
    // Failures are reported through onError and close(); nobody has to await `opened`.
    this.opened.catch((err: unknown) => this.#fail(err));
  }

  async #open(): Promise<string> {
    await mkdir(this.dir, { recursive: true });
    for (let n = 0; n < MAX_NAME_TRIES; n++) {
      const name = n === 0 ? `${this.stem}.flv` : `${this.stem}-${n}.flv`;
      try {
        // 'wx': never overwrite; a taken name moves on to the next suffix.
        this.#fh = await open(path.join(this.dir, name), 'wx');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EEXIST') continue;
        throw err;
      }
      this.fileName = name;
      this.#opts.onOpen?.(name);
      if (this.#items.length > 0) this.#kick();
      return name;
    }
    throw new Error(`no free file name for ${this.stem} in ${this.dir}`);
  }

  get path(): string | null {
    return this.fileName === null ? null : path.join(this.dir, this.fileName);
  }

  get headerWritten(): boolean {
    return this.#headerWritten;
  }

  /** Bytes accepted but not yet on disk (queued and in flight). */
  get bufferedBytes(): number {
    return this.#queuedBytes + this.#inFlightBytes;
  }

  /** The file's size once everything accepted so far is written. */
  get bytes(): number {
    return this.#position + this.#inFlightBytes + this.#queuedBytes;
  }

  /** Timestamp (ms) of the last tag accepted. */
  get lastTimestamp(): number {
    return this.#lastTs;
  }

  /** Seconds of media accepted so far (the last tag's timestamp). */
  get duration(): number {
    return this.#lastTs / 1000;
  }

  get error(): Error | null {
    return this.#error;
  }

  /** Whether tags are still accepted. */
  get writable(): boolean {
    return !this.#closing && this.#error === null;
  }

  /** The FLV header and the `onMetaData` tag; call once, before any tag. */
  writeHeader(hasAudio: boolean, hasVideo: boolean, meta: AmfObject): void {
    if (!this.writable || this.#headerWritten) return;
    this.#headerWritten = true;
    const header = flvFileHeader(hasAudio, hasVideo);
    const metadata = buildMetadataTag(meta);
    this.#enqueue({ bufs: [header, metadata], bytes: header.length + metadata.length, ts: -1 });
  }

  /**
   * One serialized FLV tag (11-byte header, body, PreviousTagSize), written with `timestamp`.
   * The buffer is kept until written and never modified.
   */
  writeTag(flv: Buffer, timestamp: number): void {
    if (!this.writable || !this.#headerWritten) return;
    const head = Buffer.allocUnsafe(TAG_HEADER_BYTES);
    flv.copy(head, 0, 0, TAG_HEADER_BYTES);
    writeTagTimestamp(head, timestamp);
    const rest = flv.subarray(TAG_HEADER_BYTES);
    if (timestamp > this.#lastTs) this.#lastTs = timestamp;
    this.#enqueue({ bufs: [head, rest], bytes: flv.length, ts: timestamp });
  }

  #enqueue(item: Item): void {
    this.#items.push(item);
    this.#queuedBytes += item.bytes;
    this.#kick();
  }

  #kick(): void {
    if (this.#pumping || this.#fh === null || this.#error !== null) return;
    this.#pumping = true;
    this.#pumpDone = this.#pump();
  }

  /** The only writer to the file while it runs; drains the queue in batches. */
  async #pump(): Promise<void> {
    const fh = this.#fh!;
    try {
      while (this.#items.length > 0 && this.#error === null) {
        const bufs: Buffer[] = [];
        let bytes = 0;
        let maxTs = this.#writtenTs;
        let n = 0;
        for (const item of this.#items) {
          if (n > 0 && (bytes + item.bytes > this.#maxBatchBytes || bufs.length + item.bufs.length > MAX_BATCH_BUFFERS)) break;
          for (const b of item.bufs) if (b.length > 0) bufs.push(b);
          bytes += item.bytes;
          if (item.ts > maxTs) maxTs = item.ts;
          n++;
        }
        this.#items.splice(0, n);
        this.#queuedBytes -= bytes;
        this.#inFlightBytes = bytes;
        const { bytesWritten } = await fh.writev(bufs, this.#position);
        if (bytesWritten !== bytes) throw new Error(`short write: ${bytesWritten} of ${bytes} bytes`);
        this.#position += bytes;
        this.#inFlightBytes = 0;
        this.#writtenTs = maxTs;
      }
    } catch (err) {
      this.#fail(err);
    } finally {
      this.#inFlightBytes = 0;
      this.#pumping = false;
    }
  }

  #fail(err: unknown): void {
    if (this.#error !== null) return;
    this.#error = err instanceof Error ? err : new Error(String(err));
    this.#items = [];
    this.#queuedBytes = 0;
    try {
      this.#opts.onError?.(this.#error);
    } catch {
      // a listener's mistake must not turn into an unhandled rejection here
    }
  }

  /**
   * Flush, patch `duration` and `filesize`, close. A file that never got its header (no media) is
   * deleted. Never rejects; safe to call more than once.
   */
  close(): Promise<FileResult> {
    this.#closing = true;
    this.#closed ??= this.#close();
    return this.#closed;
  }

  async #close(): Promise<FileResult> {
    await this.opened.catch(() => undefined);
    while (this.#pumping) await this.#pumpDone;
    const fh = this.#fh;
    const result: FileResult = {
      fileName: this.fileName,
      path: this.path,
      bytes: this.#position,
      duration: (this.#error === null ? this.#lastTs : this.#writtenTs) / 1000,
      removed: false,
      error: this.#error,
    };
    if (fh === null) return result;
    let closeError: Error | null = null;
    const empty = !this.#headerWritten || this.#position === 0;
    try {
      // After a failed write the file may end in part of a tag: cut it back to what is known written.
      if (!empty && this.#error !== null) await fh.truncate(this.#position);
      if (!empty) await patchRecordingHeader(fh, result.duration, this.#position);
    } catch (err) {
      closeError = err instanceof Error ? err : new Error(String(err));
    }
    try {
      await fh.close();
      if (empty) {
        await unlink(this.path!);
        result.removed = true;
        result.bytes = 0;
      }
    } catch (err) {
      closeError ??= err instanceof Error ? err : new Error(String(err));
    }
    if (closeError !== null && result.error === null) {
      result.error = closeError;
      try {
        this.#opts.onError?.(closeError);
      } catch {
        // as above
      }
    }
    return result;
  }
}

/** For tests and tools: the metadata object from a recording's `onMetaData` body. */
export function metadataEntries(value: AmfValue): AmfObject | null {
  if (value instanceof EcmaArray) return value.entries;
  if (typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date) && !(value instanceof Uint8Array)) {
    return value;
  }
  return null;
}
