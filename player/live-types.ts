// The live player's public types: options, status reports, statistics and the handle.
import type { LiveState } from './life-cycle.js';
import type { MediaStats } from './media-stats.js';
import type { MpegtsConfig } from './mpegts-api.js';
import type { CaptionInfoEvent, CuePointEvent, TextEvent, TimedEventType, TimedListener } from './timed-text.js';
import type { Proto, QueryParams } from './urls.js';

/** Timings and switches with defaults (LIVE_DEFAULTS); every one can be overridden per player. */
export interface LiveTuning {
  /** network-error backoff: 0.5 s, 1 s, 2 s, 4 s, 8 s, 8 s… */
  retryMinMs: number;
  retryMaxMs: number;
  /** how often api/streams is polled while the stream is offline */
  pollMs: number;
  /** no media within this time -> reconnect */
  connectTimeoutMs: number;
  /** no new media data (or a picture that does not move) for this long while playing -> reconnect */
  stallTimeoutMs: number;
  /** seconds kept behind the live edge when jumping to it */
  liveEdgeMargin: number;
  /** use api/streams to tell "publisher stopped" from "network trouble" */
  checkApi: boolean;
  /** if the browser refuses to play with sound, mute and play */
  autoMute: boolean;
}

export const LIVE_DEFAULTS: Readonly<LiveTuning> = Object.freeze({
  retryMinMs: 500,
  retryMaxMs: 8000,
  pollMs: 2000,
  connectTimeoutMs: 12000,
  stallTimeoutMs: 8000,
  liveEdgeMargin: 0.2,
  checkApi: true,
  autoMute: true,
});

/** Low-latency settings handed to mpegts.js (overridable per player with `mpegtsConfig`). */
export const LOW_LATENCY_CONFIG: Readonly<MpegtsConfig> = Object.freeze({
  isLive: true,
  enableWorker: false,
  enableStashBuffer: false, // no IO stash: hand every chunk straight to MSE
  stashInitialSize: 128 * 1024,
  lazyLoad: false, // never pause the download for a live stream
  deferLoadAfterSourceOpen: true,
  liveBufferLatencyChasing: true, // hard cap: jump to the live edge when the buffer grows
  liveBufferLatencyChasingOnPaused: false,
  liveBufferLatencyMaxLatency: 0.8, // seconds of buffer tolerated before jumping
  liveBufferLatencyMinRemain: 0.2, // seconds of buffer kept after the jump
  liveSync: true, // soft catch-up: play slightly faster above 0.5 s
  liveSyncMaxLatency: 0.5,
  liveSyncTargetLatency: 0.3,
  liveSyncPlaybackRate: 1.1,
  autoCleanupSourceBuffer: true, // keep memory bounded on long sessions
  autoCleanupMaxBackwardDuration: 30,
  autoCleanupMinBackwardDuration: 10,
  fixAudioTimestampGap: true,
});

export interface LivePlayerOptions extends Partial<LiveTuning> {
  /** "APP/KEY" */
  stream: string;
  /** 'ws' (default) or 'http'; other spellings ('wss', 'http-flv', …) are understood */
  proto?: Proto | string;
  /** the gateway's base URL (default: where player.js was loaded from; the page's origin for the module) */
  base?: string;
  /** extra query parameters for the stream URL, e.g. { exp, sig } */
  params?: QueryParams;
  onStatus?: (status: LiveStatus) => void;
  /** text in the stream (onTextData), when its timestamp plays; more listeners with player.on('text', …) */
  onText?: (text: TextEvent) => void;
  /** a cue point in the stream (onCuePoint), when its timestamp plays; player.on('cuepoint', …) */
  onCuePoint?: (cue: CuePointEvent) => void;
  /** caption data in the stream (onCaptionInfo), when its timestamp plays; player.on('captioninfo', …) */
  onCaptionInfo?: (info: CaptionInfoEvent) => void;
  /** force the audio track on or off (false skips it) */
  hasAudio?: boolean;
  hasVideo?: boolean;
  /** overrides for the low-latency mpegts.js configuration */
  mpegtsConfig?: MpegtsConfig;
  /** where the classic script loads mpegts.js from (default: vendor/mpegts.js next to player.js) */
  mpegtsUrl?: string;
  /**
   * Start this many whole seconds behind live (needs `--rewind-seconds` on the gateway). The
   * player then never chases the live edge; reconnects come back at the same offset.
   */
  rewind?: number | string;
}

export interface LiveStatus {
  state: LiveState;
  message: string;
  stream: string;
  proto: Proto;
  url: string;
  /** while reconnecting: when the next attempt starts */
  retryInMs?: number;
  /** technical detail (error names, HTTP codes) */
  detail?: string;
  /** the player muted the video because the browser would not play it with sound */
  soundMuted?: boolean;
}

export interface LiveStats extends MediaStats {
  state: LiveState;
  message: string;
  detail: string;
  stream: string;
  proto: Proto;
  url: string;
  /** seconds buffered ahead of the playhead */
  bufferedAhead: number;
  /** the same figure: on a live stream, the buffer is the delay the player adds */
  latency: number;
  /**
   * True latency, seconds: from the gateway's receipt of the frame on screen to its presentation
   * (clock offset from api/time, see docs/web-player.md); null until known or behind live.
   */
  trueLatency: number | null;
  /** received bits per second */
  bitrate: number;
  /** the player muted the video because the browser would not play it with sound */
  soundMuted: boolean;
  reconnects: number;
  retryInMs: number | null;
  /** the requested offset behind live (0 = live) */
  rewind: number;
  /** the offset plus the time the video stalled since it started (seconds, one decimal) */
  behindLive: number;
  /**
   * The playhead on the gateway's stream timeline, ms (the timestamps of the FLV tags and of the text
   * API's answers); null until the gateway's timeline cue has arrived. Text and cue points fire when
   * this reaches their timestamp.
   */
  timelinePosition: number | null;
}

export interface LivePlayer {
  readonly kind: 'live';
  /** Stop playback and remove every listener, timer and network connection. */
  destroy(): void;
  /** A snapshot of the playback statistics. */
  stats(): LiveStats;
  /** Reconnect now (skips any pending backoff). */
  reconnect(): void;
  /** Jump to the live edge of the buffer; true if it seeked (never while rewinding). */
  jumpToLive(): boolean;
  /** Reconnect `seconds` behind live (0 = live). */
  setRewind(seconds: number | string): void;
  /** Leave a rewind session: reconnect at the live edge. */
  goLive(): void;
  /**
   * Pause on purpose (the page's own pause control): the player leaves this pause alone, while it
   * undoes any other pause of the element (video.pause() included).
   */
  pause(): void;
  /** Play again after pause(). */
  play(): void;
  /** Listen to text, cue points or caption data as they play; returns the function that stops listening. */
  on<K extends TimedEventType>(type: K, listener: TimedListener<K>): () => void;
  readonly rewind: number;
  readonly state: LiveState;
  readonly stream: string;
  readonly proto: Proto;
  readonly url: string;
  readonly video: HTMLVideoElement;
}

/** What a player needs from its packaging: the default base URL and how to get mpegts.js. */
export interface PlayerEnvironment {
  defaultBase: string;
  loadMpegts(url?: string): Promise<import('./mpegts-api.js').MpegtsLib>;
}
