// The player's public surface, the same for the classic script (window.LiveGateway) and the ES
// module: built once from a default base URL and a way to get mpegts.js.
import { checkSupport, describeCodec } from './codecs.js';
import { createLivePlayer } from './live-player.js';
import { normalizeRequestedProto } from './protocol-choice.js';
import { LIVE_DEFAULTS, LOW_LATENCY_CONFIG, type LivePlayer, type LivePlayerOptions, type PlayerEnvironment } from './live-types.js';
import { createRecordingPlayer, type RecordingPlayer, type RecordingPlayerOptions } from './recording-player.js';
import {
  apiUrl, buildUrls, hlsUrl, normalizeProto, normalizeRewind, normalizeStream, parseRecording, recordingsApiUrl, recordingUrl,
  type QueryParams,
} from './urls.js';

export const VERSION = '2.0.0';

export interface UrlOptions {
  /** the gateway's base URL */
  base?: string;
  params?: QueryParams;
}

/** The live half: what window.LiveGateway holds once player.js ran. */
export function liveApi(env: PlayerEnvironment) {
  return {
    version: VERSION,
    createPlayer: (video: HTMLVideoElement, options: LivePlayerOptions): LivePlayer => createLivePlayer(video, options, env),
    normalizeRewind,
    buildUrls: (stream: string, opts?: UrlOptions) => buildUrls(stream, opts?.base || env.defaultBase, opts?.params),
    hlsUrl: (stream: string, opts?: UrlOptions) => hlsUrl(stream, opts?.base || env.defaultBase, opts?.params),
    apiUrl: (base?: string) => apiUrl(base || env.defaultBase),
    checkSupport,
    describeCodec,
    loadMpegts: (url?: string) => env.loadMpegts(url),
    normalizeStream,
    normalizeProto,
    /** ws / http plus 'auto' and 'hls'; null for anything else */
    normalizeRequestedProto: (proto: unknown) => normalizeRequestedProto(proto, normalizeProto),
    defaults: LIVE_DEFAULTS,
    mpegtsConfig: LOW_LATENCY_CONFIG,
    baseUrl: env.defaultBase,
  };
}

/** The recording half: what recording-player.js adds to window.LiveGateway. */
export function recordingApi(env: PlayerEnvironment) {
  return {
    createRecordingPlayer: (video: HTMLVideoElement, options: RecordingPlayerOptions): RecordingPlayer =>
      createRecordingPlayer(video, options, env),
    parseRecording,
    recordingUrl: (name: string, opts?: UrlOptions & { download?: boolean }) =>
      recordingUrl(name, opts?.base || env.defaultBase, opts?.params, opts?.download),
    recordingsApiUrl: (base?: string) => recordingsApiUrl(base || env.defaultBase),
  };
}

export type LiveGatewayApi = ReturnType<typeof liveApi>;
export type RecordingApi = ReturnType<typeof recordingApi>;
