// The part of mpegts.js 1.8 the player uses, typed structurally so that both the real library
// (window.mpegts, or `import mpegts from 'mpegts.js'`) and the tests' fake satisfy it.

export interface MpegtsMediaDataSource {
  type: 'flv';
  isLive: boolean;
  url: string;
  cors?: boolean;
  withCredentials?: boolean;
  hasAudio?: boolean;
  hasVideo?: boolean;
}

/** mpegts.js configuration keys; anything else the library knows passes through unchecked. */
export interface MpegtsConfig {
  isLive?: boolean;
  enableWorker?: boolean;
  enableWorkerForMSE?: boolean;
  enableStashBuffer?: boolean;
  stashInitialSize?: number;
  lazyLoad?: boolean;
  deferLoadAfterSourceOpen?: boolean;
  liveBufferLatencyChasing?: boolean;
  liveBufferLatencyChasingOnPaused?: boolean;
  liveBufferLatencyMaxLatency?: number;
  liveBufferLatencyMinRemain?: number;
  liveSync?: boolean;
  liveSyncMaxLatency?: number;
  liveSyncTargetLatency?: number;
  liveSyncPlaybackRate?: number;
  autoCleanupSourceBuffer?: boolean;
  autoCleanupMaxBackwardDuration?: number;
  autoCleanupMinBackwardDuration?: number;
  fixAudioTimestampGap?: boolean;
  [key: string]: unknown;
}

/** What mpegts.js reports in MEDIA_INFO (the fields the player reads). */
export interface MpegtsMediaInfo {
  videoCodec?: string;
  audioCodec?: string;
  hasAudio?: boolean;
  hasVideo?: boolean;
  fps?: number;
  /** milliseconds, for files */
  duration?: number;
}

/** What mpegts.js reports in STATISTICS_INFO (the field the player reads). */
export interface MpegtsStatistics {
  /** KiB/s over the last second */
  speed?: number;
}

/** The third argument of an ERROR event. */
export interface MpegtsErrorInfo {
  code?: number;
  msg?: string;
  message?: string;
}

export interface MpegtsPlayer {
  // mpegts.js emits events with differing argument lists; each listener here narrows them itself.
  on(event: string, listener: (...args: never[]) => void): void;
  attachMediaElement(element: HTMLMediaElement): void;
  detachMediaElement(): void;
  load(): void;
  unload(): void;
  pause(): void;
  destroy(): void;
}

export interface MpegtsFeatures {
  msePlayback: boolean;
  networkStreamIO: boolean;
}

export interface MpegtsLib {
  createPlayer(source: MpegtsMediaDataSource, config?: MpegtsConfig): MpegtsPlayer;
  getFeatureList(): MpegtsFeatures;
  readonly Events: {
    readonly ERROR: string; readonly LOADING_COMPLETE: string; readonly MEDIA_INFO: string; readonly STATISTICS_INFO: string;
    /** FLV script data other than onMetaData (the gateway's timeline cue) */
    readonly SCRIPTDATA_ARRIVED?: string;
  };
  readonly ErrorDetails: {
    readonly NETWORK_STATUS_CODE_INVALID: string;
    readonly MEDIA_MSE_ERROR: string;
    readonly MEDIA_FORMAT_UNSUPPORTED: string;
    readonly MEDIA_CODEC_UNSUPPORTED: string;
  };
  readonly LoggingControl?: { enableVerbose: boolean; enableDebug: boolean; enableInfo: boolean };
}

/** How a player gets mpegts.js: the classic script loads it from vendor/, the module imports it. */
export type MpegtsLoader = () => Promise<MpegtsLib>;

/** mpegts.js is chatty at info level; keep warnings and errors. */
export function quietLogging(lib: MpegtsLib): MpegtsLib {
  const lc = lib.LoggingControl;
  if (lc) {
    lc.enableVerbose = false;
    lc.enableDebug = false;
    lc.enableInfo = false;
  }
  return lib;
}
