import { describe, expect, it } from 'vitest';
import { mergeStreams, type LocalStreamView } from '../../server/cluster/stream-merge.js';

function view(worker: number, owner: boolean, viewers: number, extra: Partial<LocalStreamView> = {}): LocalStreamView {
  return {
    name: 'live/a', app: 'live', key: 'a', state: 'live', video: null, audio: null,
    viewers: { http: viewers, ws: 0, rtmp: 0, rtmpt: 0, hls: 0, total: viewers }, relays: 0, internalLinks: 0,
    bitrateIn: owner ? 1000 : 990, bitrateOut: viewers * 1000, uptime: owner ? 60 : 5,
    publisher: owner ? { address: '10.0.0.5', protocol: 'rtmp' } : { address: '127.0.0.1:4000', protocol: 'relay' },
    droppedTags: 1, slowDisconnects: 0, rewindSeconds: owner ? 30 : 0, worker, owner, ...extra,
  };
}

describe('mergeStreams', () => {
  it('counts a stream once with the owner\'s publisher figures, whichever process answered first', () => {
    for (const order of [[0, 1], [1, 0]]) {
      const lists = [[view(1, false, 3)], [view(2, true, 2, { internalLinks: 1, clients: [] })]];
      const [merged, ...rest] = mergeStreams(order.map((i) => lists[i]!));
      expect(rest).toEqual([]);
      expect(merged).toMatchObject({
        publisher: { protocol: 'rtmp' }, bitrateIn: 1000, uptime: 60, rewindSeconds: 30,
        viewers: { http: 5, total: 5 }, bitrateOut: 5000, droppedTags: 2, internalLinks: 1,
      });
      expect(merged!.workers).toHaveLength(2);
      expect(merged!.workers.find((w) => w.owner)).toEqual({ worker: 2, viewers: 2, owner: true, internalLinks: 1 });
    }
  });

  it('joins the viewers of the detail view and keeps streams apart by name', () => {
    const a = view(1, true, 1, { clients: [{ protocol: 'http', address: 'x', duration: 1, bytes: 1, droppedTags: 0 }] });
    const b = view(2, false, 1, { clients: [{ protocol: 'ws', address: 'y', duration: 1, bytes: 1, droppedTags: 0 }] });
    const other = view(2, true, 0, { name: 'live/b', key: 'b' });
    const merged = mergeStreams([[a], [b, other]]);
    expect(merged.map((s) => s.name)).toEqual(['live/a', 'live/b']);
    expect(merged[0]!.clients?.map((c) => c.protocol)).toEqual(['http', 'ws']);
  });

  it('adds up every viewer protocol, tunnelled RTMP players apart from plain ones', () => {
    const a = view(1, true, 0, { viewers: { http: 1, ws: 2, rtmp: 3, rtmpt: 4, hls: 5, total: 15 } });
    const b = view(2, false, 0, { viewers: { http: 10, ws: 20, rtmp: 30, rtmpt: 40, hls: 50, total: 150 } });
    expect(mergeStreams([[a], [b]])[0]!.viewers).toEqual({ http: 11, ws: 22, rtmp: 33, rtmpt: 44, hls: 55, total: 165 });
  });
});
