// Cuts one stream's samples into LL-HLS partial segments and segments (draft-pantos-hls-rfc8216bis
// §4.4.4.9 EXT-X-PART, §4.4.3.7 PART-INF): every part is one fMP4 fragment, a segment is the
// concatenation of its parts and starts on a video keyframe. Video drives the cuts; an audio-only
// stream is cut on audio time. Memory is bounded by a number of segments and a byte cap.
// When the codec configuration changes mid-stream (a publisher back with another resolution or
// codec), a new period begins: the open segment is closed, and the following segments name a new
// init segment (EXT-X-MAP) under a new epoch after an EXT-X-DISCONTINUITY (§4.4.4.3).
// A segment that leaves the playlist stays available for its duration plus the playlist's
// (RFC 8216 §6.2.2): a client that read the playlist just before may still ask for it.
import { randomBytes } from 'node:crypto';
import { TypedEmitter } from '../typed-emitter.js';
import { fragment, type Sample, type TrackInfo, type TrackRun } from './fmp4.js';

export interface SegmenterOptions {
  /** EXT-X-PART-INF PART-TARGET, ms: no part is longer (short of a single frame that is) */
  partTargetMs: number;
  /** a segment ends at the first keyframe at least this long after its start */
  segmentMinMs: number;
  /** a segment without a keyframe for this long is cut anyway (bounds the open segment) */
  segmentMaxMs: number;
  /** completed segments kept in memory (and listed) */
  maxSegments: number;
  /** byte cap over the kept segments; the oldest go first */
  maxBytes: number;
}

export interface Part {
  msn: number;
  index: number;
  data: Buffer;
  durationMs: number;
  /** starts with a video keyframe (or the stream is audio only) */
  independent: boolean;
}

export interface Segment {
  msn: number;
  /** the period's path component: its init segment and every part of it are under it */
  epoch: string;
  /** discontinuity sequence number (§4.4.3.3): one more for each period before this segment's */
  discontinuity: number;
  parts: Part[];
  /** stream time (ms) of the first sample */
  startMs: number;
  durationMs: number;
  complete: boolean;
  bytes: number;
}

export interface SegmenterEvents {
  /** a part was appended to the open segment */
  part: [Part];
  /** the open segment is complete; a new one may follow */
  segment: [Segment];
}

/** Jitter of FLV's millisecond timestamps that audio decode times are snapped over. */
const AUDIO_SNAP_MS = 3;
/** A part closes when one more frame would take it within this of the target. */
const PART_MARGIN_MS = 2;

/** The tracks of one period and their init segment. */
export interface PeriodTracks {
  video: TrackInfo | null;
  audio: TrackInfo | null;
  /** samples per audio frame: 1024 (AAC), 2048 (HE-AAC), 960 (Opus) */
  audioFrameTicks?: number;
  /** the init segment (EXT-X-MAP) of these tracks; empty when the caller does not serve one */
  init?: Buffer;
  /** a fresh random one when not given */
  epoch?: string;
}

const newEpoch = (): string => randomBytes(4).toString('hex');

interface PendingVideo {
  dtsMs: number;
  ctoMs: number;
  keyframe: boolean;
  data: Buffer;
}

export class HlsSegmenter extends TypedEmitter<SegmenterEvents> {
  readonly options: SegmenterOptions;
  /** the current period's tracks */
  video: TrackInfo | null;
  audio: TrackInfo | null;
  /** the current period's epoch: new segments and parts are under it */
  epoch: string;
  /** init segments of the current period and of every period a kept segment belongs to */
  readonly #inits = new Map<string, Buffer>();
  #discontinuity = 0;
  /** kept segments, oldest first; the last one may be open */
  readonly segments: Segment[] = [];
  /**
   * Wall clock (ms since the epoch) at stream time 0, for EXT-X-PROGRAM-DATE-TIME: set from the
   * first sample, and again by syncClock() once the join burst (the cached GOP, older than now) is in.
   */
  wallAtZero: number | null = null;
  #now: () => number;
  #sequence = 1;
  #nextMsn = 0;
  #open: Segment | null = null;
  #partStartMs = 0;
  #partIndependent = true;
  #partVideo: Sample[] = [];
  #pendingVideo: PendingVideo | null = null;
  #lastFrameMs = 33;
  #audioQueue: Sample[] = [];
  #audioTicks: number | null = null;
  #audioFrameTicks: number;
  #bytes = 0;
  /** segments gone from the playlist, served until `until` (wall clock); at most maxBytes of them */
  readonly #retired: { seg: Segment; until: number }[] = [];
  #retiredBytes = 0;
  /** longest segment so far (kept or not): EXT-X-TARGETDURATION must never shrink */
  maxSegmentMs = 0;

  constructor(tracks: PeriodTracks, options: SegmenterOptions, now: () => number = Date.now) {
    super();
    this.options = options;
    this.video = tracks.video;
    this.audio = tracks.audio;
    this.#audioFrameTicks = tracks.audioFrameTicks ?? 1024;
    this.epoch = tracks.epoch ?? newEpoch();
    this.#inits.set(this.epoch, tracks.init ?? Buffer.alloc(0));
    this.#now = now;
  }

