// On-demand playback of the FLV files the gateway records: the browser's own controls, seeking
// within what is loaded, no live low-latency settings and no reconnects. It shares the
// connection helper with the live player.
import { mseClass, streamCodecsSupported } from './codecs.js';
import { Connection, libraryFeatures, prepareElement, startPlayback } from './connection.js';
import type { PlayerEnvironment } from './live-types.js';
import { bufferedAhead, errorText, now } from './media-element.js';
import type { MpegtsConfig, MpegtsErrorInfo, MpegtsLib, MpegtsMediaInfo } from './mpegts-api.js';
import { FpsSampler, FrameAccumulator, rawFrameCounts } from './stats-sampler.js';
import { parseRecording, recordingUrl, type QueryParams } from './urls.js';

export type RecordingState =
  'idle' | 'loading' | 'playing' | 'paused' | 'buffering' | 'ended' | 'unsupported' | 'forbidden' | 'error' | 'destroyed';

export interface RecordingPlayerOptions {
  /** `APP/KEY/YYYYMMDD-HHMMSS[-N].flv`; anything else throws a TypeError */
  recording: string;
  base?: string;
  /** extra query parameters for the file URL, e.g. { exp, sig } */
  params?: QueryParams;
  onStatus?: (status: RecordingStatus) => void;
  /** show the browser's native controls (default true) */
  controls?: boolean;
  /** overrides for the mpegts.js config ({ enableWorker: false }) */
  mpegtsConfig?: MpegtsConfig;
  mpegtsUrl?: string;
}

export interface RecordingStatus {
  state: RecordingState;
  message: string;
  recording: string;
  stream: string;
  url: string;
  detail?: string;
}

export interface RecordingStats {
  state: RecordingState;
  message: string;
  detail: string;
  recording: string;
  stream: string;
  url: string;
  decodedFrames: number;
  droppedFrames: number;
  currentTime: number;
  duration: number;
  bufferedAhead: number;
  videoWidth: number;
  videoHeight: number;
  fps: number;
  metadataFps: number | null;
  videoCodec: string | null;
  audioCodec: string | null;
  hasAudio: boolean | null;
  hasVideo: boolean | null;
  playbackRate: number;
  paused: boolean;
  ended: boolean;
  muted: boolean;
}

export interface RecordingPlayer {
  readonly kind: 'recording';
  /** Stop playback, remove every listener, timer and connection, restore the video's controls. */
  destroy(): void;
  stats(): RecordingStats;
  /** Load the file again from the start (after an error). */
  reload(): void;
  readonly state: RecordingState;
  readonly recording: string;
  readonly stream: string;
  readonly url: string;
  readonly video: HTMLVideoElement;
}

