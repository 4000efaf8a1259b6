// The live player: one mpegts.js connection at a time to a gateway stream, kept alive through
// network errors, publisher restarts, background tabs and pauses the page did not ask for. Which
// events count in which state is the table in life-cycle.ts; this file does what each move needs.
import { mseClass, streamCodecsSupported, describeCodec } from './codecs.js';
import { Connection, libraryFeatures, prepareElement, startPlayback } from './connection.js';
import { isConnected, nextState, type LiveEvent, type LiveState } from './life-cycle.js';
import {
  LIVE_DEFAULTS, LOW_LATENCY_CONFIG, type LivePlayer, type LivePlayerOptions, type LiveStats, type LiveStatus,
  type LiveTuning, type PlayerEnvironment,
} from './live-types.js';
import { bufferedAhead, bufferedEnd, errorText, now } from './media-element.js';
import type { MpegtsConfig, MpegtsErrorInfo, MpegtsLib, MpegtsMediaInfo } from './mpegts-api.js';
import { ReconnectPolicy } from './reconnect-policy.js';
import { bitrateFromSpeed, FpsSampler, FrameAccumulator, rawFrameCounts } from './stats-sampler.js';
import { ListingCheck } from './stream-listing.js';
import { LatencyClock, timelineStartOf } from './latency-clock.js';
import { joinPosition } from './live-join.js';
import { TimeSync, timeUrl, wallNow } from './time-sync.js';
import { apiUrl, buildUrls, normalizeProto, normalizeRewind, normalizeStream } from './urls.js';
import { ProgressWatch, watchdogVerdict } from './watchdog.js';

const TICK_MS = 500;
/** The server sends a whole GOP at once on connect: no frame rate from that burst. */
const STARTUP_BURST_MS = 2500;
/**
 * A 'waiting' shorter than this is not shown: every live-edge seek of mpegts.js causes one of
 * about 150 ms, and a status that flickers to "Buffering…" each time says nothing useful.
 */
const BUFFERING_GRACE_MS = 400;
/** A background tab that piled up this much paused buffer is disconnected until it is visible. */
const HIDDEN_BUFFER_LIMIT_S = 20;

type Extra = { retryInMs?: number; detail?: string };

