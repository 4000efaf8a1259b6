// Issue 11: what /api/streams says of codecs whose details live outside a classic sequence header.
// A real libvpx-vp9 stream (its vpcC as ffmpeg's MP4 muxer writes it, its frames from IVF) is
// published over Enhanced RTMP as vp09; the API must show its profile, level and picture size.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StreamSummary } from '../../server/http/stream-info.js';
import { parseIvf } from '../support/elementary.js';
import { EnhancedPublisher, FrameType, VideoPacketType, exVideoBody, type TimedMessage } from '../support/enhanced-publisher.js';
import { CACHE_DIR } from '../support/ffmpeg.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { waitFor } from '../support/wait.js';

/** A 640x360 VP9 clip (1 s GOP) as IVF, and the same in MP4 for its vpcC box. */
function vp9Files(): { ivf: string; mp4: string } {
  mkdirSync(CACHE_DIR, { recursive: true });
  const ivf = path.join(CACHE_DIR, 'es-vp9-640x360-30-g30-2s.ivf');
  const mp4 = `${ivf}.mp4`;
  const ff = (args: string[]) => {
    const r = spawnSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', ...args], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`ffmpeg: ${r.stderr}`);
  };
  if (!existsSync(ivf)) {
    ff(['-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=30', '-t', '2', '-c:v', 'libvpx-vp9', '-deadline', 'realtime',
      '-cpu-used', '8', '-g', '30', '-b:v', '500k', '-pix_fmt', 'yuv420p', '-f', 'ivf', `${ivf}.tmp`]);
    ff(['-f', 'ivf', '-i', `${ivf}.tmp`, '-c', 'copy', '-f', 'mp4', mp4]);
    ff(['-f', 'ivf', '-i', `${ivf}.tmp`, '-c', 'copy', '-f', 'ivf', ivf]);
  }
  return { ivf, mp4 };
}

/** The body of the first `vpcC` box (FullBox header included) in an MP4 file. */
function vpccBox(mp4: Buffer): Buffer {
  const at = mp4.indexOf('vpcC', 0, 'latin1');
  if (at < 4) throw new Error('no vpcC box');
  return mp4.subarray(at + 4, at - 4 + mp4.readUInt32BE(at - 4));
}

let gw: TestGateway;
const publishers: EnhancedPublisher[] = [];
beforeAll(async () => {
  vp9Files();
  gw = await startTestGateway();
});
afterAll(async () => {
  for (const p of publishers) await p.close();
  await gw.close();
});

describe('the API for codecs configured outside a classic sequence header', () => {
  it('shows profile, level and the picture size of a vp09 stream from libvpx', async () => {
    const { ivf, mp4 } = vp9Files();
    const clip = parseIvf(readFileSync(ivf));
    const vpcc = vpccBox(readFileSync(mp4));
    const messages: TimedMessage[] = [
      { type: 9, timestamp: 0, payload: exVideoBody({ frameType: FrameType.Key, packetType: VideoPacketType.SequenceStart, fourcc: 'vp09', data: vpcc }) },
      ...clip.frames.map((f, i): TimedMessage => ({
        type: 9,
        timestamp: Math.round((i * 1000) / 30),
        payload: exVideoBody({ frameType: i % 30 === 0 ? FrameType.Key : FrameType.Inter, packetType: VideoPacketType.CodedFrames, fourcc: 'vp09', data: f.data }),
      })),
    ];
    const pub = await EnhancedPublisher.publish(gw.rtmpUrl('live/vp9'), { metadata: null });
    publishers.push(pub);
    await pub.send(messages.slice(0, 20));
    const api = await waitFor('the VP9 stream in the API', async () => {
      const body = (await (await fetch(gw.httpUrl('/api/streams'))).json()) as { streams: StreamSummary[] };
      return body.streams.find((s) => s.name === 'live/vp9' && s.video?.width !== 0);
    });
    expect(api.video).toMatchObject({ codec: 'VP9', profile: '0', width: 640, height: 360 });
    expect(api.video!.level).toBeGreaterThan(0);
  });
});
