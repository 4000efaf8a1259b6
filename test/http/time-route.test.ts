// GET /api/time: the gateway's clock for the player's offset, and with ?stream= the anchor that ties
// the stream's timeline to that clock (newest audio/video timestamp and when it was received, on the
// line through the least delayed recent message).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PublisherInfo } from '../../server/hub/live-stream.js';
import { AAC_SEQ_44100, AVC_SEQ_320X240, aacFrame, avcKey } from '../hub/fixtures.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';

let gw: TestGateway;
beforeAll(async () => {
  gw = await startTestGateway({ 'api-token': 'secret' });
});
afterAll(() => gw.close());

interface TimeAnswer {
  now: number;
  stream?: { name: string; timestamp: number; receivedAt: number } | null;
}

const time = async (query = ''): Promise<{ status: number; cache: string | null; body: TimeAnswer }> => {
  const res = await fetch(gw.httpUrl(`/api/time${query}`));
  return { status: res.status, cache: res.headers.get('cache-control'), body: (await res.json()) as TimeAnswer };
};

describe('/api/time', () => {
  it('answers the wall clock without a token and is never cached', async () => {
    const before = Date.now();
    const r = await time();
    expect(r.status).toBe(200);
    expect(r.cache).toBe('no-store');
    expect(r.body.now).toBeGreaterThanOrEqual(before);
    expect(r.body.now).toBeLessThanOrEqual(Date.now());
    expect(r.body.stream).toBeUndefined();
  });

  it('with ?stream= gives the newest audio/video timestamp and its receive time; null for a stream that is not live', async () => {
    expect((await time('?stream=live/none')).body.stream).toBeNull();
    const publisher: PublisherInfo = { id: 'p', address: '127.0.0.1', protocol: 'rtmp', kick: () => {} };
    const r = gw.hub.publish('live', 'clock', publisher);
    if (!r.ok) throw new Error(r.detail);
    const before = Date.now();
    r.stream.push(9, 1000, AVC_SEQ_320X240);
    r.stream.push(8, 1000, AAC_SEQ_44100);
    r.stream.push(9, 1000, avcKey(1));
    r.stream.push(8, 1023, aacFrame(1));
    const after = Date.now();
    r.stream.push(18, 1500, Buffer.from('0200', 'hex')); // data messages do not move the anchor
    const answer = (await time('?stream=live/clock')).body;
    // The timeline starts at 0 at the first message: 1023 - 1000.
    expect(answer.stream).toMatchObject({ name: 'live/clock', timestamp: 23 });
    // On the line through the least delayed frame (hub/arrival-clock.ts): never later than timestamp 23
    // really arrived, never earlier than the first frame did.
    expect(answer.stream!.receivedAt).toBeGreaterThanOrEqual(before);
    expect(answer.stream!.receivedAt).toBeLessThanOrEqual(after);
    r.stream.detach(publisher);
  });
});