  /** The init segment of a period still listed (or the current one); undefined otherwise. */
  initFor(epoch: string): Buffer | undefined {
    return this.#inits.get(epoch);
  }

  /**
   * New tracks from stream time atMs on (the codec configuration changed): the open segment ends
   * at atMs (what is queued of the old tracks goes into it) and the next segment opens a new
   * period, under a new epoch and after a discontinuity. The caller feeds the new tracks' samples
   * from atMs on, video from a keyframe.
   */
  newPeriod(atMs: number, tracks: PeriodTracks): void {
    if (this.#open !== null) {
      const p = this.#pendingVideo;
      let endMs = atMs;
      if (p !== null) {
        const duration = atMs > p.dtsMs ? atMs - p.dtsMs : this.#lastFrameMs;
        this.#partVideo.push({ dts: p.dtsMs * 90, duration: duration * 90, cto: p.ctoMs * 90, keyframe: p.keyframe, data: p.data });
        endMs = p.dtsMs + duration;
      }
      this.#cutPart(endMs);
      this.#closeSegment(endMs);
    }
    this.#pendingVideo = null;
    this.#partVideo = [];
    this.#audioQueue = [];
    this.#audioTicks = null;
    this.video = tracks.video;
    this.audio = tracks.audio;
    this.#audioFrameTicks = tracks.audioFrameTicks ?? 1024;
    if (this.#nextMsn > 0) this.#discontinuity++;
    this.epoch = tracks.epoch ?? newEpoch();
    this.#inits.set(this.epoch, tracks.init ?? Buffer.alloc(0));
    this.#forgetUnusedInits();
  }

  /** Bytes held by the listed segments (the retired ones add at most as much again: retiredBytes). */
  get bytes(): number {
    return this.#bytes;
  }

  /** Bytes held by segments gone from the playlist but still served. */
  get retiredBytes(): number {
    return this.#retiredBytes;
  }

  /** The newest part, or null before the first. */
  get lastPart(): Part | null {
    for (let i = this.segments.length - 1; i >= 0; i--) {
      const s = this.segments[i]!;
      if (s.parts.length > 0) return s.parts[s.parts.length - 1]!;
    }
    return null;
  }

  /** The segment being filled (its msn is the one the next part belongs to, unless it is cut first). */
  get openSegment(): Segment | null {
    return this.#open;
  }

  /** A listed segment, or one that left the playlist recently enough to be served still. */
  segment(msn: number): Segment | undefined {
    const first = this.segments[0];
    if (first !== undefined && msn >= first.msn) return this.segments[msn - first.msn];
    this.#expireRetired();
    return this.#retired.find((r) => r.seg.msn === msn)?.seg;
  }

  /** The newest sample (stream time latestMs) is happening now. */
  syncClock(latestMs: number): void {
    this.wallAtZero = this.#now() - latestMs;
  }

  /** A video access unit in AVCC/HVCC form; dts and cto in ms. */
  addVideo(dtsMs: number, ctoMs: number, keyframe: boolean, data: Buffer): void {
    if (this.video === null) return;
    const p = this.#pendingVideo;
    if (p === null) {
      if (this.#open === null && !keyframe) return; // start on a keyframe
      if (this.#open === null) this.#openSegment(dtsMs, true);
    } else {
      const duration = Math.max(0, dtsMs - p.dtsMs);
      if (duration > 0) this.#lastFrameMs = duration;
      this.#partVideo.push({ dts: p.dtsMs * 90, duration: duration * 90, cto: p.ctoMs * 90, keyframe: p.keyframe, data: p.data });
      const open = this.#open!;
      const inPart = dtsMs - this.#partStartMs;
      if (keyframe && dtsMs - open.startMs >= this.options.segmentMinMs) {
        this.#cutPart(dtsMs);
        this.#closeSegment(dtsMs);
        this.#openSegment(dtsMs, true);
      } else if (dtsMs - open.startMs >= this.options.segmentMaxMs) {
        this.#cutPart(dtsMs);
        this.#closeSegment(dtsMs);
        this.#openSegment(dtsMs, keyframe);
      } else if (inPart + this.#lastFrameMs > this.options.partTargetMs - PART_MARGIN_MS) {
        this.#cutPart(dtsMs);
        this.#partIndependent = keyframe;
      }
    }
    this.#pendingVideo = { dtsMs, ctoMs, keyframe, data };
  }

  /** One audio frame (raw AAC or Opus packet); dts in ms. */
  addAudio(dtsMs: number, data: Buffer): void {
    const track = this.audio;
    if (track === null) return;
    const rate = track.timescale;
    const actual = Math.round((dtsMs * rate) / 1000);
    const expected = this.#audioTicks === null ? actual : this.#audioTicks + this.#audioFrameTicks;
    const ticks = Math.abs(actual - expected) <= (AUDIO_SNAP_MS * rate) / 1000 ? expected : actual;
    this.#audioTicks = ticks;
    if (this.video === null) {
      if (this.#open === null) this.#openSegment(dtsMs, true);
      const open = this.#open!;
      const frameMs = (this.#audioFrameTicks * 1000) / rate;
      if (this.#audioQueue.length > 0) {
        if (dtsMs - open.startMs >= this.options.segmentMinMs) {
          this.#cutPart(dtsMs);
          this.#closeSegment(dtsMs);
          this.#openSegment(dtsMs, true);
        } else if (dtsMs - this.#partStartMs + frameMs > this.options.partTargetMs - PART_MARGIN_MS) {
          this.#cutPart(dtsMs);
        }
      }
    } else if (this.#open === null) {
      return; // audio before the first video keyframe has nothing to go with
    }
    this.#audioQueue.push({ dts: ticks, duration: this.#audioFrameTicks, cto: 0, keyframe: true, data });
  }

  #openSegment(startMs: number, independent: boolean): void {
    this.wallAtZero ??= this.#now() - startMs;
    const seg: Segment = {
      msn: this.#nextMsn++,
      epoch: this.epoch,
      discontinuity: this.#discontinuity,
      parts: [],
      startMs,
      durationMs: 0,
      complete: false,
      bytes: 0,
    };
    this.#open = seg;
    this.segments.push(seg);
    this.#partStartMs = startMs;
    this.#partIndependent = independent;
  }

  /** Close the current part at stream time endMs: its video so far and the audio before endMs. */
  #cutPart(endMs: number): void {
    const open = this.#open!;
    const runs: TrackRun[] = [];
    if (this.video !== null && this.#partVideo.length > 0) {
      runs.push({ track: this.video, baseDts: this.#partVideo[0]!.dts, samples: this.#partVideo });
    }
    if (this.audio !== null) {
      const endTicks = (endMs * this.audio.timescale) / 1000;
      let n = 0;
      while (n < this.#audioQueue.length && this.#audioQueue[n]!.dts < endTicks) n++;
      if (this.video === null) n = this.#audioQueue.length;
      const samples = this.#audioQueue.splice(0, n);
      for (let i = 0; i + 1 < samples.length; i++) samples[i]!.duration = Math.max(0, samples[i + 1]!.dts - samples[i]!.dts);
      if (samples.length > 0) runs.push({ track: this.audio, baseDts: samples[0]!.dts, samples });
    }
    this.#partVideo = [];
    if (runs.length === 0) return;
    const part: Part = {
      msn: open.msn,
      index: open.parts.length,
      data: fragment(this.#sequence++, runs),
      durationMs: Math.max(1, endMs - this.#partStartMs),
      independent: this.#partIndependent,
    };
    open.parts.push(part);
    open.bytes += part.data.length;
    open.durationMs = endMs - open.startMs;
    this.#bytes += part.data.length;
    this.#partStartMs = endMs;
    this.#partIndependent = this.video === null;
    this.emit('part', part);
  }

  #closeSegment(endMs: number): void {
    const seg = this.#open!;
    this.#open = null;
    seg.durationMs = endMs - seg.startMs;
    seg.complete = true;
    this.maxSegmentMs = Math.max(this.maxSegmentMs, seg.durationMs);
    if (seg.parts.length === 0) {
      // Nothing was cut into it (only possible with a zero-length span): forget it rather than list it.
      this.segments.pop();
      this.#nextMsn--;
      return;
    }
    this.#trim();
    this.emit('segment', seg);
  }

  #trim(): void {
    const { maxSegments, maxBytes } = this.options;
    let complete = this.segments.filter((s) => s.complete).length;
    let listedMs = 0;
    for (const seg of this.segments) listedMs += seg.durationMs;
    while (complete > 1 && (complete > maxSegments || this.#bytes > maxBytes)) {
      const old = this.segments.shift()!;
      this.#bytes -= old.bytes;
      complete--;
      // §6.2.2: available for its duration plus that of the last playlist that listed it
      this.#retired.push({ seg: old, until: this.#now() + old.durationMs + listedMs });
      this.#retiredBytes += old.bytes;
      listedMs -= old.durationMs;
    }
    this.#expireRetired();
    this.#forgetUnusedInits();
  }

  #expireRetired(): void {
    const now = this.#now();
    const r = this.#retired;
    while (r.length > 0 && (r[0]!.until <= now || this.#retiredBytes > this.options.maxBytes)) {
      this.#retiredBytes -= r.shift()!.seg.bytes;
    }
  }

  #forgetUnusedInits(): void {
    for (const epoch of this.#inits.keys()) {
      const used = this.segments.some((s) => s.epoch === epoch) || this.#retired.some((r) => r.seg.epoch === epoch);
      if (epoch !== this.epoch && !used) this.#inits.delete(epoch);
    }
  }
}
