// One stream's HLS muxer: a hub Sink like any viewer (it gets the sequence headers and the cached
// GOP on joining), which turns FLV tags into fMP4 parts and segments once, for every HLS viewer.
// It never waits on a socket; what it holds is bounded by the segmenter. Blocked requests wait
// here for a part, bounded in number and time. A new sequence header mid-stream (a publisher back
// within the grace period at another resolution, or with another codec) starts a new period of the
// same playlist at the next keyframe: new init segment, EXT-X-DISCONTINUITY, media sequence going on.
import { randomBytes } from 'node:crypto';
import { TypedEmitter } from '../typed-emitter.js';
import { parseAacAudioSpecificConfig } from '../media/aac.js';
import { parseAudioTagHeader } from '../media/audio.js';
import { parseAvcDecoderConfig, type VideoConfig } from '../media/avc.js';
import { parseHevcDecoderConfig } from '../media/hevc.js';
import { parseVideoTagHeader } from '../media/video.js';
import type { MediaTag } from '../hub/media-tag.js';
import type { EndReason, Sink } from '../hub/subscriber.js';
import { initSegment, type TrackInfo } from './fmp4.js';
import { HlsSegmenter, type SegmenterOptions } from './segmenter.js';
import { hasPart } from './playlist.js';

export interface MuxerEvents {
  /** the stream ended or the muxer was dropped */
  end: [EndReason];
}

/** Video waits this long (stream time) for an announced audio track's sequence header. */
const AUDIO_CONFIG_WAIT_MS = 3000;

type Wait = { msn: number; part: number | null; done: (ok: boolean) => void; timer: NodeJS.Timeout };

export class HlsMuxer extends TypedEmitter<MuxerEvents> implements Sink {
  readonly protocol = 'hls' as const;
  readonly bufferedBytes = 0;
  readonly segmenterOptions: SegmenterOptions;
  segmenter: HlsSegmenter | null = null;
  /** the current init segment */
  init: Buffer | null = null;
  #firstEpoch = randomBytes(4).toString('hex');
  /** why this stream cannot be muxed (no H.264/HEVC video nor AAC/Opus audio), once known */
  unsupported: string | null = null;
  ended = false;
  /** HLS sessions currently watching (the hub and API count these, not this one sink) */
  viewers = 0;
  lastRequestAt = Date.now();

  #hasAudio = false;
  #hasVideo = false;
  #videoCodec: 'avc' | 'hevc' | null = null;
  #videoRecord: Buffer | null = null;
  #videoInfo: VideoConfig | null = null;
  #audioTrack: { codec: 'aac' | 'opus'; config: Buffer; rate: number; channels: number; frameTicks: number } | null = null;
  #firstKeyMs: number | null = null;
  /** a sequence header changed: the next keyframe (or audio frame, audio only) starts a new period */
  #reconfigure = false;
  #latestMs = 0;
  #waits = new Set<Wait>();
  readonly maxWaits: number;

  constructor(segmenterOptions: SegmenterOptions, maxWaits: number) {
    super();
    this.segmenterOptions = segmenterOptions;
    this.maxWaits = maxWaits;
  }

  /**
   * The current period's path component; changes whenever the init segment does, and every URI is
   * under one, so caches may keep them forever.
   */
  get epoch(): string {
    return this.segmenter?.epoch ?? this.#firstEpoch;
  }

  /** The init segment of the period named epoch, while the playlist lists it. */
  initFor(epoch: string): Buffer | undefined {
    return this.segmenter?.initFor(epoch);
  }

  /** Is epoch the current period's or a listed one's? */
  knows(epoch: string): boolean {
    return epoch === this.epoch || this.initFor(epoch) !== undefined;
  }

  begin(hasAudio: boolean, hasVideo: boolean): void {
    this.#hasAudio = hasAudio;
    this.#hasVideo = hasVideo;
  }

  write(tag: MediaTag): void {
    if (this.ended) return;
    if (tag.type === 9) this.#video(tag);
    else if (tag.type === 8) this.#audio(tag);
  }

