// RTMPT on the HTTP port: ffmpeg publishes and plays over rtmpt:// (RTMP tunnelled in HTTP POSTs),
// the stream plays over HTTP-FLV; signed URLs, metrics and logs treat it as RTMP with protocol
// rtmpt; bad tunnel requests get clear HTTP errors while a tunnelled publisher carries on; and the
// whole thing works through the shipped nginx config, also as RTMPTS with nginx ending TLS.
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { signedQuery } from '../../server/auth/signature.js';
import { ffprobe, publish, run, testSource, type Proc } from '../support/ffmpeg.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { memoryLog } from '../support/memory-log.js';
import { deployedSite, freePort, startNginx, startProxy, type Nginx } from '../support/nginx.js';
import { waitFor } from '../support/wait.js';

const procs: Proc[] = [];
afterEach(async () => {
  await Promise.all(procs.splice(0).map((p) => p.stop()));
});

async function metric(gw: TestGateway, sample: string): Promise<number> {
  const text = await (await fetch(gw.httpUrl('/metrics'))).text();
  const line = text.split('\n').find((l) => l.startsWith(sample));
  return line === undefined ? 0 : Number(line.split(' ').at(-1));
}

/** One raw HTTP/1.1 exchange, so the test controls exactly how (and how slowly) the body is sent. */
function rawRequest(port: number, head: string, body: Buffer | null, trickle = false): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    let got = '';
    let timer: NodeJS.Timeout | null = null;
    s.on('data', (d) => (got += d.toString('latin1')));
    s.on('error', reject);
    s.on('close', () => {
      if (timer !== null) clearInterval(timer);
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(got)?.[1] ?? 0);
      resolve({ status, text: got.slice(got.indexOf('\r\n\r\n') + 4) });
    });
    s.write(head);
    if (body !== null && !trickle) s.end(body);
    if (trickle) {
      s.write('x');
      timer = setInterval(() => s.writable && s.write('x'), 200);
    }
  });
}