export function createRecordingPlayer(video: HTMLVideoElement, options: RecordingPlayerOptions, env: PlayerEnvironment): RecordingPlayer {
  if (!video || typeof video.play !== 'function') {
    throw new TypeError('LiveGateway.createRecordingPlayer: first argument must be a <video> element');
  }
  const o: RecordingPlayerOptions = options ?? ({} as RecordingPlayerOptions);
  const rec = parseRecording(o.recording);
  if (!rec) {
    throw new TypeError('LiveGateway.createRecordingPlayer: options.recording must look like "APP/KEY/YYYYMMDD-HHMMSS.flv"');
  }
  const url = recordingUrl(rec.name, o.base || env.defaultBase, o.params) ?? '';
  let onStatus = typeof o.onStatus === 'function' ? o.onStatus : null;
  const hadControls = video.controls;
  if (o.controls !== false) video.controls = true;
  prepareElement(video);

  let state: RecordingState = 'idle';
  let message = '';
  let detail = '';
  let lib: MpegtsLib | null = null;
  let conn: Connection | null = null;
  let mediaInfo: MpegtsMediaInfo | null = null;
  const frames = new FrameAccumulator();
  const fps = new FpsSampler();
  const counts = () => frames.read(rawFrameCounts(video));
  const label = `recording ${rec.name}`;

  function setState(s: RecordingState, msg: string, extra?: { detail?: string }): void {
    const changed = s !== state || msg !== message;
    state = s;
    message = msg;
    detail = extra?.detail ?? '';
    if (!changed || !onStatus) return;
    const st: RecordingStatus = { state, message, recording: rec!.name, stream: rec!.stream, url };
    if (detail) st.detail = detail;
    try {
      onStatus(st);
    } catch (e) {
      setTimeout(() => { throw e; });
    }
  }

  function duration(): number {
    if (Number.isFinite(video.duration) && video.duration > 0) return video.duration;
    return mediaInfo?.duration ? mediaInfo.duration / 1000 : 0;
  }

  function teardown(): void {
    const c = conn;
    conn = null;
    c?.close();
  }

  function load(): void {
    if (state === 'destroyed') return;
    teardown();
    if (!lib) {
      setState('loading', 'Loading player…');
      env.loadMpegts(o.mpegtsUrl).then((m) => {
        if (state === 'destroyed') return;
        lib = m;
        load();
      }, (err: unknown) => {
        if (state !== 'destroyed') setState('error', 'Could not load the player library (mpegts.js).', { detail: errorText(err) });
      });
      return;
    }
    const features = libraryFeatures(lib);
    if (!mseClass() || (features && !features.msePlayback)) {
      setState('unsupported', 'This browser cannot play FLV: it has no Media Source Extensions with H.264 support.');
      return;
    }
    mediaInfo = null;
    fps.restart(now(), counts().total);
    try {
      conn = new Connection(lib, video, { type: 'flv', url, isLive: false }, { enableWorker: false, ...o.mpegtsConfig }, {
        error: onError,
        mediaInfo: (mi) => { mediaInfo = mi; },
      });
    } catch (e) {
      setState('error', 'Could not start the player.', { detail: errorText(e) });
      return;
    }
    setState('loading', `Loading recording ${rec!.name}…`);
    try {
      conn.start();
    } catch (e) {
      onError('OtherError', 'Exception', { msg: errorText(e) });
      return;
    }
    void startPlayback(video, true, () => undefined).then((outcome) => {
      if (outcome === 'blocked' && conn) setState('paused', 'Press play to watch the recording.');
    });
  }

  function onError(type: string, det: string, info: MpegtsErrorInfo): void {
    const msg = info.msg || info.message || '';
    const code = info.code;
    const ED = lib!.ErrorDetails;
    teardown();
    if (det === ED.NETWORK_STATUS_CODE_INVALID && (code === 401 || code === 403)) {
      setState('forbidden', `Access denied (HTTP ${code}). The link may have expired or the signature is invalid.`);
    } else if (det === ED.NETWORK_STATUS_CODE_INVALID && (code === 404 || code === 410)) {
      setState('error', `Recording ${rec!.name} was not found. It may have been deleted.`, { detail: `HTTP ${code}` });
    } else if (det === ED.MEDIA_CODEC_UNSUPPORTED || det === ED.MEDIA_FORMAT_UNSUPPORTED) {
      setState('unsupported', `This recording uses a codec the player cannot handle: ${msg || det}.`);
    } else {
      setState('error', 'Could not play the recording.', { detail: `${type} / ${det}${msg ? ': ' + msg : ''}${code ? ` (${code})` : ''}` });
    }
  }

  // A recording has the native controls: a pause here is the viewer's, and is only shown.
  const onPlaying = () => { if (conn) setState('playing', `Playing ${label}`); };
  const onPause = () => { if (conn && !video.ended) setState('paused', `Paused · ${label}`); };
  const onWaiting = () => { if (conn && state === 'playing') setState('buffering', 'Buffering…'); };
  const onEnded = () => { if (conn) setState('ended', `End of ${label}`); };
  function onVideoError(): void {
    const err = video.error;
    if (!conn || !err) return;
    teardown();
    const codecs = mediaInfo ? streamCodecsSupported(mediaInfo) : null;
    if (!mseClass() || (codecs && !codecs.videoOk)) {
      setState('unsupported', `This browser cannot decode this recording${err.message ? ` (${err.message})` : ''}.`);
    } else {
      setState('error', 'Could not play the recording.', { detail: err.message || `media error ${err.code}` });
    }
  }

  function tick(): void {
    const t = now();
    const total = counts().total;
    if (video.paused) fps.hold(t, total);
    else fps.sample(t, total);
    if (state === 'buffering' && !video.paused && video.readyState >= 3) onPlaying();
  }

  const listeners: [string, () => void][] = [
    ['playing', onPlaying], ['pause', onPause], ['waiting', onWaiting], ['ended', onEnded], ['error', onVideoError],
  ];
  for (const [type, fn] of listeners) video.addEventListener(type, fn);
  const tickTimer = setInterval(tick, 500);
  load();

  return {
    kind: 'recording',
    destroy(): void {
      if (state === 'destroyed') return;
      clearInterval(tickTimer);
      teardown();
      for (const [type, fn] of listeners) video.removeEventListener(type, fn);
      video.controls = hadControls;
      setState('destroyed', 'Stopped');
      onStatus = null;
    },
    stats(): RecordingStats {
      const q = counts();
      const mi = mediaInfo ?? {};
      return {
        state, message, detail,
        recording: rec.name,
        stream: rec.stream,
        url,
        decodedFrames: q.total,
        droppedFrames: q.dropped,
        currentTime: video.currentTime || 0,
        duration: Math.round(duration() * 1000) / 1000,
        bufferedAhead: conn ? bufferedAhead(video) : 0,
        videoWidth: video.videoWidth || 0,
        videoHeight: video.videoHeight || 0,
        fps: fps.fps,
        metadataFps: mi.fps || null,
        videoCodec: mi.videoCodec || null,
        audioCodec: mi.audioCodec || null,
        hasAudio: mi.hasAudio != null ? !!mi.hasAudio : null,
        hasVideo: mi.hasVideo != null ? !!mi.hasVideo : null,
        playbackRate: video.playbackRate,
        paused: video.paused,
        ended: video.ended,
        muted: video.muted,
      };
    },
    reload: load,
    get state() { return state; },
    get recording() { return rec.name; },
    get stream() { return rec.stream; },
    get url() { return url; },
    get video() { return video; },
  };
}
