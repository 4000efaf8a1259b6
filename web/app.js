/* Live Gateway demo page. Uses player.js (window.LiveGateway) for playback. */
(function () {
  'use strict';

  var LG = window.LiveGateway;
  var REFRESH_MS = 2000;
  var REC_REFRESH_MS = 15000;        // recordings list, nothing being recorded
  var REC_REFRESH_ACTIVE_MS = 5000;  // …while a file is still being written
  var REC_LIMIT = 8;                 // rows shown before "Show all"
  var REWIND_STEPS = [10, 30, 60];   // seconds; capped at what the server keeps

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
    streams: [],
    rtmpPort: 1935,
    apiOk: null,
    selected: LG.normalizeStream(query.get('stream')) || null,
    explicit: !!query.get('stream'),   // chosen by URL or click (vs. auto-picked)
    proto: LG.normalizeProto(query.get('proto')) || LG.normalizeProto(storedProto) || 'ws',
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
  function protoLabel(p) { return p === 'http' ? 'HTTP-FLV' : 'WS-FLV'; }
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

  function rtmpHost() {
    return location.hostname || 'localhost';
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

  function setPlaceholders(text) {
    [els.urlHttp, els.urlWs, els.urlPage, els.embedIframe, els.embedScript].forEach(function (el) {
      if (el.placeholder !== text) el.placeholder = text;
    });
  }

  function renderShare() {
    var name = page.selected;
    var info = name ? findStream(name) : null;
    setPlaceholders(page.recording ? 'Live streams only' : 'Select a stream');
    setText(els.urlHttpLabel, page.recording ? 'Recording file URL' : 'HTTP-FLV URL');
    els.copyHttp.setAttribute('aria-label', page.recording ? 'Copy recording file URL' : 'Copy HTTP-FLV URL');
    if (page.recording) {
      // A recording: its file and a link to this page; the embeds are for live streams.
      name = page.recording.stream;
      els.urlHttp.value = LG.recordingUrl(page.recording.name, { base: LG.baseUrl, params: signed }) || '';
      els.urlWs.value = '';
      els.urlPage.value = recordingPageUrl(page.recording.name);
      els.embedIframe.value = '';
      els.embedScript.value = '';
    } else if (name) {
      var urls = LG.buildUrls(name, { base: LG.baseUrl, params: signed });
      els.urlHttp.value = urls.http;
      els.urlWs.value = urls.ws;
      els.urlPage.value = pageUrl('./', name, page.proto);
      var embed = pageUrl('embed.html', name, page.proto);
      els.embedIframe.value = '<iframe src="' + embed + '" width="640" height="360" ' +
        'allow="autoplay; fullscreen; picture-in-picture" allowfullscreen ' +
        'style="border:0;aspect-ratio:16/9;width:100%;max-width:640px;height:auto" title="Live stream ' + name + '"></iframe>';
      var base = new URL('./', location.href).href;
      var params = Object.keys(signed).length ? ',\n    params: ' + JSON.stringify(signed) : '';
      els.embedScript.value =
        '<video id="live" muted autoplay playsinline style="width:100%;background:#000"></video>\n' +
        '<script src="' + base + 'player.js"></' + 'script>\n' +
        '<script>\n' +
        '  const player = LiveGateway.createPlayer(document.getElementById(\'live\'), {\n' +
        '    stream: \'' + name + '\',\n' +
        '    proto: \'' + page.proto + '\'' + params + ',\n' +
        '    onStatus: (s) => console.log(s.state, s.message)\n' +
        '  });\n' +
        '</' + 'script>';
    } else {
      els.urlHttp.value = els.urlWs.value = els.urlPage.value = '';
      els.embedIframe.value = '';
      els.embedScript.value = '';
    }
    var app = 'live', key = 'my-stream';
    if (name) {
      var parts = name.split('/');
      app = parts[0]; key = parts.slice(1).join('/');
    }
    if (info) { app = info.app || app; key = info.key || key; }
    var server = 'rtmp://' + rtmpHost() + ':' + page.rtmpPort + '/' + app;
    els.pubServer.value = server;
    els.pubKey.value = key;
    els.pubFfmpeg.value = 'ffmpeg -re -i input.mp4 -c:v libx264 -preset veryfast -tune zerolatency ' +
      '-g 60 -c:a aac -b:a 128k -f flv ' + server + '/' + key;
  }

  // ---------------------------------------------------------------------------
  // Stream list
  // ---------------------------------------------------------------------------
  function renderList() {
    var list = els.list;
    var existing = {};
    Array.prototype.forEach.call(list.children, function (li) { existing[li.dataset.stream] = li; });
    var seen = {};
    page.streams.forEach(function (s, i) {
      var name = LG.normalizeStream(s.name);
      seen[name] = true;
      var li = existing[name];
      if (!li) {
        li = document.createElement('li');
        li.className = 'stream-item';
        li.dataset.stream = name;
        li.setAttribute('data-testid', 'stream-item');
        var btn = document.createElement('button');
        btn.type = 'button';
        btn.className = 'stream-btn';
        btn.innerHTML =
          '<span class="stream-thumb" aria-hidden="true"><span class="dot"></span></span>' +
          '<span class="stream-main">' +
          '  <span class="stream-name"></span>' +
          '  <span class="stream-meta"></span>' +
          '</span>' +
          '<span class="stream-side">' +
          '  <span class="stream-viewers"></span>' +
          '  <span class="stream-rate"></span>' +
          '</span>';
        btn.addEventListener('click', function () { choose(name, true); });
        li.appendChild(btn);
      }
      // keep API order
      if (list.children[i] !== li) list.insertBefore(li, list.children[i] || null);
      var btnEl = li.firstChild;
      var support = LG.checkSupport(s);
      setText(li.querySelector('.stream-name'), name);
      var meta = shortVideo(s.video) + ' · ' + (s.audio ? s.audio.codec : 'no audio');
      setText(li.querySelector('.stream-meta'), meta);
      var viewers = s.viewers ? s.viewers.total : 0;
      setText(li.querySelector('.stream-viewers'), viewers + (viewers === 1 ? ' viewer' : ' viewers'));
      setText(li.querySelector('.stream-rate'), fmtBitrate(s.bitrateIn));
      li.classList.toggle('unsupported', !support.ok);
      var current = name === page.selected;
      li.classList.toggle('selected', current);
      if (current) btnEl.setAttribute('aria-current', 'true'); else btnEl.removeAttribute('aria-current');
      btnEl.setAttribute('aria-label', 'Play ' + name + ', ' + videoSummary(s.video) + ', ' + audioSummary(s.audio) +
        ', ' + viewers + ' viewers' + (support.ok ? '' : ', not playable in this browser'));
      btnEl.title = support.ok ? '' : support.message;
    });
    Object.keys(existing).forEach(function (name) {
      if (!seen[name]) list.removeChild(existing[name]);
    });
    var n = page.streams.length;
    setText(els.count, String(n));
    els.count.setAttribute('aria-label', n + (n === 1 ? ' live stream' : ' live streams'));
    els.empty.hidden = n > 0 || page.apiOk === false;
  }

  // ---------------------------------------------------------------------------
  // API polling
  // ---------------------------------------------------------------------------
  var refreshTimer = 0;
  var refreshFailures = 0;
  function refresh() {
    clearTimeout(refreshTimer);
    fetch(LG.apiUrl(LG.baseUrl), { cache: 'no-store' })
      .then(function (r) {
        if (!r.ok) throw new Error('HTTP ' + r.status);
        return r.json();
      })
      .then(function (data) {
        refreshFailures = 0;
        page.apiOk = true;
        page.streams = Array.isArray(data.streams) ? data.streams.slice() : [];
        page.streams.sort(function (a, b) { return String(a.name).localeCompare(String(b.name)); });
        if (data.rtmpPort) page.rtmpPort = data.rtmpPort;
        els.apiError.hidden = true;
        onStreamsUpdated();
      }, function (err) {
        refreshFailures++;
        page.apiOk = false;
        els.apiError.hidden = false;
        setText(els.apiError, 'Cannot reach the gateway (' + (err && err.message || 'network error') + '). Retrying…');
        renderList();
      })
      .then(function () {
        // back off gently while the API is unreachable; 2 s otherwise
        var delay = refreshFailures ? Math.min(REFRESH_MS * Math.pow(2, refreshFailures - 1), 16000) : REFRESH_MS;
        refreshTimer = setTimeout(refresh, delay);
      });
  }

  var lastStreamNames = null;
  function onStreamsUpdated() {
    renderList();
    // A stream came or went: a recording may have started or finished with it.
    var names = page.streams.map(function (s) { return s.name; }).join('\n');
    if (lastStreamNames !== null && names !== lastStreamNames) refreshRecordings();
    lastStreamNames = names;
    if (page.recording || page.noAutoPick && !page.selected) {
      renderShare();
      renderDvr();
      return;
    }
    if (!page.selected && page.streams.length) {
      // nothing chosen yet: start the first live stream
      choose(LG.normalizeStream(page.streams[0].name), false);
      return;
    }
    if (page.selected) {
      var info = findStream(page.selected);
      // Started from the URL before the API answered: check the codecs now,
      // unless the browser is already showing pictures.
      if (info && page.player && !page.checked[page.selected]) {
        page.checked[page.selected] = true;
        var st = page.player.state;
        if (!LG.checkSupport(info).ok && st !== 'playing' && st !== 'buffering') startPlayer();
      }
      // The stream came back while the player waits: reconnect right away.
      if (info && page.player && page.player.state === 'offline') page.player.reconnect();
      // A stream blocked by the codec check changed (e.g. republished with another codec)
      if (info && page.blockedBySupport === page.selected && LG.checkSupport(info).ok) startPlayer();
      if (!page.player && !page.blockedBySupport) startPlayer();
      // Asked to rewind a stream the server keeps no window for: it was served live.
      if (info && page.rewind > 0 && !info.rewindSeconds && page.player) {
        goLive();
        announce('Rewind is not available for ' + page.selected + '; playing live');
      }
    }
    renderShare();
    renderDvr();
  }

  // ---------------------------------------------------------------------------
  // Recordings list (api/recordings)
  // ---------------------------------------------------------------------------
  var storedRecOpen = null;
  try { storedRecOpen = localStorage.getItem('liveGateway.recordingsOpen'); } catch (e) { /* private mode */ }
  var recs = {
    list: [],
    ok: null,          // null: no answer yet
    disabled: false,   // 401/403 (API token) or 404 (no recording routes): section hidden
    failures: 0,
    timer: 0,
    inFlight: false,
    showAll: false,
    open: storedRecOpen !== '0'
  };

  function findRecording(name) {
    for (var i = 0; i < recs.list.length; i++) if (recs.list[i].name === name) return recs.list[i];
    return null;
  }

  function refreshRecordings() {
    clearTimeout(recs.timer);
    recs.timer = 0;
    if (recs.disabled || recs.inFlight) return;
    recs.inFlight = true;
    fetch(LG.recordingsApiUrl(LG.baseUrl), { cache: 'no-store', credentials: 'same-origin' })
      .then(function (r) {
        if (r.status === 401 || r.status === 403 || r.status === 404) {
          recs.disabled = true; // protected by an API token, or no recorder
          return null;
        }
        if (!r.ok) throw new Error('HTTP ' + r.status);
        return r.json();
      })
      .then(function (data) {
        if (data === null) return;
        recs.failures = 0;
        recs.ok = true;
        recs.list = (data && Array.isArray(data.recordings) ? data.recordings : []).filter(function (r) {
          return r && LG.parseRecording(r.name);
        });
      }, function (err) {
        recs.failures++;
        if (recs.ok) {
          els.recError.hidden = false;
          setText(els.recError, 'Cannot load the recordings (' + (err && err.message || 'network error') + '). Retrying…');
        }
      })
      .then(function () {
        recs.inFlight = false;
        if (recs.failures === 0) els.recError.hidden = true;
        renderRecordings();
        if (recs.disabled) return;
        var busy = recs.list.some(function (r) { return r.recording; });
        var delay = recs.failures ? Math.min(REC_REFRESH_MS * recs.failures, 60000) : (busy ? REC_REFRESH_ACTIVE_MS : REC_REFRESH_MS);
        recs.timer = setTimeout(refreshRecordings, delay);
      });
  }

  function syncRecToggle() {
    els.recToggle.setAttribute('aria-expanded', String(recs.open));
    els.recBody.hidden = !recs.open;
    els.recPanel.classList.toggle('collapsed', !recs.open);
  }
  els.recToggle.addEventListener('click', function () {
    recs.open = !recs.open;
    try { localStorage.setItem('liveGateway.recordingsOpen', recs.open ? '1' : '0'); } catch (e) { /* ignore */ }
    syncRecToggle();
    if (recs.open) refreshRecordings();
  });
  els.recMore.addEventListener('click', function () {
    recs.showAll = !recs.showAll;
    renderRecordings();
  });
  syncRecToggle();

  var DOWNLOAD_ICON = '<svg viewBox="0 0 24 24" aria-hidden="true" focusable="false"><path d="M12 4v11M7 10.5l5 5 5-5M5 19.5h14"/></svg>';

  function buildRecordingItem(entry) {
    var li = document.createElement('li');
    li.className = 'rec-item';
    li.dataset.name = entry.name;
    li.setAttribute('data-testid', 'recording-item');
    li.innerHTML =
      '<span class="rec-thumb" aria-hidden="true"><svg viewBox="0 0 24 24" focusable="false"><path d="M9 7.5v9l7-4.5z"/></svg></span>' +
      '<span class="rec-main">' +
      '  <span class="rec-title"><span class="rec-stream"></span><span class="rec-badge" data-testid="recording-live" hidden>REC</span></span>' +
      '  <span class="rec-meta"><time class="rec-time"></time><span class="rec-sep" aria-hidden="true"> · </span><span class="rec-dur"></span><span class="rec-sep" aria-hidden="true"> · </span><span class="rec-size"></span></span>' +
      '</span>' +
      '<span class="rec-actions">' +
      '  <a class="btn btn-sm rec-play" data-testid="recording-play">Play</a>' +
      '  <a class="icon-link rec-download" data-testid="recording-download" download>' + DOWNLOAD_ICON + '</a>' +
      '</span>';
    var rec = LG.parseRecording(entry.name);
    var play = li.querySelector('.rec-play');
    play.href = recordingPageUrl(rec.name);
    play.addEventListener('click', function (e) {
      if (e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return; // new tab etc.
      e.preventDefault();
      playRecording(rec.name);
    });
    li.querySelector('.rec-download').href = LG.recordingUrl(rec.name, { base: LG.baseUrl, params: signed, download: true });
    li.querySelector('.rec-download').setAttribute('download', rec.file);
    var time = li.querySelector('.rec-time');
    if (rec.startedAt) time.dateTime = rec.startedAt.toISOString();
    time.textContent = fmtStart(rec.startedAt);
    li.querySelector('.rec-stream').textContent = rec.stream;
    return li;
  }

  function renderRecordings() {
    els.recPanel.hidden = recs.disabled || recs.ok !== true;
    if (els.recPanel.hidden) return;
    var all = recs.list;
    var shown = recs.showAll ? all : all.slice(0, REC_LIMIT);
    var list = els.recList;
    var existing = {};
    Array.prototype.forEach.call(list.children, function (li) { existing[li.dataset.name] = li; });
    var seen = {};
    shown.forEach(function (entry, i) {
      seen[entry.name] = true;
      var li = existing[entry.name] || buildRecordingItem(entry);
      if (list.children[i] !== li) list.insertBefore(li, list.children[i] || null);
      var rec = LG.parseRecording(entry.name);
      var writing = !!entry.recording;
      li.dataset.recording = String(writing);
      li.querySelector('.rec-badge').hidden = !writing;
      li.querySelector('.rec-badge').title = writing ? 'Still being recorded' : '';
      setText(li.querySelector('.rec-dur'), fmtDuration(entry.duration));
      setText(li.querySelector('.rec-size'), fmtBytes(entry.bytes));
      var current = !!page.recording && page.recording.name === entry.name;
      li.classList.toggle('selected', current);
      var play = li.querySelector('.rec-play');
      if (current) play.setAttribute('aria-current', 'true'); else play.removeAttribute('aria-current');
      var what = rec.stream + ', recorded ' + fmtStart(rec.startedAt) + ', ' + fmtDuration(entry.duration) +
        (writing ? ', still recording' : '');
      play.setAttribute('aria-label', 'Play ' + what);
      var dl = li.querySelector('.rec-download');
      dl.setAttribute('aria-label', 'Download ' + what + ' (' + fmtBytes(entry.bytes) + ')');
      dl.title = 'Download (' + fmtBytes(entry.bytes) + ')';
    });
    Object.keys(existing).forEach(function (name) {
      if (!seen[name]) list.removeChild(existing[name]);
    });
    var n = all.length;
    setText(els.recCount, String(n));
    els.recCount.setAttribute('aria-label', n + (n === 1 ? ' recording' : ' recordings'));
    els.recEmpty.hidden = n > 0;
    els.recMore.hidden = n <= REC_LIMIT;
    setText(els.recMore, recs.showAll ? 'Show fewer' : 'Show all ' + n + ' recordings');
  }

  // ---------------------------------------------------------------------------
  // Player
  // ---------------------------------------------------------------------------
  function choose(name, explicit) {
    name = LG.normalizeStream(name);
    if (!name) return;
    if (explicit) page.explicit = true;
    if (page.recording) {
      // leave the recording for the live stream
      stopPlayer();
      page.recording = null;
    }
    if (name === page.selected && page.player) {
      if (page.player.state !== 'playing') page.player.reconnect();
      return;
    }
    if (name !== page.selected) page.rewind = 0; // another stream starts live
    page.selected = name;
    if (explicit) updateLocation();
    renderList();
    renderShare();
    renderRecordings();
    startPlayer();
  }

  function stopPlayer() {
    if (page.player) {
      page.player.destroy();
      page.player = null;
    }
    window.__player = null;
  }

  /** Live stream or recording: what the page chrome around the video shows. */
  function syncMode() {
    var rec = !!page.recording;
    els.wrap.dataset.mode = rec ? 'recording' : 'live';
    els.protoGroup.hidden = rec;
    els.video.setAttribute('aria-label', rec ? 'Recorded video' : 'Live video');
    setText(els.latencyLabel, rec ? 'Position' : (page.rewind > 0 ? 'Buffer' : 'Latency (buffer)'));
    setText(els.uptimeLabel, rec ? 'Recorded' : 'Uptime');
    var liveLabel = page.rewind > 0 ? 'Go live' : 'Jump to live edge';
    els.btnLive.setAttribute('aria-label', liveLabel);
    els.btnLive.title = liveLabel;
    renderDvr();
  }

  function startPlayer() {
    stopPlayer();
    hideNotice();
    page.blockedBySupport = null;
    syncMode();
    var name = page.selected;
    if (!name) return;
    setText(els.title, name);
    document.title = name + ' · Live Gateway';

    var info = findStream(name);
    if (info) page.checked[name] = true;
    var support = info ? LG.checkSupport(info) : LG.checkSupport({});
    var opts = {
      stream: name,
      proto: page.proto,
      base: LG.baseUrl,
      params: signed,
      rewind: page.rewind,
      onStatus: onStatus
    };
    if (!support.mse) {
      page.blockedBySupport = name;
      onStatus({ state: 'unsupported', message: support.message });
      showNotice(support.message, false);
      return;
    }
    if (info && !support.ok && !page.forced[name]) {
      page.blockedBySupport = name;
      onStatus({ state: 'unsupported', message: support.message });
      showNotice(support.message, true);
      return;
    }
    if (info && support.hasAudio === false) {
      opts.hasAudio = false;
      showNotice(support.message, false);
    }
    page.player = LG.createPlayer(els.video, opts);
    window.__player = page.player;
  }

  // ---------------------------------------------------------------------------
  // Rewind (DVR)
  // ---------------------------------------------------------------------------
  function fmtBehind(sec) {
    sec = Math.max(0, Math.round(sec));
    return '\u2212' + (sec < 100 ? sec + ' s' : fmtDuration(sec));
  }

  function rewindAvailable() {
    var info = page.selected ? findStream(page.selected) : null;
    return info ? Math.max(0, Math.floor(info.rewindSeconds || 0)) : 0;
  }

  /** How far behind live the viewer is now (seconds), or 0 at the live edge. */
  function behindNow() {
    if (page.rewind <= 0) return 0;
    var st = page.player && page.player.kind === 'live' ? page.player.stats() : null;
    return st && st.behindLive ? st.behindLive : page.rewind;
  }

  function setRewind(seconds) {
    seconds = LG.normalizeRewind(seconds);
    if (!page.selected || page.recording) return;
    if (seconds <= 0) { goLive(); return; }
    var avail = rewindAvailable();
    if (avail > 0) seconds = Math.min(seconds, avail);
    page.rewind = seconds;
    updateLocation();
    if (page.player && page.player.kind === 'live') page.player.setRewind(seconds);
    else startPlayer();
    syncMode();
    announce('Watching ' + seconds + ' seconds behind live');
  }

  function goLive() {
    if (page.rewind <= 0) return;
    page.rewind = 0;
    updateLocation();
    if (page.player && page.player.kind === 'live') page.player.goLive();
    else if (page.selected) startPlayer();
    syncMode();
    announce('Back to live');
  }

  function renderDvr() {
    var live = !!page.selected && !page.recording;
    var avail = live ? rewindAvailable() : 0;
    var behind = live && page.rewind > 0;
    els.dvr.hidden = !(live && (avail > 0 || behind));
    if (els.dvr.hidden) return;
    var values = [];
    REWIND_STEPS.forEach(function (step) {
      var v = Math.min(step, avail);
      if (v >= 1 && values.indexOf(v) < 0) values.push(v);
    });
    var btns = els.dvrSteps.children;
    while (btns.length > values.length) els.dvrSteps.removeChild(els.dvrSteps.lastChild);
    values.forEach(function (v, i) {
      var b = btns[i];
      if (!b) {
        b = document.createElement('button');
        b.type = 'button';
        b.className = 'btn dvr-step';
        b.setAttribute('data-testid', 'rewind-step');
        b.addEventListener('click', function () { setRewind(Number(b.dataset.rewind)); });
        els.dvrSteps.appendChild(b);
      }
      if (b.dataset.rewind !== String(v)) {
        b.dataset.rewind = String(v);
        b.textContent = fmtBehind(v);
        b.setAttribute('aria-label', 'Watch ' + v + ' seconds behind live');
        b.title = 'Go back ' + v + ' s';
      }
      b.setAttribute('aria-pressed', String(behind && page.rewind === v));
    });
    els.dvrBehind.hidden = !behind;
    els.goLive.hidden = !behind;
    els.dvrAtLive.hidden = behind;
    if (behind) setText(els.dvrBehindValue, fmtBehind(behindNow()));
  }

  els.goLive.addEventListener('click', goLive);

  // ---------------------------------------------------------------------------
  // Recording playback (?recording=APP/KEY/FILE.flv)
  // ---------------------------------------------------------------------------
  function fmtStart(d) {
    if (!(d instanceof Date) || isNaN(d.getTime())) return '—';
    try {
      return d.toLocaleString(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit' });
    } catch (e) {
      return d.toISOString().replace('T', ' ').slice(0, 19);
    }
  }

  function playRecording(name) {
    var rec = LG.parseRecording(name);
    if (!rec) return;
    page.recording = rec;
    page.selected = null;
    page.explicit = true;
    page.noAutoPick = true;
    page.rewind = 0;
    updateLocation();
    renderList();
    startRecording();
    // bring the video into view on narrow screens, and keyboard focus to it
    var r = els.stage.getBoundingClientRect();
    if (r.top < 0 || r.top > window.innerHeight * 0.5) {
      els.stage.scrollIntoView({ block: 'start', behavior: window.matchMedia('(prefers-reduced-motion: reduce)').matches ? 'auto' : 'smooth' });
    }
    try { els.stage.focus({ preventScroll: true }); } catch (e) { /* ignore */ }
  }

  function startRecording() {
    stopPlayer();
    hideNotice();
    page.blockedBySupport = null;
    syncMode();
    renderShare();
    renderRecordings();
    var rec = page.recording;
    setText(els.title, rec.stream + ' \u00b7 recorded ' + fmtStart(rec.startedAt));
    document.title = rec.stream + ' (recording) \u00b7 Live Gateway';
    var support = LG.checkSupport({});
    if (!support.mse) {
      onStatus({ state: 'unsupported', message: support.message });
      showNotice(support.message, false);
      return;
    }
    page.player = LG.createRecordingPlayer(els.video, {
      recording: rec.name,
      base: LG.baseUrl,
      params: signed,
      onStatus: onStatus
    });
    window.__player = page.player;
  }

  function showNotice(text, offerTry) {
    setText(els.noticeText, text);
    els.noticeAction.hidden = !offerTry;
    els.notice.hidden = false;
  }
  function hideNotice() { els.notice.hidden = true; }

  els.noticeAction.addEventListener('click', function () {
    if (page.selected) page.forced[page.selected] = true;
    startPlayer();
  });

  var SPINNER_STATES = { loading: 1, connecting: 1, buffering: 1, reconnecting: 1 };

  function onStatus(s) {
    page.status = s;
    els.status.dataset.state = s.state;
    setText(els.status, s.message || s.state);
    els.wrap.dataset.state = s.state;
    var playing = s.state === 'playing';
    var rec = !!page.recording;
    // a recording keeps the native controls usable when paused or at its end
    els.veil.hidden = playing || (rec && (s.state === 'paused' || s.state === 'ended'));
    els.veilSpinner.hidden = !SPINNER_STATES[s.state];
    setText(els.veilText, s.message || s.state);
    els.livePill.hidden = !playing || rec || page.rewind > 0;
    els.behindPill.hidden = !playing || rec || page.rewind <= 0;
    els.vodPill.hidden = !rec || s.state === 'destroyed';
    renderStats();
  }

  // ---------------------------------------------------------------------------
  // Stats
  // ---------------------------------------------------------------------------
  var statEls = {};
  Array.prototype.forEach.call(els.stats.querySelectorAll('[data-stat]'), function (dd) {
    statEls[dd.dataset.stat] = dd;
  });
  // value, plus an optional secondary line (rendered as <small>)
  function stat(key, value, sub) {
    var dd = statEls[key];
    if (!dd) return;
    var main = value == null || value === '' ? '—' : String(value);
    var key2 = main + '\u0000' + (sub || '');
    if (dd._v === key2) return;
    dd._v = key2;
    dd.textContent = main;
    if (sub) {
      var sm = document.createElement('small');
      sm.textContent = sub;
      dd.appendChild(sm);
    }
  }

  function renderRecordingStats(st) {
    var entry = findRecording(page.recording.name);
    stat('state', st ? st.state : page.status.state);
    statEls.state.dataset.state = st ? st.state : page.status.state;
    stat('proto', 'FLV file', 'HTTP, on demand');
    var dur = st && st.duration ? st.duration : (entry ? entry.duration : 0);
    stat('latency', st ? fmtDuration(st.currentTime) + ' / ' + (dur ? fmtDuration(dur) : '—') : null);
    stat('resolution', st && st.videoWidth ? st.videoWidth + '×' + st.videoHeight : null);
    var fps = st && st.fps && !st.paused ? st.fps.toFixed(st.fps < 10 ? 1 : 0) + ' fps' : (st && st.metadataFps ? Math.round(st.metadataFps) + ' fps' : null);
    stat('fps', fps, st && st.metadataFps ? 'source ' + Math.round(st.metadataFps) + ' fps' : '');
    var avg = entry && entry.duration > 0 ? entry.bytes * 8 / entry.duration : 0;
    stat('bitrate', avg ? fmtBitrate(avg) : null, avg ? 'average · ' + fmtBytes(entry.bytes) : '');
    stat('video', st && st.videoCodec ? LG.describeCodec(st.videoCodec) : null, st && st.videoCodec ? st.videoCodec : '');
    stat('audio', st && st.audioCodec ? LG.describeCodec(st.audioCodec) : (st && st.hasAudio === false ? 'none' : null), st && st.audioCodec ? st.audioCodec : '');
    stat('decoded', st ? fmtInt(st.decodedFrames) : null);
    stat('dropped', st ? fmtInt(st.droppedFrames) : null, st && st.decodedFrames ? (100 * st.droppedFrames / st.decodedFrames).toFixed(1) + ' %' : '');
    stat('viewers', null);
    stat('uptime', fmtStart(page.recording.startedAt), entry && entry.recording ? 'still recording' : '');
    els.hudLatency.hidden = true;
    els.hudRes.hidden = !(st && st.videoHeight && st.state === 'playing');
    if (!els.hudRes.hidden) setText(els.hudRes, st.videoHeight + 'p');
  }

  function renderStats() {
    var p = page.player;
    var st = p ? p.stats() : null;
    if (page.recording) { renderRecordingStats(st); return; }
    var info = page.selected ? findStream(page.selected) : null;
    var rewinding = page.rewind > 0;
    stat('state', st ? st.state : page.status.state);
    statEls.state.dataset.state = st ? st.state : page.status.state;
    stat('proto', page.selected ? protoLabel(page.proto) : null, page.selected && rewinding ? 'rewind ' + fmtBehind(page.rewind) : '');
    var live = st && (st.state === 'playing' || st.state === 'buffering');
    stat('latency', live ? st.bufferedAhead.toFixed(2) + ' s' : null,
      live && rewinding ? fmtBehind(behindNow()) + ' behind live' : (live && st.playbackRate !== 1 ? 'catching up ×' + st.playbackRate : ''));
    stat('resolution', st && st.videoWidth ? st.videoWidth + '×' + st.videoHeight : (info && info.video && info.video.width ? info.video.width + '×' + info.video.height : null));
    var declared = info && info.video && info.video.fps ? Math.round(info.video.fps) : (st && st.metadataFps ? Math.round(st.metadataFps) : null);
    var fps = live && st.fps ? st.fps.toFixed(st.fps < 10 ? 1 : 0) + ' fps' : null;
    stat('fps', fps || (declared ? declared + ' fps' : null), declared ? 'source ' + declared + ' fps' : '');
    stat('bitrate', live && st.bitrate ? fmtBitrate(st.bitrate) : null, info && info.bitrateIn ? 'ingest ' + fmtBitrate(info.bitrateIn) : '');
    var vc = st && st.videoCodec ? LG.describeCodec(st.videoCodec) : (info && info.video ? info.video.codec + (info.video.profile ? ' ' + info.video.profile : '') + (info.video.level ? ' L' + info.video.level : '') : null);
    if (info && !info.video) vc = 'none';
    stat('video', vc, st && st.videoCodec ? st.videoCodec : '');
    var ac = null, acSub = '';
    if (info && info.audio) {
      ac = info.audio.codec + (info.audio.profile ? '-' + info.audio.profile : '');
      acSub = [info.audio.sampleRate ? (info.audio.sampleRate / 1000) + ' kHz' : '', channelsLabel(info.audio.channels)].filter(Boolean).join(' · ');
    } else if (st && st.audioCodec) {
      ac = LG.describeCodec(st.audioCodec);
    }
    if (info && !info.audio) ac = 'none';
    if (st && st.hasAudio === false && info && info.audio) acSub = 'not played (unsupported)';
    stat('audio', ac, acSub);
    stat('decoded', st ? fmtInt(st.decodedFrames) : null);
    stat('dropped', st ? fmtInt(st.droppedFrames) : null, st && st.decodedFrames ? (100 * st.droppedFrames / st.decodedFrames).toFixed(1) + ' %' : '');
    var v = info && info.viewers;
    stat('viewers', v ? v.total : null, v ? 'WS ' + (v.ws || 0) + ' · HTTP ' + (v.http || 0) + ' · RTMP ' + (v.rtmp || 0) : '');
    stat('uptime', info ? fmtDuration(info.uptime) : null);

    // HUD on the video
    var showHud = !!live;
    els.hudLatency.hidden = !showHud || rewinding;
    els.hudRes.hidden = !showHud || !st.videoHeight;
    if (showHud) {
      setText(els.hudLatency, st.bufferedAhead.toFixed(2) + ' s');
      els.hudLatency.classList.toggle('warn', st.bufferedAhead > 1);
      if (st.videoHeight) setText(els.hudRes, st.videoHeight + 'p' + (st.fps ? Math.round(st.fps) : ''));
    }
    if (rewinding) {
      var behindText = fmtBehind(behindNow());
      setText(els.behindPill, behindText);
      if (!els.dvr.hidden) setText(els.dvrBehindValue, behindText);
    }
  }

  setInterval(renderStats, 500);

  // ---------------------------------------------------------------------------
  // Controls
  // ---------------------------------------------------------------------------
  function syncMute() {
    var muted = els.video.muted;
    els.btnMute.setAttribute('aria-pressed', String(!muted));
    els.btnMute.setAttribute('aria-label', muted ? 'Unmute' : 'Mute');
    els.btnMute.title = muted ? 'Unmute' : 'Mute';
    els.btnMute.classList.toggle('is-muted', muted);
  }
  els.btnMute.addEventListener('click', function () {
    els.video.muted = !els.video.muted;
    if (!els.video.muted && els.video.volume === 0) els.video.volume = 1;
    if (els.video.paused && page.player) els.video.play().catch(function () { /* ignore */ });
  });
  els.video.addEventListener('volumechange', syncMute);
  syncMute();

  els.btnLive.addEventListener('click', function () {
    if (page.recording) return;
    if (page.rewind > 0) { goLive(); return; }
    if (page.player) page.player.jumpToLive();
  });

  var fsEnabled = document.fullscreenEnabled || document.webkitFullscreenEnabled;
  els.btnFs.hidden = !fsEnabled && !els.video.webkitEnterFullscreen;
  els.btnFs.addEventListener('click', function () {
    var fsEl = document.fullscreenElement || document.webkitFullscreenElement;
    if (fsEl) {
      (document.exitFullscreen || document.webkitExitFullscreen).call(document);
    } else if (els.wrap.requestFullscreen) {
      els.wrap.requestFullscreen().catch(function () { /* ignore */ });
    } else if (els.wrap.webkitRequestFullscreen) {
      els.wrap.webkitRequestFullscreen();
    } else if (els.video.webkitEnterFullscreen) {
      els.video.webkitEnterFullscreen(); // iPhone
    }
  });
  els.video.addEventListener('dblclick', function () {
    if (!page.recording) els.btnFs.click(); // recordings: the native controls handle it
  });

  // protocol switch
  function syncProto() {
    els.protoWs.checked = page.proto === 'ws';
    els.protoHttp.checked = page.proto === 'http';
  }
  [els.protoWs, els.protoHttp].forEach(function (input) {
    input.addEventListener('change', function () {
      if (!input.checked) return;
      page.proto = input.value;
      try { localStorage.setItem('liveGateway.proto', page.proto); } catch (e) { /* ignore */ }
      updateLocation();
      renderShare();
      if (page.selected && !page.recording) startPlayer();
    });
  });
  syncProto();

  // copy buttons
  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text);
    }
    // plain-http fallback (e.g. http://192.168.x.y/)
    return new Promise(function (resolve, reject) {
      var ta = document.createElement('textarea');
      ta.value = text;
      ta.setAttribute('readonly', '');
      ta.style.position = 'fixed';
      ta.style.opacity = '0';
      document.body.appendChild(ta);
      ta.select();
      var ok = false;
      try { ok = document.execCommand('copy'); } catch (e) { ok = false; }
      document.body.removeChild(ta);
      if (ok) resolve(); else reject(new Error('copy failed'));
    });
  }
  Array.prototype.forEach.call(document.querySelectorAll('[data-copy]'), function (btn) {
    var timer = 0;
    btn.addEventListener('click', function () {
      var src = $(btn.dataset.copy);
      var text = src ? src.value : '';
      if (!text) return;
      var what = (btn.getAttribute('aria-label') || 'text').replace(/^Copy /, '');
      copyText(text).then(function () {
        btn.textContent = 'Copied';
        btn.classList.add('ok');
        announce(what + ' copied to the clipboard');
      }, function () {
        src.focus();
        src.select();
        btn.textContent = 'Press Ctrl+C';
        announce('Copy failed — the text is selected, press Ctrl+C');
      });
      clearTimeout(timer);
      timer = setTimeout(function () { btn.textContent = 'Copy'; btn.classList.remove('ok'); }, 1600);
    });
  });
  // select-all on focus for the read-only fields
  Array.prototype.forEach.call(document.querySelectorAll('input[readonly], textarea[readonly]'), function (el) {
    el.addEventListener('focus', function () { el.select(); });
  });

  function announce(text) {
    els.announce.textContent = '';
    setTimeout(function () { els.announce.textContent = text; }, 30);
  }

  // keyboard shortcuts (when not typing): m = mute, f = full screen, l = live edge
  document.addEventListener('keydown', function (e) {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    var t = e.target;
    if (t && (t.tagName === 'INPUT' || t.tagName === 'TEXTAREA' || t.isContentEditable)) return;
    if (e.key === 'm') els.btnMute.click();
    else if (e.key === 'f') els.btnFs.click();
    else if (e.key === 'l') els.btnLive.click();
  });

  document.addEventListener('visibilitychange', function () {
    if (!document.hidden && recs.ok) refreshRecordings();
  });

  // ---------------------------------------------------------------------------
  // Boot
  // ---------------------------------------------------------------------------
  renderShare();
  if (page.recording) {
    startRecording(); // ?recording=APP/KEY/FILE.flv
  } else if (recordingParam != null) {
    var bad = 'The link names no valid recording (' + recordingParam.slice(0, 200) + '). Pick one under Recordings, or a live stream.';
    syncMode();
    setText(els.title, 'Recording not found');
    onStatus({ state: 'error', message: 'Invalid recording link' });
    showNotice(bad, false);
  } else if (page.selected) {
    setText(els.title, page.selected);
    startPlayer();  // URL parameter: start right away, don't wait for the API
  } else {
    syncMode();
    onStatus({ state: 'idle', message: 'Waiting for a live stream…' });
  }
  refresh();
  refreshRecordings();
})();
