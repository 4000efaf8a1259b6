// Shared helpers for the hub tests: annotated-hex tag bodies, a recording Sink whose
// bufferedBytes the test sets, a publisher that records kicks, and readable labels for
// the sequence of tags a viewer received.
import { afterEach, beforeEach, vi } from 'vitest';
import { Hub, type HubOptions } from '../../server/hub/hub.js';
import { LiveStream, type LiveStreamOptions, type PublisherInfo } from '../../server/hub/live-stream.js';
import { defaultOptions } from '../../server/options.js';
import type { MediaTag } from '../../server/hub/media-tag.js';
import type { EndReason, Protocol, Sink } from '../../server/hub/subscriber.js';
import { WriteBatch } from '../../server/hub/write-batch.js';
import { silentLogger } from '../../server/log.js';
import { AV1_RECORD_320X240, AVC_RECORD_320X240, HEVC_RECORD_720P } from '../media/fixtures.js';

export { AV1_RECORD_320X240, AVC_RECORD_320X240, HEVC_RECORD_720P };
export { AC3_FRAME_48K_51, VP9_KEYFRAME_320X180, VPCC_320X180 } from '../media/fixtures.js';

/** Joins annotated hex fragments into a Buffer; whitespace and `|` are cosmetic. */
export function hex(...parts: string[]): Buffer {
  return Buffer.from(parts.join('').replace(/[\s|]/g, ''), 'hex');
}

function byte(n: number): string {
  return (n & 0xff).toString(16).padStart(2, '0');
}

// ---- video bodies: FLV VIDEODATA (spec v10.1 §E.4.3.1), legacy AVC ----

/** Sequence header with a real 320x240 Constrained Baseline AVCDecoderConfigurationRecord. */
export const AVC_SEQ_320X240 = Buffer.concat([
  hex('17 | 00 | 000000'), // FrameType 1 (key) | CodecID 7 (AVC), AVCPacketType 0 (sequence header), CompositionTime 0
  AVC_RECORD_320X240,
]);

/** A second, different sequence header (resolution change): version 1, High@3.1, no SPS/PPS. */
export const AVC_SEQ_OTHER = hex(
  '17 | 00 | 000000', // key | AVC, sequence header, cts 0
  '01 64 00 1f ff e0 00', // record: version 1, profile 100, compat 0, level 31, 4-byte lengths, 0 SPS, 0 PPS
);

/** IDR access unit; the last byte `n` marks which frame it is. */
export function avcKey(n: number): Buffer {
  return hex(
    '17 | 01 | 000000', // key | AVC, AVCPacketType 1 (NALU), cts 0
    '00000002 | 65', byte(n), // NAL length 2, nal_unit_type 5 (IDR), marker byte
  );
}

/** Non-IDR access unit; the last byte `n` marks which frame it is. */
export function avcInter(n: number): Buffer {
  return hex(
    '27 | 01 | 000000', // inter | AVC, NALU, cts 0
    '00000002 | 41', byte(n), // NAL length 2, nal_unit_type 1 (non-IDR slice), marker byte
  );
}

// ---- audio bodies: FLV AUDIODATA (§E.4.2.1), AAC ----

export const AAC_SEQ_44100 = hex('af | 00 | 1210'); // AAC 44k/16/stereo | AACPacketType 0 | ASC: LC, 44100, 2 ch
export const AAC_SEQ_48000 = hex('af | 00 | 1190'); // AAC | sequence header | ASC: LC, 48000, 2 ch

/** Raw AAC frame; the last byte `n` marks which frame it is. */
export function aacFrame(n: number): Buffer {
  return hex('af | 01 | 21', byte(n)); // AAC | AACPacketType 1 (raw) | payload
}

/** AMF0 `"onMetaData", {}`: the hub passes the encoded body through untouched. */
export const METADATA_BODY = hex(
  '02 000a', Buffer.from('onMetaData').toString('hex'), // AMF0 string "onMetaData"
  '03 0000 09', // AMF0 empty object, object-end marker
);

export const AV_METADATA = { width: 320, height: 240, videocodecid: 7, audiocodecid: 10 };

// ---- recording sink and publisher ----

export type SinkEvent =
  | { kind: 'begin'; hasAudio: boolean; hasVideo: boolean }
  | { kind: 'write'; tag: MediaTag }
  | { kind: 'end'; reason: EndReason; detail: string };

export class FakeSink implements Sink {
  readonly protocol: Protocol;
  /** set by the test to simulate unsent bytes */
  bufferedBytes = 0;
  readonly events: SinkEvent[] = [];

  constructor(protocol: Protocol = 'http') {
    this.protocol = protocol;
  }

