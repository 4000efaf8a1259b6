// The player as an ES module: `import { createPlayer } from 'rtmp-flv-gateway/player'`.
// mpegts.js comes from the site's own dependencies (a dynamic import, so a bundler can split it
// off); the gateway's base URL defaults to the page's origin.
import type { MpegtsLib } from './mpegts-api.js';
import { quietLogging } from './mpegts-api.js';
import { createLivePlayer } from './live-player.js';
import type { LivePlayer, LivePlayerOptions, PlayerEnvironment } from './live-types.js';
import { createRecordingPlayer as createRecording, type RecordingPlayer, type RecordingPlayerOptions } from './recording-player.js';
import { apiUrl as apiUrlAt, buildUrls as buildUrlsAt, recordingsApiUrl as recordingsApiUrlAt, recordingUrl as recordingUrlAt } from './urls.js';
import type { UrlOptions } from './gateway-api.js';

let library: Promise<MpegtsLib> | null = null;

const env: PlayerEnvironment = {
  get defaultBase() {
    return new URL('/', location.href).href;
  },
  loadMpegts() {
    library ??= import('mpegts.js').then((m) => {
      // mpegts.js is a UMD bundle: bundlers hand it over as the default export.
      const lib = ((m as { default?: unknown }).default ?? m) as MpegtsLib;
      return quietLogging(lib);
    });
    return library;
  },
};

/** Play a live stream of the gateway in a <video> element. */
export function createPlayer(video: HTMLVideoElement, options: LivePlayerOptions): LivePlayer {
  return createLivePlayer(video, options, env);
}

/** Play a recording file the gateway wrote, on demand. */
export function createRecordingPlayer(video: HTMLVideoElement, options: RecordingPlayerOptions): RecordingPlayer {
  return createRecording(video, options, env);
}

/** The HTTP-FLV and WS-FLV URLs of a stream "APP/KEY". */
export function buildUrls(stream: string, opts?: UrlOptions): { http: string; ws: string } {
  return buildUrlsAt(stream, opts?.base || env.defaultBase, opts?.params);
}

/** The URL of the gateway's stream list (`api/streams`). */
export function apiUrl(base?: string): string {
  return apiUrlAt(base || env.defaultBase);
}

/** The URL of a recording file; null when the name is not a valid recording name. */
export function recordingUrl(name: string, opts?: UrlOptions & { download?: boolean }): string | null {
  return recordingUrlAt(name, opts?.base || env.defaultBase, opts?.params, opts?.download);
}

/** The URL of the gateway's recording list (`api/recordings`). */
export function recordingsApiUrl(base?: string): string {
  return recordingsApiUrlAt(base || env.defaultBase);
}

export { checkSupport, describeCodec, type SupportReport, type TrackDescription, type CodecInfo } from './codecs.js';
export { LIVE_TRANSITIONS, nextState, type LiveEvent, type LiveState } from './life-cycle.js';
export {
  LIVE_DEFAULTS as defaults, LOW_LATENCY_CONFIG as mpegtsConfig,
  type LivePlayer, type LivePlayerOptions, type LiveStats, type LiveStatus, type LiveTuning,
} from './live-types.js';
export type { MpegtsConfig } from './mpegts-api.js';
export type { RecordingPlayer, RecordingPlayerOptions, RecordingState, RecordingStats, RecordingStatus } from './recording-player.js';
export type { UrlOptions } from './gateway-api.js';
export { normalizeProto, normalizeRewind, normalizeStream, parseRecording, type Proto, type QueryParams, type RecordingName } from './urls.js';
export type { CaptionInfoEvent, CuePointEvent, TextEvent, TimedEventMap, TimedEventType } from './timed-text.js';