describe('RTMPT', () => {
  let gw: TestGateway;
  const mem = memoryLog();
  const tunnelUrl = (name: string): string => `rtmpt://127.0.0.1:${gw.httpPort}/${name}`;
  beforeAll(async () => {
    testSource();
    gw = await startTestGateway({ 'rtmpt-body-timeout-ms': 1_000, 'rtmpt-max-body-bytes': 1024 * 1024 }, mem.log);
  });
  afterAll(() => gw.close());

  it('ffmpeg publishes over rtmpt://; the stream plays over HTTP-FLV and over rtmpt:// with ffmpeg', async () => {
    procs.push(publish(tunnelUrl('live/tunnel')));
    await waitFor('tunnelled stream ready', () => gw.hub.get('live/tunnel')?.ready === true, 30_000);
    const stream = gw.hub.get('live/tunnel')!;
    expect(stream.publisher?.protocol).toBe('rtmpt');
    expect(await metric(gw, 'gateway_connections{protocol="rtmpt"}')).toBeGreaterThanOrEqual(1);

    const flv = await ffprobe(gw.httpUrl('/live/tunnel.flv'));
    expect(flv.streams.find((s) => s.codec_type === 'video')).toMatchObject({ codec_name: 'h264', width: 1280, height: 720 });
    expect(flv.streams.find((s) => s.codec_type === 'audio')).toMatchObject({ codec_name: 'aac' });

    const tunnelled = await ffprobe(tunnelUrl('live/tunnel'));
    expect(tunnelled.streams.map((s) => s.codec_name).sort()).toEqual(['aac', 'h264']);
    const player = run('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-i', tunnelUrl('live/tunnel'), '-t', '2', '-f', 'null', '-']);
    procs.push(player);
    expect(await player.exited).toBe(0);
    await waitFor('play sessions counted as rtmpt', async () => (await metric(gw, 'gateway_sessions_ended_total{kind="play",protocol="rtmpt"}')) >= 2);
    const lines = mem.messages().filter((m) => m['protocol'] === 'rtmpt');
    expect(lines.some((m) => m.msg === 'publish started')).toBe(true);
    expect(lines.some((m) => m.msg === 'rtmp play started')).toBe(true);
  });

  it('a player over rtmpt:// is an rtmpt viewer in the API, /metrics and the hub, and a plain RTMP player stays rtmp', async () => {
    procs.push(publish(gw.rtmpUrl('live/watched')));
    await waitFor('watched stream ready', () => gw.hub.get('live/watched')?.ready === true, 30_000);
    const played: string[] = [];
    const onPlay = (v: { protocol: string; stream: { name: string } }): void => {
      if (v.stream.name === 'live/watched') played.push(v.protocol);
    };
    gw.hub.events.on('play', onPlay);
    try {
      const player = (url: string): Proc => run('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-i', url, '-f', 'null', '-']);
      const tunnelled = player(tunnelUrl('live/watched'));
      procs.push(tunnelled, player(gw.rtmpUrl('live/watched')));
      type Info = { viewers: Record<string, number>; clients: Array<{ protocol: string }> };
      const info = async (): Promise<Info> => (await (await fetch(gw.httpUrl('/api/streams/live/watched'))).json()) as Info;
      await waitFor('both players counted', async () => (await info()).viewers['total'] === 2, 30_000);
      const both = await info();
      expect(both.viewers).toMatchObject({ rtmpt: 1, rtmp: 1, http: 0, ws: 0, hls: 0, total: 2 });
      expect(both.clients.map((c) => c.protocol).sort()).toEqual(['rtmp', 'rtmpt']);
      expect(await metric(gw, 'gateway_viewers{protocol="rtmpt"}')).toBe(1);
      expect(await metric(gw, 'gateway_viewers{protocol="rtmp"}')).toBe(1);
      expect(played.sort()).toEqual(['rtmp', 'rtmpt']);

      await tunnelled.stop();
      await waitFor('tunnelled player gone', async () => (await info()).viewers['rtmpt'] === 0, 30_000);
      expect((await info()).viewers).toMatchObject({ rtmpt: 0, rtmp: 1, total: 1 });
      expect(await metric(gw, 'gateway_viewers{protocol="rtmpt"}')).toBe(0);
    } finally {
      gw.hub.events.off('play', onPlay);
    }
  });

  it('bad tunnel requests get clear HTTP errors and never disturb a tunnelled publisher', async () => {
    procs.push(publish(tunnelUrl('live/steady')));
    await waitFor('steady stream ready', () => gw.hub.get('live/steady')?.ready === true, 30_000);
    const stream = gw.hub.get('live/steady')!;
    const post = (path: string, body: Uint8Array = new Uint8Array([0])) =>
      fetch(gw.httpUrl(path), { method: 'POST', body, headers: { 'Content-Type': 'application/x-fcs' } });

    const unknown = await post('/idle/00000000000000000000000000000000/1');
    expect(unknown.status).toBe(404);
    expect(await unknown.text()).toMatch(/unknown or expired RTMPT session/);
    const opened = await post('/open/1');
    expect(opened.headers.get('content-type')).toBe('application/x-fcs');
    const id = (await opened.text()).trim();
    expect(id).toMatch(/^[0-9a-f]{32}$/);
    expect((await post(`/idle/${id}/0`)).status).toBe(200);
    const wrong = await post(`/idle/${id}/7`);
    expect(wrong.status).toBe(400);
    expect(await wrong.text()).toMatch(/wrong sequence number 7, expected 1/);
    expect((await fetch(gw.httpUrl(`/idle/${id}/1`))).status).toBe(405);

    const big = await rawRequest(gw.httpPort, `POST /send/${id}/1 HTTP/1.1\r\nHost: x\r\nContent-Length: ${2 * 1024 * 1024}\r\n\r\n`, null);
    expect(big.status).toBe(413);
    expect(big.text).toMatch(/over 1048576 bytes/);
    const slow = await rawRequest(gw.httpPort, `POST /send/${id}/1 HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n`, null, true);
    expect(slow.status).toBe(408);
    expect(slow.text).toMatch(/not received within 1000 ms/);
    // The probing session still works with its next number; the publisher never noticed.
    expect((await post(`/close/${id}/1`)).status).toBe(200);
    // Bytes that are not RTMP end that tunnel's session (its last answer is still a 200), nothing else.
    const garbage = (await (await post('/open/1')).text()).trim();
    const refused = await post(`/send/${garbage}/0`, new Uint8Array([0x2a, ...new Uint8Array(1536)]));
    expect(refused.status).toBe(200);
    expect((await post(`/idle/${garbage}/1`)).status).toBe(404);
    expect(mem.messages().filter((m) => m.msg === 'rtmp session ended' && m['protocol'] === 'rtmpt' && /handshake error/.test(String(m['reason'])))).toHaveLength(1);
    const frames = stream.videoFrames;
    await waitFor('publisher still sending', () => stream.videoFrames > frames + 30);
    expect(stream.publisher?.protocol).toBe('rtmpt');
  });

  it('signed publish URLs apply to the tunnel like to RTMP', async () => {
    const secret = 's3cret';
    const signed = await startTestGateway({ 'auth-secret': secret, auth: 'publish' });
    try {
      const url = (q: string): string => `rtmpt://127.0.0.1:${signed.httpPort}/live/sig${q}`;
      const refused = publish(url(''));
      procs.push(refused);
      expect(await refused.exited).not.toBe(0);
      expect(await metric(signed, 'gateway_auth_refusals_total{action="publish",protocol="rtmpt"}')).toBe(1);
      procs.push(publish(url(`?${signedQuery(secret, 'publish', 'live/sig', 600)}`)));
      await waitFor('signed tunnel publish live', () => signed.hub.get('live/sig')?.ready === true, 30_000);
    } finally {
      await Promise.all(procs.splice(0).map((p) => p.stop()));
      await signed.close();
    }
  });
});

