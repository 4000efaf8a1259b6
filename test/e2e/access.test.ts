// Issue: signed URLs and webhooks, enforced for a real ffmpeg over RTMP and
// for HTTP-FLV and WS-FLV viewers.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { signedQuery, signStream } from '../../server/auth/signature.js';
import { publish, testSource, type Proc } from '../support/ffmpeg.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { wsViewer } from '../support/viewers.js';
import { waitFor } from '../support/wait.js';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.js';

const SECRET = 'test-secret-1';
const procs: Proc[] = [];
afterEach(async () => {
  await Promise.all(procs.splice(0).map((p) => p.stop()));
});

function start(url: string): Proc {
  const p = publish(url);
  procs.push(p);
  return p;
}

describe('signed URLs', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    testSource();
    gw = await startTestGateway({ 'auth-secret': SECRET });
  });
  afterAll(() => gw.close());

  it('ffmpeg publishing with a valid publish signature goes live, with no refusal counted', async () => {
    const p = start(`${gw.rtmpUrl('live/signed')}?${signedQuery(SECRET, 'publish', 'live/signed', 600)}`);
    await waitFor('signed stream live', () => gw.hub.get('live/signed')?.ready === true);
    expect(gw.hub.get('live/signed')?.publisher).toMatchObject({ protocol: 'rtmp' });
    expect(p.child.exitCode).toBeNull();
    const refusals = (await gw.metrics.authRefusals.get()).values.filter((v) => v.labels['action'] === 'publish');
    expect(refusals.reduce((n, v) => n + v.value, 0)).toBe(0);
  });

  it.each([
    ['unsigned', () => ''],
    ['expired', () => `?exp=1000&sig=${signStream(SECRET, 'publish', 'live/bad', 1000)}`],
    ['tampered', () => `?${signedQuery(SECRET, 'publish', 'live/bad', 600).replace(/sig=(.)/, (_m, c: string) => `sig=${c === 'a' ? 'b' : 'a'}`)}`],
    ['signed for play (cross-action)', () => `?${signedQuery(SECRET, 'play', 'live/bad', 600)}`],
    ['signed for another stream', () => `?${signedQuery(SECRET, 'publish', 'live/other', 600)}`],
  ])('ffmpeg publishing %s is refused and nothing goes live', async (_label, query) => {
    const p = start(`${gw.rtmpUrl('live/bad')}${query()}`);
    const code = await p.exited;
    expect(code).not.toBe(0);
    expect(gw.hub.get('live/bad')).toBeUndefined();
  });

  it('HTTP-FLV needs a play signature: 403 without, 403 with a publish signature, 200 with a play signature', async () => {
    start(`${gw.rtmpUrl('live/watch')}?${signedQuery(SECRET, 'publish', 'live/watch', 600)}`);
    await waitFor('stream ready', () => gw.hub.get('live/watch')?.ready === true);
    const none = await fetch(gw.httpUrl('/live/watch.flv'));
    expect(none.status).toBe(403);
    expect(await none.text()).toMatch(/missing exp or sig/);
    const cross = await fetch(gw.httpUrl(`/live/watch.flv?${signedQuery(SECRET, 'publish', 'live/watch', 600)}`));
    expect(cross.status).toBe(403);
    const ok = await fetch(gw.httpUrl(`/live/watch.flv?${signedQuery(SECRET, 'play', 'live/watch', 600)}`));
    expect(ok.status).toBe(200);
    expect(ok.headers.get('content-type')).toBe('video/x-flv');
    await ok.body?.cancel();
    const refusals = await (await fetch(gw.httpUrl('/metrics'))).text();
    expect(refusals).toMatch(/gateway_auth_refusals_total\{action="play",protocol="http"\} 2/);
  });

  it('WS-FLV without a valid signature is closed with 4403; with one it streams', async () => {
    start(`${gw.rtmpUrl('live/wswatch')}?${signedQuery(SECRET, 'publish', 'live/wswatch', 600)}`);
    await waitFor('stream ready', () => gw.hub.get('live/wswatch')?.ready === true);
    const refused = wsViewer(gw.wsUrl('/live/wswatch.flv?exp=99&sig=00'));
    expect((await refused.ended).code).toBe(4403);
    const ok = wsViewer(gw.wsUrl(`/live/wswatch.flv?${signedQuery(SECRET, 'play', 'live/wswatch', 600)}`));
    await waitFor('signed WS viewer receives video', () => ok.flv.videoFrames().length > 3);
    ok.close();
  });
});

describe('webhooks', () => {
  let gw: TestGateway;
  let hooks: WebhookReceiver;
  beforeAll(async () => {
    // Refuse publishing keys that start with "deny" and playing keys that start with "noplay".
    hooks = await startWebhookReceiver(({ path, body }) => {
      const key = String(body['key']);
      return path === '/publish' ? key.startsWith('deny') : path === '/play' && key.startsWith('noplay');
    });
    gw = await startTestGateway(hooks.config);
  });
  afterAll(async () => {
    await gw.close();
    await hooks.close();
  });

  it('on-publish accepting lets ffmpeg publish and receives app, key, client IP, protocol and query', async () => {
    start(`${gw.rtmpUrl('live/hooked')}?token=abc`);
    await waitFor('hooked stream ready', () => gw.hub.get('live/hooked')?.ready === true);
    const call = hooks.calls.find((c) => c.path === '/publish' && c.body['key'] === 'hooked');
    expect(call?.body).toMatchObject({ action: 'publish', app: 'live', key: 'hooked', clientIp: '127.0.0.1', protocol: 'rtmp', query: { token: 'abc' } });
  });

  it('on-publish refusing stops ffmpeg before any media flows', async () => {
    const p = start(gw.rtmpUrl('live/deny-me'));
    expect(await p.exited).not.toBe(0);
    expect(gw.hub.get('live/deny-me')).toBeUndefined();
  });

  it('on-play refusing answers 403, and on-done hears about the play that ended', async () => {
    start(gw.rtmpUrl('live/noplay-viewers'));
    await waitFor('stream ready', () => gw.hub.get('live/noplay-viewers')?.ready === true);
    const r = await fetch(gw.httpUrl('/live/noplay-viewers.flv'));
    expect(r.status).toBe(403);
    start(gw.rtmpUrl('live/open'));
    await waitFor('open stream ready', () => gw.hub.get('live/open')?.ready === true);
    const v = wsViewer(gw.wsUrl('/live/open.flv'));
    await waitFor('viewer receives video', () => v.flv.videoFrames().length > 2);
    v.close();
    const done = await waitFor('on-done for the WS viewer', () =>
      hooks.calls.find((c) => c.path === '/done' && c.body['key'] === 'open' && c.body['protocol'] === 'ws'));
    expect(done.body).toMatchObject({ action: 'done', ended: 'play', app: 'live', clientIp: '127.0.0.1' });
    expect(done.body['bytes']).toBeGreaterThan(0);
  });
});
