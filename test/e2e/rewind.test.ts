// Issue: rewind. A stream keeps a window in memory; a viewer can join behind
// live with ?rewind=SECONDS and is fed at real-time pace from there.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publish, testSource, type Proc } from '../support/ffmpeg.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { httpViewer, wsViewer } from '../support/viewers.js';
import { waitFor } from '../support/wait.js';

describe('rewind', () => {
  let gw: TestGateway;
  let pub: Proc;
  beforeAll(async () => {
    testSource();
    gw = await startTestGateway({ 'rewind-seconds': 30 });
    pub = publish(gw.rtmpUrl('live/dvr'));
    const stream = await waitFor('stream', () => gw.hub.get('live/dvr'));
    // Let six seconds of stream build up in the window.
    await waitFor('six seconds in the rewind window', () => {
      const r = stream.rewind!;
      const oldest = r.at(r.oldest);
      return oldest !== undefined && r.newestTimestamp - oldest.timestamp >= 6_000;
    }, 30_000);
  });
  afterAll(async () => {
    await pub.stop();
    await gw.close();
  });

  it('a WS viewer with ?rewind=4 starts on a keyframe about four seconds behind live and stays behind', async () => {
    const stream = gw.hub.get('live/dvr')!;
    const v = wsViewer(gw.wsUrl('/live/dvr.flv?rewind=4'));
    const liveAtJoin = await waitFor('first frame', () =>
      v.flv.videoFrames().length > 0 ? stream.rewind!.newestTimestamp : undefined, 20_000, 1);
    const first = v.flv.firstVideoFrame()!;
    // The keyframe at or before live-4 s; the source has a keyframe every second.
    expect(first.timestamp).toBeLessThanOrEqual(liveAtJoin - 4_000 + 50);
    expect(first.timestamp).toBeGreaterThanOrEqual(liveAtJoin - 5_100);
    expect(v.flv.problems()).toEqual([]);
    // Fed at pace, not in one burst: once three more seconds of stream have arrived, it is still behind.
    const target = liveAtJoin + 3_000;
    await waitFor('three more seconds of stream', () => stream.rewind!.newestTimestamp >= target, 20_000);
    const newestSent = v.flv.videoFrames().at(-1)!.timestamp;
    expect(newestSent).toBeLessThan(stream.rewind!.newestTimestamp - 2_000);
    expect(gw.hub.viewersByProtocol(stream).ws).toBe(1);
    v.close();
    await waitFor('rewind viewer removed', () => stream.rewinders.size === 0);
  });

  it('HTTP-FLV takes ?rewind too, and refuses a value that is not a number of seconds', async () => {
    const bad = await fetch(gw.httpUrl('/live/dvr.flv?rewind=abc'));
    expect(bad.status).toBe(400);
    const v = httpViewer(gw.httpUrl('/live/dvr.flv?rewind=2'));
    await waitFor('frames', () => v.flv.videoFrames().length > 5);
    expect(v.flv.problems()).toEqual([]);
    v.close();
  });

  it('the API says how far back a viewer can go', async () => {
    const body = (await (await fetch(gw.httpUrl('/api/streams/live/dvr'))).json()) as { rewindSeconds: number };
    expect(body.rewindSeconds).toBeGreaterThanOrEqual(6);
  });
});
