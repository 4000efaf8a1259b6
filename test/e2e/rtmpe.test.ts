// RTMPE on the RTMP port: rtmpdump -l 2 (librtmp's encrypted handshake, DH + RC4) plays a live
// stream into a file ffprobe reads, also through the RTMPT tunnel (RTMPTE); with --rtmpe false the
// same request is refused with a log line.
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FlvDemuxer } from '../../server/media/flv.js';
import { ffprobe, publish, run, testSource, type Proc } from '../support/ffmpeg.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { memoryLog } from '../support/memory-log.js';
import { waitFor } from '../support/wait.js';

const procs: Proc[] = [];
const gateways: TestGateway[] = [];
afterEach(async () => {
  await Promise.all(procs.splice(0).map((p) => p.stop()));
  await Promise.all(gateways.splice(0).map((g) => g.close()));
});

beforeAll(() => {
  testSource();
});

function outFile(): string {
  return path.join(mkdtempSync(path.join(os.tmpdir(), 'gw-rtmpe-')), 'out.flv');
}

describe('RTMPE', () => {
  it('rtmpdump -l 2 plays a live stream over RTMPE into a file ffprobe reads as H.264 + AAC', async () => {
    const mem = memoryLog();
    const gw = await startTestGateway({}, mem.log);
    gateways.push(gw);
    procs.push(publish(gw.rtmpUrl('live/enc')));
    await waitFor('stream ready', () => gw.hub.get('live/enc')?.ready === true);
    const out = outFile();
    const dump = run('rtmpdump', ['-q', '-l', '2', '--live', '-r', gw.rtmpUrl('live/enc'), '-o', out]);
    procs.push(dump);
    const stream = gw.hub.get('live/enc')!;
    await waitFor('rtmpdump receiving', () => [...stream.subscribers].some((s) => s.bytesSent > 400_000));
    await dump.stop();

    const tags = new FlvDemuxer().push(readFileSync(out));
    expect(tags.filter((t) => t.type === 9).length).toBeGreaterThan(20);
    expect(tags.some((t) => t.type === 8)).toBe(true);
    const probe = await ffprobe(out);
    expect(probe.streams.find((s) => s.codec_type === 'video')).toMatchObject({ codec_name: 'h264', width: 1280, height: 720 });
    expect(probe.streams.find((s) => s.codec_type === 'audio')).toMatchObject({ codec_name: 'aac' });
    const msgs = mem.messages();
    expect(msgs.some((m) => m.msg === 'rtmpe handshake complete')).toBe(true);
    expect(msgs.some((m) => m.msg === 'rtmp session connected' && String(m['tcUrl']).startsWith('rtmpe://'))).toBe(true);
  });

  it('plain RTMP and RTMPE players share the port and the stream at the same time', async () => {
    const gw = await startTestGateway();
    gateways.push(gw);
    procs.push(publish(gw.rtmpUrl('live/both')));
    await waitFor('stream ready', () => gw.hub.get('live/both')?.ready === true);
    const encrypted = run('rtmpdump', ['-q', '-l', '2', '--live', '-r', gw.rtmpUrl('live/both'), '-o', outFile()]);
    const plain = run('rtmpdump', ['-q', '--live', '-r', gw.rtmpUrl('live/both'), '-o', outFile()]);
    procs.push(encrypted, plain);
    const stream = gw.hub.get('live/both')!;
    await waitFor('both players receiving', () => [...stream.subscribers].filter((s) => s.bytesSent > 200_000).length === 2);
  });

  it('through the RTMPT tunnel too: rtmpdump plays over RTMPT (-l 1) and RTMPTE (-l 3), both files H.264 + AAC', async () => {
    const mem = memoryLog();
    const gw = await startTestGateway({}, mem.log);
    gateways.push(gw);
    procs.push(publish(gw.rtmpUrl('live/tunnelled')));
    await waitFor('stream ready', () => gw.hub.get('live/tunnelled')?.ready === true);
    const stream = gw.hub.get('live/tunnelled')!;
    for (const level of ['1', '3']) {
      const out = outFile();
      const dump = run('rtmpdump', ['-q', '-l', level, '--live', '-r', `rtmpt://127.0.0.1:${gw.httpPort}/live/tunnelled`, '-o', out]);
      procs.push(dump);
      await waitFor(`rtmpdump -l ${level} receiving`, () => [...stream.subscribers].some((s) => s.bytesSent > 400_000));
      await dump.stop();
      await waitFor('its session gone', () => stream.subscribers.size === 0);
      const probe = await ffprobe(out);
      expect(probe.streams.map((s) => s.codec_name).sort()).toEqual(['aac', 'h264']);
    }
    // Only the second one asked for the encrypted handshake, and got it inside the tunnel.
    expect(mem.messages().filter((m) => m.msg === 'rtmpe handshake complete').map((m) => m['protocol'])).toEqual(['rtmpt']);
    expect(mem.messages().filter((m) => m.msg === 'rtmp play started').map((m) => m['protocol'])).toEqual(['rtmpt', 'rtmpt']);
  });

  it('--rtmpe false refuses the encrypted handshake with one clear log line', async () => {
    const mem = memoryLog();
    const gw = await startTestGateway({ rtmpe: false }, mem.log);
    gateways.push(gw);
    procs.push(publish(gw.rtmpUrl('live/off')));
    await waitFor('stream ready', () => gw.hub.get('live/off')?.ready === true);
    const dump = run('rtmpdump', ['-q', '-l', '2', '--live', '-r', gw.rtmpUrl('live/off'), '-o', outFile()]);
    procs.push(dump);
    expect(await dump.exited).not.toBe(0);
    const ended = mem.messages().filter((m) => m.msg === 'rtmp session ended' && /RTMPE/.test(String(m['reason'])));
    expect(ended.map((m) => m['reason'])).toEqual([
      'handshake error: client requested RTMPE (encrypted RTMP, type 6), which is turned off (--rtmpe false)',
    ]);
    expect(gw.hub.get('live/off')!.subscribers.size).toBe(0);
  });
});
