// Issue 14, HLS under hostile or unlucky requests: malformed or far-future blocking-reload
// directives get a clear 400 at once and leave nothing waiting; a part that never comes gets a 503
// after three target durations; signed URLs are asked for on every HLS resource and carried into
// the playlist's URIs; an idle stream's muxer is dropped.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signedQuery } from '../../server/auth/signature.js';
import { publish, testSource, type Proc } from '../support/ffmpeg.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { waitFor } from '../support/wait.js';
import { parsePlaylist } from '../hls/helpers.js';

describe('HLS with hostile queries and a publisher that stops', () => {
  let gw: TestGateway;
  let pub: Proc;
  const url = (q = '') => gw.httpUrl(`/live/bad/index.m3u8${q}`);

  beforeAll(async () => {
    testSource();
    // grace-ms keeps the stream (and its muxer) after the publisher stops, so a wait can time out;
    // 4 s segments make a wait for two segments ahead last long enough to abandon it.
    gw = await startTestGateway({ 'grace-ms': 60_000, 'hls-idle-ms': 3_000, 'hls-segment-ms': 4_000 });
    pub = publish(gw.rtmpUrl('live/bad'));
    await waitFor('stream ready', () => gw.hub.get('live/bad')?.ready === true);
  });
  afterAll(async () => {
    await pub?.stop();
    await gw?.close();
  });

  it.each([
    ['?_HLS_msn=abc', '_HLS_msn must be a decimal integer'],
    ['?_HLS_msn=-3', '_HLS_msn must be a decimal integer'],
    ['?_HLS_msn=1e9', '_HLS_msn must be a decimal integer'],
    ['?_HLS_msn=99999999999999999999', '_HLS_msn must be a decimal integer'],
    ['?_HLS_part=2', '_HLS_part needs _HLS_msn'],
    ['?_HLS_msn=1&_HLS_part=%00', '_HLS_part must be a decimal integer'],
    ['?_HLS_msn=1&_HLS_msn=2', '_HLS_msn and _HLS_part may appear once'],
    ['?_HLS_msn=999999999', 'too far ahead'],
  ])('%s is a 400 that says why', async (q, why) => {
    const r = await fetch(url(q));
    expect(r.status).toBe(400);
    expect(await r.text()).toContain(why);
    expect(r.headers.get('cache-control')).toBe('no-store');
  });

  it('a part far past the Advance Part Limit is a 400; one just inside it waits', async () => {
    const p = parsePlaylist(await (await fetch(url())).text());
    const far = await fetch(url(`?_HLS_msn=${p.hint!.msn}&_HLS_part=${p.hint!.index + 50}`));
    expect(far.status).toBe(400);
    const muxer = gw.hls.muxer('live/bad')!;
    const ctl = new AbortController();
    const near = fetch(url(`?_HLS_msn=${p.hint!.msn + 1}&_HLS_part=3`), { signal: ctl.signal }).catch(() => null);
    await waitFor('the request waits', () => muxer.waiting === 1);
    ctl.abort();
    await near;
    await waitFor('an abandoned wait is forgotten', () => muxer.waiting === 0);
  });

  it('hundreds of abandoned blocking requests leave nothing behind', async () => {
    const p = parsePlaylist(await (await fetch(url())).text());
    const muxer = gw.hls.muxer('live/bad')!;
    const ctl = new AbortController();
    const all = Array.from({ length: 300 }, () => fetch(url(`?_HLS_msn=${p.hint!.msn + 2}&_HLS_part=0`), { signal: ctl.signal }).catch(() => null));
    await waitFor('all waiting', () => muxer.waiting >= 250);
    ctl.abort();
    await Promise.all(all);
    await waitFor('none left waiting', () => muxer.waiting === 0);
  });

  it('unknown epochs, parts and segments are 404s, not waits', async () => {
    const p = parsePlaylist(await (await fetch(url())).text());
    expect((await fetch(gw.httpUrl('/live/bad/00000000/init.mp4'))).status).toBe(404);
    expect((await fetch(gw.httpUrl(`/live/bad/${p.epoch}/seg${p.hint!.msn + 5}.m4s`))).status).toBe(404);
    expect((await fetch(gw.httpUrl(`/live/bad/${p.epoch}/part${p.hint!.msn}.${p.hint!.index + 40}.m4s`))).status).toBe(404);
    expect((await fetch(gw.httpUrl('/live/nope/index.m3u8'))).status).toBe(404);
    expect(gw.hls.muxer('live/bad')!.waiting).toBe(0);
  });

  it('once the publisher stops, a blocking reload for the next part gets a 503 after three target durations', async () => {
    await pub.stop();
    await waitFor('publisher gone', () => gw.hub.get('live/bad')?.publisher === null);
    const last = parsePlaylist(await (await fetch(url())).text());
    const r = await fetch(url(`?_HLS_msn=${last.hint!.msn}&_HLS_part=${last.hint!.index}`));
    expect(r.status).toBe(503);
    expect(await r.text()).toMatch(/not available yet/);
  });

  it('without requests the muxer is dropped after hls-idle-ms and the stream has no HLS subscriber', async () => {
    await waitFor('muxer dropped', () => gw.hls.muxer('live/bad') === undefined, 10_000);
    const s = gw.hub.get('live/bad')!;
    expect([...s.subscribers].some((x) => x.sink.protocol === 'hls')).toBe(false);
  });
});

