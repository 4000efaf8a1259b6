/* Chromeless embed page: embed.html?stream=APP/KEY[&proto=ws|http][&rewind=SECONDS][&fit=cover][&muted=0]; `c` toggles captions */
(function () {
  'use strict';
  var LG = window.LiveGateway;
  var q = new URLSearchParams(location.search);
  var video = document.getElementById('video');
  var status = document.getElementById('status');
  var btnMute = document.getElementById('btn-mute');
  var captions = window.LiveCaptions(document.getElementById('captions'));
  var stream = LG.normalizeStream(q.get('stream'));
  var proto = LG.normalizeProto(q.get('proto')) || 'ws';
  var params = {};
  ['exp', 'sig'].forEach(function (k) { if (q.get(k)) params[k] = q.get(k); });

  if (q.get('fit') === 'cover') document.body.classList.add('fit-cover');
  // Unmuted autoplay is usually blocked; player.js falls back to muted if so.
  if (q.get('muted') === '0') video.muted = false;

  window.__player = null;

  function show(s) {
    status.dataset.state = s.state;
    document.body.dataset.state = s.state;
    // the player muted the video to keep it playing: show the unmute button
    document.body.classList.toggle('muted-hint', !!s.soundMuted);
    if (status.textContent !== s.message) status.textContent = s.message || s.state;
  }

  function syncMute() {
    btnMute.classList.toggle('is-muted', video.muted);
    btnMute.setAttribute('aria-pressed', String(!video.muted));
    btnMute.setAttribute('aria-label', video.muted ? 'Unmute' : 'Mute');
    btnMute.title = video.muted ? 'Unmute' : 'Mute';
  }
  btnMute.addEventListener('click', function () {
    video.muted = !video.muted;
    if (!video.muted && video.volume === 0) video.volume = 1;
    if (video.paused && window.__player) video.play().catch(function () { /* ignore */ });
  });
  video.addEventListener('volumechange', syncMute);
  syncMute();

  if (!/^[^/]+\/[^/]+$/.test(stream)) {
    show({ state: 'invalid', message: 'No stream given — use embed.html?stream=APP/KEY' });
    btnMute.hidden = true;
    return;
  }
  document.title = stream + ' · live';
  var support = LG.checkSupport({});
  if (!support.mse) {
    show({ state: 'unsupported', message: support.message });
    return;
  }
  window.__player = LG.createPlayer(video, {
    stream: stream,
    proto: proto,
    params: params,
    rewind: LG.normalizeRewind(q.get('rewind')),
    onStatus: show,
    onText: captions.show
  });
})();
