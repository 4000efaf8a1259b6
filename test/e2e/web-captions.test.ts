// Issue 16, the page's side: text posted to the API shows as a caption on the demo and embed pages
// when its timestamp plays (never before), `c` toggles the overlay, and a publisher's own onCuePoint
// reaches the embed page's player event at its timestamp. Real ffmpeg / the project's RTMP
// publisher, real Chromium.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeAmf0 } from '../../server/amf/amf0.js';
import { launchBrowser, type TestBrowser, type TestPage } from '../support/browser.js';
import { av1Clip, opusClip } from '../support/elementary.js';
import { EnhancedPublisher, fourCcNumber, interleave, opusFrameMessages, opusSequenceStart, videoFrameMessages, videoSequenceStart, type TimedMessage } from '../support/enhanced-publisher.js';
import { publish, type Proc } from '../support/ffmpeg.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { waitFor } from '../support/wait.js';

const TOKEN = 'captions-token';
let gw: TestGateway;
let browser: TestBrowser;

beforeAll(async () => {
  gw = await startTestGateway({ 'api-token': TOKEN });
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  await gw?.close();
});

interface Stats { state: string; decodedFrames: number; timelinePosition: number | null }
const stats = (tp: TestPage) => tp.page.evaluate('window.__player ? window.__player.stats() : null') as Promise<Stats | null>;

async function playingWithTimeline(tp: TestPage): Promise<void> {
  await waitFor('playing, the playhead placed on the timeline', async () => {
    const s = await stats(tp);
    return s !== null && s.state === 'playing' && s.decodedFrames > 10 && s.timelinePosition !== null;
  }, 30_000, 100).catch(async (e: Error) => { throw new Error(`${e.message}: ${JSON.stringify(await stats(tp))} ${tp.console.slice(-5).join(' | ')}`); });
}

/** Records, in the page, the playhead's timeline position each time the caption element changes. */
const WATCH_CAPTIONS = `(() => {
  window.__captionLog = [];
  const el = document.getElementById('captions');
  new MutationObserver(() => {
    const s = window.__player.stats();
    window.__captionLog.push({ text: el.textContent, hidden: el.hidden, position: s.timelinePosition });
  }).observe(el, { childList: true, characterData: true, subtree: true, attributes: true, attributeFilter: ['hidden'] });
})()`;

interface CaptionChange { text: string; hidden: boolean; position: number | null }

describe('captions on the page', () => {
  const ffmpegs: Proc[] = [];
  afterAll(() => Promise.all(ffmpegs.map((p) => p.stop())));

  it.each([
    ['demo', 'live/captions', '/?stream='],
    ['embed', 'live/embedcaptions', '/embed.html?stream='],
  ])('a cue posted to the API shows on the %s page when its timestamp plays, not before; `c` toggles it', async (_page, name, pagePath) => {
    ffmpegs.push(publish(gw.rtmpUrl(name)));
    await waitFor('stream ready', () => gw.hub.get(name)?.ready, 30_000);
    const tp = await browser.open(gw.httpUrl(`${pagePath}${name}`));
    await playingWithTimeline(tp);
    await tp.page.evaluate(WATCH_CAPTIONS);

    const res = await fetch(gw.httpUrl(`/api/streams/${name}/text`), {
      method: 'POST',
      headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ text: 'Hello from the API', lang: 'en' }),
    });
    expect(res.status).toBe(201);
    const { timestamp } = (await res.json()) as { timestamp: number };

    const captions = tp.page.locator('#captions');
    await waitFor('the caption', async () => (await captions.textContent()) === 'Hello from the API', 20_000, 50);
    expect(await captions.isVisible()).toBe(true);
    expect(await captions.getAttribute('lang')).toBe('en');
    const log = (await tp.page.evaluate('window.__captionLog')) as CaptionChange[];
    const firstShown = log.find((c) => c.text === 'Hello from the API');
    // The moment the text went up, the picture on screen was at or past the cue's timestamp.
    expect(firstShown!.position).not.toBeNull();
    expect(firstShown!.position!).toBeGreaterThanOrEqual(timestamp);
    expect(Number(await captions.getAttribute('data-timestamp'))).toBe(timestamp);

    await tp.page.locator('body').press('c');
    expect(await captions.isVisible()).toBe(false);
    await tp.page.locator('body').press('c');
    expect(await captions.isVisible()).toBe(true);
    expect(tp.errors.map((e) => e.message)).toEqual([]);
    await tp.close();
  });
});

describe("a publisher's own cue points", () => {
  it("reach the embed page's player event (on('cuepoint')) at their timestamp", { timeout: 90_000 }, async () => {
    const av1 = av1Clip();
    const opus = opusClip();
    const name = 'live/cuepoints';
    const pub = await EnhancedPublisher.publish(gw.rtmpUrl(name), {
      metadata: { width: av1.width, height: av1.height, framerate: av1.fps, videocodecid: fourCcNumber('av01'), audiocodecid: fourCcNumber('Opus') },
    });
    try {
      await pub.send([videoSequenceStart(av1), opusSequenceStart(opus)]);
      // One cue point in the middle of every pass of the clip.
      const mid = Math.round(av1.durationMs / 2);
      const cue = (): TimedMessage => ({ type: 18, timestamp: mid, payload: encodeAmf0(['onCuePoint', { name: 'chapter', type: 'navigation', time: mid / 1000, parameters: { title: 'Middle' } }]) });
      const audio = opusFrameMessages(opus).filter((m) => m.timestamp < av1.durationMs);
      const looping = pub.loop(interleave(videoFrameMessages(av1), audio, [cue()]), av1.durationMs);
      await waitFor(`${name} ready`, () => gw.hub.get(name)?.ready, 30_000);

      const tp = await browser.open(gw.httpUrl(`/embed.html?stream=${name}`));
      await playingWithTimeline(tp);
      await tp.page.evaluate(`window.__cues = []; window.__player.on('cuepoint', (e) => window.__cues.push({ e, position: window.__player.stats().timelinePosition }))`);
      const cues = await waitFor('a cue point event', async () => {
        const got = (await tp.page.evaluate('window.__cues')) as { e: { name: string; type: string; time: number; parameters: unknown; timestamp: number }; position: number }[];
        return got.length > 0 ? got : undefined;
      }, 2 * av1.durationMs + 20_000, 100);
      const { e, position } = cues[0]!;
      expect(e).toMatchObject({ name: 'chapter', type: 'navigation', parameters: { title: 'Middle' } });
      // The publisher's timestamp, shifted by the loop's whole passes, and played when it fired.
      expect((e.timestamp - mid) % av1.durationMs).toBe(0);
      expect(e.time).toBe(mid / 1000);
      expect(position).toBeGreaterThanOrEqual(e.timestamp);
      expect(tp.errors.map((x) => x.message)).toEqual([]);
      await tp.close();
      await looping.stop();
    } finally {
      await pub.close();
    }
  });
});
