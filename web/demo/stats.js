/* Live Gateway demo page: Playback statistics panel and the HUD chips on the video. */
(function (A) {
  'use strict';

  var LG = A.LG, els = A.els, page = A.page, fmtBitrate = A.fmtBitrate, fmtDuration = A.fmtDuration,
      fmtBytes = A.fmtBytes, fmtInt = A.fmtInt, protoLabel = A.protoLabel, channelsLabel = A.channelsLabel,
      fmtStart = A.fmtStart, fmtBehind = A.fmtBehind, findStream = A.findStream, setText = A.setText;

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
    var entry = A.findRecording(page.recording.name);
    stat('state', st ? st.state : page.status.state);
    statEls.state.dataset.state = st ? st.state : page.status.state;
    stat('proto', 'FLV file', 'HTTP, on demand');
    var dur = st && st.duration ? st.duration : (entry ? entry.duration : 0);
    stat('latency', st ? fmtDuration(st.currentTime) + ' / ' + (dur ? fmtDuration(dur) : '—') : null);
    stat('true-latency', null);
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

  /** hls.js or the browser's own HLS, from the player's message ("Playing … (LL-HLS, native)"). */
  function engineOf(status) {
    var m = /\(LL-HLS, ([^)]+)\)/.exec(status && status.message || '');
    return m ? m[1] : '';
  }

  function renderStats() {
    var p = page.player;
    var st = p ? p.stats() : null;
    if (page.recording) { renderRecordingStats(st); return; }
    var info = page.selected ? findStream(page.selected) : null;
    var rewinding = page.rewind > 0;
    stat('state', st ? st.state : page.status.state);
    statEls.state.dataset.state = st ? st.state : page.status.state;
    // the protocol playing (what auto chose, once the player has chosen) and how it was chosen
    var playing = p && !page.recording ? p.proto : null;
    var protoSub = [page.proto === 'auto' ? (playing ? 'chosen by Auto' : 'Auto') : '', engineOf(page.status), rewinding ? 'rewind ' + fmtBehind(page.rewind) : '']
      .filter(Boolean).join(' · ');
    stat('proto', page.selected ? protoLabel(playing || page.proto) : null, page.selected ? protoSub : '');
    statEls.proto.dataset.proto = page.selected && playing ? playing : '';
    var live = st && (st.state === 'playing' || st.state === 'buffering');
    stat('latency', live ? st.bufferedAhead.toFixed(2) + ' s' : null,
      live && rewinding ? fmtBehind(A.behindNow()) + ' behind live' : (live && st.playbackRate !== 1 ? 'catching up ×' + st.playbackRate : ''));
    var trueLatency = live && st.trueLatency != null ? st.trueLatency : null;
    stat('true-latency', trueLatency != null ? trueLatency.toFixed(2) + ' s' : null, trueLatency != null ? 'gateway → screen' : '');
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
    stat('viewers', v ? v.total : null, v ? 'WS ' + (v.ws || 0) + ' · HTTP ' + (v.http || 0) + ' · HLS ' + (v.hls || 0) + ' · RTMP ' + ((v.rtmp || 0) + (v.rtmpt || 0)) : ''); // tunnelled players are RTMP players too
    stat('uptime', info ? fmtDuration(info.uptime) : null);

    // HUD on the video
    var showHud = !!live;
    els.hudLatency.hidden = !showHud || rewinding;
    els.hudRes.hidden = !showHud || !st.videoHeight;
    if (showHud) {
      var hudValue = st.trueLatency != null ? st.trueLatency : st.bufferedAhead;
      setText(els.hudLatency, hudValue.toFixed(2) + ' s');
      els.hudLatency.classList.toggle('warn', hudValue > 1);
      if (st.videoHeight) setText(els.hudRes, st.videoHeight + 'p' + (st.fps ? Math.round(st.fps) : ''));
    }
    if (rewinding) {
      var behindText = fmtBehind(A.behindNow());
      setText(els.behindPill, behindText);
      if (!els.dvr.hidden) setText(els.dvrBehindValue, behindText);
    }
  }

  setInterval(renderStats, 500);

  A.renderStats = renderStats;
})(window.__liveGatewayDemo);
