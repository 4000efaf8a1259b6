// The manager of a hub's recordings: starts them (by API or the auto-record list), stops, lists,
// locates and deletes their files, and at startup repairs files a crash left unfinished. The
// recording of one stream, and its file rolling, is in recording.ts.
import { unlink } from 'node:fs/promises';
import path from 'node:path';
import type { Hub } from '../hub/hub.js';
import type { LiveStream } from '../hub/live-stream.js';
import type { Logger } from '../log.js';
import { isSafeName } from '../names.js';
import type { FlvFileWriter } from './flv-file-writer.js';
import { Recording, type RecordingContext, type RecordingInfo, type RecordingTrigger } from './recording.js';
import {
  findRecordingFiles,
  listRecordings,
  locateRecording,
  repairRecording,
  type LocatedRecording,
  type RecordingEntry,
  type RecordingName,
} from './recordings.js';

// Kept importable from here, where they lived before Recording had a module of its own.
export { RECORD_PROTOCOL, Recording, type RecordingInfo, type RecordingTrigger } from './recording.js';

/** What the config table decides (defaults there). */
export interface RecorderSettings {
  /** where recordings go; relative paths are taken from the working directory */
  dir: string;
  /** streams recorded as soon as they are published: `APP/KEY`, `APP/*`, or `all` */
  auto: string[];
  /** roll to a new file at the next keyframe once a file has this many bytes */
  maxBytes: number;
  /** … or this many seconds */
  maxSeconds: number;
}

export interface RecorderOptions extends RecorderSettings {
  log: Logger;
}

/** Is this a valid entry of the auto-record list (`all`, `*`, `APP/*`, `APP/KEY`)? For config validation. */
export function isAutoRecordEntry(entry: string): boolean {
  if (entry === 'all' || entry === '*') return true;
  const parts = entry.split('/');
  return parts.length === 2 && isSafeName(parts[0]!) && (parts[1] === '*' || isSafeName(parts[1]!));
}

export type StartResult =
  | { ok: true; recording: Recording }
  | { ok: false; reason: 'not-found' | 'busy' | 'limit' | 'closed'; detail: string };

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

  constructor(hub: Hub, options: RecorderOptions) {
    this.hub = hub;
    this.options = options;
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
