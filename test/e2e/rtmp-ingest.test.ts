// Issue: RTMP ingest that real encoders accept. A real ffmpeg publishes; a
// real nginx-rtmp relays at chunk size 128; garbage is dropped alone.
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publish, testSource, type Proc } from '../support/ffmpeg.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { freePort, startNginx, type Nginx } from '../support/nginx.js';
import { waitFor } from '../support/wait.js';

interface ApiStream {
  name: string;
  video: { codec: string; profile: string; width: number; height: number } | null;
  audio: { codec: string; profile?: string; sampleRate: number; channels: number } | null;
  publisher: { address: string } | null;
  bitrateIn: number;
}

async function apiStreams(gw: TestGateway): Promise<ApiStream[]> {
  const res = await fetch(gw.httpUrl('/api/streams'));
  expect(res.headers.get('content-type')).toMatch(/application\/json/);
  return ((await res.json()) as { streams: ApiStream[] }).streams;
}

async function liveWithCodecs(gw: TestGateway, name: string): Promise<ApiStream> {
  return waitFor(`${name} live with codec info`, async () => {
    const s = (await apiStreams(gw)).find((x) => x.name === name);
    return s?.video != null && s.audio != null ? s : undefined;
  });
}

describe('RTMP ingest from real encoders', () => {
  let gw: TestGateway;
  const procs: Proc[] = [];
  let nginx: Nginx | undefined;

  beforeAll(async () => {
    testSource();
    gw = await startTestGateway();
  });
  afterAll(async () => {
    await Promise.all(procs.map((p) => p.stop()));
    await nginx?.stop();
    await gw.close();
  });

  it('ffmpeg publishing H.264 + AAC (chunk size 4096) shows up in /api/streams with codecs and resolution', async () => {
    const p = publish(gw.rtmpUrl('live/ffmpeg4096'));
    procs.push(p);
    const s = await liveWithCodecs(gw, 'live/ffmpeg4096');
    expect(s.video).toMatchObject({ codec: 'H.264', profile: 'High', width: 1280, height: 720 });
    expect(s.audio).toMatchObject({ codec: 'AAC', profile: 'LC', sampleRate: 44100, channels: 2 });
    expect(s.publisher?.address).toBe('127.0.0.1');
  });

  it('a second publisher on a live key is refused with BadName and the first keeps publishing', async () => {
    const name = 'live/taken';
    const first = publish(gw.rtmpUrl(name));
    procs.push(first);
    await liveWithCodecs(gw, name);
    const second = publish(gw.rtmpUrl(name));
    procs.push(second);
    const code = await second.exited;
    expect(code).not.toBe(0);
    const stream = gw.hub.get(name)!;
    const before = stream.bytesIn;
    await waitFor('first publisher still sending', () => stream.bytesIn > before + 50_000);
    expect(first.child.exitCode).toBeNull();
    expect(stream.publisher).not.toBeNull();
  });

  it('a stream relayed by nginx-rtmp at chunk size 128 arrives with the right codecs', async () => {
    const rtmpPort = await freePort();
    nginx = await startNginx(
      `rtmp {
  server {
    listen 127.0.0.1:${rtmpPort};
    chunk_size 128;
    application relay {
      live on;
      push rtmp://127.0.0.1:${gw.rtmpPort}/live/relayed128;
    }
  }
}`,
      rtmpPort,
      { rtmp: true },
    );
    const p = publish(`rtmp://127.0.0.1:${rtmpPort}/relay/src`);
    procs.push(p);
    const s = await liveWithCodecs(gw, 'live/relayed128');
    expect(s.video).toMatchObject({ codec: 'H.264', width: 1280, height: 720 });
    expect(s.audio).toMatchObject({ codec: 'AAC', sampleRate: 44100 });
    const session = [...gw.rtmp.sessions].find((x) => x.role === 'publishing' && x.app === 'live' && x.streamKey === 'relayed128');
    expect(session?.peerChunkSize).toBe(128);
  });

  it('a client sending garbage is dropped while a real publish on another connection keeps going', async () => {
    const name = 'live/steady';
    const p = publish(gw.rtmpUrl(name));
    procs.push(p);
    await liveWithCodecs(gw, name);
    const stream = gw.hub.get(name)!;
    const garbage = net.connect(gw.rtmpPort, '127.0.0.1');
    const closed = new Promise<void>((resolve) => garbage.on('close', () => resolve()));
    garbage.on('error', () => {});
    garbage.resume(); // read (and discard) S0S1S2 so the close is seen
    garbage.on('connect', () => {
      // Valid C0 and C1, then a C2 followed by a type-1 chunk on a chunk stream that has no previous header.
      garbage.write(Buffer.concat([Buffer.from([3]), Buffer.alloc(1536), Buffer.alloc(1536)]));
      garbage.write(Buffer.from('7f0000280000ff14deadbeefdeadbeef', 'hex'));
    });
    await closed;
    const before = stream.bytesIn;
    await waitFor('publisher still sending after garbage', () => stream.bytesIn > before + 50_000);
    expect(p.child.exitCode).toBeNull();
  });

  it('a wrong RTMP version byte is dropped at once', async () => {
    const sock = net.connect(gw.rtmpPort, '127.0.0.1');
    sock.on('error', () => {});
    sock.resume();
    const closed = new Promise<void>((resolve) => sock.on('close', () => resolve()));
    sock.on('connect', () => sock.write(Buffer.from('GET / HTTP/1.1\r\n\r\n')));
    await closed;
    expect(sock.bytesRead).toBe(0);
  });
});
