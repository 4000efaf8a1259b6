// Issue: RTMPS ingest. ffmpeg publishes over TLS with a self-signed
// certificate made for the test; the same stream plays over WS-FLV and RTMPS.
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ffprobe, publish, testSource, type Proc } from '../support/ffmpeg.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { wsViewer } from '../support/viewers.js';
import { waitFor } from '../support/wait.js';

describe('RTMPS', () => {
  let gw: TestGateway;
  const procs: Proc[] = [];
  beforeAll(async () => {
    testSource();
    const dir = mkdtempSync(path.join(os.tmpdir(), 'gw-tls-'));
    const cert = path.join(dir, 'cert.pem');
    const key = path.join(dir, 'key.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost',
      '-days', '2', '-keyout', key, '-out', cert], { stdio: 'ignore' });
    gw = await startTestGateway({ 'tls-cert': cert, 'tls-key': key });
  });
  afterAll(async () => {
    await Promise.all(procs.map((p) => p.stop()));
    await gw.close();
  });

  it('ffmpeg publishes over rtmps:// and viewers receive the stream', async () => {
    expect(gw.rtmpsPort).not.toBeNull();
    const p = publish(`rtmps://127.0.0.1:${gw.rtmpsPort}/live/secure`);
    procs.push(p);
    await waitFor('RTMPS stream ready', () => gw.hub.get('live/secure')?.ready === true);
    expect(gw.hub.get('live/secure')!.video).toMatchObject({ codec: 'H.264', width: 1280, height: 720 });
    const api = (await (await fetch(gw.httpUrl('/api/streams/live/secure'))).json()) as { publisher: { protocol: string } };
    expect(api.publisher.protocol).toBe('rtmps');
    const v = wsViewer(gw.wsUrl('/live/secure.flv'));
    await waitFor('WS viewer of the RTMPS stream', () => v.flv.videoFrames().length > 10);
    expect(v.flv.problems()).toEqual([]);
    v.close();
    // An RTMPS player is counted as an 'rtmp' viewer, as its connection is in gateway_connections.
    const players: string[] = [];
    const onPlay = (e: { protocol: string }): void => void players.push(e.protocol);
    gw.hub.events.on('play', onPlay);
    const r = await ffprobe(`rtmps://127.0.0.1:${gw.rtmpsPort}/live/secure`);
    gw.hub.events.off('play', onPlay);
    expect(r.streams.find((s) => s.codec_type === 'video')).toMatchObject({ codec_name: 'h264', width: 1280 });
    expect(players).toEqual(['rtmp']);
  });

  it('plain RTMP bytes sent to the RTMPS port are dropped without harming the live stream', async () => {
    const p = publish(`rtmp://127.0.0.1:${gw.rtmpsPort}/live/plain-on-tls`);
    procs.push(p);
    expect(await p.exited).not.toBe(0);
    expect(gw.hub.get('live/plain-on-tls')).toBeUndefined();
    expect(gw.hub.get('live/secure')?.publisher).not.toBeNull();
  });
});
