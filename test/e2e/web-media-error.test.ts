// A decode error in the middle of playback (WebKit raises "Failed to push buffer" now and then;
// here: bytes that are no media appended to the page's own video SourceBuffer) closes the media
// source under a live mpegts.js. The page must reconnect and play again, with no error escaping
// into the page: in WebKit with MediaSource hidden (ManagedMediaSource, the iPhone path), where
// appends into the closed source used to reject inside mpegts.js; in WebKit with MediaSource, where a
// late 'updateend' reached the closed mpegts.js (TypeError); and in Chromium.
import { afterEach, describe, expect, it } from 'vitest';
import {
  allOrReport, comboLabel, EngineFixture, retryOnceOnDriverFailure, type Combo, type OpenedCombo,
} from '../support/engines/page-suite.js';
import type { EngineName } from '../support/engines/types.js';

/** Keeps every SourceBuffer the page creates in window.__sourceBuffers (before the page's scripts). */
const KEEP_SOURCE_BUFFERS = `(function () {
  var kept = window.__sourceBuffers = [];
  [window.MediaSource, window.ManagedMediaSource].forEach(function (C) {
    if (!C || C.prototype.addSourceBuffer.__kept) return;
    var add = C.prototype.addSourceBuffer;
    var wrapped = function (mime) { var sb = add.call(this, mime); sb.__mime = String(mime); kept.push(sb); return sb; };
    wrapped.__kept = true;
    C.prototype.addSourceBuffer = wrapped;
  });
})();`;
const HIDE_MEDIA_SOURCE = 'delete window.MediaSource; delete window.WebKitMediaSource;';

/** Records every state the status element shows from now on, in window.__statesSeen. */
const RECORD_STATUS = `(function () {
  var status = document.querySelector('[data-testid="status"]');
  var seen = window.__statesSeen = [];
  new MutationObserver(function () { seen.push(status.getAttribute('data-state') || ''); })
    .observe(status, { attributes: true, attributeFilter: ['data-state'] });
  return true;
})()`;

/** Appends 4 KiB of non-media to the newest video source buffer, once it is idle. */
const APPEND_GARBAGE = `new Promise(function (resolve) {
  var video = window.__sourceBuffers.filter(function (sb) { return sb.__mime.indexOf('video/') === 0; });
  var sb = video[video.length - 1];
  if (!sb) return resolve('no video source buffer');
  var junk = new Uint8Array(4096);
  for (var i = 0; i < junk.length; i++) junk[i] = (i * 37 + 11) & 255;
  var tries = 0;
  (function attempt() {
    if (sb.updating && tries++ < 2000) return setTimeout(attempt, 0);
    try { sb.appendBuffer(junk); resolve('appended'); } catch (e) { resolve('append threw ' + e.name); }
  })();
})`;

const CASES: { label: string; engine: EngineName; managed: boolean; combos: Combo[] }[] = [
  { label: 'WebKit, ManagedMediaSource', engine: 'webkit', managed: true, combos: [{ page: 'embed', proto: 'http' }, { page: 'demo', proto: 'ws' }] },
  { label: 'WebKit, MediaSource', engine: 'webkit', managed: false, combos: [{ page: 'embed', proto: 'ws' }] },
  { label: 'Chromium', engine: 'chromium', managed: false, combos: [{ page: 'embed', proto: 'http' }] },
];

let fx: EngineFixture | undefined;
afterEach(async () => {
  await fx?.close();
  fx = undefined;
});

async function expectRecovers(o: OpenedCombo, managedSource: boolean): Promise<void> {
  await o.watcher.waitPlaying();
  await o.page.evaluate(RECORD_STATUS);
  const buffersBefore = await o.page.evaluate<number>('window.__sourceBuffers.length');
  expect(await o.page.evaluate<string>(APPEND_GARBAGE), await o.watcher.describe()).toBe('appended');
  // The engine reports the broken append when it reaches it (seconds later in WebKit), or the
  // picture stands still and the watchdog reconnects: either way the page reconnects.
  await o.page.waitForFunction("window.__statesSeen.indexOf('reconnecting') >= 0", {
    what: 'the page to reconnect after the media error', timeoutMs: 45_000, intervalMs: 250,
  });
  await o.watcher.waitPlaying(30_000);
  expect(await o.page.evaluate<number>('window.__sourceBuffers.length'), 'a new connection made new source buffers')
    .toBeGreaterThan(buffersBefore);
  // The managed source is guarded through its own object (player/connection.ts); the hook that finds
  // a MediaSource is gone again, whatever the path.
  const guard = JSON.parse(await o.page.evaluate<string>("JSON.stringify({ own: (function (s) { return s ? " +
    "Object.prototype.hasOwnProperty.call(s, 'addSourceBuffer') : null; })(document.querySelector('video').srcObject), " +
    "native: String(URL.createObjectURL).indexOf('[native code]') >= 0 })")) as { own: boolean | null; native: boolean };
  expect(guard).toEqual({ own: managedSource ? true : null, native: true });
  await o.watcher.expectPlaysFor(10);
  await fx!.expectHealthy(o); // includes: no page error (uncaught exception or unhandled rejection)
}

describe.each(CASES)('$label', ({ engine, managed, combos }) => {
  const initScript = (managed ? HIDE_MEDIA_SOURCE : '') + KEEP_SOURCE_BUFFERS;
  it(`a decode error mid-play: the page reconnects and plays again, and no error escapes into the page (${combos.map(comboLabel).join(', ')})`, async () => {
    // A browser whose driver stops answering is started afresh once (never after a failed check).
    await retryOnceOnDriverFailure(`${engine} media error`, async () => {
      await fx?.close();
      fx = await EngineFixture.start(engine);
      const opened = await Promise.all(combos.map((c) => fx!.openCombo(c, initScript)));
      if (managed) {
        expect(await opened[0]!.page.evaluate<boolean>("typeof window.MediaSource === 'undefined' && 'ManagedMediaSource' in window"))
          .toBe(true);
      }
      await allOrReport(opened, (o) => comboLabel(o.combo), (o) => expectRecovers(o, managed));
    });
  }, 300_000);
});
