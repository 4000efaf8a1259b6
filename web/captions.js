/*
 * Caption overlay for the demo and embed pages: shows the player's text events (onText, fired when
 * the text's timestamp plays) over the video. `c` toggles it. A text stays up for its durationMs,
 * or until the next text when it has none.
 */
(function () {
  'use strict';
  window.LiveCaptions = function (el) {
    var hideTimer = 0;
    var on = true;
    function clear() {
      clearTimeout(hideTimer);
      el.textContent = '';
      el.hidden = true;
    }
    function show(t) {
      clearTimeout(hideTimer);
      el.textContent = t.text;
      if (t.lang && t.lang !== 'und') el.lang = t.lang; else el.removeAttribute('lang');
      el.dataset.timestamp = t.timestamp == null ? '' : String(t.timestamp);
      el.hidden = !on;
      if (t.durationMs) hideTimer = setTimeout(clear, t.durationMs);
    }
    function toggle() {
      on = !on;
      el.classList.toggle('captions-off', !on);
      el.hidden = !on || el.textContent === '';
      return on;
    }
    document.addEventListener('keydown', function (e) {
      if (e.key !== 'c' || e.ctrlKey || e.metaKey || e.altKey) return;
      var t = e.target;
      if (t && (t.tagName === 'INPUT' || t.tagName === 'TEXTAREA' || t.tagName === 'SELECT' || t.isContentEditable)) return;
      toggle();
    });
    clear();
    return { show: show, clear: clear, toggle: toggle, get enabled() { return on; } };
  };
})();
