// Recording live streams to FLV files. A Recording is one more viewer of a stream: it subscribes
// through hub.subscribe() like an HTTP-FLV viewer, so it gets the join sequence (header flags,
// metadata, sequence headers, the GOP from its keyframe) and then live tags; its bufferedBytes are
// the bytes not yet on disk, so the slow-viewer policy bounds its memory too (a disk that cannot keep
// up makes it skip to keyframes, then stops it).
//
// Each file starts on a keyframe (any audio frame for an audio-only stream) with its own FLV header,
// onMetaData and the current sequence headers at timestamp 0, and its timestamps rebased so the file
// starts at 0. A file is rolled at the first such point after it reached max bytes or max seconds.
// Mid-file onMetaData updates are kept for the next file, not written (players read a later
// onMetaData as a data track of its own); other script data is written through.
import { unlink } from 'node:fs/promises';
import path from 'node:path';
import { decodeAmf0 } from '../amf/amf0.js';
import type { AmfObject } from '../amf/types.js';
import type { Hub } from '../hub/hub.js';
import type { LiveStream } from '../hub/live-stream.js';
import type { MediaTag } from '../hub/media-tag.js';
import type { EndReason, Protocol, Sink, Subscriber } from '../hub/subscriber.js';
import type { Logger } from '../log.js';
import { isSafeName } from '../rtmp/commands.js';
import { FlvFileWriter, metadataEntries, type FileResult } from './flv-file-writer.js';
import {
  entryFor,
  fileStem,
  findRecordingFiles,
  listRecordings,
  locateRecording,
  parseRecordingName,
  repairRecording,
  resolveInside,
  type LocatedRecording,
  type RecordingEntry,
  type RecordingName,
} from './recordings.js';

/** The Sink protocol of a recording. */
export const RECORD_PROTOCOL = 'record' as const satisfies Protocol;

export interface RecorderOptions {
  /** where recordings go; relative paths are taken from the working directory */
  dir: string;
  /** streams recorded as soon as they are published: `APP/KEY`, `APP/*`, or `all` */
  auto: string[];
  /** roll to a new file at the next keyframe once a file has this many bytes */
  maxBytes: number;
  /** … or this many seconds */
  maxSeconds: number;
  log: Logger;
}

export const DEFAULT_RECORDER_OPTIONS = {
  dir: 'recordings',
  auto: [] as string[],
  maxBytes: 512 * 1024 * 1024,
  maxSeconds: 3600,
};

/** Is this a valid entry of the auto-record list (`all`, `*`, `APP/*`, `APP/KEY`)? For config validation. */
export function isAutoRecordEntry(entry: string): boolean {
  if (entry === 'all' || entry === '*') return true;
  const parts = entry.split('/');
  return parts.length === 2 && isSafeName(parts[0]!) && (parts[1] === '*' || isSafeName(parts[1]!));
}

export type RecordingTrigger = 'api' | 'auto';

/** What the API answers about one recording (one stream, possibly several rolled files). */
export interface RecordingInfo {
  stream: string;
  trigger: RecordingTrigger;
  /** when the recording was started (ISO) */
  startedAt: string;
  /** still running */
  recording: boolean;
  /** the file being written, or the last one written: `APP/KEY/FILE.flv` (null until it exists) */
  name: string | null;
  bytes: number;
  /** seconds in that file */
  duration: number;
  url: string | null;
  /** the files of this recording, oldest first: the latest 100 (files left empty are deleted and not listed) */
  files: RecordingEntry[];
  /** why it ended, once it has */
  reason?: string;
  error?: string;
}

export type StartResult =
  | { ok: true; recording: Recording }
  | { ok: false; reason: 'not-found' | 'busy' | 'limit' | 'closed'; detail: string };

/** What a Recording needs from its Recorder. */
interface RecordingContext {
  root: string;
  maxBytes: number;
  maxMs: number;
  log: Logger;
  fileOpened(name: string, writer: FlvFileWriter): void;
  fileClosed(name: string): void;
  ended(rec: Recording): void;
}

/** Files of one recording kept in its info (and its `files` list); older ones are only on disk. */
const MAX_FILES_REMEMBERED = 100;

interface FileSlot {
  writer: FlvFileWriter;
  result: FileResult | null;
}

function readMetadata(body: Buffer): AmfObject {
  try {
    const values = decodeAmf0(body);
    return (values[0] === 'onMetaData' ? metadataEntries(values[1]) : null) ?? {};
  } catch {
    return {};
  }
}

