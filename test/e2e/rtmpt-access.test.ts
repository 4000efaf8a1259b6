// RTMPT sessions under the same access control and limits as plain RTMP: webhooks hear a tunnelled
// publish and play (protocol rtmpt) and can refuse them, the per-address connection limit refuses a
// new tunnel with a 503 while the tunnelled publisher carries on, and a tunnel nobody polls (a
// publisher killed without a word, a client that opened and went away) is closed with one log line.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ffprobe, publish, testSource, type Proc } from '../support/ffmpeg.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { memoryLog } from '../support/memory-log.js';
import { waitFor } from '../support/wait.js';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.js';

const procs: Proc[] = [];
afterEach(async () => {
  await Promise.all(procs.splice(0).map((p) => p.stop()));
});
beforeAll(() => {
  testSource();
});

function start(url: string): Proc {
  const p = publish(url);
  procs.push(p);
  return p;
}

async function metric(gw: TestGateway, sample: string): Promise<number> {
  const text = await (await fetch(gw.httpUrl('/metrics'))).text();
  const line = text.split('\n').find((l) => l.startsWith(sample));
  return line === undefined ? 0 : Number(line.split(' ').at(-1));
}

const post = (gw: TestGateway, path: string): Promise<Response> => fetch(gw.httpUrl(path), { method: 'POST', body: new Uint8Array([0]) });

describe('RTMPT and webhooks', () => {
  let gw: TestGateway;
  let hooks: WebhookReceiver;
  const tunnel = (name: string): string => `rtmpt://127.0.0.1:${gw.httpPort}/${name}`;
  beforeAll(async () => {
    // Keys starting with "deny" may not be published.
    hooks = await startWebhookReceiver(({ path, body }) => path === '/publish' && String(body['key']).startsWith('deny'));
    gw = await startTestGateway(hooks.config);
  });
  afterAll(async () => {
    await gw.close();
    await hooks.close();
  });

  it('on-publish, on-play and on-done hear tunnelled sessions with protocol rtmpt', async () => {
    start(`${tunnel('live/hooked')}?token=abc`);
    await waitFor('tunnelled stream ready', () => gw.hub.get('live/hooked')?.ready === true, 30_000);
    const published = hooks.calls.find((c) => c.path === '/publish' && c.body['key'] === 'hooked');
    expect(published?.body).toMatchObject({ action: 'publish', app: 'live', key: 'hooked', clientIp: '127.0.0.1', protocol: 'rtmpt', query: { token: 'abc' } });

    const probe = await ffprobe(tunnel('live/hooked'));
    expect(probe.streams.map((s) => s.codec_name).sort()).toEqual(['aac', 'h264']);
    const played = hooks.calls.find((c) => c.path === '/play' && c.body['key'] === 'hooked');
    expect(played?.body).toMatchObject({ action: 'play', app: 'live', key: 'hooked', protocol: 'rtmpt' });
    const done = await waitFor('on-done for the tunnelled play', () =>
      hooks.calls.find((c) => c.path === '/done' && c.body['key'] === 'hooked' && c.body['ended'] === 'play'));
    expect(done.body).toMatchObject({ action: 'done', protocol: 'rtmpt', clientIp: '127.0.0.1' });
    expect(done.body['bytes']).toBeGreaterThan(0);
  });

  it('on-publish refusing stops a tunnelled publisher before any media flows', async () => {
    const refused = start(tunnel('live/deny-tunnel'));
    expect(await refused.exited).not.toBe(0);
    expect(hooks.calls.some((c) => c.path === '/publish' && c.body['key'] === 'deny-tunnel' && c.body['protocol'] === 'rtmpt')).toBe(true);
    expect(gw.hub.get('live/deny-tunnel')).toBeUndefined();
  });
});

describe('RTMPT and the RTMP limits', () => {
  it('the per-address connection limit refuses a new tunnel with a 503; the tunnelled publisher carries on', async () => {
    const gw = await startTestGateway({ 'max-connections-per-address': 1 });
    try {
      start(`rtmpt://127.0.0.1:${gw.httpPort}/live/only`);
      await waitFor('tunnelled stream ready', () => gw.hub.get('live/only')?.ready === true, 30_000);
      const stream = gw.hub.get('live/only')!;
      const refused = await post(gw, '/open/1');
      expect(refused.status).toBe(503);
      expect(await refused.text()).toMatch(/connection limit reached/);
      expect(await metric(gw, 'gateway_limit_refusals_total{reason="max-connections-per-address"}')).toBe(1);
      const frames = stream.videoFrames;
      await waitFor('publisher still sending', () => stream.videoFrames > frames + 30);
      expect(stream.publisher?.protocol).toBe('rtmpt');
    } finally {
      await Promise.all(procs.splice(0).map((p) => p.stop()));
      await gw.close();
    }
  });

  it('a tunnelled publisher killed without a word ends its stream after --rtmpt-idle-timeout-ms', async () => {
    const mem = memoryLog();
    const gw = await startTestGateway({ 'rtmpt-idle-timeout-ms': 500 }, mem.log);
    try {
      const p = start(`rtmpt://127.0.0.1:${gw.httpPort}/live/killed`);
      await waitFor('tunnelled stream ready', () => gw.hub.get('live/killed')?.ready === true, 30_000);
      p.child.kill('SIGKILL');
      await waitFor('the stream ended', () => gw.hub.get('live/killed') === undefined);
      const ended = mem.messages().filter((m) => m.msg === 'rtmp session ended' && m['protocol'] === 'rtmpt');
      expect(ended.map((m) => m['reason'])).toEqual(['rtmpt: not polled for 500 ms']);
    } finally {
      await Promise.all(procs.splice(0).map((p) => p.stop()));
      await gw.close();
    }
  });

  it('a tunnel the client stops polling is closed after --rtmpt-idle-timeout-ms, with one log line', async () => {
    const mem = memoryLog();
    const gw = await startTestGateway({ 'rtmpt-idle-timeout-ms': 300 }, mem.log);
    try {
      const id = (await (await post(gw, '/open/1')).text()).trim();
      expect(await metric(gw, 'gateway_connections{protocol="rtmpt"}')).toBe(1);
      await waitFor('the silent tunnel closed', async () => (await metric(gw, 'gateway_connections{protocol="rtmpt"}')) === 0);
      expect((await post(gw, `/idle/${id}/0`)).status).toBe(404);
      const ended = mem.messages().filter((m) => m.msg === 'rtmp session ended' && m['protocol'] === 'rtmpt');
      expect(ended.map((m) => m['reason'])).toEqual(['rtmpt: not polled for 300 ms']);
    } finally {
      await gw.close();
    }
  });
});
