/* Live Gateway demo page: entry point. Uses player.js (window.LiveGateway) for playback.
 * The page logic lives in demo/*.js, loaded before this file (see index.html); this file
 * only starts it. */
(function (A) {
  'use strict';

  var els = A.els, page = A.page, recordingParam = A.recordingParam, setText = A.setText;
  // Every part has captured the shared object by now; drop the global so the page
  // exposes the same globals it did as a single script.
  try { delete window.__liveGatewayDemo; } catch (e) { window.__liveGatewayDemo = undefined; }

  // ---------------------------------------------------------------------------
  // Boot
  // ---------------------------------------------------------------------------
  A.renderShare();
  if (page.recording) {
    A.startRecording(); // ?recording=APP/KEY/FILE.flv
  } else if (recordingParam != null) {
    var bad = 'The link names no valid recording (' + recordingParam.slice(0, 200) + '). Pick one under Recordings, or a live stream.';
    A.syncMode();
    setText(els.title, 'Recording not found');
    A.onStatus({ state: 'error', message: 'Invalid recording link' });
    A.showNotice(bad, false);
  } else if (page.selected) {
    setText(els.title, page.selected);
    A.startPlayer();  // URL parameter: start right away, don't wait for the API
  } else {
    A.syncMode();
    A.onStatus({ state: 'idle', message: 'Waiting for a live stream…' });
  }
  A.refresh();
  A.refreshRecordings();
})(window.__liveGatewayDemo);
