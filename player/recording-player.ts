// On-demand playback of the FLV files the gateway records: the browser's own controls, seeking
// within what is loaded, no live low-latency settings and no reconnects. It shares the
// connection helper with the live player.
import { judgeStreamCodecs, mseClass } from './codecs.js';
import { Connection, LibrarySlot, msePlaybackMissing, prepareElement, startPlayback } from './connection.js';
import type { PlayerEnvironment } from './live-types.js';
import { bufferedAhead, errorText, now } from './media-element.js';
import { FrameMeter, mediaStats, type MediaStats } from './media-stats.js';
import type { MpegtsConfig, MpegtsErrorInfo, MpegtsMediaInfo } from './mpegts-api.js';
import { classifyError, errorDetail, errorMessage } from './mpegts-errors.js';
import { StatusBoard } from './status-board.js';
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

export interface RecordingStats extends MediaStats {
  state: RecordingState;
  message: string;
  detail: string;
  recording: string;
  stream: string;
  url: string;
  /** seconds */
  duration: number;
  bufferedAhead: number;
  ended: boolean;
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
  const hadControls = video.controls;
  if (o.controls !== false) video.controls = true;
  prepareElement(video);

  const board = new StatusBoard<RecordingState, RecordingStatus>('idle', o.onStatus, (b) => {
    const st: RecordingStatus = { state: b.state, message: b.message, recording: rec.name, stream: rec.stream, url };
    if (b.detail) st.detail = b.detail;
    return st;
  });
  const setState = (s: RecordingState, msg: string, extra?: { detail?: string }): void => board.set(s, msg, extra);
  const library = new LibrarySlot(() => env.loadMpegts(o.mpegtsUrl));
  let conn: Connection | null = null;
  let mediaInfo: MpegtsMediaInfo | null = null;
  const meter = new FrameMeter(video);
  const label = `recording ${rec.name}`;

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
    if (board.state === 'destroyed') return;
    teardown();
    const lib = library.get(load, (err) => {
      if (board.state !== 'destroyed') setState('error', 'Could not load the player library (mpegts.js).', { detail: errorText(err) });
    });
    if (!lib) {
      setState('loading', 'Loading player…');
      return;
    }
    if (msePlaybackMissing(lib)) {
      setState('unsupported', 'This browser cannot play FLV: it has no Media Source Extensions with H.264 support.');
      return;
    }
    mediaInfo = null;
    meter.restart(now());
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
    const kind = classifyError(conn!.lib, det, info);
    teardown();
    if (kind === 'forbidden') {
      setState('forbidden', `Access denied (HTTP ${info.code}). The link may have expired or the signature is invalid.`);
    } else if (kind === 'gone') {
      setState('error', `Recording ${rec!.name} was not found. It may have been deleted.`, { detail: `HTTP ${info.code}` });
    } else if (kind === 'codec') {
      setState('unsupported', `This recording uses a codec the player cannot handle: ${errorMessage(info) || det}.`);
    } else {
      setState('error', 'Could not play the recording.', { detail: errorDetail(type, det, info) });
    }
  }

  // A recording has the native controls: a pause here is the viewer's, and is only shown.
  const onPlaying = () => { if (conn) setState('playing', `Playing ${label}`); };
  const onPause = () => { if (conn && !video.ended) setState('paused', `Paused · ${label}`); };
  const onWaiting = () => { if (conn && board.state === 'playing') setState('buffering', 'Buffering…'); };
  const onEnded = () => { if (conn) setState('ended', `End of ${label}`); };
  function onVideoError(): void {
    const err = video.error;
    if (!conn || !err) return;
    teardown();
    if (!mseClass() || (mediaInfo && judgeStreamCodecs(mediaInfo).verdict === 'unsupported')) {
      setState('unsupported', `This browser cannot decode this recording${err.message ? ` (${err.message})` : ''}.`);
    } else {
      setState('error', 'Could not play the recording.', { detail: err.message || `media error ${err.code}` });
    }
  }

  function tick(): void {
    const t = now();
    meter.tick(t, video.paused);
    if (board.state === 'buffering' && !video.paused && video.readyState >= 3) onPlaying();
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
      if (board.state === 'destroyed') return;
      clearInterval(tickTimer);
      teardown();
      for (const [type, fn] of listeners) video.removeEventListener(type, fn);
      video.controls = hadControls;
      setState('destroyed', 'Stopped');
      board.silence();
    },
    stats(): RecordingStats {
      return {
        ...mediaStats(video, meter, mediaInfo),
        state: board.state, message: board.message, detail: board.detail,
        recording: rec.name,
        stream: rec.stream,
        url,
        duration: Math.round(duration() * 1000) / 1000,
        bufferedAhead: conn ? bufferedAhead(video) : 0,
        ended: video.ended,
      };
    },
    reload: load,
    get state() { return board.state; },
    get recording() { return rec.name; },
    get stream() { return rec.stream; },
    get url() { return url; },
    get video() { return video; },
  };
}
