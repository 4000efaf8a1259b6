/*
 * recording-player.js: on-demand playback of the FLV files the gateway records.
 * Load it after player.js; it adds createRecordingPlayer, parseRecording,
 * recordingUrl and recordingsApiUrl to window.LiveGateway. Kept apart from
 * player.js because live embedding never needs it.
 */
(function (global) {
  'use strict';
  var LG = global.LiveGateway;
  if (!LG || !LG._shared) throw new Error('recording-player.js needs player.js to be loaded first');
  var shared = LG._shared;
  var ensureSlash = shared.ensureSlash;
  var disposeMpegtsPlayer = shared.disposeMpegtsPlayer;
  var getFeatures = shared.getFeatures;
  var bufferedAheadOf = shared.bufferedAheadOf;
  var mseClass = shared.mseClass;
  var loadMpegts = LG.loadMpegts;
  var DEFAULT_BASE = LG.baseUrl;

  // ---------------------------------------------------------------------------
  // Recordings (files written by the gateway's recorder)
  // ---------------------------------------------------------------------------
  var SAFE_SEGMENT = '[A-Za-z0-9_-][A-Za-z0-9_.-]{0,127}';
  var RECORDING_RE = new RegExp('^(' + SAFE_SEGMENT + ')/(' + SAFE_SEGMENT + ')/(\\d{8}-\\d{6}(?:-\\d{1,4})?\\.flv)$');

  /**
   * Validate a recording name `APP/KEY/YYYYMMDD-HHMMSS[-N].flv`.
   * @returns {{app: string, key: string, file: string, name: string, stream: string, startedAt: Date|null}|null}
   */
  function parseRecording(name) {
    var m = RECORDING_RE.exec(String(name || '').trim());
    if (!m || m[1].indexOf('..') >= 0 || m[2].indexOf('..') >= 0) return null;
    var d = /^(\d{4})(\d{2})(\d{2})-(\d{2})(\d{2})(\d{2})/.exec(m[3]);
    var at = new Date(Date.UTC(+d[1], +d[2] - 1, +d[3], +d[4], +d[5], +d[6]));
    return {
      app: m[1], key: m[2], file: m[3],
      name: m[1] + '/' + m[2] + '/' + m[3],
      stream: m[1] + '/' + m[2],
      startedAt: isNaN(at.getTime()) ? null : at
    };
  }

  /**
   * The URL of a recording file (each path segment encoded).
   * @param {string} name `APP/KEY/FILE.flv`
   * @param {{base?: string, params?: object, download?: boolean}} [opts]
   * @returns {string|null} null when the name is not a valid recording name
   */
  function recordingUrl(name, opts) {
    opts = opts || {};
    var rec = parseRecording(name);
    if (!rec) return null;
    var base = ensureSlash(new URL(opts.base || DEFAULT_BASE, location.href).href);
    var u = new URL('recordings/' + [rec.app, rec.key, rec.file].map(encodeURIComponent).join('/'), base);
    var params = opts.params || {};
    Object.keys(params).forEach(function (k) {
      if (params[k] != null && params[k] !== '') u.searchParams.set(k, params[k]);
    });
    var href = u.href;
    // `?download` (no value) makes the server answer with Content-Disposition: attachment.
    if (opts.download) href += (u.search ? '&' : '?') + 'download';
    return href;
  }

  function recordingsApiUrl(base) {
    return new URL('api/recordings', ensureSlash(new URL(base || DEFAULT_BASE, location.href).href)).href;
  }



  // ---------------------------------------------------------------------------
  // Recording (VOD) player
  // ---------------------------------------------------------------------------
  /**
   * Play a recording file the gateway wrote, as on-demand video: the browser's
   * own controls, seeking within what is loaded, no live low-latency settings
   * and no reconnects.
   * @param {HTMLVideoElement} video
   * @param {object} options
   * @param {string} options.recording `APP/KEY/YYYYMMDD-HHMMSS[-N].flv`
   * @param {string} [options.base] gateway base URL (default: the directory player.js was loaded from)
   * @param {object} [options.params] extra query parameters for the file URL, e.g. {exp, sig}
   * @param {(status: {state: string, message: string, recording: string, url: string, detail?: string}) => void} [options.onStatus]
   * @param {boolean} [options.controls=true] show the browser's native video controls
   * @param {object} [options.mpegtsConfig] overrides for the mpegts.js config ({ enableWorker: false })
   * @param {string} [options.mpegtsUrl] where to load mpegts.js from
   */
  function createRecordingPlayer(video, options) {
    if (!video || typeof video.play !== 'function') {
      throw new TypeError('LiveGateway.createRecordingPlayer: first argument must be a <video> element');
    }
    options = options || {};
    var rec = parseRecording(options.recording);
    if (!rec) {
      throw new TypeError('LiveGateway.createRecordingPlayer: options.recording must look like "APP/KEY/YYYYMMDD-HHMMSS.flv"');
    }
    var url = recordingUrl(rec.name, { base: options.base, params: options.params });
    var onStatus = typeof options.onStatus === 'function' ? options.onStatus : null;
    var hadControls = video.controls;
    if (options.controls !== false) video.controls = true;
    video.playsInline = true;
    video.setAttribute('playsinline', '');
    video.autoplay = true;

    var destroyed = false;
    var mpegtsLib = null;
    var mp = null;
    var generation = 0;
    var state = 'idle';
    var message = '';
    var detail = '';
    var mediaInfo = null;
    var fps = { t: 0, frames: 0, fps: 0 };
    var tickTimer = 0;

    function now() { return (global.performance && performance.now) ? performance.now() : Date.now(); }

    function setState(s, msg, extra) {
      var changed = s !== state || msg !== message;
      state = s;
      message = msg || '';
      detail = (extra && extra.detail) || '';
      if (!changed || !onStatus) return;
      var st = { state: state, message: message, recording: rec.name, stream: rec.stream, url: url };
      if (detail) st.detail = detail;
      try { onStatus(st); } catch (e) { setTimeout(function () { throw e; }); }
    }

    function quality() {
      if (typeof video.getVideoPlaybackQuality === 'function') {
        var q = video.getVideoPlaybackQuality();
        return { total: q.totalVideoFrames || 0, dropped: q.droppedVideoFrames || 0 };
      }
      return { total: video.webkitDecodedFrameCount || 0, dropped: video.webkitDroppedFrameCount || 0 };
    }

    function duration() {
      if (isFinite(video.duration) && video.duration > 0) return video.duration;
      if (mediaInfo && mediaInfo.duration) return mediaInfo.duration / 1000;
      return 0;
    }

    function teardown() {
      generation++;
      var p = mp;
      mp = null;
      if (!p) return;
      disposeMpegtsPlayer(p);
    }

    function load() {
      if (destroyed) return;
      teardown();
      if (!mpegtsLib) {
        setState('loading', 'Loading player…');
        loadMpegts(options.mpegtsUrl).then(function (m) {
          if (destroyed) return;
          mpegtsLib = m;
          load();
        }, function (err) {
          if (destroyed) return;
          setState('error', 'Could not load the player library (mpegts.js).', { detail: String(err && err.message || err) });
        });
        return;
      }
      var features = getFeatures(mpegtsLib);
      if (!mseClass() || (features && !features.msePlayback)) {
        setState('unsupported', 'This browser cannot play FLV: it has no Media Source Extensions with H.264 support.');
        return;
      }
      var cfg = { enableWorker: false };
      if (options.mpegtsConfig) Object.keys(options.mpegtsConfig).forEach(function (k) { cfg[k] = options.mpegtsConfig[k]; });
      var gen = generation;
      mediaInfo = null;
      fps = { t: now(), frames: quality().total, fps: 0 };
      var p;
      try {
        p = mpegtsLib.createPlayer({ type: 'flv', url: url, isLive: false }, cfg);
      } catch (e) {
        setState('error', 'Could not start the player.', { detail: String(e && e.message || e) });
        return;
      }
      mp = p;
      var E = mpegtsLib.Events;
      function later(fn) {
        return function () {
          var args = arguments;
          Promise.resolve().then(function () { if (gen === generation && !destroyed) fn.apply(null, args); });
        };
      }
      p.on(E.ERROR, later(onError));
      p.on(E.MEDIA_INFO, later(function (mi) { mediaInfo = mi; }));
      setState('loading', 'Loading recording ' + rec.name + '…');
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
            if (!video.muted) { video.muted = true; tryPlay(); }
            else setState('paused', 'Press play to watch the recording.');
          }
        });
      }
    }

    function onError(type, det, info) {
      var msg = (info && (info.msg || info.message)) || '';
      var code = info && info.code;
      var ED = mpegtsLib.ErrorDetails;
      teardown();
      if (det === ED.NETWORK_STATUS_CODE_INVALID && (code === 401 || code === 403)) {
        setState('forbidden', 'Access denied (HTTP ' + code + '). The link may have expired or the signature is invalid.');
      } else if (det === ED.NETWORK_STATUS_CODE_INVALID && (code === 404 || code === 410)) {
        setState('error', 'Recording ' + rec.name + ' was not found. It may have been deleted.', { detail: 'HTTP ' + code });
      } else if (det === ED.MEDIA_CODEC_UNSUPPORTED || det === ED.MEDIA_FORMAT_UNSUPPORTED) {
        setState('unsupported', 'This recording uses a codec the player cannot handle: ' + (msg || det) + '.');
      } else {
        setState('error', 'Could not play the recording.', { detail: type + ' / ' + det + (msg ? ': ' + msg : '') + (code ? ' (' + code + ')' : '') });
      }
    }

    function label() { return 'recording ' + rec.name; }
    function onPlaying() { if (!destroyed && mp) setState('playing', 'Playing ' + label()); }
    function onPause() { if (!destroyed && mp && !video.ended) setState('paused', 'Paused · ' + label()); }
    function onWaiting() { if (!destroyed && mp && state === 'playing') setState('buffering', 'Buffering…'); }
    function onEndedEvt() { if (!destroyed && mp) setState('ended', 'End of ' + label()); }
    function onVideoError() {
      if (destroyed || !mp) return;
      var err = video.error;
      if (!err) return;
      teardown();
      if (err.code === 4) setState('unsupported', 'This browser cannot decode this recording' + (err.message ? ' (' + err.message + ')' : '') + '.');
      else setState('error', 'Could not play the recording.', { detail: err.message || 'media error ' + err.code });
    }

    function tick() {
      var t = now();
      var q = quality();
      var dt = (t - fps.t) / 1000;
      if (q.total < fps.frames || video.paused) { fps.frames = q.total; fps.t = t; }
      else if (dt >= 2) { fps.fps = Math.max(0, (q.total - fps.frames) / dt); fps.frames = q.total; fps.t = t; }
      if (state === 'buffering' && !video.paused && video.readyState >= 3) onPlaying();
    }

    video.addEventListener('playing', onPlaying);
    video.addEventListener('pause', onPause);
    video.addEventListener('waiting', onWaiting);
    video.addEventListener('ended', onEndedEvt);
    video.addEventListener('error', onVideoError);
    tickTimer = setInterval(tick, 500);
    load();

    return {
      kind: 'recording',
      /** Stop playback and remove every listener, timer and connection. */
      destroy: function () {
        if (destroyed) return;
        clearInterval(tickTimer);
        teardown();
        video.removeEventListener('playing', onPlaying);
        video.removeEventListener('pause', onPause);
        video.removeEventListener('waiting', onWaiting);
        video.removeEventListener('ended', onEndedEvt);
        video.removeEventListener('error', onVideoError);
        video.controls = hadControls;
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
          recording: rec.name,
          stream: rec.stream,
          url: url,
          decodedFrames: q.total,
          droppedFrames: q.dropped,
          currentTime: video.currentTime || 0,
          duration: Math.round(duration() * 1000) / 1000,
          bufferedAhead: mp ? bufferedAheadOf(video) : 0,
          videoWidth: video.videoWidth || 0,
          videoHeight: video.videoHeight || 0,
          fps: Math.round(fps.fps * 10) / 10,
          metadataFps: mi.fps || null,
          videoCodec: mi.videoCodec || null,
          audioCodec: mi.audioCodec || null,
          hasAudio: mi.hasAudio != null ? !!mi.hasAudio : null,
          hasVideo: mi.hasVideo != null ? !!mi.hasVideo : null,
          playbackRate: video.playbackRate,
          paused: video.paused,
          ended: video.ended,
          muted: video.muted
        };
      },
      /** Load the file again from the start (after an error). */
      reload: function () { load(); },
      get state() { return state; },
      get recording() { return rec.name; },
      get stream() { return rec.stream; },
      get url() { return url; },
      get video() { return video; }
    };
  }


  LG.createRecordingPlayer = createRecordingPlayer;
  LG.parseRecording = parseRecording;
  LG.recordingUrl = recordingUrl;
  LG.recordingsApiUrl = recordingsApiUrl;
})(window);
