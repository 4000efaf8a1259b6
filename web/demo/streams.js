/* Live Gateway demo page: Live stream list, fed by polling api/streams. */
(function (A) {
  'use strict';

  var LG = A.LG, els = A.els, page = A.page, fmtBitrate = A.fmtBitrate, videoSummary = A.videoSummary,
      shortVideo = A.shortVideo, audioSummary = A.audioSummary, findStream = A.findStream, setText = A.setText,
      announce = A.announce;
  var REFRESH_MS = 2000;

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
        btn.addEventListener('click', function () { A.choose(name, true); });
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
    if (lastStreamNames !== null && names !== lastStreamNames) A.refreshRecordings();
    lastStreamNames = names;
    if (page.recording || page.noAutoPick && !page.selected) {
      A.renderShare();
      A.renderDvr();
      return;
    }
    if (!page.selected && page.streams.length) {
      // nothing chosen yet: start the first live stream
      A.choose(LG.normalizeStream(page.streams[0].name), false);
      return;
    }
    if (page.selected) {
      var info = findStream(page.selected);
      // Started from the URL before the API answered: check the codecs now,
      // unless the browser is already showing pictures.
      if (info && page.player && !page.checked[page.selected]) {
        page.checked[page.selected] = true;
        var st = page.player.state;
        if (!LG.checkSupport(info).ok && st !== 'playing' && st !== 'buffering') A.startPlayer();
      }
      // The stream came back while the player waits: reconnect right away.
      if (info && page.player && page.player.state === 'offline') page.player.reconnect();
      // A stream blocked by the codec check changed (e.g. republished with another codec)
      if (info && page.blockedBySupport === page.selected && LG.checkSupport(info).ok) A.startPlayer();
      if (!page.player && !page.blockedBySupport) A.startPlayer();
      // Asked to rewind a stream the server keeps no window for: it was served live.
      if (info && page.rewind > 0 && !info.rewindSeconds && page.player) {
        A.goLive();
        announce('Rewind is not available for ' + page.selected + '; playing live');
      }
    }
    A.renderShare();
    A.renderDvr();
  }

  A.renderList = renderList;
  A.refresh = refresh;
})(window.__liveGatewayDemo);
