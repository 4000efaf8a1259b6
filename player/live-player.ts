// The live player: one mpegts.js connection at a time to a gateway stream, kept alive through
// network errors, publisher restarts, background tabs and pauses the page did not ask for. Which
// events count in which state is the table in life-cycle.ts; this file does what each move needs.
import { describeCodec, judgeStreamCodecs, mseClass } from './codecs.js';
import { Connection, LibrarySlot, prepareElement, startPlayback } from './connection.js';
import { isConnected, nextState, type LiveEvent, type LiveState } from './life-cycle.js';
import {
  LOW_LATENCY_CONFIG, type LivePlayer, type LivePlayerOptions, type LiveStats, type LiveStatus, type PlayerEnvironment,
} from './live-types.js';
import { bufferedAhead, bufferedEnd, errorText, now, seekToLiveEdge } from './media-element.js';
import { FrameMeter, mediaStats } from './media-stats.js';
import type { MpegtsErrorInfo, MpegtsMediaInfo } from './mpegts-api.js';
import { classifyError, errorDetail, errorMessage } from './mpegts-errors.js';
import { DelayedCheck } from './delayed-check.js';
import { createHlsPlayback } from './hls-playback.js';
import { LiveRecovery } from './live-recovery.js';
import { liveSettings } from './live-options.js';
import { liveFlvUnsupported, liveSource } from './live-source.js';
import { chooseProtocol, detectCapabilities, normalizeRequestedProto } from './protocol-choice.js';
import { bitrateFromSpeed } from './stats-sampler.js';
import { StatusBoard, type StatusExtra } from './status-board.js';
import { ListingCheck } from './stream-listing.js';
import { LatencyWatch } from './latency-watch.js';
import { TimedTextWatch } from './timed-text.js';
import { apiUrl, buildUrls, normalizeProto, normalizeRewind } from './urls.js';
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