describe('HLS with signed play URLs', () => {
  let gw: TestGateway;
  let pub: Proc;
  const secret = 'hls-secret';

  beforeAll(async () => {
    testSource();
    gw = await startTestGateway({ 'auth-secret': secret, auth: 'play' });
    pub = publish(gw.rtmpUrl('live/signed'));
    await waitFor('stream ready', () => gw.hub.get('live/signed')?.ready === true);
  });
  afterAll(async () => {
    await pub?.stop();
    await gw?.close();
  });

  it('refuses an unsigned playlist and starts no muxer for it', async () => {
    const r = await fetch(gw.httpUrl('/live/signed/index.m3u8'));
    expect(r.status).toBe(403);
    expect(gw.hls.muxer('live/signed')).toBeUndefined();
  });

  it('carries the signature into every URI of the playlist, and every resource asks for it', async () => {
    const q = signedQuery(secret, 'play', 'live/signed', 600);
    const r = await fetch(gw.httpUrl(`/live/signed/index.m3u8?${q}`));
    expect(r.status).toBe(200);
    const text = await r.text();
    const p = parsePlaylist(text);
    const uris = [...text.matchAll(/URI="([^"]+)"/g)].map((m) => m[1]!).concat(p.segments.map((s) => s.uri));
    expect(uris.length).toBeGreaterThan(3);
    for (const u of uris) expect(u.endsWith(`?${q}`), u).toBe(true);
    const part = p.parts[0]!.uri;
    expect((await fetch(gw.httpUrl(`/live/signed/${part}`))).status).toBe(200);
    const bare = part.slice(0, part.indexOf('?'));
    expect((await fetch(gw.httpUrl(`/live/signed/${bare}`))).status).toBe(403);
    expect((await fetch(gw.httpUrl(`/live/signed/${p.epoch}/init.mp4`))).status).toBe(403);
    expect((await fetch(gw.httpUrl(`/live/signed/${p.epoch}/init.mp4?${q}`))).status).toBe(200);
  });
});

describe('HLS with an on-play webhook', () => {
  let gw: TestGateway;
  let pub: Proc;
  let hook: http.Server;
  const asked: { protocol: string; stream: string }[] = [];

  beforeAll(async () => {
    testSource();
    hook = http.createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        asked.push(JSON.parse(body) as { protocol: string; stream: string });
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((r) => hook.listen(0, '127.0.0.1', () => r()));
    gw = await startTestGateway({ 'on-play': `http://127.0.0.1:${(hook.address() as AddressInfo).port}/play` });
    pub = publish(gw.rtmpUrl('live/hooked'));
    await waitFor('stream ready', () => gw.hub.get('live/hooked')?.ready === true);
  });
  afterAll(async () => {
    await pub?.stop();
    await gw?.close();
    hook?.close();
  });

  it('is asked once per session (protocol hls), not once per playlist, part or segment', async () => {
    const p = parsePlaylist(await (await fetch(gw.httpUrl('/live/hooked/index.m3u8'))).text());
    for (const part of p.parts) expect((await fetch(gw.httpUrl(`/live/hooked/${part.uri}`))).status).toBe(200);
    for (let i = 0; i < 3; i++) expect((await fetch(gw.httpUrl('/live/hooked/index.m3u8'))).status).toBe(200);
    expect(p.parts.length).toBeGreaterThan(2);
    expect(asked).toEqual([expect.objectContaining({ protocol: 'hls', stream: 'live/hooked' })]);
  });
});