  /** The join burst is in: the newest sample is happening now. */
  joined(): void {
    this.segmenter?.syncClock(this.#latestMs);
  }

  #video(tag: MediaTag): void {
    let h;
    try {
      h = parseVideoTagHeader(tag.body);
    } catch {
      return; // the hub has classified it already; nothing here to mux
    }
    if (h.packetType === 'sequence-start') {
      if (h.codec !== 'avc' && h.codec !== 'hevc') {
        this.#videoCodec = null;
        return;
      }
      const record = tag.body.subarray(h.dataOffset);
      if (this.#videoRecord !== null && this.#videoRecord.equals(record)) return;
      let info: VideoConfig;
      try {
        info = h.codec === 'avc' ? parseAvcDecoderConfig(record) : parseHevcDecoderConfig(record);
      } catch {
        return;
      }
      this.#videoCodec = h.codec;
      this.#videoRecord = Buffer.from(record);
      this.#videoInfo = info;
      if (this.segmenter !== null) this.#reconfigure = true;
      return;
    }
    if (h.packetType !== 'coded-frames' || h.command !== undefined) return;
    if (h.codec !== this.#videoCodec) {
      if (h.keyframe && this.segmenter === null) this.#setUnsupported(`the video codec (${h.fourcc ?? h.codec}) is not H.264 or HEVC`);
      return;
    }
    this.#latestMs = tag.timestamp;
    if ((this.segmenter === null || this.#reconfigure) && !(h.keyframe && this.#start(tag.timestamp))) return;
    this.segmenter!.addVideo(tag.timestamp, h.compositionTime, h.keyframe, tag.body.subarray(h.dataOffset));
  }

  #audio(tag: MediaTag): void {
    let h;
    try {
      h = parseAudioTagHeader(tag.body);
    } catch {
      return;
    }
    const data = tag.body.subarray(h.dataOffset);
    if (h.packetType === 'sequence-start') {
      const track = audioTrack(h.codec, data);
      if (track === null) return;
      const changed = this.segmenter !== null && this.#audioTrack !== null && !this.#audioTrack.config.equals(track.config);
      const late = this.segmenter !== null && this.#audioTrack === null;
      this.#audioTrack = track;
      if (changed || late) this.#reconfigure = true;
      return;
    }
    if (h.packetType !== 'coded-frames' || this.#audioTrack === null || h.codec !== this.#audioTrack.codec) return;
    if (!this.#hasVideo) {
      this.#latestMs = tag.timestamp;
      if ((this.segmenter === null || this.#reconfigure) && !this.#start(tag.timestamp)) return;
    }
    // Frames of a new audio configuration wait for the new period (its first video keyframe).
    if (this.#reconfigure) return;
    this.segmenter?.addAudio(tag.timestamp, data);
  }

  /**
   * Build the init segment and the segmenter once the tracks are known, or a new period of the
   * segmenter for new tracks; false: not yet.
   */
  #start(at: number): boolean {
    const video = this.#hasVideo && this.#videoCodec !== null && this.#videoInfo !== null;
    if (this.#hasVideo && !video) {
      this.#setUnsupported('the video codec is not H.264 or HEVC');
      return false;
    }
    this.#firstKeyMs ??= at;
    if (this.#hasAudio && this.#audioTrack === null && at - this.#firstKeyMs < AUDIO_CONFIG_WAIT_MS) return false;
    const tracks: TrackInfo[] = [];
    let videoTrack: TrackInfo | null = null;
    let audioTrackInfo: TrackInfo | null = null;
    if (video) {
      videoTrack = {
        id: 1, kind: 'video', codec: this.#videoCodec!, timescale: 90_000, config: this.#videoRecord!,
        width: this.#videoInfo!.width, height: this.#videoInfo!.height,
      };
      tracks.push(videoTrack);
    }
    const a = this.#audioTrack;
    if (a !== null) {
      audioTrackInfo = { id: tracks.length + 1, kind: 'audio', codec: a.codec, timescale: a.rate, config: a.config, channels: a.channels, sampleRate: a.rate };
      tracks.push(audioTrackInfo);
    }
    if (tracks.length === 0) {
      this.#setUnsupported('no H.264/HEVC video and no AAC/Opus audio');
      return false;
    }
    this.unsupported = null;
    this.init = initSegment(tracks);
    const period = { video: videoTrack, audio: audioTrackInfo, audioFrameTicks: a?.frameTicks ?? 1024, init: this.init };
    this.#reconfigure = false;
    if (this.segmenter !== null) {
      this.segmenter.newPeriod(at, period);
      return true;
    }
    this.segmenter = new HlsSegmenter({ ...period, epoch: this.#firstEpoch }, this.segmenterOptions);
    this.segmenter.on('part', () => this.#wake());
    this.segmenter.on('segment', () => this.#wake());
    return true;
  }

  #setUnsupported(why: string): void {
    if (this.unsupported === null) {
      this.unsupported = why;
      this.#wake();
    }
  }

  /**
   * Resolves true once the playlist holds part (msn, part) or later (part null: the whole segment),
   * false on timeout, end, or when too many requests already wait.
   */
  waitForPart(msn: number, part: number | null, timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
    if (this.#reached(msn, part)) return Promise.resolve(true);
    if (this.ended || this.#waits.size >= this.maxWaits || signal?.aborted === true) return Promise.resolve(false);
    return new Promise((resolve) => {
      const w: Wait = {
        msn,
        part,
        done: (ok) => {
          clearTimeout(w.timer);
          this.#waits.delete(w);
          resolve(ok);
        },
        timer: setTimeout(() => w.done(false), timeoutMs),
      };
      w.timer.unref();
      this.#waits.add(w);
      // A client that goes away stops waiting at once: its slot is free for another.
      signal?.addEventListener('abort', () => w.done(false), { once: true });
    });
  }

  /** Requests blocked on a part right now. */
  get waiting(): number {
    return this.#waits.size;
  }

  cancelWaits(): void {
    for (const w of [...this.#waits]) w.done(false);
  }

  #reached(msn: number, part: number | null): boolean {
    if (this.unsupported !== null) return true;
    const s = this.segmenter;
    return s !== null && hasPart(s.segments, msn, part);
  }

  #wake(): void {
    for (const w of [...this.#waits]) if (this.#reached(w.msn, w.part)) w.done(true);
  }

  end(reason: EndReason): void {
    if (this.ended) return;
    this.ended = true;
    this.cancelWaits();
    this.emit('end', reason);
  }
}

function audioTrack(codec: string, data: Buffer): { codec: 'aac' | 'opus'; config: Buffer; rate: number; channels: number; frameTicks: number } | null {
  try {
    if (codec === 'aac') {
      const c = parseAacAudioSpecificConfig(data);
      // With SBR the output rate is twice the core's and each frame is 2048 output samples.
      const sbr = c.profile === 'HE-AAC' || c.profile === 'HE-AACv2';
      return { codec, config: Buffer.from(data), rate: c.sampleRate, channels: c.channels, frameTicks: sbr ? 2048 : 1024 };
    }
    if (codec === 'opus') {
      const dops = opusDops(data);
      return dops === null ? null : { codec, config: dops, rate: 48_000, channels: dops[1]!, frameTicks: 960 };
    }
  } catch {
    return null;
  }
  return null;
}

/**
 * 'dOps' (Opus in ISOBMFF §4.3.2) from RFC 7845's OpusHead: the same fields, big-endian, without
 * the magic; a body that is already a dOps (version 0) is taken as is.
 */
export function opusDops(head: Buffer): Buffer | null {
  if (head.length >= 11 && head[0] === 0) return Buffer.from(head);
  if (head.length < 19 || head.toString('latin1', 0, 8) !== 'OpusHead') return null;
  const family = head[18]!;
  const mapping = family === 0 ? Buffer.alloc(0) : head.subarray(19, 21 + head[9]!);
  const out = Buffer.alloc(11 + mapping.length);
  out[0] = 0;
  out[1] = head[9]!;
  out.writeUInt16BE(head.readUInt16LE(10), 2);
  out.writeUInt32BE(head.readUInt32LE(12), 4);
  out.writeInt16BE(head.readInt16LE(16), 8);
  out[10] = family;
  mapping.copy(out, 11);
  return out;
}