describe('RTMPT through the shipped nginx config', () => {
  let gw: TestGateway;
  let nginx: Nginx;
  let port: number;
  beforeAll(async () => {
    testSource();
    gw = await startTestGateway({ 'trusted-proxies': ['127.0.0.1'] });
    const proxy = await startProxy(gw.httpPort);
    nginx = proxy.nginx;
    port = Number(/:(\d+)\//.exec(proxy.base)![1]);
  });
  afterAll(async () => {
    await nginx?.stop();
    await gw?.close();
  });

  it('ffmpeg publishes and plays over rtmpt:// through nginx; HTTP-FLV through it too', async () => {
    procs.push(publish(`rtmpt://127.0.0.1:${port}/live/proxied`));
    await waitFor('stream through nginx ready', () => gw.hub.get('live/proxied')?.ready === true, 30_000);
    expect(gw.hub.get('live/proxied')!.publisher?.protocol).toBe('rtmpt');
    const probe = await ffprobe(`rtmpt://127.0.0.1:${port}/live/proxied`);
    expect(probe.streams.map((s) => s.codec_name).sort()).toEqual(['aac', 'h264']);
    const flv = await ffprobe(`http://127.0.0.1:${port}/live-gateway/live/proxied.flv`);
    expect(flv.streams.map((s) => s.codec_name).sort()).toEqual(['aac', 'h264']);
    const ident = await fetch(`http://127.0.0.1:${port}/fcs/ident2`, { method: 'POST', body: new Uint8Array([0]) });
    expect(ident.status).toBe(404);
  });
});

describe('RTMPTS: the same tunnel over HTTPS, TLS ended by nginx with the shipped locations', () => {
  let gw: TestGateway;
  let nginx: Nginx;
  let port: number;
  beforeAll(async () => {
    testSource();
    const dir = mkdtempSync(path.join(os.tmpdir(), 'gw-rtmpts-'));
    const cert = path.join(dir, 'cert.pem');
    const key = path.join(dir, 'key.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost', '-days', '2', '-keyout', key, '-out', cert], {
      stdio: 'ignore',
    });
    gw = await startTestGateway({ 'trusted-proxies': ['127.0.0.1'] });
    port = await freePort();
    const site = deployedSite(port, gw.httpPort).replace(
      `listen 127.0.0.1:${port};`,
      `listen 127.0.0.1:${port} ssl;\n    ssl_certificate ${cert};\n    ssl_certificate_key ${key};`,
    );
    nginx = await startNginx(
      `http {\n  access_log off;\n  client_body_temp_path temp/body;\n  proxy_temp_path temp/proxy;\n  fastcgi_temp_path temp/fastcgi;\n  uwsgi_temp_path temp/uwsgi;\n  scgi_temp_path temp/scgi;\n  ${site}\n}`,
      port,
    );
  });
  afterAll(async () => {
    await nginx?.stop();
    await gw?.close();
  });

  it('ffmpeg publishes and plays over rtmpts://', async () => {
    procs.push(publish(`rtmpts://127.0.0.1:${port}/live/secure`));
    await waitFor('stream over rtmpts ready', () => gw.hub.get('live/secure')?.ready === true, 30_000);
    expect(gw.hub.get('live/secure')!.publisher?.protocol).toBe('rtmpt');
    const probe = await ffprobe(`rtmpts://127.0.0.1:${port}/live/secure`);
    expect(probe.streams.map((s) => s.codec_name).sort()).toEqual(['aac', 'h264']);
  });
});