  begin(hasAudio: boolean, hasVideo: boolean): void {
    this.events.push({ kind: 'begin', hasAudio, hasVideo });
  }

  write(tag: MediaTag): void {
    this.events.push({ kind: 'write', tag });
  }

  end(reason: EndReason, detail: string): void {
    this.events.push({ kind: 'end', reason, detail });
  }

  get tags(): MediaTag[] {
    return this.events.flatMap((e) => (e.kind === 'write' ? [e.tag] : []));
  }

  get ends(): Array<{ reason: EndReason; detail: string }> {
    return this.events.flatMap((e) => (e.kind === 'end' ? [{ reason: e.reason, detail: e.detail }] : []));
  }

  /** Everything received, as readable labels (see `label`). */
  get log(): string[] {
    return this.events.map((e) =>
      e.kind === 'begin' ? `begin(audio=${e.hasAudio},video=${e.hasVideo})`
      : e.kind === 'end' ? `end(${e.reason})`
      : label(e.tag),
    );
  }

  /** Labels of the tags written since the event index `from`. */
  labelsFrom(from: number): string[] {
    return this.events.slice(from).flatMap((e) => (e.kind === 'write' ? [label(e.tag)] : []));
  }
}

/**
 * A tag as `<kind>@<timestamp>`: meta, data, vcfg, acfg, K<n> (keyframe), P<n> (inter frame),
 * a<n> (audio frame), where n is the marker byte our frame bodies end with.
 */
export function label(tag: MediaTag): string {
  const body = tag.body;
  const n = body[body.length - 1]!;
  const kind =
    tag.type === 18 ? (tag.config ? 'meta' : 'data')
    : tag.type === 9 ? (tag.config ? 'vcfg' : tag.keyframe ? `K${n}` : `P${n}`)
    : tag.config ? 'acfg'
    : `a${n}`;
  return `${kind}@${tag.timestamp}`;
}

export class FakePublisher implements PublisherInfo {
  readonly id: string;
  readonly address = '192.0.2.1:50000';
  readonly protocol = 'rtmp' as const;
  readonly kicks: string[] = [];
  /** what the real RTMP session does inside kick(): close, and so detach from the stream */
  onKick: (() => void) | null = null;

  constructor(id: string) {
    this.id = id;
  }

  kick(reason: string): void {
    this.kicks.push(reason);
    this.onKick?.();
  }
}

export const TEST_LIMITS: LiveStreamOptions = {
  gop: { maxBytes: 1024 * 1024, maxDurationMs: 60_000 },
  slow: { softBytes: 1000, hardBytes: 5000, maxSkipMs: 10_000 },
  graceMs: 0,
};

export function makeStream(options: Partial<LiveStreamOptions> = {}): {
  stream: LiveStream;
  onEnd: ReturnType<typeof vi.fn<(s: LiveStream) => void>>;
} {
  const onEnd = vi.fn<(s: LiveStream) => void>();
  const owner = { streamEnded: onEnd, publisherLeft: () => {}, viewerLeft: () => {} };
  const stream = new LiveStream('live', 'cam', { ...TEST_LIMITS, ...options }, silentLogger(), owner, defaultWriteBatch());
  return { stream, onEnd };
}

/** The hub options of a default config, with some replaced. */
export function hubOptions(options: Partial<HubOptions> = {}): HubOptions {
  return { ...defaultOptions().hub, ...options };
}

/** A write batching of its own, as a default config sets it. */
export function defaultWriteBatch(): WriteBatch {
  return new WriteBatch(defaultOptions().writeBatch);
}

export function makeHub(options: Partial<HubOptions> = {}): Hub {
  return new Hub(hubOptions({ ...TEST_LIMITS, ...options }), silentLogger(), defaultWriteBatch());
}

/**
 * A typical publisher start: onMetaData, AVC and AAC sequence headers at `t0`, then a keyframe,
 * an audio frame and an inter frame. Timestamps are the publisher's own.
 */
export function startAv(stream: LiveStream, t0 = 0): void {
  stream.setMetadata(METADATA_BODY, AV_METADATA);
  stream.push(9, t0, AVC_SEQ_320X240);
  stream.push(8, t0, AAC_SEQ_44100);
  stream.push(9, t0, avcKey(1));
  stream.push(8, t0 + 10, aacFrame(1));
  stream.push(9, t0 + 40, avcInter(2));
}

/** What `FakeSink.log` shows first for a viewer told the stream carries audio and video. */
export const BEGIN_AV = 'begin(audio=true,video=true)';

/** Fake timers in every test of the calling file (grace periods and kicks run on them), real ones after. */
export function useFakeTimersEachTest(): void {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });
}
