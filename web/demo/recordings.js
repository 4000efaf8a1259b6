/* Live Gateway demo page: Recordings panel (api/recordings) and on-demand playback of one file. */
(function (A) {
  'use strict';

  var LG = A.LG, els = A.els, page = A.page, signed = A.signed, fmtDuration = A.fmtDuration,
      fmtBytes = A.fmtBytes, fmtStart = A.fmtStart, setText = A.setText, recordingPageUrl = A.recordingPageUrl,
      updateLocation = A.updateLocation;
  var REC_REFRESH_MS = 15000;        // recordings list, nothing being recorded
  var REC_REFRESH_ACTIVE_MS = 5000;  // …while a file is still being written
  var REC_LIMIT = 8;                 // rows shown before "Show all"

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
  // Recording playback (?recording=APP/KEY/FILE.flv)
  // ---------------------------------------------------------------------------
  function playRecording(name) {
    var rec = LG.parseRecording(name);
    if (!rec) return;
    page.recording = rec;
    page.selected = null;
    page.explicit = true;
    page.noAutoPick = true;
    page.rewind = 0;
    updateLocation();
    A.renderList();
    startRecording();
    // bring the video into view on narrow screens, and keyboard focus to it
    var r = els.stage.getBoundingClientRect();
    if (r.top < 0 || r.top > window.innerHeight * 0.5) {
      els.stage.scrollIntoView({ block: 'start', behavior: window.matchMedia('(prefers-reduced-motion: reduce)').matches ? 'auto' : 'smooth' });
    }
    try { els.stage.focus({ preventScroll: true }); } catch (e) { /* ignore */ }
  }

  function startRecording() {
    A.stopPlayer();
    A.hideNotice();
    page.blockedBySupport = null;
    A.syncMode();
    A.renderShare();
    renderRecordings();
    var rec = page.recording;
    setText(els.title, rec.stream + ' \u00b7 recorded ' + fmtStart(rec.startedAt));
    document.title = rec.stream + ' (recording) \u00b7 Live Gateway';
    var support = LG.checkSupport({});
    if (!support.mse) {
      A.onStatus({ state: 'unsupported', message: support.message });
      A.showNotice(support.message, false);
      return;
    }
    page.player = LG.createRecordingPlayer(els.video, {
      recording: rec.name,
      base: LG.baseUrl,
      params: signed,
      onStatus: A.onStatus
    });
    window.__player = page.player;
  }

  A.recs = recs;
  A.findRecording = findRecording;
  A.refreshRecordings = refreshRecordings;
  A.renderRecordings = renderRecordings;
  A.playRecording = playRecording;
  A.startRecording = startRecording;
})(window.__liveGatewayDemo);
