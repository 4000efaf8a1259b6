// Issue: the gateway behind a real nginx, configured with the shipped
// deploy/nginx.conf (ports substituted): HTTP-FLV, WS-FLV, the API and the
// client address from X-Forwarded-For, all under the /live-gateway/ prefix.
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, screenshotPath } from '../support/browser.js';
import { publish, testSource, type Proc } from '../support/ffmpeg.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { startProxy, type Nginx } from '../support/nginx.js';
import { httpViewer, wsViewer } from '../support/viewers.js';
import { waitFor } from '../support/wait.js';

describe('behind nginx with the shipped config', () => {
  let gw: TestGateway;
  let nginx: Nginx;
  let base: string;
  let pub: Proc;

  beforeAll(async () => {
    testSource();
    gw = await startTestGateway({ 'trusted-proxies': ['127.0.0.1'] });
    ({ nginx, base } = await startProxy(gw.httpPort));
    pub = publish(gw.rtmpUrl('live/proxied'));
    await waitFor('stream ready', () => gw.hub.get('live/proxied')?.ready === true);
  });
  afterAll(async () => {
    await pub?.stop();
    await nginx?.stop();
    await gw?.close();
  });

  it('the bare prefix redirects to the prefix with a slash, and the page is served under it', async () => {
    const bare = await fetch(`http://${base}`, { redirect: 'manual' });
    expect(bare.status).toBe(301);
    expect(bare.headers.get('location')).toMatch(/\/live-gateway\/$/);
    const page = await fetch(`http://${base}/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toMatch(/<video/);
    const lib = await fetch(`http://${base}/vendor/mpegts.js`);
    expect(lib.status).toBe(200);
  });

  it('HTTP-FLV streams through nginx unbuffered and valid', async () => {
    const v = httpViewer(`http://${base}/live/proxied.flv`);
    const res = await v.status;
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('video/x-flv');
    await waitFor('video through nginx', () => v.flv.videoFrames().length > 30);
    expect(v.flv.problems()).toEqual([]);
    v.close();
  });

  it('WS-FLV upgrades through nginx and streams', async () => {
    const v = wsViewer(`ws://${base}/live/proxied.flv`);
    await waitFor('WS video through nginx', () => v.flv.videoFrames().length > 30);
    expect(v.flv.header).toEqual({ hasAudio: true, hasVideo: true });
    expect(v.flv.problems()).toEqual([]);
    v.close();
  });

  it('the API, reached through nginx, shows the viewer address from X-Forwarded-For', async () => {
    // The viewer claims to be 198.51.100.23 behind another proxy; nginx appends the peer it saw.
    const req = http.get(`http://${base}/live/proxied.flv`, { headers: { 'X-Forwarded-For': '198.51.100.23' } });
    req.on('response', (res) => res.resume());
    try {
      const detail = await waitFor('viewer listed with its forwarded address', async () => {
        const r = await fetch(`http://${base}/api/streams/live/proxied`);
        const body = (await r.json()) as { clients: { protocol: string; address: string }[] };
        return body.clients.find((c) => c.address === '198.51.100.23');
      });
      expect(detail.protocol).toBe('http');
    } finally {
      req.destroy();
    }
  });

  it('the demo page under the prefix plays the stream in Chromium over WS-FLV and HTTP-FLV', async () => {
    const browser = await launchBrowser();
    try {
      for (const proto of ['ws', 'http']) {
        const tab = await browser.open(`http://${base}/?stream=live/proxied&proto=${proto}`);
        const stats = () =>
          tab.page.evaluate('window.__player ? window.__player.stats() : null') as Promise<{
            state: string; decodedFrames: number; currentTime: number; videoWidth: number;
          } | null>;
        const first = await waitFor(`playing over ${proto} through nginx`, async () => {
          const s = await stats();
          return s !== null && s.state === 'playing' && s.decodedFrames > 0 ? s : undefined;
        }, 30_000);
        const later = await waitFor('frames keep decoding', async () => {
          const s = await stats();
          return s !== null && s.decodedFrames > first.decodedFrames + 10 && s.currentTime > first.currentTime ? s : undefined;
        }, 30_000);
        expect(later.videoWidth).toBe(1280);
        expect(tab.errors).toEqual([]);
        // The page's own requests went through the prefix: the viewer is on the right protocol.
        expect(gw.hub.viewersByProtocol(gw.hub.get('live/proxied')!)[proto as 'ws' | 'http']).toBeGreaterThan(0);
        if (proto === 'ws') await tab.page.screenshot({ path: screenshotPath('nginx-prefix-demo.png') });
        await tab.close();
      }
    } finally {
      await browser.close();
    }
  });

  it('a request straight to the gateway from an untrusted address cannot spoof X-Forwarded-For', async () => {
    const g = await startTestGateway({ 'trusted-proxies': [] });
    try {
      const p = publish(g.rtmpUrl('live/direct'));
      await waitFor('direct stream ready', () => g.hub.get('live/direct')?.ready === true);
      const req = http.get(g.httpUrl('/live/direct.flv'), { headers: { 'X-Forwarded-For': '198.51.100.23' } });
      req.on('response', (res) => res.resume());
      const sub = await waitFor('viewer', () => [...(g.hub.get('live/direct')?.subscribers ?? [])][0]);
      expect(sub.address).toBe('127.0.0.1');
      req.destroy();
      await p.stop();
    } finally {
      await g.close();
    }
  });
});
