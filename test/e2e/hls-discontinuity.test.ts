// Issue 14: a publisher that comes back (within the grace period) at another resolution gives the
// HLS playlist a new period instead of a new playlist: EXT-X-DISCONTINUITY, a new EXT-X-MAP whose
// init segment has the new size, the media sequence going on; hls.js in Chromium keeps playing
// across it and shows the new size, and ffprobe reads the new period's init + segment.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, type TestBrowser } from '../support/browser.js';
import { ffprobe, publish, testSource, type Proc, type SourceSpec } from '../support/ffmpeg.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { waitFor } from '../support/wait.js';
import { startHlsPage, type HlsPageStats } from '../hls/hlsjs-page.js';
import { parsePlaylist } from '../hls/helpers.js';
import { child, readBoxes } from '../hls/mp4-reader.js';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const SMALL: SourceSpec = { width: 320, height: 240, fps: 30, gop: 30, seconds: 4, audio: true };
const LARGE: SourceSpec = { width: 640, height: 360, fps: 30, gop: 30, seconds: 4, audio: true };
const NAME = 'live/reconnect';

/** width x height from an init segment's avc1 sample entry */
function initSize(init: Buffer): string {
  const trak = readBoxes(readBoxes(init)[1]!.body).find((b) => b.type === 'trak')!;
  const avc1 = readBoxes(child(trak, ['mdia', 'minf', 'stbl', 'stsd']).body, 8)[0]!;
  return `${avc1.body.readUInt16BE(24)}x${avc1.body.readUInt16BE(26)}`;
}

async function get(url: string): Promise<Buffer> {
  const r = await fetch(url);
  if (r.status !== 200) throw new Error(`${url}: ${r.status}`);
  return Buffer.from(await r.arrayBuffer());
}

describe('HLS across a publisher reconnect at another resolution', () => {
  let gw: TestGateway;
  let browser: TestBrowser;
  let pageServer: Awaited<ReturnType<typeof startHlsPage>>;
  const procs: Proc[] = [];
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gw-hls-disc-'));

  beforeAll(async () => {
    testSource(SMALL);
    testSource(LARGE);
    gw = await startTestGateway({ 'grace-ms': 20_000 });
    pageServer = await startHlsPage();
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await Promise.all(procs.map((p) => p.stop()));
    await browser?.close();
    await pageServer?.close();
    await gw?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('adds EXT-X-DISCONTINUITY and a new EXT-X-MAP, and hls.js plays on at the new size', async () => {
    const first = publish(gw.rtmpUrl(NAME), testSource(SMALL));
    procs.push(first);
    await waitFor('stream ready', () => gw.hub.get(NAME)?.ready === true);
    const tab = await browser.open(pageServer.url(gw.httpUrl(`/${NAME}/index.m3u8`), true));
    try {
      const read = async () => ({
        ...(await tab.page.evaluate('window.__hlsStats()') as HlsPageStats),
        width: await tab.page.evaluate('document.getElementById("v").videoWidth') as number,
      });
      const before = await waitFor('hls.js to play 320x240', async () => {
        const s = await read();
        return s.width === 320 && s.frames > 10 ? s : undefined;
      }, 40_000);
      const oldPlaylist = parsePlaylist((await get(gw.httpUrl(`/${NAME}/index.m3u8`))).toString());
      expect(oldPlaylist.lines).not.toContain('#EXT-X-DISCONTINUITY');

      // The publisher goes and another comes back with a larger picture.
      await first.stop();
      procs.push(publish(gw.rtmpUrl(NAME), testSource(LARGE)));

      const text = await waitFor('the playlist to list the new period', async () => {
        const t = (await get(gw.httpUrl(`/${NAME}/index.m3u8`))).toString();
        return /#EXT-X-DISCONTINUITY\n#EXT-X-MAP[^\n]*\n(?:.*\n)*#EXTINF/.test(t) ? t : undefined;
      }, 40_000);
      const lines = text.split('\n');
      const maps = lines.filter((l) => l.startsWith('#EXT-X-MAP')).map((l) => /URI="([0-9a-f]{8})\/init\.mp4"/.exec(l)![1]!);
      expect(maps).toHaveLength(2);
      expect(maps[0]).toBe(oldPlaylist.epoch);
      expect(initSize(await get(gw.httpUrl(`/${NAME}/${maps[0]}/init.mp4`)))).toBe('320x240');
      const newInit = await get(gw.httpUrl(`/${NAME}/${maps[1]}/init.mp4`));
      expect(initSize(newInit)).toBe('640x360');
      // The media sequence goes on: the new period's segments follow the old ones'.
      const p = parsePlaylist(text);
      const newSegs = p.segments.filter((s) => s.uri.startsWith(`${maps[1]}/`));
      expect(newSegs.length).toBeGreaterThan(0);
      expect(newSegs[0]!.msn).toBeGreaterThan(oldPlaylist.segments.at(-1)!.msn);
      expect(p.segments.map((s) => s.msn)).toEqual(p.segments.map((_, i) => p.mediaSequence + i));

      // ffprobe reads the new period: its init and first segment as one file.
      const file = path.join(dir, 'new-period.mp4');
      writeFileSync(file, Buffer.concat([newInit, await get(gw.httpUrl(`/${NAME}/${newSegs[0]!.uri}`))]));
      const probe = await ffprobe(file);
      expect(probe.streams.find((s) => s.codec_type === 'video')).toMatchObject({ codec_name: 'h264', width: 640, height: 360 });
      expect(probe.streams.find((s) => s.codec_type === 'audio')?.codec_name).toBe('aac');

      // hls.js crosses the discontinuity and keeps presenting frames at the new size.
      const after = await waitFor('hls.js to play 640x360', async () => {
        const s = await read();
        return s.width === 640 ? s : undefined;
      }, 40_000);
      const later = await waitFor('frames and time to advance after the change', async () => {
        const s = await read();
        return s.frames > after.frames + 30 && s.currentTime > after.currentTime + 1 ? s : undefined;
      }, 40_000);
      expect(later.currentTime).toBeGreaterThan(before.currentTime);
      expect(later.errors).toEqual([]);
      expect(later.paused).toBe(false);
      expect(tab.errors).toEqual([]);
    } finally {
      await tab.close();
    }
  });
});