export class Recording implements Sink {
  readonly protocol = RECORD_PROTOCOL;
  readonly app: string;
  readonly key: string;
  readonly stream: string;
  readonly trigger: RecordingTrigger;
  readonly startedAt = new Date();
  /** the hub's subscriber for this recording (set by the Recorder right after subscribing) */
  subscriber: Subscriber | null = null;
  /** resolves with the final info once every file is closed */
  readonly done: Promise<RecordingInfo>;
  /** resolves with the first file's name once it exists, or null if it could not be created */
  readonly opened: Promise<string | null>;

  #ctx: RecordingContext;
  #dir: string;
  #files: FileSlot[] = [];
  #hasAudio = false;
  #hasVideo = false;
  #begun = false;
  #meta: AmfObject = {};
  #videoConfig: MediaTag | null = null;
  #audioConfig: MediaTag | null = null;
  /** stream timestamp at which the current file starts */
  #base = 0;
  #stopping = false;
  #reason: string | null = null;
  #error: Error | null = null;
  #resolveDone!: (info: RecordingInfo) => void;

  constructor(app: string, key: string, trigger: RecordingTrigger, ctx: RecordingContext) {
    this.app = app;
    this.key = key;
    this.stream = `${app}/${key}`;
    this.trigger = trigger;
    this.#ctx = ctx;
    const dir = resolveInside(ctx.root, app, key);
    if (dir === null) throw new Error(`unsafe stream name ${this.stream}`);
    this.#dir = dir;
    this.done = new Promise((resolve) => (this.#resolveDone = resolve));
    const first = this.#newWriter();
    this.opened = first.opened.then(
      (file) => `${this.stream}/${file}`,
      () => null,
    );
  }

  get #writer(): FlvFileWriter {
    return this.#files[this.#files.length - 1]!.writer;
  }

  /** Bytes accepted but not on disk yet, including files still closing after a roll. */
  get bufferedBytes(): number {
    let n = 0;
    for (const f of this.#files) if (f.result === null) n += f.writer.bufferedBytes;
    return n;
  }

  /** Milliseconds of media in the current file (its last timestamp). */
  get lastTimestamp(): number {
    return this.#writer.lastTimestamp;
  }

  get active(): boolean {
    return !this.#stopping;
  }

  /** Files written so far, this one included. */
  get fileCount(): number {
    return this.#files.length;
  }

  #newWriter(): FlvFileWriter {
    const slot: FileSlot = {
      writer: new FlvFileWriter({
        dir: this.#dir,
        stem: fileStem(new Date()),
        onOpen: (file) => this.#ctx.fileOpened(`${this.stream}/${file}`, slot.writer),
        onError: (err) => this.#failed(err, slot.writer),
      }),
      result: null,
    };
    this.#files.push(slot);
    return slot.writer;
  }

  begin(hasAudio: boolean, hasVideo: boolean): void {
    this.#begun = true;
    this.#hasAudio = hasAudio;
    this.#hasVideo = hasVideo;
  }

  write(tag: MediaTag): void {
    if (this.#stopping) return;
    let w = this.#writer;
    if (tag.type === 18) {
      if (tag.config) this.#meta = readMetadata(tag.body);
      else if (w.headerWritten) w.writeTag(tag.flv, this.#rel(tag.timestamp));
      return;
    }
    if (tag.config) {
      if (tag.type === 9) this.#videoConfig = tag;
      else this.#audioConfig = tag;
      // Before the first frame they are written by #startFile; after it, a change goes in as it comes.
      if (w.headerWritten) w.writeTag(tag.flv, this.#rel(tag.timestamp));
      return;
    }
    // A file starts on a keyframe; without video, on any audio frame.
    const startsGop = tag.type === 9 ? tag.keyframe : !this.#hasVideo;
    if (!w.headerWritten) {
      if (!startsGop) return; // the hub starts viewers on a keyframe, so this is only a safeguard
      this.#startFile(w, tag.timestamp);
    } else if (startsGop && (w.bytes >= this.#ctx.maxBytes || tag.timestamp - this.#base >= this.#ctx.maxMs)) {
      w = this.#roll(tag.timestamp);
    }
    w.writeTag(tag.flv, this.#rel(tag.timestamp));
  }

  #rel(timestamp: number): number {
    return Math.max(0, timestamp - this.#base);
  }

  #startFile(w: FlvFileWriter, at: number): void {
    this.#base = at;
    if (!this.#begun) {
      this.#hasVideo = this.#videoConfig !== null;
      this.#hasAudio = this.#audioConfig !== null;
    }
    w.writeHeader(this.#hasAudio, this.#hasVideo, this.#meta);
    for (const cfg of [this.#videoConfig, this.#audioConfig]) if (cfg !== null) w.writeTag(cfg.flv, 0);
  }

  #roll(at: number): FlvFileWriter {
    const old = this.#files[this.#files.length - 1]!;
    void this.#closeSlot(old);
    // A recording of a 24/7 stream rolls forever: remember only the latest files (all stay on disk).
    while (this.#files.length >= MAX_FILES_REMEMBERED && this.#files[0]!.result !== null) this.#files.shift();
    const w = this.#newWriter();
    this.#startFile(w, at);
    this.#ctx.log.info(
      { stream: this.stream, file: old.writer.fileName, bytes: old.writer.bytes, duration: old.writer.duration },
      'recording rolled to a new file',
    );
    return w;
  }

  async #closeSlot(slot: FileSlot): Promise<void> {
    const result = await slot.writer.close();
    slot.result = result;
    if (result.fileName !== null) this.#ctx.fileClosed(`${this.stream}/${result.fileName}`);
  }

  #failed(err: Error, writer: FlvFileWriter): void {
    this.#ctx.log.error(
      { stream: this.stream, file: writer.fileName, dir: this.#dir, err: err.message },
      this.#stopping ? 'recording file could not be finished' : 'recording failed; stopping it',
    );
    if (this.#stopping) return;
    this.#error = err;
    this.stop(`write failed: ${err.message}`);
  }

  /** Stop recording; resolves with the final info once the files are closed. */
  stop(detail = 'recording stopped'): Promise<RecordingInfo> {
    if (this.subscriber !== null) this.subscriber.close('closed', detail);
    else this.#finish('closed', detail);
    return this.done;
  }

  /** The hub ended the subscription (stream ended, slow, shutdown) or stop() did. */
  end(reason: EndReason, detail: string): void {
    this.#finish(reason, detail);
  }

  #finish(reason: EndReason, detail: string): void {
    if (this.#stopping) return;
    this.#stopping = true;
    this.#reason = reason === 'closed' ? detail : `${reason}: ${detail}`;
    this.#ctx.ended(this);
    const log = reason === 'slow' ? this.#ctx.log.warn.bind(this.#ctx.log) : this.#ctx.log.info.bind(this.#ctx.log);
    void (async () => {
      await Promise.all(this.#files.map((f) => (f.result === null ? this.#closeSlot(f) : undefined)));
      const info = this.info();
      log({ stream: this.stream, files: info.files.map((f) => f.name), reason: info.reason }, 'recording ended');
      this.#resolveDone(info);
    })();
  }

  info(): RecordingInfo {
    const files: RecordingEntry[] = [];
    for (const f of this.#files) {
      const fileName = f.result?.fileName ?? f.writer.fileName;
      if (fileName === null || f.result?.removed === true) continue;
      const rec = parseRecordingName(this.app, this.key, fileName);
      if (rec === null) continue;
      files.push(
        f.result === null
          ? entryFor(rec, f.writer.bytes, f.writer.duration, true)
          : entryFor(rec, f.result.bytes, f.result.duration, false),
      );
    }
    const last = files[files.length - 1];
    const info: RecordingInfo = {
      stream: this.stream,
      trigger: this.trigger,
      startedAt: this.startedAt.toISOString(),
      recording: !this.#stopping,
      name: last?.name ?? null,
      bytes: last?.bytes ?? 0,
      duration: last?.duration ?? 0,
      url: last?.url ?? null,
      files,
    };
    if (this.#reason !== null) info.reason = this.#reason;
    const error = this.#error ?? this.#files.find((f) => f.result?.error)?.result?.error ?? null;
    if (error !== null) info.error = error.message;
    return info;
  }
}

/** Starts, stops and lists recordings of one hub's streams. */
export class Recorder {
  readonly hub: Hub;
  /** absolute recording directory */
  readonly dir: string;
  readonly options: RecorderOptions;
  /** resolves when files a crash left unfinished have been repaired (never rejects) */
  readonly recovered: Promise<void>;

  #log: Logger;
  #active = new Map<string, Recording>();
  #finishing = new Set<Promise<RecordingInfo>>();
  #openFiles = new Map<string, FlvFileWriter>();
  /** every file this process created: recovery leaves them alone */
  #created = new Set<string>();
  #closed = false;
  #ctx: RecordingContext;

  constructor(hub: Hub, options: Partial<RecorderOptions> & { log: Logger }) {
    this.hub = hub;
    this.options = { ...DEFAULT_RECORDER_OPTIONS, ...options };
    this.dir = path.resolve(this.options.dir);
    this.#log = options.log;
    this.#ctx = {
      root: this.dir,
      maxBytes: this.options.maxBytes,
      maxMs: this.options.maxSeconds * 1000,
      log: this.#log,
      fileOpened: (name, writer) => {
        this.#created.add(name);
        this.#openFiles.set(name, writer);
      },
      fileClosed: (name) => this.#openFiles.delete(name),
      ended: (rec) => {
        if (this.#active.get(rec.stream) === rec) this.#active.delete(rec.stream);
        const p = rec.done;
        this.#finishing.add(p);
        void p.then(() => this.#finishing.delete(p));
      },
    };
    this.recovered = this.#recover();
  }

  /** Does the auto-record list name this stream? */
  autoRecords(name: string): boolean {
    return this.options.auto.some(
      (p) => p === 'all' || p === '*' || p === name || (p.endsWith('/*') && name.startsWith(p.slice(0, -1))),
    );
  }

  /** Hook for the hub: a stream was published (first publish, takeover or a return within the grace period). */
  streamPublished(stream: LiveStream): void {
    if (this.#closed || !this.autoRecords(stream.name) || this.#active.has(stream.name)) return;
    const r = this.start(stream.name, 'auto');
    if (!r.ok) this.#log.warn({ stream: stream.name, reason: r.reason, detail: r.detail }, 'auto-record could not start');
  }

  /** Start recording a live stream: it subscribes at once; the first file is created asynchronously. */
  start(name: string, trigger: RecordingTrigger = 'api'): StartResult {
    if (this.#closed) return { ok: false, reason: 'closed', detail: 'the recorder is shutting down' };
    const slash = name.indexOf('/');
    const app = name.slice(0, slash);
    const key = name.slice(slash + 1);
    if (slash < 0 || !isSafeName(app) || !isSafeName(key) || this.hub.get(name) === undefined) {
      return { ok: false, reason: 'not-found', detail: `no live stream ${name}` };
    }
    if (this.#active.has(name)) return { ok: false, reason: 'busy', detail: `${name} is already being recorded` };
    const rec = new Recording(app, key, trigger, this.#ctx);
    this.#active.set(name, rec);
    const r = this.hub.subscribe(name, rec);
    if (!r.ok) {
      void rec.stop(r.detail);
      return { ok: false, reason: r.reason, detail: r.detail };
    }
    rec.subscriber = r.subscriber;
    this.#log.info({ stream: name, trigger, dir: this.dir }, 'recording started');
    return { ok: true, recording: rec };
  }

  /** Stop a stream's recording; null if it is not being recorded. */
  stop(name: string, detail = 'recording stopped'): Promise<RecordingInfo> | null {
    const rec = this.#active.get(name);
    return rec === undefined ? null : rec.stop(detail);
  }

  get(name: string): Recording | undefined {
    return this.#active.get(name);
  }

  get recordings(): Recording[] {
    return [...this.#active.values()];
  }

  /** Every recording file, newest first; files being written are marked `recording: true`. */
  list(): Promise<RecordingEntry[]> {
    return listRecordings(this.dir, (name) => {
      const w = this.#openFiles.get(name);
      return w === undefined ? undefined : { bytes: w.bytes, duration: w.duration };
    });
  }

  isOpen(name: string): boolean {
    return this.#openFiles.has(name);
  }

  /** The real path of a recording file, or null if it does not exist inside the directory. */
  locate(rec: RecordingName): Promise<LocatedRecording | null> {
    return locateRecording(this.dir, rec);
  }

  /** Delete a finished recording file. */
  async remove(rec: RecordingName): Promise<'removed' | 'busy' | 'not-found'> {
    if (this.#openFiles.has(rec.name)) return 'busy';
    const file = await this.locate(rec);
    if (file === null) return 'not-found';
    try {
      await unlink(file.path);
    } catch {
      return 'not-found';
    }
    this.#log.info({ file: rec.name }, 'recording deleted');
    return 'removed';
  }

  async #recover(): Promise<void> {
    try {
      for (const rec of await findRecordingFiles(this.dir)) {
        if (this.#created.has(rec.name)) continue;
        try {
          const r = await repairRecording(path.join(this.dir, rec.app, rec.key, rec.file));
          if (r !== null) this.#log.warn({ file: rec.name, ...r }, 'repaired a recording left unfinished');
        } catch (err) {
          this.#log.warn({ file: rec.name, err: (err as Error).message }, 'could not repair an unfinished recording');
        }
      }
    } catch (err) {
      this.#log.warn({ dir: this.dir, err: (err as Error).message }, 'could not look for unfinished recordings');
    }
  }

  /** Stop every recording and wait until all files are closed. Call after hub.close(). */
  async close(): Promise<void> {
    this.#closed = true;
    for (const rec of [...this.#active.values()]) void rec.stop('server shutting down');
    await Promise.all([...this.#finishing]);
    await this.recovered;
  }
}