export function createLivePlayer(video: HTMLVideoElement, options: LivePlayerOptions, env: PlayerEnvironment): LivePlayer {
  const { options: o, tuning, stream, base } = liveSettings(video, options, env);
  const requested = normalizeRequestedProto(o.proto, normalizeProto) ?? 'ws';
  const choice = requested === 'ws' || requested === 'http' ? { proto: requested } as const
    : chooseProtocol(requested, detectCapabilities(globalThis as unknown as Window & Record<string, unknown>, video));
  if (choice.proto === null) return createHlsPlayback(video, o, { stream, base, engine: null, reason: choice.reason, autoMute: tuning.autoMute });
  if (choice.proto === 'hls') return createHlsPlayback(video, o, { stream, base, engine: choice.engine, autoMute: tuning.autoMute });
  const proto = choice.proto;
  let hasAudio = o.hasAudio;
  let rewind = normalizeRewind(o.rewind ?? o.params?.rewind);
  prepareElement(video);

  const board = new StatusBoard<LiveState, LiveStatus>('idle', o.onStatus, (b, extra) => {
    const st: LiveStatus = { state: b.state, message: b.message, stream, proto, url };
    if (extra.retryInMs != null) st.retryInMs = extra.retryInMs;
    if (b.detail) st.detail = b.detail;
    if (soundMuted) st.soundMuted = true;
    return st;
  });
  const library = new LibrarySlot(() => env.loadMpegts(o.mpegtsUrl));
  let conn: Connection | null = null;
  let mediaInfo: MpegtsMediaInfo | null = null;
  let everPlayed = false;
  let soundMuted = false;
  // The page paused the video on purpose (pause()): not recovered, not watched, until it plays again.
  let pausedByPage = false;
  let bitrate = 0;
  let connectStartedAt = 0;
  // Rewind sessions: how much the playhead fell behind wall-clock time since the first picture.
  let behindRef: { t: number; ct: number } | null = null;
  const bufferingNotice = new DelayedCheck(BUFFERING_GRACE_MS, () => {
    if (video.readyState < 3 && !video.paused) go('waiting', 'Buffering…');
  });
  const meter = new FrameMeter(video);
  const progress = new ProgressWatch();
  const recovery = new LiveRecovery({
    go,
    isOffline: () => board.state === 'offline',
    isDestroyed: () => board.state === 'destroyed',
    connect,
    quiet: () => conn?.quiet(),
    hadMedia: () => !!mediaInfo || progress.bufferedEnd > 0,
  }, tuning, new ListingCheck(apiUrl(base), stream), stream);
  const backoff = recovery.backoff;
  const latency = new LatencyWatch(video, apiUrl(base), stream, { ...LOW_LATENCY_CONFIG, ...o.mpegtsConfig }.liveSyncTargetLatency ?? 0.3, (at) => {
    try {
      if (at > (video.currentTime || 0)) video.currentTime = at;
    } catch {
      // seeking can throw while the media source is closing; playing from the start is still fine
    }
    tryPlay();
  }, () => !!conn && isConnected(board.state));
  let url = streamUrl();
  // Text and cue points wait until the playhead reaches their timestamp (timed-text.ts).
  const timed = new TimedTextWatch(video, (t) => latency.clock.timelineOf(t));
  timed.events.on('text', (e) => o.onText?.(e));
  timed.events.on('cuepoint', (e) => o.onCuePoint?.(e));
  timed.events.on('captioninfo', (e) => o.onCaptionInfo?.(e));

  function streamUrl(): string {
    const params = { ...o.params };
    if (rewind > 0) params.rewind = String(rewind);
    else delete params.rewind;
    const urls = buildUrls(stream, base, params);
    return proto === 'ws' ? urls.ws : urls.http;
  }

  const protoLabel = (): string => (proto === 'ws' ? 'WS-FLV' : 'HTTP-FLV');

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

  /** Move by the table; false (and nothing happens) when the event does not count now. */
  function go(event: LiveEvent, msg: string, extra?: StatusExtra): boolean {
    const next = nextState(board.state, event);
    if (next === null) return false;
    board.set(next, msg, extra);
    return true;
  }

  // ---- the connection ---------------------------------------------------------
  function teardown(): void {
    bufferingNotice.cancel();
    const c = conn;
    conn = null;
    c?.close();
  }

  function connect(): void {
    if (board.state === 'destroyed') return;
    recovery.clear();
    teardown();
    const lib = library.get(connect, (err) => {
      if (go('library-failed', 'Could not load the player library (mpegts.js).', { detail: errorText(err) })) recovery.retrySoon();
    });
    if (!lib) {
      go('load-library', 'Loading player…');
      return;
    }
    const unsupported = liveFlvUnsupported(lib, proto);
    if (unsupported !== null) {
      go('no-mse', unsupported);
      return;
    }
    url = streamUrl();
    behindRef = null;
    timed.queue.clear();
    mediaInfo = null;
    bitrate = 0;
    const t = now();
    connectStartedAt = t;
    meter.restart(t);
    progress.restart(t);

    const { source, config } = liveSource({ url, rewind, config: o.mpegtsConfig, hasAudio, hasVideo: o.hasVideo });
    let c: Connection;
    try {
      c = new Connection(lib, video, source, config, {
        error: onError,
        ended: () => recovery.lost('ended', 'stream ended'),
        mediaInfo: onMediaInfo,
        statistics: (si) => { bitrate = bitrateFromSpeed(si.speed) ?? bitrate; },
        scriptData: (d) => {
          latency.scriptData(d);
          timed.scriptData(d);
        },
      });
    } catch (e) {
      go('start-failed', 'Could not start the player.', { detail: errorText(e) });
      recovery.retrySoon();
      return;
    }
    conn = c;
    go('connect', `Connecting to ${stream} (${protoLabel()})` + (rewind > 0 ? `, ${rewind} s behind live` : '') + '…');
    const joining = latency.connect(rewind > 0);
    try {
      c.start();
    } catch (e) {
      onError('OtherError', 'Exception', { msg: errorText(e) });
      return;
    }
    if (!joining) tryPlay();
  }

  function tryPlay(): void {
    const c = conn;
    void startPlayback(video, tuning.autoMute, () => { soundMuted = true; }).then((outcome) => {
      if (c !== conn || !isConnected(board.state)) return;
      if (outcome === 'muted' && board.state === 'playing') board.set('playing', playingMessage());
      else if (outcome === 'blocked') go('autoplay-blocked', 'Autoplay was blocked — click to play.');
    });
  }

  // ---- mpegts.js events -------------------------------------------------------
  /** The codecs really cannot be decoded here (as opposed to a transient media error). */
  function codecsUnsupported(): boolean {
    return !mseClass() || (!!mediaInfo && judgeStreamCodecs(mediaInfo).verdict === 'unsupported');
  }

  function onMediaInfo(mi: MpegtsMediaInfo): void {
    mediaInfo = mi;
    if (!mseClass()) return;
    // Check the codecs mpegts.js found against what MSE accepts, and say so clearly instead of
    // looping on MSE errors.
    const { verdict, message } = judgeStreamCodecs(mi);
    if (verdict === 'ok') return;
    if (verdict === 'drop-audio' && hasAudio !== false) {
      hasAudio = false; // only the audio is the problem: reconnect without it
      go('connect', `This browser cannot decode ${describeCodec(mi.audioCodec)} audio — playing without sound…`);
      connect();
      return;
    }
    fail('codec-unsupported', message);
  }

  function onError(type: string, det: string, info: MpegtsErrorInfo): void {
    const kind = classifyError(conn!.lib, det, info);
    if (kind === 'codec') {
      fail('codec-unsupported', `This stream uses a codec the player cannot handle: ${errorMessage(info) || det}.`);
    } else if (kind === 'mse' && codecsUnsupported()) {
      fail('codec-unsupported', `This browser cannot decode this stream: ${errorMessage(info)}`);
    } else if (kind === 'gone') {
      recovery.offline('not-live', `HTTP ${info.code}`);
    } else if (kind === 'forbidden') {
      fail('access-denied', `Access denied (HTTP ${info.code}). The link may have expired or the signature is invalid.`, true);
    } else {
      recovery.lost('error', errorDetail(type, det, info));
    }
  }

  function fail(event: LiveEvent, msg: string, retrySlowly = false): void {
    teardown();
    recovery.clear();
    go(event, msg);
    if (retrySlowly) recovery.retrySlowly();
  }

  // ---- video element events -----------------------------------------------------
  function onPlaying(): void {
    bufferingNotice.cancel();
    pausedByPage = false;
    if (!isConnected(board.state)) return;
    everPlayed = true;
    backoff.reset();
    if (rewind > 0 && !behindRef) behindRef = { t: now(), ct: video.currentTime || 0 };
    go('playing', playingMessage());
  }

  /**
   * Any pause but the page's own (pause()) is the browser's: autoplay policy, audio interruption,
   * power saving. It is shown and undone. (The viewer's gesture cannot tell them apart: automation
   * tools and some engines pause under a gesture too.)
   */
  function onPause(): void {
    if (!isConnected(board.state) || !video.paused || video.ended || pausedByPage) return;
    // Background tabs: browsers pause video there on purpose; catch up when visible again.
    if (document.hidden) return;
    if (go('engine-paused', 'The browser paused the video — resuming…')) tryPlay();
  }

  function onVolumeChange(): void {
    if (!soundMuted || video.muted) return;
    soundMuted = false; // the viewer turned the sound back on
    if (board.state === 'playing') board.set('playing', playingMessage());
  }

  function onVideoError(): void {
    const err = video.error;
    if (!err || err.code === 1) return; // 1: aborted by a new load
    // A media error closes the media source and removes its SourceBuffers: there is no picture left
    // to keep, even while recovering already, and mpegts.js must stop appending to removed buffers.
    if (!isConnected(board.state)) return teardown();
    const text = err.message ? ` (${err.message})` : '';
    // "Cannot decode" only when the codecs really are unsupported: a media error right after a
    // seek (WebKit's "Failed to push buffer") plays fine on a fresh connection.
    if (codecsUnsupported()) return fail('codec-unsupported', `This browser cannot decode this stream${text}.`);
    teardown();
    recovery.lost('error', `media error ${err.code}${text}${everPlayed ? '' : ' before the first picture'}`);
  }

  function onClickWhenBlocked(): void {
    if (board.state !== 'blocked') return;
    video.muted = true;
    tryPlay();
  }

  function onVisibility(): void {
    if (document.hidden) return;
    if (board.state === 'suspended') connect();
    else jumpToLive();
  }

  function setRewind(seconds: number | string): void {
    if (board.state === 'destroyed') return;
    rewind = normalizeRewind(seconds);
    url = streamUrl();
    backoff.reset();
    connect();
  }

  function jumpToLive(): boolean {
    if (!conn || !isConnected(board.state)) return false;
    const resume = video.paused && board.state !== 'blocked' && !pausedByPage;
    if (rewind > 0) {
      // The end of the buffer is not live while rewinding (use goLive()).
      if (resume && board.state !== 'connecting') tryPlay();
      return false;
    }
    if (!video.buffered?.length) return false;
    const jumped = seekToLiveEdge(video, tuning.liveEdgeMargin);
    if (resume) tryPlay();
    return jumped;
  }

  // ---- housekeeping every 500 ms: stats, watchdog, background tabs -------------
  function tick(): void {
    const t = now();
    meter.tick(t, t - connectStartedAt < STARTUP_BURST_MS || video.paused);
    if (!conn || !isConnected(board.state)) return;
    latency.tick();
    timed.release();
    progress.observe(t, bufferedEnd(video), video.currentTime);
    const hidden = document.hidden;
    const verdict = watchdogVerdict({ state: board.state, now: t, connectStartedAt, watch: progress, pausedByPage, hidden }, tuning);
    if (verdict === 'no-media') return recovery.lost('stall', `no media after ${Math.round(tuning.connectTimeoutMs / 1000)} s`);
    if (verdict === 'stalled') return recovery.lost('stall', `no data for ${Math.round(tuning.stallTimeoutMs / 1000)} s`);
    if (verdict === 'frozen') return recovery.lost('stall', `the picture stood still for ${Math.round(tuning.stallTimeoutMs / 1000)} s`);
    if (board.state === 'buffering' && !video.paused && bufferedAhead(video) > 0.1 && video.readyState >= 3) {
      go('data-resumed', playingMessage());
    }
    if (board.state === 'paused' && video.paused && !hidden) tryPlay(); // still paused: keep asking
    // Paused in a background tab: the buffer only grows. Reconnect when the tab is visible again.
    if (hidden && video.paused && bufferedAhead(video) > HIDDEN_BUFFER_LIMIT_S) {
      teardown();
      go('hidden-overflow', 'Paused in the background — resumes when the tab is visible.');
    }
  }

  const listeners: [string, () => void][] = [
    ['playing', onPlaying], ['waiting', () => bufferingNotice.start()], ['pause', onPause], ['volumechange', onVolumeChange],
    ['error', onVideoError], ['click', onClickWhenBlocked], ['progress', () => latency.checkJoin()],
  ];
  for (const [type, fn] of listeners) video.addEventListener(type, fn);
  document.addEventListener('visibilitychange', onVisibility);
  const tickTimer = setInterval(tick, TICK_MS);
  connect();

  return {
    kind: 'live',
    destroy(): void {
      if (board.state === 'destroyed') return;
      recovery.clear();
      clearInterval(tickTimer);
      latency.destroy();
      teardown();
      for (const [type, fn] of listeners) video.removeEventListener(type, fn);
      document.removeEventListener('visibilitychange', onVisibility);
      timed.destroy();
      go('destroy', 'Stopped');
      board.silence();
    },
    stats(): LiveStats {
      const ahead = conn ? bufferedAhead(video) : 0;
      return {
        ...mediaStats(video, meter, mediaInfo),
        state: board.state, message: board.message, detail: board.detail, stream, proto, url,
        bufferedAhead: ahead,
        latency: ahead,
        trueLatency: conn ? latency.trueLatency : null,
        bitrate: conn ? bitrate : 0,
        soundMuted,
        reconnects: recovery.reconnects,
        retryInMs: recovery.retryInMs(),
        rewind,
        behindLive: Math.round(behindLive() * 10) / 10,
        timelinePosition: conn ? latency.clock.timelineOf(video.currentTime || 0) : null,
      };
    },
    reconnect(): void {
      if (board.state === 'destroyed') return;
      backoff.reset();
      connect();
    },
    jumpToLive,
    setRewind,
    pause(): void {
      pausedByPage = true;
      video.pause();
    },
    play(): void {
      pausedByPage = false;
      if (isConnected(board.state)) tryPlay();
    },
    goLive: () => setRewind(0),
    on: (type, listener) => timed.events.on(type, listener),
    get rewind() { return rewind; },
    get state() { return board.state; },
    get stream() { return stream; },
    get proto() { return proto; },
    get url() { return url; },
    get video() { return video; },
  };
}
