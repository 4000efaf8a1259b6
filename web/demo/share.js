/* Live Gateway demo page: Watch & embed and Publish panels: play/embed/OBS URLs and the copy buttons. */
(function (A) {
  'use strict';

  var $ = A.$, LG = A.LG, els = A.els, page = A.page, signed = A.signed, findStream = A.findStream, setText = A.setText,
      pageUrl = A.pageUrl, recordingPageUrl = A.recordingPageUrl, announce = A.announce;

  function rtmpHost() {
    return location.hostname || 'localhost';
  }

  function setPlaceholders(text) {
    [els.urlHttp, els.urlWs, els.urlHls, els.urlPage, els.embedIframe, els.embedScript].forEach(function (el) {
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
      els.urlWs.value = els.urlHls.value = '';
      els.urlPage.value = recordingPageUrl(page.recording.name);
      els.embedIframe.value = '';
      els.embedScript.value = '';
    } else if (name) {
      var urls = LG.buildUrls(name, { base: LG.baseUrl, params: signed });
      els.urlHttp.value = urls.http;
      els.urlWs.value = urls.ws;
      els.urlHls.value = LG.hlsUrl(name, { base: LG.baseUrl, params: signed });
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
      els.urlHttp.value = els.urlWs.value = els.urlHls.value = els.urlPage.value = '';
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

  A.renderShare = renderShare;
})(window.__liveGatewayDemo);
