/* Live Gateway demo page: Rewind (DVR) bar: offset buttons, "behind live" and Go live. */
(function (A) {
  'use strict';

  var LG = A.LG, els = A.els, page = A.page, fmtBehind = A.fmtBehind, findStream = A.findStream,
      setText = A.setText, updateLocation = A.updateLocation, announce = A.announce;
  var REWIND_STEPS = [10, 30, 60];   // seconds; capped at what the server keeps

  // ---------------------------------------------------------------------------
  // Rewind (DVR)
  // ---------------------------------------------------------------------------
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
    else A.startPlayer();
    A.syncMode();
    announce('Watching ' + seconds + ' seconds behind live');
  }

  function goLive() {
    if (page.rewind <= 0) return;
    page.rewind = 0;
    updateLocation();
    if (page.player && page.player.kind === 'live') page.player.goLive();
    else if (page.selected) A.startPlayer();
    A.syncMode();
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

  A.behindNow = behindNow;
  A.setRewind = setRewind;
  A.goLive = goLive;
  A.renderDvr = renderDvr;
})(window.__liveGatewayDemo);
