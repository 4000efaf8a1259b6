/*!
 * Live Gateway player — a thin, low-latency wrapper around mpegts.js for the
 * gateway's HTTP-FLV / WS-FLV streams.
 *
 *   <script src="https://gateway.example/player.js"></script>
 *   <script>
 *     const p = LiveGateway.createPlayer(document.querySelector('video'), {
 *       stream: 'live/cam1', proto: 'ws', onStatus: (s) => console.log(s.state, s.message)
 *     });
 *     // later: p.destroy();
 *   </script>
 *
 * player.js loads mpegts.js by itself from `vendor/mpegts.js` next to its own
 * URL, unless `window.mpegts` already exists. Classic script, no dependencies,
 * no build step. Exposes `window.LiveGateway`.
 */
(function (global) {
  'use strict';

  var VERSION = '1.0.0';

  // ---------------------------------------------------------------------------
  // Where this script came from: the gateway's base URL and the mpegts.js URL
  // are resolved relative to it, so it works behind any path prefix.
  // ---------------------------------------------------------------------------
  var SCRIPT_SRC = (function () {
    var cs = document.currentScript;
    if (cs && cs.src) return cs.src;
    var scripts = document.getElementsByTagName('script');
    for (var i = scripts.length - 1; i >= 0; i--) {
      if (/(^|\/)player\.js(\?|#|$)/.test(scripts[i].src)) return scripts[i].src;
    }
    return location.href;
  })();

  var DEFAULT_BASE = new URL('./', SCRIPT_SRC).href;
  var MPEGTS_URL = new URL('vendor/mpegts.js', SCRIPT_SRC).href;

  /** Low-latency defaults handed to mpegts.js (overridable via options.mpegtsConfig). */
  var LOW_LATENCY_CONFIG = {
    isLive: true,
    enableWorker: false,
    enableStashBuffer: false,         // no IO stash: hand every chunk straight to MSE
    stashInitialSize: 128 * 1024,
    lazyLoad: false,                  // never pause the download for a live stream
    deferLoadAfterSourceOpen: true,
    liveBufferLatencyChasing: true,   // hard cap: jump to the live edge when the buffer grows
    liveBufferLatencyChasingOnPaused: false,
    liveBufferLatencyMaxLatency: 0.8, // seconds of buffer tolerated before jumping
    liveBufferLatencyMinRemain: 0.2,  // seconds of buffer kept after the jump
    liveSync: true,                   // soft catch-up: play slightly faster above 0.5 s
    liveSyncMaxLatency: 0.5,
    liveSyncTargetLatency: 0.3,
    liveSyncPlaybackRate: 1.1,
    autoCleanupSourceBuffer: true,    // keep memory bounded on long sessions
    autoCleanupMaxBackwardDuration: 30,
    autoCleanupMinBackwardDuration: 10,
    fixAudioTimestampGap: true
  };

  var DEFAULTS = {
    proto: 'ws',
    retryMinMs: 500,          // network-error backoff: 0.5 s, 1 s, 2 s, 4 s, 8 s, 8 s …
    retryMaxMs: 8000,
    pollMs: 2000,             // how often api/streams is polled while the stream is offline
    connectTimeoutMs: 12000,  // no media within this time → reconnect
    stallTimeoutMs: 8000,     // no new media data for this long while playing → reconnect
    liveEdgeMargin: 0.2,      // seconds kept behind the live edge when jumping to it
    checkApi: true,           // use api/streams to tell "publisher stopped" from "network trouble"
    autoMute: true            // if unmuted autoplay is blocked, mute and try again
  };

  // ---------------------------------------------------------------------------
  // mpegts.js loader (shared by every player on the page)
  // ---------------------------------------------------------------------------
  var mpegtsPromise = null;
  function loadMpegts(url) {
    if (global.mpegts) return Promise.resolve(global.mpegts);
    if (mpegtsPromise) return mpegtsPromise;
    mpegtsPromise = new Promise(function (resolve, reject) {
      var s = document.createElement('script');
      s.src = url || MPEGTS_URL;
      s.async = true;
      s.onload = function () {
        if (global.mpegts) resolve(global.mpegts);
        else reject(new Error('mpegts.js loaded but window.mpegts is missing'));
      };
      s.onerror = function () {
        mpegtsPromise = null;
        reject(new Error('Could not load ' + s.src));
      };
      (document.head || document.documentElement).appendChild(s);
    }).then(function (m) {
      try {
        // mpegts.js is chatty at info level; keep warnings and errors.
        var lc = m.LoggingControl;
        lc.enableVerbose = false;
        lc.enableDebug = false;
        lc.enableInfo = false;
      } catch (e) { /* ignore */ }
      return m;
    });
    return mpegtsPromise;
  }

  var featureCache = null;
  /** Stop and free an mpegts.js player; each step may throw on a half-torn-down player. */
  function disposeMpegtsPlayer(p) {
    try { p.pause(); } catch (e) { /* ignore */ }
    try { p.unload(); } catch (e) { /* ignore */ }
    try { p.detachMediaElement(); } catch (e) { /* ignore */ }
    try { p.destroy(); } catch (e) { /* ignore */ }
  }

  function getFeatures(m) {
    if (!featureCache) {
      try { featureCache = m.getFeatureList(); } catch (e) { featureCache = null; }
    }
    return featureCache;
  }

  // ---------------------------------------------------------------------------
  // URL helpers
  // ---------------------------------------------------------------------------
  function normalizeStream(stream) {
    return String(stream || '').trim().replace(/^\/+|\/+$/g, '').replace(/\.flv$/i, '');
  }

  function normalizeProto(proto) {
    proto = String(proto || '').toLowerCase().replace(/[^a-z]/g, '');
    if (proto === 'http' || proto === 'httpflv' || proto === 'https' || proto === 'flv') return 'http';
    if (proto === 'ws' || proto === 'wsflv' || proto === 'wss' || proto === 'websocket') return 'ws';
    return null;
  }

  function ensureSlash(base) {
    return /\/$/.test(base) ? base : base + '/';
  }

  /**
   * Build the play URLs of a stream.
   * @param {string} stream "APP/KEY"
   * @param {{base?: string, params?: object}} [opts]
   * @returns {{http: string, ws: string}}
   */
  function buildUrls(stream, opts) {
    opts = opts || {};
    var base = ensureSlash(new URL(opts.base || DEFAULT_BASE, location.href).href);
    var path = normalizeStream(stream).split('/').map(encodeURIComponent).join('/') + '.flv';
    var u = new URL(path, base);
    var params = opts.params || {};
    Object.keys(params).forEach(function (k) {
      if (params[k] != null && params[k] !== '') u.searchParams.set(k, params[k]);
    });
    var httpUrl = u.href;
    u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
    return { http: httpUrl, ws: u.href };
  }

  function apiUrl(base) {
    return new URL('api/streams', ensureSlash(new URL(base || DEFAULT_BASE, location.href).href)).href;
  }

  /**
   * A rewind offset in whole seconds (0 = live). Accepts numbers and strings;
   * anything that is not a finite number ≥ 1 gives 0. Capped at 999999 (the server's limit).
   */
  function normalizeRewind(value) {
    if (value == null || value === '') return 0;
    var n = Number(value);
    if (!isFinite(n) || n < 1) return 0;
    return Math.min(999999, Math.floor(n));
  }

  // ---------------------------------------------------------------------------
  // Codec support
  // ---------------------------------------------------------------------------
  var AVC_PROFILES = {
    'baseline': '4200', 'constrainedbaseline': '42e0', 'main': '4d40', 'extended': '5800',
    'high': '6400', 'high10': '6e00', 'high422': '7a00', 'high444': 'f400', 'high444predictive': 'f400'
  };

  function hex2(n) { return ('0' + (n & 0xff).toString(16)).slice(-2); }

  function avcCodec(profile, level) {
    var p = AVC_PROFILES[String(profile || '').toLowerCase().replace(/[^a-z0-9]/g, '')] || '4d40';
    var lv = Number(level);
    if (!isFinite(lv) || lv <= 0) lv = 3.1;
    var idc = lv < 10 ? Math.round(lv * 10) : Math.round(lv);
    return 'avc1.' + p + hex2(idc);
  }

  function mseClass() {
    return global.MediaSource || global.ManagedMediaSource || global.WebKitMediaSource || null;
  }

  function isTypeSupported(mime) {
    var MS = mseClass();
    try { return !!(MS && MS.isTypeSupported(mime)); } catch (e) { return false; }
  }

  function codecKey(name) {
    return String(name || '').toLowerCase().replace(/[^a-z0-9]/g, '');
  }

  function videoCodecInfo(v) {
    var k = codecKey(v.codec);
    if (k === 'h264' || k === 'avc' || k === 'avc1' || k === 'mpeg4avc') {
      return { label: 'H.264', mime: 'video/mp4; codecs="' + avcCodec(v.profile, v.level) + '"', demux: true };
    }
    if (k === 'h265' || k === 'hevc' || k === 'hvc1' || k === 'hev1') {
      return { label: 'H.265/HEVC', mime: 'video/mp4; codecs="hvc1.1.6.L93.B0"', demux: true };
    }
    if (k === 'av1' || k === 'av01') {
      return { label: 'AV1', mime: 'video/mp4; codecs="av01.0.08M.08"', demux: true };
    }
    return { label: v.codec || 'unknown', mime: null, demux: false };
  }

  function audioCodecInfo(a) {
    var k = codecKey(a.codec);
    var prof = codecKey(a.profile);
    if (k === 'aac' || k === 'mp4a') {
      var oti = prof === 'hev2' || prof === 'heaacv2' ? '29' : (prof === 'he' || prof === 'heaac' || prof === 'hev1' ? '5' : '2');
      return { label: 'AAC', mime: 'audio/mp4; codecs="mp4a.40.' + oti + '"', demux: true };
    }
    if (k === 'mp3' || k === 'mpeg' || k === 'mpeglayer3') {
      return { label: 'MP3', mime: 'audio/mpeg', alt: 'audio/mp4; codecs="mp3"', demux: true };
    }
    if (k === 'opus') return { label: 'Opus', mime: 'audio/mp4; codecs="opus"', demux: true };
    if (k === 'flac') return { label: 'FLAC', mime: 'audio/mp4; codecs="flac"', demux: true };
    return { label: a.codec || 'unknown', mime: null, demux: false };
  }

  /**
   * Can this browser play a stream described by api/streams?
   * @param {{video?: object|null, audio?: object|null}} info one entry of api/streams
   * @returns {{ok: boolean, videoOk: boolean, audioOk: boolean, mse: boolean, message: string, hasAudio?: boolean}}
   *   `ok` is true when the video (or, for audio-only streams, the audio) can be
   *   decoded. When only the audio can't be decoded, ok is true and hasAudio is false:
   *   pass `hasAudio: false` to createPlayer to play the picture without sound.
   */
  function checkSupport(info) {
    info = info || {};
    var res = { ok: true, videoOk: true, audioOk: true, mse: !!mseClass(), message: '' };
    if (!res.mse) {
      res.ok = res.videoOk = res.audioOk = false;
      res.message = 'This browser has no Media Source Extensions, so it cannot play live FLV. ' +
        'Try a current Chrome, Edge, Firefox or Safari (iOS 17.1+).';
      return res;
    }
    var problems = [];
    if (info.video) {
      var v = videoCodecInfo(info.video);
      res.videoCodec = v;
      if (!v.demux) {
        res.videoOk = false;
        problems.push('video codec ' + v.label + ' is not supported by the player (H.264, H.265 or AV1 needed)');
      } else if (!isTypeSupported(v.mime)) {
        res.videoOk = false;
        problems.push('this browser cannot decode ' + v.label + ' video');
      }
    }
    if (info.audio) {
      var a = audioCodecInfo(info.audio);
      res.audioCodec = a;
      if (!a.demux) {
        res.audioOk = false;
        problems.push('audio codec ' + a.label + ' is not supported by the player');
      } else if (!isTypeSupported(a.mime) && !(a.alt && isTypeSupported(a.alt))) {
        res.audioOk = false;
        problems.push('this browser cannot decode ' + a.label + ' audio');
      }
    }
    if (info.video) {
      res.ok = res.videoOk;
      if (res.videoOk && !res.audioOk) res.hasAudio = false;
    } else if (info.audio) {
      res.ok = res.audioOk;
    }
    if (problems.length) {
      var msg = problems.join('; ');
      res.message = msg.charAt(0).toUpperCase() + msg.slice(1) + '.';
      if (res.ok && !res.audioOk) res.message += ' Playing the picture without sound.';
      else if (!res.ok && res.videoCodec && /265/.test(res.videoCodec.label)) {
        res.message += ' H.265 needs hardware decoding support (e.g. Safari, or Chrome/Edge on a GPU with HEVC); H.264 plays everywhere.';
      } else if (!res.ok) {
        res.message += ' Publish H.264 video with AAC audio for the widest browser support.';
      }
    }
    return res;
  }

  /** "avc1.64001f" → "H.264 High L3.1", "mp4a.40.2" → "AAC-LC" */
  function describeCodec(codec) {
    if (!codec) return '';
    var m = /^avc[13]\.([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})/i.exec(codec);
    if (m) {
      var names = { 66: 'Baseline', 77: 'Main', 88: 'Extended', 100: 'High', 110: 'High 10', 122: 'High 4:2:2', 244: 'High 4:4:4' };
      var pi = parseInt(m[1], 16);
      var li = parseInt(m[3], 16);
      return 'H.264 ' + (names[pi] || 'profile ' + pi) + ' L' + (li / 10);
    }
    if (/^(hvc1|hev1)/i.test(codec)) return 'H.265';
    if (/^av01/i.test(codec)) return 'AV1';
    if (/^mp4a\.40\.2$/i.test(codec)) return 'AAC-LC';
    if (/^mp4a\.40\.5$/i.test(codec)) return 'HE-AAC';
    if (/^mp4a\.40\.29$/i.test(codec)) return 'HE-AACv2';
    if (/^mp4a\.40/i.test(codec)) return 'AAC';
    if (/^mp3|^mp4a\.6b|^mp4a\.69/i.test(codec)) return 'MP3';
    if (/^opus/i.test(codec)) return 'Opus';
    if (/^flac/i.test(codec)) return 'FLAC';
    return codec;
  }

  function bufferedAheadOf(video) {
    var b = video.buffered;
    if (!b || !b.length) return 0;
    var end = b.end(b.length - 1);
    return Math.max(0, end - video.currentTime);
  }

  function bufferedEndOf(video) {
    var b = video.buffered;
    return b && b.length ? b.end(b.length - 1) : 0;
  }

  // ---------------------------------------------------------------------------
  // The player
  // ---------------------------------------------------------------------------
  /**
   * @param {HTMLVideoElement} video
   * @param {object} options
   * @param {string} options.stream "APP/KEY"
   * @param {'ws'|'http'} [options.proto='ws']
   * @param {string} [options.base] gateway base URL (default: the directory player.js was loaded from)
   * @param {object} [options.params] extra query parameters for the stream URL, e.g. {exp, sig}
   * @param {(status: {state: string, message: string, stream: string, proto: string, retryInMs?: number, detail?: string}) => void} [options.onStatus]
   * @param {boolean} [options.hasAudio] force audio on/off (false skips the audio track)
   * @param {boolean} [options.hasVideo]
   * @param {object} [options.mpegtsConfig] overrides for the mpegts.js config
   * @param {string} [options.mpegtsUrl] where to load mpegts.js from
   * @param {number} [options.rewind=0] start this many seconds behind live (needs rewind on the
   *   server, `--rewind-seconds`). The player then never chases the live edge; reconnects come
   *   back at the same offset. Change it later with `setRewind(seconds)` or `goLive()`.
   */
  function createPlayer(video, options) {
    if (!video || typeof video.play !== 'function') {
      throw new TypeError('LiveGateway.createPlayer: first argument must be a <video> element');
    }
    options = options || {};
    var opts = {};
    Object.keys(DEFAULTS).forEach(function (k) { opts[k] = DEFAULTS[k]; });
    Object.keys(options).forEach(function (k) { if (options[k] !== undefined) opts[k] = options[k]; });

    var stream = normalizeStream(opts.stream);
    if (!/^[^/]+\/[^/]+$/.test(stream)) {
      throw new TypeError('LiveGateway.createPlayer: options.stream must look like "APP/KEY"');
    }
    var proto = normalizeProto(opts.proto) || 'ws';
    var base = opts.base || DEFAULT_BASE;
    var rewind = normalizeRewind(opts.rewind != null ? opts.rewind : (opts.params || {}).rewind);
    var url = streamUrl();
    var onStatus = typeof opts.onStatus === 'function' ? opts.onStatus : null;

    // The demo and embed pages want muted inline autoplay; make sure of it.
    video.playsInline = true;
    video.setAttribute('playsinline', '');
    video.autoplay = true;

    var destroyed = false;
    var mpegtsLib = null;
    var mp = null;               // current mpegts.js player
    var generation = 0;          // increments per connection; stale callbacks are ignored
    var state = 'idle';
    var message = '';
    var detail = '';
    var retryDelay = opts.retryMinMs;
    var retryAt = 0;
    var retryTimer = 0;
    var tickTimer = 0;
    var fetchAbort = null;
    var checkSeq = 0;
    var checkTimer = 0;
    var active = false;          // a connection is running (connecting/playing/buffering)
    var mediaInfo = null;
    var connectStartedAt = 0;
    var lastProgressAt = 0;
    var lastBufferedEnd = 0;
    var lastCurrentTime = 0;
    var everPlayed = false;
    var reconnects = 0;
    var fpsSample = { t: 0, frames: 0, fps: 0 };
    var bitrateSample = { t: 0, bytes: 0, bps: 0 };
    // Rewind sessions: how much the playhead fell behind wall-clock time since
    // the first picture (stalls add to the distance from live).
    var behindRef = null;        // { t: wall ms, ct: currentTime } at the first 'playing'

    /** The stream URL for the current protocol and rewind offset. */
    function streamUrl() {
      var params = {};
      var extra = opts.params || {};
      Object.keys(extra).forEach(function (k) { params[k] = extra[k]; });
      if (rewind > 0) params.rewind = String(rewind);
      else delete params.rewind;
      var urls = buildUrls(stream, { base: base, params: params });
      return proto === 'ws' ? urls.ws : urls.http;
    }

    function behindLive() {
      if (rewind <= 0) return 0;
      if (!behindRef) return rewind;
      var wall = (now() - behindRef.t) / 1000;
      var played = (video.currentTime || 0) - behindRef.ct;
      return rewind + Math.max(0, wall - played);
    }

    function playingMessage() {
      return 'Playing ' + stream + ' (' + protoLabel() + ')' +
        (rewind > 0 ? ' · ' + rewind + ' s behind live' : '');
    }

    function now() { return (global.performance && performance.now) ? performance.now() : Date.now(); }

    function setState(s, msg, extra) {
      var changed = s !== state || msg !== message;
      state = s;
      message = msg || '';
      detail = (extra && extra.detail) || '';
      if (!changed || !onStatus) return;
      var st = { state: state, message: message, stream: stream, proto: proto, url: url };
      if (extra && extra.retryInMs != null) st.retryInMs = extra.retryInMs;
      if (detail) st.detail = detail;
      try { onStatus(st); } catch (e) { setTimeout(function () { throw e; }); }
    }

    function protoLabel() { return proto === 'ws' ? 'WS-FLV' : 'HTTP-FLV'; }

    // ---- timers -------------------------------------------------------------
    function clearRetry() {
      if (retryTimer) { clearTimeout(retryTimer); retryTimer = 0; }
      retryAt = 0;
      checkSeq++; // invalidate any api/streams check in flight
      if (checkTimer) { clearTimeout(checkTimer); checkTimer = 0; }
      if (fetchAbort) { var c = fetchAbort; fetchAbort = null; try { c.abort(); } catch (e) { /* ignore */ } }
    }

    function schedule(fn, ms) {
      clearRetry();
      retryAt = Date.now() + ms;
      retryTimer = setTimeout(function () { retryTimer = 0; retryAt = 0; if (!destroyed) fn(); }, ms);
    }

    // ---- mpegts lifecycle ---------------------------------------------------
    function teardown() {
      generation++;
      active = false;
      var p = mp;
      mp = null;
      if (!p) return;
      disposeMpegtsPlayer(p);
    }

    function connect() {
      if (destroyed) return;
      clearRetry();
      teardown();
      if (!mpegtsLib) {
        setState('loading', 'Loading player…');
        loadMpegts(opts.mpegtsUrl).then(function (m) {
          if (destroyed) return;
          mpegtsLib = m;
          connect();
        }, function (err) {
          if (destroyed) return;
          setState('error', 'Could not load the player library (mpegts.js).', { detail: String(err && err.message || err) });
          backoff(function () { connect(); });
        });
        return;
      }
      var features = getFeatures(mpegtsLib);
      if (!mseClass() || (features && !features.msePlayback)) {
        setState('unsupported', 'This browser cannot play live FLV: it has no Media Source Extensions with H.264 support.');
        return;
      }
      if (proto === 'http' && features && !features.networkStreamIO) {
        setState('unsupported', 'This browser cannot stream HTTP-FLV (no streaming fetch). Use WS-FLV instead.');
        return;
      }

      var gen = generation;
      var mds = { type: 'flv', isLive: true, url: url, cors: true, withCredentials: false };
      if (typeof opts.hasAudio === 'boolean') mds.hasAudio = opts.hasAudio;
      if (typeof opts.hasVideo === 'boolean') mds.hasVideo = opts.hasVideo;
      var cfg = {};
      Object.keys(LOW_LATENCY_CONFIG).forEach(function (k) { cfg[k] = LOW_LATENCY_CONFIG[k]; });
      if (opts.mpegtsConfig) Object.keys(opts.mpegtsConfig).forEach(function (k) { cfg[k] = opts.mpegtsConfig[k]; });
      if (rewind > 0) {
        // Behind live on purpose: the server feeds at real-time pace from the
        // rewind window, so never chase (that would jump to the end of the
        // buffer, then starve) and never speed up.
        cfg.liveBufferLatencyChasing = false;
        cfg.liveBufferLatencyChasingOnPaused = false;
        cfg.liveSync = false;
      }
      url = streamUrl();
      mds.url = url;
      behindRef = null;

      mediaInfo = null;
      bitrateSample = { t: now(), bytes: 0, bps: 0 };
      fpsSample = { t: now(), frames: quality().total, fps: 0 };
      connectStartedAt = now();
      lastProgressAt = now();
      lastBufferedEnd = 0;
      lastCurrentTime = 0;

      var p;
      try {
        p = mpegtsLib.createPlayer(mds, cfg);
      } catch (e) {
        setState('error', 'Could not start the player.', { detail: String(e && e.message || e) });
        backoff(connect);
        return;
      }
      mp = p;
      active = true;
      var E = mpegtsLib.Events;
      // Handlers run in a microtask: they may destroy the mpegts.js player,
      // which must not happen while it is still emitting.
      function later(fn) {
        return function () {
          var args = arguments;
          Promise.resolve().then(function () { if (gen === generation && !destroyed) fn.apply(null, args); });
        };
      }
      p.on(E.ERROR, later(onError));
      p.on(E.LOADING_COMPLETE, later(onEnded));
      p.on(E.MEDIA_INFO, later(onMediaInfo));
      p.on(E.STATISTICS_INFO, later(onStatistics));
      setState('connecting', 'Connecting to ' + stream + ' (' + protoLabel() + ')' +
        (rewind > 0 ? ', ' + rewind + ' s behind live' : '') + '…');
      try {
        p.attachMediaElement(video);
        p.load();
      } catch (e) {
        onError('OtherError', 'Exception', { msg: String(e && e.message || e) });
        return;
      }
      tryPlay();
    }

    function tryPlay() {
      var r;
      try { r = video.play(); } catch (e) { return; }
      if (r && typeof r.catch === 'function') {
        r.catch(function (err) {
          if (destroyed || !err) return;
          if (err.name === 'NotAllowedError') {
            if (opts.autoMute && !video.muted) {
              video.muted = true;
              tryPlay();
            } else {
              setState('blocked', 'Autoplay was blocked — click to play.');
            }
          }
          // AbortError: a new load interrupted play(); nothing to do.
        });
      }
    }

    function quality() {
      if (typeof video.getVideoPlaybackQuality === 'function') {
        var q = video.getVideoPlaybackQuality();
        return { total: q.totalVideoFrames || 0, dropped: q.droppedVideoFrames || 0 };
      }
      return {
        total: video.webkitDecodedFrameCount || 0,
        dropped: video.webkitDroppedFrameCount || 0
      };
    }

    // ---- mpegts events ------------------------------------------------------
    function onMediaInfo(mi) {
      mediaInfo = mi;
      if (!mi || !mseClass()) return;
      // Check the codecs mpegts.js found in the stream against what MSE accepts,
      // and say so clearly instead of looping on MSE errors.
      var vc = mi.hasVideo !== false ? mi.videoCodec : null;
      var ac = mi.hasAudio !== false ? mi.audioCodec : null;
      var vOk = !vc || isTypeSupported('video/mp4; codecs="' + vc + '"');
      var aOk = !ac || (/^mp3$/i.test(ac)
        ? isTypeSupported('audio/mpeg') || isTypeSupported('audio/mp4; codecs="mp3"')
        : isTypeSupported('audio/mp4; codecs="' + ac + '"'));
      if (vOk && aOk) return;
      if (vOk && vc && opts.hasAudio !== false) {
        // Only the audio is the problem: reconnect without it.
        opts.hasAudio = false;
        setState('connecting', 'This browser cannot decode ' + describeCodec(ac) + ' audio — playing without sound…');
        connect();
        return;
      }
      fail('unsupported', 'This browser cannot decode ' +
        (vOk ? describeCodec(ac) + ' audio' : describeCodec(vc) + ' video') +
        ' (' + (vOk ? ac : vc) + ').');
    }

    function onStatistics(si) {
      if (si && typeof si.speed === 'number') {
        // speed is KiB/s over the last second
        bitrateSample.bps = Math.round(si.speed * 1024 * 8);
      }
    }

    function onError(type, det, info) {
      var msg = (info && (info.msg || info.message)) || '';
      var code = info && info.code;
      var ED = mpegtsLib.ErrorDetails;
      if (det === ED.MEDIA_CODEC_UNSUPPORTED || det === ED.MEDIA_FORMAT_UNSUPPORTED) {
        fail('unsupported', 'This stream uses a codec the player cannot handle: ' + (msg || det) + '.');
        return;
      }
      if (det === ED.MEDIA_MSE_ERROR && /not ?supported|NotSupportedError|type/i.test(msg) && !everPlayed) {
        fail('unsupported', 'This browser cannot decode this stream: ' + msg);
        return;
      }
      if (det === ED.NETWORK_STATUS_CODE_INVALID && (code === 404 || code === 410)) {
        goOffline('not-live', 'HTTP ' + code);
        return;
      }
      if (det === ED.NETWORK_STATUS_CODE_INVALID && (code === 401 || code === 403)) {
        fail('forbidden', 'Access denied (HTTP ' + code + '). The link may have expired or the signature is invalid.', true);
        return;
      }
      disconnected('error', type + ' / ' + det + (msg ? ': ' + msg : '') + (code ? ' (' + code + ')' : ''));
    }

    function onEnded() {
      // HTTP response ended / WebSocket closed: the publisher most likely stopped.
      disconnected('ended', 'stream ended');
    }

    function fail(s, msg, retrySlowly) {
      teardown();
      clearRetry();
      setState(s, msg);
      if (retrySlowly) {
        schedule(connect, opts.retryMaxMs * 4);
      }
    }

    // Figure out whether the stream is still published (api/streams) and
    // either reconnect with backoff or wait for it to come back.
    function disconnected(kind, why) {
      if (destroyed) return;
      generation++; // ignore further events from this connection
      active = false;
      // Keep the last frame on screen; the mpegts instance is torn down on reconnect.
      if (mp) { try { mp.pause(); } catch (e) { /* ignore */ } }
      if (!opts.checkApi) {
        retryLater(kind, why);
        return;
      }
      setState(kind === 'ended' ? 'offline' : 'reconnecting',
        kind === 'ended' ? 'Stream ended — checking whether it is still live…' : 'Reconnecting…',
        { detail: why });
      isListed(function (listed) {
        if (listed === false) goOffline(kind === 'ended' ? 'ended' : 'not-live', why);
        else retryLater(kind, why); // listed, or api unavailable: plain retry with backoff
      });
    }

    function retryLater(kind, why) {
      var d = retryDelay;
      retryDelay = Math.min(opts.retryMaxMs, retryDelay * 2);
      reconnects++;
      var msg = (mediaInfo || lastBufferedEnd > 0 ? 'Connection lost' : 'Cannot connect to ' + stream) + ' — retrying in ' + fmtSec(d) + '…';
      if (kind === 'ended') msg = 'Connection closed — reconnecting in ' + fmtSec(d) + '…';
      if (kind === 'stall') msg = 'No data from the server — reconnecting in ' + fmtSec(d) + '…';
      setState('reconnecting', msg, { retryInMs: d, detail: why });
      schedule(connect, d);
    }

    function backoff(fn) {
      var d = retryDelay;
      retryDelay = Math.min(opts.retryMaxMs, retryDelay * 2);
      schedule(fn, d);
    }

    function goOffline(reason, why) {
      if (mp) { try { mp.pause(); } catch (e) { /* ignore */ } }
      generation++;
      active = false;
      var msg = reason === 'ended'
        ? 'The publisher stopped. Waiting for ' + stream + ' to come back…'
        : stream + ' is not live right now. Waiting for it to start…';
      setState('offline', msg, { detail: why });
      pollUntilLive();
    }

    function pollUntilLive() {
      if (!opts.checkApi) { retryLater('ended', 'offline'); return; }
      schedule(function () {
        isListed(function (listed) {
          if (destroyed || state !== 'offline') return;
          if (listed === true) {
            retryDelay = opts.retryMinMs;
            connect();
          } else if (listed === null) {
            // api unavailable: try the stream itself (a 404 brings us back here)
            connect();
          } else {
            pollUntilLive();
          }
        });
      }, opts.pollMs);
    }

    // callback(true | false | null) — null when the API can't be used.
    // Any pending check is cancelled by clearRetry() (connect, destroy, reschedule).
    function isListed(cb) {
      if (typeof fetch !== 'function') { cb(null); return; }
      if (checkTimer) { clearTimeout(checkTimer); checkTimer = 0; }
      if (fetchAbort) { var old = fetchAbort; fetchAbort = null; try { old.abort(); } catch (e) { /* ignore */ } }
      var seq = ++checkSeq;
      var ctrl = typeof AbortController === 'function' ? new AbortController() : null;
      var timedOut = false;
      fetchAbort = ctrl;
      checkTimer = setTimeout(function () { timedOut = true; checkTimer = 0; if (ctrl) ctrl.abort(); else done(null); }, 5000);
      function done(result) {
        if (checkTimer) { clearTimeout(checkTimer); checkTimer = 0; }
        if (fetchAbort === ctrl) fetchAbort = null;
        if (destroyed || seq !== checkSeq) return;
        checkSeq++;
        cb(result);
      }
      fetch(apiUrl(base), { cache: 'no-store', signal: ctrl ? ctrl.signal : undefined, credentials: 'same-origin' })
        .then(function (r) {
          if (!r.ok) throw new Error('HTTP ' + r.status);
          return r.json();
        })
        .then(function (data) {
          var list = (data && data.streams) || [];
          done(list.some(function (s) { return s && normalizeStream(s.name) === stream; }));
        }, function (err) {
          if (err && err.name === 'AbortError' && !timedOut) return; // cancelled on purpose
          done(null);
        });
    }

    function fmtSec(ms) { return (ms / 1000).toFixed(ms < 1000 ? 1 : 0) + ' s'; }

    // ---- video element events ----------------------------------------------
    function onPlaying() {
      if (destroyed || !active) return;
      everPlayed = true;
      retryDelay = opts.retryMinMs;
      if (rewind > 0 && !behindRef) behindRef = { t: now(), ct: video.currentTime || 0 };
      setState('playing', playingMessage());
    }
    function onWaiting() {
      if (destroyed || !active) return;
      if (state === 'playing') setState('buffering', 'Buffering…');
    }
    function onVideoError() {
      if (destroyed || !active) return;
      var err = video.error;
      if (!err || !(state === 'connecting' || state === 'playing' || state === 'buffering')) return;
      if (err.code === 4 || /NOT_SUPPORTED/i.test(err.message || '')) {
        fail('unsupported', 'This browser cannot decode this stream' + (err.message ? ' (' + err.message + ')' : '') + '.');
      } else if (err.code === 3) {
        disconnected('error', 'decode error: ' + (err.message || ''));
      }
    }
    function onClickWhenBlocked() {
      if (state === 'blocked') { video.muted = true; tryPlay(); }
    }

    // When a background tab comes back, jump to the live edge.
    function onVisibility() {
      if (destroyed) return;
      if (document.hidden) return;
      if (state === 'suspended') { connect(); return; }
      jumpToLive();
    }

    /** Start over at another rewind offset (0 = live). */
    function setRewind(seconds) {
      if (destroyed) return;
      rewind = normalizeRewind(seconds);
      url = streamUrl();
      retryDelay = opts.retryMinMs;
      connect();
    }

    function jumpToLive() {
      if (!mp || !active) return false;
      if (rewind > 0) {
        // The end of the buffer is not live while rewinding (use goLive()).
        if (video.paused && (state === 'playing' || state === 'buffering')) tryPlay();
        return false;
      }
      var b = video.buffered;
      if (!b || !b.length) return false;
      var end = b.end(b.length - 1);
      var start = b.start(b.length - 1);
      var ahead = end - video.currentTime;
      var jumped = false;
      if (ahead > opts.liveEdgeMargin + 0.15 || video.currentTime < start) {
        try { video.currentTime = Math.max(start, end - opts.liveEdgeMargin); jumped = true; } catch (e) { /* ignore */ }
      }
      if (video.paused && (state === 'playing' || state === 'buffering' || state === 'connecting')) tryPlay();
      return jumped;
    }

    // ---- periodic housekeeping (stats, stall watchdog) -----------------------
    function tick() {
      if (destroyed) return;
      var t = now();
      // fps / bitrate samples
      var q = quality();
      var dt = (t - fpsSample.t) / 1000;
      if (t - connectStartedAt < 2500 || q.total < fpsSample.frames) {
        // skip the start-up burst (the server sends a whole GOP at once)
        fpsSample.frames = q.total;
        fpsSample.t = t;
      } else if (dt >= 2) {
        fpsSample.fps = Math.max(0, (q.total - fpsSample.frames) / dt);
        fpsSample.frames = q.total;
        fpsSample.t = t;
      }
      if (!mp || !active) return;
      var end = bufferedEndOf(video);
      if (end > lastBufferedEnd + 0.001 || Math.abs(video.currentTime - lastCurrentTime) > 0.001) {
        lastProgressAt = t;
      }
      lastBufferedEnd = end;
      lastCurrentTime = video.currentTime;

      if (state === 'connecting' && t - connectStartedAt > opts.connectTimeoutMs && end === 0) {
        disconnected('stall', 'no media after ' + Math.round(opts.connectTimeoutMs / 1000) + ' s');
        return;
      }
      if ((state === 'playing' || state === 'buffering') && t - lastProgressAt > opts.stallTimeoutMs && !video.paused) {
        disconnected('stall', 'no data for ' + Math.round(opts.stallTimeoutMs / 1000) + ' s');
        return;
      }
      if (state === 'buffering' && !video.paused && bufferedAheadOf(video) > 0.1 && video.readyState >= 3) {
        setState('playing', playingMessage());
      }
      // Paused in a background tab: the buffer only grows. Disconnect and
      // reconnect when the tab is visible again.
      if (document.hidden && video.paused && bufferedAheadOf(video) > 20) {
        teardown();
        setState('suspended', 'Paused in the background — resumes when the tab is visible.');
      }
    }

    // ---- wiring ---------------------------------------------------------------
    video.addEventListener('playing', onPlaying);
    video.addEventListener('waiting', onWaiting);
    video.addEventListener('error', onVideoError);
    video.addEventListener('click', onClickWhenBlocked);
    document.addEventListener('visibilitychange', onVisibility);
    tickTimer = setInterval(tick, 500);
    connect();

    var handle = {
      /** Stop playback and remove every listener, timer and network connection. */
      destroy: function () {
        if (destroyed) return;
        clearRetry();
        clearInterval(tickTimer);
        tickTimer = 0;
        teardown();
        video.removeEventListener('playing', onPlaying);
        video.removeEventListener('waiting', onWaiting);
        video.removeEventListener('error', onVideoError);
        video.removeEventListener('click', onClickWhenBlocked);
        document.removeEventListener('visibilitychange', onVisibility);
        setState('destroyed', 'Stopped');
        destroyed = true;
        onStatus = null;
      },
      /** A snapshot of the playback statistics. */
      stats: function () {
        var q = quality();
        var mi = mediaInfo || {};
        return {
          state: state,
          message: message,
          detail: detail,
          stream: stream,
          proto: proto,
          url: url,
          decodedFrames: q.total,
          droppedFrames: q.dropped,
          currentTime: video.currentTime || 0,
          bufferedAhead: mp ? bufferedAheadOf(video) : 0,
          latency: mp ? bufferedAheadOf(video) : 0,
          videoWidth: video.videoWidth || 0,
          videoHeight: video.videoHeight || 0,
          fps: Math.round(fpsSample.fps * 10) / 10,
          metadataFps: mi.fps || null,
          bitrate: mp ? bitrateSample.bps : 0,
          videoCodec: mi.videoCodec || null,
          audioCodec: mi.audioCodec || null,
          hasAudio: mi.hasAudio != null ? !!mi.hasAudio : null,
          hasVideo: mi.hasVideo != null ? !!mi.hasVideo : null,
          playbackRate: video.playbackRate,
          paused: video.paused,
          muted: video.muted,
          reconnects: reconnects,
          retryInMs: retryAt ? Math.max(0, retryAt - Date.now()) : null,
          rewind: rewind,
          behindLive: Math.round(behindLive() * 10) / 10
        };
      },
      /** Reconnect now (skips any pending backoff). */
      reconnect: function () {
        if (destroyed) return;
        retryDelay = opts.retryMinMs;
        connect();
      },
      /** Jump to the live edge of the buffer; returns true if it seeked (never while rewinding). */
      jumpToLive: function () { return jumpToLive(); },
      /** Reconnect `seconds` behind live (0 = live). */
      setRewind: function (seconds) { setRewind(seconds); },
      /** Leave a rewind session: reconnect at the live edge. */
      goLive: function () { setRewind(0); },
      kind: 'live',
      get rewind() { return rewind; },
      get state() { return state; },
      get stream() { return stream; },
      get proto() { return proto; },
      get url() { return url; },
      get video() { return video; }
    };
    return handle;
  }
  global.LiveGateway = {
    version: VERSION,
    createPlayer: createPlayer,
    normalizeRewind: normalizeRewind,
    buildUrls: buildUrls,
    apiUrl: apiUrl,
    checkSupport: checkSupport,
    describeCodec: describeCodec,
    loadMpegts: loadMpegts,
    normalizeStream: normalizeStream,
    normalizeProto: normalizeProto,
    defaults: DEFAULTS,
    mpegtsConfig: LOW_LATENCY_CONFIG,
    baseUrl: DEFAULT_BASE,
    // For recording-player.js, which adds the on-demand player; not part of the embedding API.
    _shared: {
      ensureSlash: ensureSlash,
      disposeMpegtsPlayer: disposeMpegtsPlayer,
      getFeatures: getFeatures,
      bufferedAheadOf: bufferedAheadOf,
      mseClass: mseClass
    }
  };
})(window);
