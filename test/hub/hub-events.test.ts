// The hub's typed events: any number of listeners per event, with the stream
// and the viewer's protocol and address, in the order things happen.
import { afterEach, describe, expect, it } from 'vitest';
import type { Hub } from '../../server/hub/hub.js';
import { FakePublisher, FakeSink, makeHub, startAv } from './fixtures.js';

let hubs: Hub[] = [];
afterEach(() => {
  for (const h of hubs) h.close();
  hubs = [];
});

function hubWith(options: Parameters<typeof makeHub>[0] = {}): Hub {
  const hub = makeHub(options);
  hubs.push(hub);
  return hub;
}

/** Every event the hub emits, as readable strings. */
function record(hub: Hub): string[] {
  const seen: string[] = [];
  hub.events.on('published', (s) => seen.push(`published ${s.name} by ${s.publisher?.id}`));
  hub.events.on('unpublished', (s, p) => seen.push(`unpublished ${s.name} by ${p.id}`));
  hub.events.on('stream-ended', (s) => seen.push(`ended ${s.name}`));
  hub.events.on('limit', (reason) => seen.push(`limit ${reason}`));
  hub.events.on('play', (v) => seen.push(`play ${v.stream.name} ${v.protocol} ${v.address}`));
  hub.events.on('stop', (v) => seen.push(`stop ${v.stream.name} ${v.protocol} ${v.address} ${v.reason} ${v.bytes > 0 ? 'sent' : 'nothing'}`));
  return seen;
}

describe('Hub events', () => {
  it('tell publish, play, stop, unpublish and end, with the stream and the viewer address and protocol', () => {
    const hub = hubWith();
    const seen = record(hub);
    const pub = new FakePublisher('p1');
    const r = hub.publish('live', 'cam', pub);
    if (!r.ok) throw new Error(r.detail);
    startAv(r.stream, 0);
    const viewer = hub.subscribe('live/cam', new FakeSink('ws'), 0, '192.0.2.7');
    if (!viewer.ok) throw new Error(viewer.detail);
    expect(viewer.subscriber.address).toBe('192.0.2.7');
    hub.subscribe('live/cam', new FakeSink('http'), 0, '192.0.2.8');
    viewer.subscriber.close('closed', 'viewer left');
    r.stream.detach(pub);
    expect(seen).toEqual([
      'published live/cam by p1',
      'play live/cam ws 192.0.2.7',
      'play live/cam http 192.0.2.8',
      'stop live/cam ws 192.0.2.7 closed sent',
      'unpublished live/cam by p1',
      'stop live/cam http 192.0.2.8 unpublished sent',
      'ended live/cam',
    ]);
  });

  it('a takeover tells the old publisher left and the new one published; the stream does not end', () => {
    const hub = hubWith({ duplicatePublish: 'takeover' });
    const seen = record(hub);
    const first = new FakePublisher('p1');
    const r = hub.publish('live', 'cam', first);
    if (!r.ok) throw new Error(r.detail);
    first.onKick = () => r.stream.detach(first);
    hub.publish('live', 'cam', new FakePublisher('p2'));
    expect(first.kicks).toEqual(['taken over by a new publisher']);
    expect(seen).toEqual(['published live/cam by p1', 'unpublished live/cam by p1', 'published live/cam by p2']);
  });

  it('shutdown kicks each publisher once and ends viewers with shutdown, never unpublished', () => {
    const hub = makeHub();
    const seen = record(hub);
    const pub = new FakePublisher('p1');
    const r = hub.publish('live', 'cam', pub);
    if (!r.ok) throw new Error(r.detail);
    pub.onKick = () => r.stream.detach(pub); // the RTMP session detaches synchronously when kicked
    startAv(r.stream, 0);
    const sink = new FakeSink('rtmp');
    hub.subscribe('live/cam', sink, 0, '192.0.2.9');
    hub.close();
    expect(pub.kicks).toEqual(['server shutting down']);
    expect(sink.ends.map((e) => e.reason)).toEqual(['shutdown']);
    expect(seen.slice(1)).toEqual([
      'play live/cam rtmp 192.0.2.9',
      'unpublished live/cam by p1',
      'stop live/cam rtmp 192.0.2.9 shutdown sent',
      'ended live/cam',
    ]);
  });

  it('limit is told to every listener when max-streams or max-viewers-per-stream refuses', () => {
    const hub = hubWith({ maxStreams: 1, maxViewersPerStream: 1 });
    const a: string[] = [];
    const b: string[] = [];
    hub.events.on('limit', (reason) => a.push(reason));
    hub.events.on('limit', (reason) => b.push(reason));
    hub.publish('live', 'one', new FakePublisher('p1'));
    expect(hub.publish('live', 'two', new FakePublisher('p2'))).toMatchObject({ ok: false, reason: 'limit' });
    hub.subscribe('live/one', new FakeSink());
    expect(hub.subscribe('live/one', new FakeSink())).toMatchObject({ ok: false, reason: 'limit' });
    expect(a).toEqual(['max-streams', 'max-viewers-per-stream']);
    expect(b).toEqual(a);
  });

  it("missing: listeners are asked in turn until one publishes the stream; the viewer gets it", () => {
    const hub = hubWith();
    const asked: string[] = [];
    hub.events.on('missing', (app, key) => asked.push(`declines ${app}/${key}`));
    hub.events.on('missing', (app, key) => {
      asked.push(`provides ${app}/${key}`);
      hub.publish(app, key, new FakePublisher('pull'));
    });
    hub.events.on('missing', () => asked.push('never asked'));
    const r = hub.subscribe('live/ondemand', new FakeSink(), 0, '192.0.2.1');
    expect(r).toMatchObject({ ok: true });
    expect(r.ok && r.stream.publisher?.id).toBe('pull');
    expect(asked).toEqual(['declines live/ondemand', 'provides live/ondemand']);
    // Live now: nobody is asked again.
    hub.subscribe('live/ondemand', new FakeSink());
    expect(asked).toHaveLength(2);
  });

  it('missing with no listener that provides the stream answers not-found', () => {
    const hub = hubWith();
    let asked = 0;
    hub.events.on('missing', () => asked++);
    expect(hub.subscribe('live/none', new FakeSink())).toMatchObject({ ok: false, reason: 'not-found' });
    expect(asked).toBe(1);
  });

  it('viewerCount() counts every stream\'s viewers of one protocol, not recordings', () => {
    const hub = hubWith();
    for (const key of ['a', 'b']) {
      const r = hub.publish('live', key, new FakePublisher(key));
      if (r.ok) startAv(r.stream, 0);
      hub.subscribe(`live/${key}`, new FakeSink('ws'));
      hub.subscribe(`live/${key}`, new FakeSink('record'));
    }
    hub.subscribe('live/a', new FakeSink('http'));
    expect([hub.viewerCount('ws'), hub.viewerCount('http'), hub.viewerCount('rtmp')]).toEqual([2, 1, 0]);
  });
});
