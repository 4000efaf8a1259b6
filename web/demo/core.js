/* Live Gateway demo page: shared state, DOM handles, formatting and URL helpers.
 * The page is split into classic scripts (web/demo/*.js, then app.js) that share this one
 * object; app.js removes the global again once everything is wired, so the page exposes no
 * more globals than window.LiveGateway and window.__player. */
(function () {
  'use strict';

  var A = window.__liveGatewayDemo = {};
  var LG = window.LiveGateway;

  function $(id) { return document.getElementById(id); }

  var els = {
    video: $('video'),
    wrap: $('video-wrap'),
    veil: $('veil'),
    veilText: $('veil-text'),
    veilSpinner: $('veil-spinner'),
    livePill: $('live-pill'),
    hudLatency: $('hud-latency'),
    hudRes: $('hud-res'),
    btnMute: $('btn-mute'),
    btnLive: $('btn-live'),
    btnFs: $('btn-fullscreen'),
    title: $('now-title'),
    status: $('status'),
    protoWs: $('proto-ws'),
    protoHttp: $('proto-http'),
    protoAuto: $('proto-auto'),
    protoHls: $('proto-hls'),
    notice: $('notice'),
    noticeText: $('notice-text'),
    noticeAction: $('notice-action'),
    list: $('stream-list'),
    count: $('stream-count'),
    empty: $('stream-empty'),
    apiError: $('api-error'),
    stats: $('stats'),
    urlHttp: $('url-http'),
    urlWs: $('url-ws'),
    urlHls: $('url-hls'),
    urlPage: $('url-page'),
    embedIframe: $('embed-iframe'),
    embedScript: $('embed-script'),
    pubServer: $('pub-server'),
    pubKey: $('pub-key'),
    pubFfmpeg: $('pub-ffmpeg'),
    announce: $('announce'),
    stage: $('player'),
    protoGroup: $('proto-group'),
    behindPill: $('behind-pill'),
    vodPill: $('vod-pill'),
    dvr: $('dvr'),
    dvrSteps: $('dvr-steps'),
    dvrBehind: $('dvr-behind'),
    dvrBehindValue: $('dvr-behind-value'),
    dvrAtLive: $('dvr-at-live'),
    goLive: $('go-live'),
    recPanel: $('rec-panel'),
    recToggle: $('rec-toggle'),
    recBody: $('rec-body'),
    recList: $('rec-list'),
    recCount: $('rec-count'),
    recEmpty: $('rec-empty'),
    recMore: $('rec-more'),
    recError: $('rec-error'),
    latencyLabel: $('stat-latency-label'),
    urlHttpLabel: $('url-http-label'),
    copyHttp: document.querySelector('[data-testid="copy-http"]'),
    uptimeLabel: $('stat-uptime-label')
  };

  // ---------------------------------------------------------------------------
  // Page state
  // ---------------------------------------------------------------------------
  var query = new URLSearchParams(location.search);
  var signed = {};
  ['exp', 'sig'].forEach(function (k) { if (query.get(k)) signed[k] = query.get(k); });

  var storedProto = null;
  try { storedProto = localStorage.getItem('liveGateway.proto'); } catch (e) { /* private mode */ }

  var recordingParam = query.get('recording');
  var initialRecording = recordingParam != null ? LG.parseRecording(recordingParam) : null;

  var page = {
    // the caption overlay (captions.js): text from the stream as it plays
    captions: window.LiveCaptions($('captions')),
    streams: [],
    rtmpPort: 1935,
    apiOk: null,
    selected: LG.normalizeStream(query.get('stream')) || null,
    explicit: !!query.get('stream'),   // chosen by URL or click (vs. auto-picked)
    // what the viewer asked for: auto (the default), ws, http or hls; the player says what auto chose
    proto: LG.normalizeRequestedProto(query.get('proto')) || LG.normalizeRequestedProto(storedProto) || 'auto',
    player: null,
    status: { state: 'idle', message: 'Idle' },
    forced: {},                         // streams the user chose to "try anyway"
    checked: {},                        // streams whose codecs were checked against api/streams
    blockedBySupport: null,
    rewind: recordingParam != null ? 0 : LG.normalizeRewind(query.get('rewind')), // seconds behind live (0 = live)
    recording: initialRecording,        // the recording being played ({name, stream, …}), or null
    // a ?recording= link was given: never auto-pick a live stream
    noAutoPick: recordingParam != null
  };
  if (recordingParam != null) { page.selected = null; page.explicit = true; }

  window.__player = null;

  // ---------------------------------------------------------------------------
  // Formatting helpers
  // ---------------------------------------------------------------------------
  function fmtBitrate(bps) {
    if (!bps || bps < 0) return '—';
    if (bps >= 1e6) return (bps / 1e6).toFixed(bps >= 1e7 ? 0 : 1) + ' Mbit/s';
    return Math.round(bps / 1e3) + ' kbit/s';
  }
  function fmtDuration(sec) {
    if (sec == null || !isFinite(sec)) return '—';
    sec = Math.max(0, Math.floor(sec));
    var h = Math.floor(sec / 3600), m = Math.floor(sec / 60) % 60, s = sec % 60;
    function p(n) { return n < 10 ? '0' + n : '' + n; }
    return h ? h + ':' + p(m) + ':' + p(s) : m + ':' + p(s);
  }
  function fmtBytes(n) {
    if (n == null || !isFinite(n)) return '—';
    if (n >= 1e9) return (n / 1e9).toFixed(n >= 1e10 ? 0 : 1) + ' GB';
    if (n >= 1e6) return (n / 1e6).toFixed(n >= 1e7 ? 0 : 1) + ' MB';
    if (n >= 1e3) return Math.round(n / 1e3) + ' kB';
    return n + ' B';
  }
  function fmtInt(n) { return n == null ? '—' : Number(n).toLocaleString('en-US'); }
  var PROTO_LABELS = { auto: 'Auto', ws: 'WS-FLV', http: 'HTTP-FLV', hls: 'LL-HLS' };
  function protoLabel(p) { return PROTO_LABELS[p] || 'WS-FLV'; }
  function channelsLabel(c) { return c === 1 ? 'mono' : c === 2 ? 'stereo' : c ? c + ' ch' : ''; }

  function videoSummary(v) {
    if (!v) return 'no video';
    var parts = [v.codec];
    if (v.width && v.height) parts.push(v.width + '×' + v.height);
    if (v.fps) parts.push(Math.round(v.fps) + ' fps');
    return parts.join(' · ');
  }
  function shortVideo(v) {
    if (!v) return 'audio only';
    var res = v.height ? v.height + 'p' + (v.fps ? Math.round(v.fps) : '') : '';
    return v.codec + (res ? ' ' + res : '');
  }
  function audioSummary(a) {
    if (!a) return 'no audio';
    var parts = [a.codec + (a.profile ? ' ' + a.profile : '')];
    if (a.sampleRate) parts.push((a.sampleRate / 1000) + ' kHz');
    if (a.channels) parts.push(channelsLabel(a.channels));
    return parts.join(' · ');
  }

  function findStream(name) {
    for (var i = 0; i < page.streams.length; i++) {
      if (LG.normalizeStream(page.streams[i].name) === name) return page.streams[i];
    }
    return null;
  }

  function setText(el, text) { if (el.textContent !== text) el.textContent = text; }

  function fmtStart(d) {
    if (!(d instanceof Date) || isNaN(d.getTime())) return '—';
    try {
      return d.toLocaleString(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit' });
    } catch (e) {
      return d.toISOString().replace('T', ' ').slice(0, 19);
    }
  }


  function fmtBehind(sec) {
    sec = Math.max(0, Math.round(sec));
    return '\u2212' + (sec < 100 ? sec + ' s' : fmtDuration(sec));
  }


  // ---------------------------------------------------------------------------
  // URLs
  // ---------------------------------------------------------------------------
  // URLSearchParams would encode "live/cam1" as "live%2Fcam1"; keep the slash readable.
  function qs(params) {
    var parts = [];
    Object.keys(params).forEach(function (k) {
      if (params[k] == null || params[k] === '') return;
      parts.push(encodeURIComponent(k) + '=' + encodeURIComponent(params[k]).replace(/%2F/gi, '/'));
    });
    return parts.length ? '?' + parts.join('&') : '';
  }

  function pageUrl(file, stream, proto) {
    var u = new URL(file, location.href);
    var p = { stream: stream, proto: proto };
    Object.keys(signed).forEach(function (k) { p[k] = signed[k]; });
    u.search = qs(p);
    return u.href;
  }

  function recordingPageUrl(name) {
    var u = new URL('./', location.href);
    var p = { recording: name };
    Object.keys(signed).forEach(function (k) { p[k] = signed[k]; });
    u.search = qs(p);
    return u.href;
  }

  function updateLocation() {
    var u = new URL(location.href);
    var p = {};
    new URLSearchParams(location.search).forEach(function (v, k) { p[k] = v; });
    if (page.recording) {
      p.recording = page.recording.name;
      p.stream = p.proto = p.rewind = null;
    } else {
      p.recording = null;
      p.stream = page.selected || null;
      p.proto = page.proto;
      p.rewind = page.selected && page.rewind > 0 ? String(page.rewind) : null;
    }
    u.search = qs(p);
    if (u.href !== location.href) {
      try { history.replaceState(null, '', u.href); } catch (e) { /* ignore */ }
    }
  }

  function announce(text) {
    els.announce.textContent = '';
    setTimeout(function () { els.announce.textContent = text; }, 30);
  }


  A.LG = LG;
  A.els = els;
  A.page = page;
  A.signed = signed;
  A.query = query;
  A.recordingParam = recordingParam;
  A.$ = $;
  A.fmtBitrate = fmtBitrate;
  A.fmtDuration = fmtDuration;
  A.fmtBytes = fmtBytes;
  A.fmtInt = fmtInt;
  A.protoLabel = protoLabel;
  A.channelsLabel = channelsLabel;
  A.videoSummary = videoSummary;
  A.shortVideo = shortVideo;
  A.audioSummary = audioSummary;
  A.fmtStart = fmtStart;
  A.fmtBehind = fmtBehind;
  A.findStream = findStream;
  A.setText = setText;
  A.qs = qs;
  A.pageUrl = pageUrl;
  A.recordingPageUrl = recordingPageUrl;
  A.updateLocation = updateLocation;
  A.announce = announce;
})();
