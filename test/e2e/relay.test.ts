// Issue: relays to and from another RTMP server, tested against a real nginx
// with the RTMP module in both directions, including reconnection.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ffprobe, publish, testSource, type Proc } from '../support/ffmpeg.js';
import { startTestGateway } from '../support/gateway.js';
import { freePort, startNginx, type Nginx } from '../support/nginx.js';
import { wsViewer, type TestViewer } from '../support/viewers.js';
import { waitFor } from '../support/wait.js';

function nginxRtmp(port: number): string {
  return `rtmp {
  server {
    listen 127.0.0.1:${port};
    chunk_size 4096;
    application peer {
      live on;
    }
  }
}`;
}

const procs: Proc[] = [];
const viewers: TestViewer[] = [];
afterEach(async () => {
  for (const v of viewers.splice(0)) v.close();
  await Promise.all(procs.splice(0).map((p) => p.stop()));
});

describe('relays against nginx-rtmp', () => {
  let nginx: Nginx;
  let peerPort: number;
  beforeAll(async () => {
    testSource();
    peerPort = await freePort();
    nginx = await startNginx(nginxRtmp(peerPort), peerPort, { rtmp: true });
  });
  afterAll(async () => {
    await nginx?.stop();
  });

  it('push: a stream published to the gateway is forwarded to nginx, where ffprobe reads it', async () => {
    const gw = await startTestGateway({ push: [`live/*=rtmp://127.0.0.1:${peerPort}/peer`] });
    try {
      procs.push(publish(gw.rtmpUrl('live/pushed')));
      await waitFor('local stream ready', () => gw.hub.get('live/pushed')?.ready === true);
      await waitFor('push relay connected', () => gw.relays.pushCount === 1);
      const r = await waitFor('nginx serving the pushed stream', async () => {
        try {
          return await ffprobe(`rtmp://127.0.0.1:${peerPort}/peer/pushed`, ['-rw_timeout', '5000000']);
        } catch {
          return undefined;
        }
      }, 30_000, 500);
      expect(r.streams.find((s) => s.codec_type === 'video')).toMatchObject({ codec_name: 'h264', width: 1280, height: 720 });
      expect(r.streams.find((s) => s.codec_type === 'audio')).toMatchObject({ codec_name: 'aac' });
      // the relay is counted as a relay, not as an RTMP viewer, in the API and in the metrics
      const api = (await (await fetch(gw.httpUrl('/api/streams/live/pushed'))).json()) as {
        viewers: { rtmp: number; total: number };
        relays: number;
      };
      expect(api).toMatchObject({ viewers: { rtmp: 0, total: 0 }, relays: 1 });
      const metrics = (await (await fetch(gw.httpUrl('/metrics'))).text()).split('\n');
      expect(metrics).toContain('gateway_push_relays 1');
      expect(metrics).toContain('gateway_viewers{protocol="rtmp"} 0');
    } finally {
      await gw.close();
    }
  });

  it('pull: a static pull plays a stream from nginx into the gateway, and WS viewers get valid FLV', async () => {
    procs.push(publish(`rtmp://127.0.0.1:${peerPort}/peer/source`));
    const gw = await startTestGateway({ pull: [`live/pulled=rtmp://127.0.0.1:${peerPort}/peer/source`] });
    try {
      await waitFor('pulled stream ready', () => gw.hub.get('live/pulled')?.ready === true, 30_000);
      expect(gw.hub.get('live/pulled')!.publisher?.protocol).toBe('relay');
      expect(gw.hub.get('live/pulled')!.video).toMatchObject({ codec: 'H.264', width: 1280, height: 720 });
      const v = wsViewer(gw.wsUrl('/live/pulled.flv'));
      viewers.push(v);
      await waitFor('viewer of the pulled stream', () => v.flv.videoFrames().length > 30);
      expect(v.flv.problems()).toEqual([]);
    } finally {
      await gw.close();
    }
  });

  it('pull on demand: the first viewer of an unknown stream starts the pull and receives it', async () => {
    procs.push(publish(`rtmp://127.0.0.1:${peerPort}/peer/demand`));
    const gw = await startTestGateway({
      'pull-on-demand': [`remote/*=rtmp://127.0.0.1:${peerPort}/peer`],
      'relay-timeout-ms': 2_000,
    });
    try {
      // nginx needs the source live before the gateway asks for it.
      await waitFor('source on nginx', async () => {
        try {
          return await ffprobe(`rtmp://127.0.0.1:${peerPort}/peer/demand`, ['-rw_timeout', '5000000']);
        } catch {
          return undefined;
        }
      }, 30_000, 500);
      expect(gw.hub.get('remote/demand')).toBeUndefined();
      const v = wsViewer(gw.wsUrl('/remote/demand.flv'));
      viewers.push(v);
      await waitFor('viewer of the on-demand stream', () => v.flv.videoFrames().length > 10, 30_000);
      expect(v.flv.problems()).toEqual([]);
      expect(gw.relays.pullCount).toBe(1);
      // Another key of the same rule that nginx does not have ends cleanly instead of hanging.
      const missing = wsViewer(gw.wsUrl('/remote/absent.flv'));
      viewers.push(missing);
      const end = await missing.ended;
      expect(end.code).toBe(1000);
    } finally {
      await gw.close();
    }
  });

  it('push reconnects with backoff after the remote server restarts', async () => {
    const port = await freePort();
    let peer = await startNginx(nginxRtmp(port), port, { rtmp: true });
    const gw = await startTestGateway({ push: [`live/resilient=rtmp://127.0.0.1:${port}/peer/resilient`] });
    try {
      procs.push(publish(gw.rtmpUrl('live/resilient')));
      await waitFor('push relay subscribed', () =>
        [...(gw.hub.get('live/resilient')?.subscribers ?? [])].some((s) => s.address === '127.0.0.1' && s.bytesSent > 100_000), 30_000);
      await peer.stop();
      await waitFor('push relay dropped', () =>
        [...(gw.hub.get('live/resilient')?.subscribers ?? [])].every((s) => s.sink.protocol !== 'rtmp'), 30_000);
      peer = await startNginx(nginxRtmp(port), port, { rtmp: true });
      const r = await waitFor('nginx serving the stream again', async () => {
        try {
          return await ffprobe(`rtmp://127.0.0.1:${port}/peer/resilient`, ['-rw_timeout', '5000000']);
        } catch {
          return undefined;
        }
      }, 40_000, 500);
      expect(r.streams.find((s) => s.codec_type === 'video')).toMatchObject({ codec_name: 'h264' });
    } finally {
      await gw.close();
      await peer.stop();
    }
  });
});