export function createLivePlayer(video: HTMLVideoElement, options: LivePlayerOptions, env: PlayerEnvironment): LivePlayer {
  if (!video || typeof video.play !== 'function') {
    throw new TypeError('LiveGateway.createPlayer: first argument must be a <video> element');
  }
  const o: LivePlayerOptions = options ?? ({} as LivePlayerOptions);
  const tuning: LiveTuning = { ...LIVE_DEFAULTS };
  for (const k of Object.keys(LIVE_DEFAULTS) as (keyof LiveTuning)[]) {
    if (o[k] !== undefined) (tuning as unknown as Record<string, unknown>)[k] = o[k];
  }
  const stream = normalizeStream(o.stream);
  if (!/^[^/]+\/[^/]+$/.test(stream)) {
    throw new TypeError('LiveGateway.createPlayer: options.stream must look like "APP/KEY"');
  }
  const proto = normalizeProto(o.proto) ?? 'ws';
  const base = o.base || env.defaultBase;
  let hasAudio = o.hasAudio;
  let rewind = normalizeRewind(o.rewind ?? o.params?.rewind);
  let onStatus = typeof o.onStatus === 'function' ? o.onStatus : null;
  prepareElement(video);

  let state: LiveState = 'idle';
  let message = '';
  let detail = '';
  let lib: MpegtsLib | null = null;
  let conn: Connection | null = null;
  let mediaInfo: MpegtsMediaInfo | null = null;
  let everPlayed = false;
  let soundMuted = false;
  let reconnects = 0;
  let bitrate = 0;
  let connectStartedAt = 0;
  // Rewind sessions: how much the playhead fell behind wall-clock time since the first picture.
  let behindRef: { t: number; ct: number } | null = null;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;
  let retryAt = 0;
  let waitingTimer: ReturnType<typeof setTimeout> | undefined;
  const backoff = new ReconnectPolicy(tuning.retryMinMs, tuning.retryMaxMs);
  const frames = new FrameAccumulator();
  const fps = new FpsSampler();
  const progress = new ProgressWatch();
  const listing = new ListingCheck(apiUrl(base), stream);
  const latency = new LatencyClock();
  const timeSync = new TimeSync(timeUrl(apiUrl(base), stream), latency);
  // The join (live-join.ts) needs the presented-frame clock; without requestVideoFrameCallback
  // the player starts at once and mpegts.js's chaser trims the burst as before.
  const frameCallbacks = typeof (video as Partial<HTMLVideoElement>).requestVideoFrameCallback === 'function';
  let joining = false;
  let joinTimer: ReturnType<typeof setInterval> | undefined;
  /** the buffer the player starts with: the one mpegts.js's live sync aims at */
  const joinTarget = { ...LOW_LATENCY_CONFIG, ...o.mpegtsConfig }.liveSyncTargetLatency ?? 0.3;
  let frameCallback = 0;
  let url = streamUrl();

  function streamUrl(): string {
    const params = { ...o.params };
    if (rewind > 0) params.rewind = String(rewind);
    else delete params.rewind;
    const urls = buildUrls(stream, base, params);
    return proto === 'ws' ? urls.ws : urls.http;
  }

  const protoLabel = (): string => (proto === 'ws' ? 'WS-FLV' : 'HTTP-FLV');
  const fmtSec = (ms: number): string => (ms / 1000).toFixed(ms < 1000 ? 1 : 0) + ' s';
  const counts = () => frames.read(rawFrameCounts(video));

  function playingMessage(): string {
    return `Playing ${stream} (${protoLabel()})` + (rewind > 0 ? ` · ${rewind} s behind live` : '') +
      (soundMuted ? ' · the browser muted the sound: unmute to listen' : '');
  }

  function behindLive(): number {
    if (rewind <= 0) return 0;
    if (!behindRef) return rewind;
    const wall = (now() - behindRef.t) / 1000;
    const played = (video.currentTime || 0) - behindRef.ct;
    return rewind + Math.max(0, wall - played);
  }

  function setState(s: LiveState, msg: string, extra?: Extra): void {
    const changed = s !== state || msg !== message;
    state = s;
    message = msg;
    detail = extra?.detail ?? '';
    if (!changed || !onStatus) return;
    const st: LiveStatus = { state, message, stream, proto, url };
    if (extra?.retryInMs != null) st.retryInMs = extra.retryInMs;
    if (detail) st.detail = detail;
    if (soundMuted) st.soundMuted = true;
    try {
      onStatus(st);
    } catch (e) {
      setTimeout(() => { throw e; }); // the page's bug, reported without breaking the player
    }
  }

  /** Move by the table; false (and nothing happens) when the event does not count now. */
  function go(event: LiveEvent, msg: string, extra?: Extra): boolean {
    const next = nextState(state, event);
    if (next === null) return false;
    setState(next, msg, extra);
    return true;
  }

  // ---- timers ---------------------------------------------------------------
  function clearRetry(): void {
    if (retryTimer !== undefined) clearTimeout(retryTimer);
    retryTimer = undefined;
    retryAt = 0;
    listing.cancel();
  }

  function schedule(fn: () => void, ms: number): void {
    clearRetry();
    retryAt = Date.now() + ms;
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      retryAt = 0;
      if (state !== 'destroyed') fn();
    }, ms);
  }

  // ---- the connection ---------------------------------------------------------
  function teardown(): void {
    clearWaiting();
    const c = conn;
    conn = null;
    c?.close();
  }

  function connect(): void {
    if (state === 'destroyed') return;
    clearRetry();
    teardown();
    if (!lib) {
      go('load-library', 'Loading player…');
      env.loadMpegts(o.mpegtsUrl).then((m) => {
        if (state === 'destroyed') return;
        lib = m;
        connect();
      }, (err: unknown) => {
        if (!go('library-failed', 'Could not load the player library (mpegts.js).', { detail: errorText(err) })) return;
        schedule(connect, backoff.next());
      });
      return;
    }
    const features = libraryFeatures(lib);
    if (!mseClass() || (features && !features.msePlayback)) {
      go('no-mse', 'This browser cannot play live FLV: it has no Media Source Extensions with H.264 support.');
      return;
    }
    if (proto === 'http' && features && !features.networkStreamIO) {
      go('no-mse', 'This browser cannot stream HTTP-FLV (no streaming fetch). Use WS-FLV instead.');
      return;
    }
    url = streamUrl();
    behindRef = null;
    latency.reset();
    timeSync.restart();
    mediaInfo = null;
    bitrate = 0;
    const t = now();
    connectStartedAt = t;
    fps.restart(t, counts().total);
    progress.restart(t);

    const config: MpegtsConfig = { ...LOW_LATENCY_CONFIG, ...o.mpegtsConfig };
    if (rewind > 0) {
      // Behind live on purpose: the server feeds at real-time pace from the rewind window, so
      // never chase (that would jump to the end of the buffer, then starve) and never speed up.
      config.liveBufferLatencyChasing = false;
      config.liveBufferLatencyChasingOnPaused = false;
      config.liveSync = false;
    }
    const source = { type: 'flv' as const, isLive: true, url, cors: true, withCredentials: false,
      ...(typeof hasAudio === 'boolean' ? { hasAudio } : {}),
      ...(typeof o.hasVideo === 'boolean' ? { hasVideo: o.hasVideo } : {}) };
    let c: Connection;
    try {
      c = new Connection(lib, video, source, config, {
        error: onError,
        ended: () => disconnected('ended', 'stream ended'),
        mediaInfo: onMediaInfo,
        statistics: (si) => { bitrate = bitrateFromSpeed(si.speed) ?? bitrate; },
        scriptData: (d) => {
          const start = timelineStartOf(d);
          if (start !== null) latency.setTimelineStart(start);
        },
      });
    } catch (e) {
      go('start-failed', 'Could not start the player.', { detail: errorText(e) });
      schedule(connect, backoff.next());
      return;
    }
    conn = c;
    go('connect', `Connecting to ${stream} (${protoLabel()})` + (rewind > 0 ? `, ${rewind} s behind live` : '') + '…');
    joining = frameCallbacks && rewind <= 0;
    video.autoplay = !joining;
    clearInterval(joinTimer);
    if (joining) joinTimer = setInterval(checkJoin, 40);
    try {
      c.start();
    } catch (e) {
      onError('OtherError', 'Exception', { msg: errorText(e) });
      return;
    }
    timeSync.tick();
    if (!joining) tryPlay();
  }

  /** While joining: start playback once, near the end of the burst, when it is all in (live-join.ts). */
  function checkJoin(): void {
    if (!joining) return clearInterval(joinTimer);
    if (!conn || !isConnected(state)) return;
    const b = video.buffered;
    const start = b && b.length ? b.start(b.length - 1) : 0;
    const end = bufferedEnd(video);
    const at = joinPosition({ start, end, liveEdge: latency.liveEdgeMediaTime(wallNow()), waitedMs: now() - connectStartedAt }, joinTarget);
    if (at === null) return;
    joining = false;
    clearInterval(joinTimer);
    video.autoplay = true;
    try {
      if (at > (video.currentTime || 0)) video.currentTime = at;
    } catch {
      // seeking can throw while the media source is closing; playing from the start is still fine
    }
    tryPlay();
  }

  /** Each presented frame (requestVideoFrameCallback): its true latency. */
  function onFrame(_now: number, meta: VideoFrameCallbackMetadata): void {
    frameCallback = video.requestVideoFrameCallback(onFrame);
    if (rewind <= 0) latency.presented(meta.mediaTime, performance.timeOrigin + meta.expectedDisplayTime);
  }

  function tryPlay(): void {
    const c = conn;
    void startPlayback(video, tuning.autoMute, () => { soundMuted = true; }).then((outcome) => {
      if (c !== conn || !isConnected(state)) return;
      if (outcome === 'muted' && state === 'playing') setState('playing', playingMessage());
      else if (outcome === 'blocked') go('autoplay-blocked', 'Autoplay was blocked — click to play.');
    });
  }

  // ---- mpegts.js events -------------------------------------------------------
  /** The codecs really cannot be decoded here (as opposed to a transient media error). */
  function codecsUnsupported(): boolean {
    if (!mseClass()) return true;
    if (!mediaInfo) return false;
    const s = streamCodecsSupported(mediaInfo);
    return !s.videoOk || (!s.audioOk && !s.video);
  }

  function onMediaInfo(mi: MpegtsMediaInfo): void {
    mediaInfo = mi;
    if (!mseClass()) return;
    // Check the codecs mpegts.js found against what MSE accepts, and say so clearly instead of
    // looping on MSE errors.
    const s = streamCodecsSupported(mi);
    if (s.videoOk && s.audioOk) return;
    if (s.videoOk && s.video && hasAudio !== false) {
      hasAudio = false; // only the audio is the problem: reconnect without it
      go('connect', `This browser cannot decode ${describeCodec(s.audio)} audio — playing without sound…`);
      connect();
      return;
    }
    fail('codec-unsupported', `This browser cannot decode ${s.videoOk ? describeCodec(s.audio) + ' audio' : describeCodec(s.video) + ' video'}` +
      ` (${s.videoOk ? s.audio : s.video}).`);
  }

  function onError(type: string, det: string, info: MpegtsErrorInfo): void {
    const msg = info.msg || info.message || '';
    const code = info.code;
    const ED = lib!.ErrorDetails;
    if (det === ED.MEDIA_CODEC_UNSUPPORTED || det === ED.MEDIA_FORMAT_UNSUPPORTED) {
      fail('codec-unsupported', `This stream uses a codec the player cannot handle: ${msg || det}.`);
    } else if (det === ED.MEDIA_MSE_ERROR && codecsUnsupported()) {
      fail('codec-unsupported', `This browser cannot decode this stream: ${msg}`);
    } else if (det === ED.NETWORK_STATUS_CODE_INVALID && (code === 404 || code === 410)) {
      goOffline('not-live', `HTTP ${code}`);
    } else if (det === ED.NETWORK_STATUS_CODE_INVALID && (code === 401 || code === 403)) {
      fail('access-denied', `Access denied (HTTP ${code}). The link may have expired or the signature is invalid.`, true);
    } else {
      disconnected('error', `${type} / ${det}${msg ? ': ' + msg : ''}${code ? ` (${code})` : ''}`);
    }
  }

  function fail(event: LiveEvent, msg: string, retrySlowly = false): void {
    teardown();
    clearRetry();
    go(event, msg);
    if (retrySlowly) schedule(connect, backoff.slow());
  }

  /** The connection is gone: find out whether the stream is still published, then retry or wait. */
  function disconnected(kind: 'error' | 'ended' | 'stall', why: string): void {
    const moved = kind === 'ended'
      ? go('stream-ended', 'Stream ended — checking whether it is still live…', { detail: why })
      : go('connection-lost', 'Reconnecting…', { detail: why });
    if (!moved) return;
    conn?.quiet(); // keep the last picture; the connection is replaced on reconnect
    if (!tuning.checkApi) {
      retryLater(kind, why);
      return;
    }
    listing.run((listed) => {
      if (listed === false) goOffline(kind === 'ended' ? 'ended' : 'not-live', why);
      else retryLater(kind, why); // listed, or the API is unavailable: plain retry with backoff
    });
  }

  function retryLater(kind: 'error' | 'ended' | 'stall', why: string): void {
    const d = backoff.next();
    reconnects++;
    let msg = `${mediaInfo || progress.bufferedEnd > 0 ? 'Connection lost' : 'Cannot connect to ' + stream} — retrying in ${fmtSec(d)}…`;
    if (kind === 'ended') msg = `Connection closed — reconnecting in ${fmtSec(d)}…`;
    if (kind === 'stall') msg = `No data from the server — reconnecting in ${fmtSec(d)}…`;
    go('retry-scheduled', msg, { retryInMs: d, detail: why });
    schedule(connect, d);
  }

  function goOffline(reason: 'ended' | 'not-live', why: string): void {
    conn?.quiet();
    const msg = reason === 'ended'
      ? `The publisher stopped. Waiting for ${stream} to come back…`
      : `${stream} is not live right now. Waiting for it to start…`;
    if (go('not-live', msg, { detail: why })) pollUntilLive();
  }

  function pollUntilLive(): void {
    if (!tuning.checkApi) {
      retryLater('ended', 'offline');
      return;
    }
    schedule(() => listing.run((listed) => {
      if (state !== 'offline') return;
      if (listed === false) {
        pollUntilLive();
        return;
      }
      if (listed) backoff.reset();
      connect(); // listed, or the API is unavailable: try the stream itself (a 404 comes back here)
    }), tuning.pollMs);
  }

  // ---- video element events -----------------------------------------------------
  function onPlaying(): void {
    clearWaiting();
    if (!isConnected(state)) return;
    everPlayed = true;
    backoff.reset();
    if (rewind > 0 && !behindRef) behindRef = { t: now(), ct: video.currentTime || 0 };
    go('playing', playingMessage());
  }

  function clearWaiting(): void {
    if (waitingTimer !== undefined) clearTimeout(waitingTimer);
    waitingTimer = undefined;
  }

  function onWaiting(): void {
    clearWaiting();
    waitingTimer = setTimeout(() => {
      waitingTimer = undefined;
      if (video.readyState < 3 && !video.paused) go('waiting', 'Buffering…');
    }, BUFFERING_GRACE_MS);
  }

  /** Any pause while connected is the browser's (autoplay policy, audio interruption, power saving). */
  function onPause(): void {
    if (!isConnected(state) || !video.paused || video.ended) return;
    // Background tabs: browsers pause video there on purpose; catch up when visible again.
    if (typeof document !== 'undefined' && document.hidden) return;
    if (go('engine-paused', 'The browser paused the video — resuming…')) tryPlay();
  }

  function onVolumeChange(): void {
    if (!soundMuted || video.muted) return;
    soundMuted = false; // the viewer turned the sound back on
    if (state === 'playing') setState('playing', playingMessage());
  }

  function onVideoError(): void {
    const err = video.error;
    if (!err || !isConnected(state) || err.code === 1) return; // 1: aborted by a new load
    const text = err.message ? ` (${err.message})` : '';
    // Say "cannot decode" only when the codecs really are unsupported: a media error right after a
    // seek (WebKit's "Failed to push buffer") plays fine on a fresh connection.
    if (codecsUnsupported()) fail('codec-unsupported', `This browser cannot decode this stream${text}.`);
    else disconnected('error', `media error ${err.code}${text}${everPlayed ? '' : ' before the first picture'}`);
  }

  function onClickWhenBlocked(): void {
    if (state !== 'blocked') return;
    video.muted = true;
    tryPlay();
  }

  function onVisibility(): void {
    if (document.hidden) return;
    if (state === 'suspended') connect();
    else jumpToLive();
  }

  function setRewind(seconds: number | string): void {
    if (state === 'destroyed') return;
    rewind = normalizeRewind(seconds);
    url = streamUrl();
    backoff.reset();
    connect();
  }

  function jumpToLive(): boolean {
    if (!conn || !isConnected(state)) return false;
    const resume = video.paused && state !== 'blocked';
    if (rewind > 0) {
      // The end of the buffer is not live while rewinding (use goLive()).
      if (resume && state !== 'connecting') tryPlay();
      return false;
    }
    const b = video.buffered;
    if (!b || !b.length) return false;
    const end = b.end(b.length - 1);
    const start = b.start(b.length - 1);
    let jumped = false;
    if (end - video.currentTime > tuning.liveEdgeMargin + 0.15 || video.currentTime < start) {
      try {
        video.currentTime = Math.max(start, end - tuning.liveEdgeMargin);
        jumped = true;
      } catch {
        // seeking can throw while the media source is closing; the next tick tries again
      }
    }
    if (resume) tryPlay();
    return jumped;
  }

  // ---- housekeeping every 500 ms: stats, watchdog, background tabs -------------
  function tick(): void {
    const t = now();
    const total = counts().total;
    if (t - connectStartedAt < STARTUP_BURST_MS || video.paused) fps.hold(t, total);
    else fps.sample(t, total);
    if (!conn || !isConnected(state)) return;
    timeSync.tick();
    checkJoin();
    if (!frameCallbacks && !video.paused && rewind <= 0) latency.presented(video.currentTime || 0, wallNow());
    progress.observe(t, bufferedEnd(video), video.currentTime);
    const hidden = document.hidden;
    const verdict = watchdogVerdict({ state, now: t, connectStartedAt, watch: progress, paused: video.paused, hidden }, tuning);
    if (verdict === 'no-media') return disconnected('stall', `no media after ${Math.round(tuning.connectTimeoutMs / 1000)} s`);
    if (verdict === 'stalled') return disconnected('stall', `no data for ${Math.round(tuning.stallTimeoutMs / 1000)} s`);
    if (verdict === 'frozen') return disconnected('stall', `the picture stood still for ${Math.round(tuning.stallTimeoutMs / 1000)} s`);
    if (state === 'buffering' && !video.paused && bufferedAhead(video) > 0.1 && video.readyState >= 3) {
      go('data-resumed', playingMessage());
    }
    if (state === 'paused' && video.paused && !hidden) tryPlay(); // still paused: keep asking
    // Paused in a background tab: the buffer only grows. Reconnect when the tab is visible again.
    if (hidden && video.paused && bufferedAhead(video) > HIDDEN_BUFFER_LIMIT_S) {
      teardown();
      go('hidden-overflow', 'Paused in the background — resumes when the tab is visible.');
    }
  }

  const listeners: [string, () => void][] = [
    ['playing', onPlaying], ['waiting', onWaiting], ['pause', onPause], ['volumechange', onVolumeChange],
    ['error', onVideoError], ['click', onClickWhenBlocked], ['progress', checkJoin],
  ];
  for (const [type, fn] of listeners) video.addEventListener(type, fn);
  document.addEventListener('visibilitychange', onVisibility);
  if (frameCallbacks) frameCallback = video.requestVideoFrameCallback(onFrame);
  const tickTimer = setInterval(tick, TICK_MS);
  connect();

  return {
    kind: 'live',
    destroy(): void {
      if (state === 'destroyed') return;
      clearRetry();
      clearInterval(tickTimer);
      clearInterval(joinTimer);
      timeSync.cancel();
      if (frameCallbacks) video.cancelVideoFrameCallback(frameCallback);
      teardown();
      for (const [type, fn] of listeners) video.removeEventListener(type, fn);
      document.removeEventListener('visibilitychange', onVisibility);
      go('destroy', 'Stopped');
      onStatus = null;
    },
    stats(): LiveStats {
      const q = counts();
      const mi = mediaInfo ?? {};
      const ahead = conn ? bufferedAhead(video) : 0;
      return {
        state, message, detail, stream, proto, url,
        decodedFrames: q.total,
        droppedFrames: q.dropped,
        currentTime: video.currentTime || 0,
        bufferedAhead: ahead,
        latency: ahead,
        trueLatency: conn && rewind <= 0 && latency.latest !== null ? Math.round(latency.latest * 1000) / 1000 : null,
        videoWidth: video.videoWidth || 0,
        videoHeight: video.videoHeight || 0,
        fps: fps.fps,
        metadataFps: mi.fps || null,
        bitrate: conn ? bitrate : 0,
        videoCodec: mi.videoCodec || null,
        audioCodec: mi.audioCodec || null,
        hasAudio: mi.hasAudio != null ? !!mi.hasAudio : null,
        hasVideo: mi.hasVideo != null ? !!mi.hasVideo : null,
        playbackRate: video.playbackRate,
        paused: video.paused,
        muted: video.muted,
        soundMuted,
        reconnects,
        retryInMs: retryAt ? Math.max(0, retryAt - Date.now()) : null,
        rewind,
        behindLive: Math.round(behindLive() * 10) / 10,
      };
    },
    reconnect(): void {
      if (state === 'destroyed') return;
      backoff.reset();
      connect();
    },
    jumpToLive,
    setRewind,
    goLive: () => setRewind(0),
    get rewind() { return rewind; },
    get state() { return state; },
    get stream() { return stream; },
    get proto() { return proto; },
    get url() { return url; },
    get video() { return video; },
  };
}
