/* Live Gateway demo page: Video controls, protocol switch and keyboard shortcuts. */
(function (A) {
  'use strict';

  var els = A.els, page = A.page, updateLocation = A.updateLocation;

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
    if (page.rewind > 0) { A.goLive(); return; }
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
    [els.protoAuto, els.protoWs, els.protoHttp, els.protoHls].forEach(function (input) {
      input.checked = page.proto === input.value;
    });
  }
  [els.protoAuto, els.protoWs, els.protoHttp, els.protoHls].forEach(function (input) {
    input.addEventListener('change', function () {
      if (!input.checked) return;
      page.proto = input.value;
      try { localStorage.setItem('liveGateway.proto', page.proto); } catch (e) { /* ignore */ }
      updateLocation();
      A.renderShare();
      if (page.selected && !page.recording) A.startPlayer();
    });
  });
  syncProto();
  // keyboard shortcuts (when not typing): m = mute, f = full screen, l = live edge (c = captions: captions.js)
  document.addEventListener('keydown', function (e) {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    var t = e.target;
    if (t && (t.tagName === 'INPUT' || t.tagName === 'TEXTAREA' || t.isContentEditable)) return;
    if (e.key === 'm') els.btnMute.click();
    else if (e.key === 'f') els.btnFs.click();
    else if (e.key === 'l') els.btnLive.click();
  });

  document.addEventListener('visibilitychange', function () {
    if (!document.hidden && A.recs.ok) A.refreshRecordings();
  });
})(window.__liveGatewayDemo);
