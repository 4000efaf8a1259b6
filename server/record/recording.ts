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
import { decodeAmf0 } from '../amf/amf0.js';
import type { AmfObject } from '../amf/types.js';
import { TagType, type MediaTag } from '../hub/media-tag.js';
import { classifyAudio, classifyVideo } from '../hub/track-info.js';
import type { EndReason, Protocol, Sink, Subscriber } from '../hub/subscriber.js';
import type { Logger } from '../log.js';
import { FlvFileWriter, metadataEntries, type FileResult } from './flv-file-writer.js';
import { entryFor, fileStem, parseRecordingName, resolveInside, type RecordingEntry } from './recordings.js';

/** The Sink protocol of a recording. */
export const RECORD_PROTOCOL = 'record' as const satisfies Protocol;

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

/** What a Recording needs from its Recorder. */
export interface RecordingContext {
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
  /** the latest sequence header of each track ('video', 'audio', and multitrack ones like 'video:1') */
  #configs = new Map<string, MediaTag>();
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
    if (tag.type === TagType.Script) {
      if (tag.config) this.#meta = readMetadata(tag.body);
      else if (w.headerWritten) w.writeTag(tag.flv, this.#rel(tag.timestamp));
      return;
    }
    if (tag.config) {
      // Keyed per track: a multitrack header for track 1 must not replace track 0's (Enhanced RTMP from OBS).
      const track = tag.type === TagType.Video ? (classifyVideo(tag.body).trackConfig ?? 'video') : (classifyAudio(tag.body).trackConfig ?? 'audio');
      this.#configs.delete(track);
      this.#configs.set(track, tag);
      // Before the first frame they are written by #startFile; after it, a change goes in as it comes.
      if (w.headerWritten) w.writeTag(tag.flv, this.#rel(tag.timestamp));
      return;
    }
    // A file starts on a keyframe; without video, on any audio frame.
    const startsGop = tag.type === TagType.Video ? tag.keyframe : !this.#hasVideo;
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
      this.#hasVideo = [...this.#configs.values()].some((t) => t.type === TagType.Video);
      this.#hasAudio = [...this.#configs.values()].some((t) => t.type === TagType.Audio);
    }
    w.writeHeader(this.#hasAudio, this.#hasVideo, this.#meta);
    for (const cfg of this.#configs.values()) w.writeTag(cfg.flv, 0);
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
