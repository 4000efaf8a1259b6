/* Live Gateway demo page: Which player runs (live or recording), its status display and codec notices. */
(function (A) {
  'use strict';

  var LG = A.LG, els = A.els, page = A.page, signed = A.signed, findStream = A.findStream, setText = A.setText,
      updateLocation = A.updateLocation;

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
    A.renderList();
    A.renderShare();
    A.renderRecordings();
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
    setText(els.latencyLabel, rec ? 'Position' : (page.rewind > 0 ? 'Buffer' : 'Buffer ahead'));
    setText(els.uptimeLabel, rec ? 'Recorded' : 'Uptime');
    var liveLabel = page.rewind > 0 ? 'Go live' : 'Jump to live edge';
    els.btnLive.setAttribute('aria-label', liveLabel);
    els.btnLive.title = liveLabel;
    A.renderDvr();
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
      onStatus: onStatus,
      onText: page.captions.show
    };
    // auto and hls fall back to the browser's own HLS without MSE (the player says when neither exists)
    var flvOnly = page.proto === 'ws' || page.proto === 'http';
    if (!support.mse && flvOnly) {
      page.blockedBySupport = name;
      onStatus({ state: 'unsupported', message: support.message });
      showNotice(support.message, false);
      return;
    }
    if (support.mse && info && !support.ok && !page.forced[name]) {
      page.blockedBySupport = name;
      onStatus({ state: 'unsupported', message: support.message });
      showNotice(support.message, true);
      return;
    }
    if (support.mse && info && support.hasAudio === false) {
      opts.hasAudio = false;
      showNotice(support.message, false);
    }
    page.captions.clear();
    page.player = LG.createPlayer(els.video, opts);
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
    // a live 'paused' is the browser's pause that the player is undoing; a recording's is the viewer's
    els.veilSpinner.hidden = !(SPINNER_STATES[s.state] || (s.state === 'paused' && !rec));
    setText(els.veilText, s.message || s.state);
    els.livePill.hidden = !playing || rec || page.rewind > 0;
    els.behindPill.hidden = !playing || rec || page.rewind <= 0;
    els.vodPill.hidden = !rec || s.state === 'destroyed';
    A.renderStats();
  }

  A.choose = choose;
  A.stopPlayer = stopPlayer;
  A.syncMode = syncMode;
  A.startPlayer = startPlayer;
  A.showNotice = showNotice;
  A.hideNotice = hideNotice;
  A.onStatus = onStatus;
})(window.__liveGatewayDemo);
