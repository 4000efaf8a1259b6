// Hostile input, a whole RtmpSession with a real Hub, fed the captured publish, mutated copies of it and random bytes.
// Run control, the captured publish and the mutations: harness.ts.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Hub } from '../../../server/hub/hub.js';
import { defaultWriteBatch, hubOptions } from '../../hub/fixtures.js';
import type { MediaTag } from '../../../server/hub/media-tag.js';
import type { EndReason, Sink } from '../../../server/hub/subscriber.js';
import { silentLogger } from '../../../server/log.js';
import { ChunkStreamReader } from '../../../server/rtmp/chunk-reader.js';
import { RtmpSession, type Transport } from '../../../server/rtmp/session.js';
import {
  property, CAPTURE, HANDSHAKE_BYTES, CHUNKS, MESSAGES, videoConfig, keyframe, publishCommand, connectCommand,
  mutationsArb, mutate, cutsArb, pieces,
} from './harness.js';

// ---------------------------------------------------------------------------
// Session harness: a fake transport, a real hub, a viewer sink that checks what it is given

class NullTransport implements Transport {
  readonly remoteAddress = '192.0.2.9';
  bufferedBytes = 0;
  written = 0;
  closeCalls = 0;
  write(buf: Buffer): void {
    this.written += buf.length;
  }
  close(): void {
    this.closeCalls++;
  }
}

/** A viewer that fails the case on any contract breach: writes before begin or after end, two ends, time going back. */
class CheckingSink implements Sink {
  readonly protocol = 'ws' as const;
  bufferedBytes = 0;
  began = 0;
  writes = 0;
  ended: EndReason | null = null;
  #last = new Map<number, number>();
  begin(): void {
    if (this.ended !== null) throw new Error('begin after end');
    this.began++;
  }
  write(tag: MediaTag): void {
    if (this.began !== 1) throw new Error('write before begin');
    if (this.ended !== null) throw new Error('write after end');
    this.writes++;
    if (!tag.config && tag.type !== 18) {
      const last = this.#last.get(tag.type) ?? -Infinity;
      if (tag.timestamp < last) throw new Error(`track ${tag.type} went back from ${last} to ${tag.timestamp}`);
      this.#last.set(tag.type, tag.timestamp);
    }
  }
  end(reason: EndReason): void {
    if (this.ended !== null) throw new Error('end called twice');
    this.ended = reason;
  }
}

const log = silentLogger();

function newSession(hub: Hub): { session: RtmpSession; transport: NullTransport } {
  const transport = new NullTransport();
  return { session: new RtmpSession(transport, { hub, log }), transport };
}

/** Feed the pieces; receive() must never throw. */
function feed(session: RtmpSession, data: Buffer, cuts: readonly number[] = []): void {
  for (const p of pieces(data, cuts)) session.receive(p);
}

/** A session that closed did so with a reason, on purpose, and closed its transport exactly once. */
function expectSaneEnd(session: RtmpSession, transport: NullTransport): void {
  if (session.role === 'closed') {
    expect(session.closeReason).toEqual(expect.any(String));
    expect(session.closeReason).not.toMatch(/^internal error/);
    expect(transport.closeCalls).toBe(1);
  } else {
    expect(session.closeReason).toBeNull();
    expect(transport.closeCalls).toBe(0);
  }
}

/** Hub consistency: every stream's publisher is a live publishing session of that name; every publishing session owns its stream. */
function expectHubConsistent(hub: Hub, sessions: readonly RtmpSession[]): void {
  for (const s of hub.streams.values()) {
    if (s.publisher === null) {
      // Only a stream in its grace period, kept for the viewers it has, may lack a publisher.
      expect(s.state).toBe('idle');
      expect(s.subscribers.size + s.waiting.size).toBeGreaterThan(0);
      continue;
    }
    const owner = sessions.find((x) => x.id === s.publisher!.id);
    expect(owner?.role, `publisher of ${s.name}`).toBe('publishing');
    expect(`${owner!.app}/${owner!.streamKey}`).toBe(s.name);
  }
  for (const x of sessions) {
    if (x.role === 'publishing') expect(hub.get(`${x.app}/${x.streamKey}`)?.publisher?.id).toBe(x.id);
  }
}

/** One session alone on a fresh hub, fed `data`: it ends sanely, the hub stays consistent, and closing it leaves nothing. */
function expectLoneSessionCase(data: Buffer, cuts: readonly number[]): void {
  const hub = new Hub(hubOptions(), log, defaultWriteBatch());
  const { session, transport } = newSession(hub);
  try {
    feed(session, data, cuts);
    expectSaneEnd(session, transport);
    expectHubConsistent(hub, [session]);
    session.close('end of case');
    // closing the only publisher leaves nothing behind
    expect(hub.streams.size).toBe(0);
  } finally {
    hub.close();
  }
}

const START_OF_MEDIA = videoConfig.end; // handshake, connect … publish, metadata and the video sequence header
const baseArb = fc.oneof(
  // mostly a short prefix (handshake, commands, headers, first frames): fast and where the branching is
  { weight: 3, arbitrary: fc.integer({ min: HANDSHAKE_BYTES, max: keyframe.end + 2_000 }).map((n) => CAPTURE.subarray(0, n)) },
  { weight: 1, arbitrary: fc.constant(CAPTURE) },
);

// ---------------------------------------------------------------------------

describe('the captured ffmpeg publish', () => {
  it('replays through an RtmpSession and a real hub into a live 1280x720 H.264 + AAC stream', () => {
    const hub = new Hub(hubOptions(), log, defaultWriteBatch());
    const { session, transport } = newSession(hub);
    feed(session, CAPTURE);
    expect(session.closeReason).toBeNull();
    expect(session.role).toBe('publishing');
    const stream = hub.get('live/capture')!;
    expect(stream.video).toMatchObject({ codec: 'H.264', width: 1280, height: 720 });
    expect(stream.audio).toMatchObject({ sampleRate: 44100, channels: 2 });
    expect(stream.ready).toBe(true);
    expect(transport.written).toBeGreaterThan(3073);
    hub.close();
  });

  it('replays in every split through the chunk reader into the same messages', () => {
    // one cut per message boundary ±1 and a few thousand random ones is enough to cover header splits
    const expected = MESSAGES.length;
    for (const end of MESSAGES.map((m) => m.end)) {
      for (const cut of [end - 1, end, end + 1]) {
        let n = 0;
        const r = new ChunkStreamReader(() => n++);
        for (const p of pieces(CHUNKS, [cut - HANDSHAKE_BYTES])) r.push(p);
        expect(n).toBe(expected);
      }
    }
  });
});
describe('hostile input: property fuzzing', () => {
  property(
    'an RtmpSession fed a mutated real publish keeps going or closes with a reason, and the hub stays consistent',
    1_500,
    fc.property(baseArb, mutationsArb, cutsArb, (base, mutations, cuts) => {
      expectLoneSessionCase(mutate(base, mutations), cuts);
    }),
  );

  property(
    'a viewer of a publish whose media is mutated is ended exactly once, on one timeline, whatever the publisher sends',
    1_500,
    fc.property(mutationsArb, cutsArb, fc.constantFrom(0, 60_000), fc.boolean(), (mutations, cuts, graceMs, early) => {
      const hub = new Hub(hubOptions({ graceMs }), log, defaultWriteBatch());
      const { session, transport } = newSession(hub);
      const sink = new CheckingSink();
      try {
        // the real publish up to the video sequence header (early viewer) or the first keyframe (joins on the GOP)
        const prefix = early ? START_OF_MEDIA : keyframe.end;
        feed(session, CAPTURE.subarray(0, prefix));
        const sub = hub.subscribe('live/capture', sink);
        expect(sub.ok).toBe(true);
        feed(session, mutate(CAPTURE.subarray(prefix, keyframe.end + 30_000), mutations), cuts);
        expectSaneEnd(session, transport);
        expectHubConsistent(hub, [session]);
        if (session.role === 'closed') {
          // viewers are told at once without a grace period, and kept waiting with one
          if (graceMs === 0) expect(sink.ended).toBe('unpublished');
          else expect(sink.ended).toBeNull();
        }
        session.close('end of case');
        if (graceMs === 0) expect(hub.streams.size).toBe(0);
        hub.close();
        expect(sink.ended).not.toBeNull();
        expect(hub.streams.size).toBe(0);
      } finally {
        hub.close();
      }
    }),
  );

  property(
    'two publishers of one key, one real and one mutated, under refuse or takeover, never leave a stream with a closed publisher',
    1_000,
    fc.property(fc.constantFrom('refuse', 'takeover'), fc.boolean(), baseArb, mutationsArb, cutsArb, (policy, realFirst, base, mutations, cuts) => {
      const hub = new Hub(hubOptions({ duplicatePublish: policy as 'refuse' | 'takeover' }), log, defaultWriteBatch());
      const a = newSession(hub);
      const b = newSession(hub);
      try {
        const real = (): void => feed(a.session, CAPTURE.subarray(0, keyframe.end));
        const mutated = (): void => feed(b.session, mutate(base, mutations), cuts);
        if (realFirst) {
          real();
          mutated();
        } else {
          mutated();
          real();
        }
        expectSaneEnd(a.session, a.transport);
        expectSaneEnd(b.session, b.transport);
        expectHubConsistent(hub, [a.session, b.session]);
        // whichever closes first, the other's stream survives it
        b.session.close('end of case');
        expectHubConsistent(hub, [a.session, b.session]);
        a.session.close('end of case');
        expect(hub.streams.size).toBe(0);
      } finally {
        hub.close();
      }
    }),
  );

  property(
    'an RtmpSession fed random bytes after a real connect or publish closes with a reason or keeps going',
    3_000,
    fc.property(fc.constantFrom(connectCommand.end, publishCommand.end, START_OF_MEDIA), fc.uint8Array({ maxLength: 600 }), cutsArb, (prefix, raw, cuts) => {
      expectLoneSessionCase(Buffer.concat([CAPTURE.subarray(0, prefix), Buffer.from(raw)]), cuts.map((c) => c + prefix));
    }),
  );

  property(
    'an RtmpSession with an asynchronous access check, fed a mutated real publish, holds or drops early media and keeps the hub consistent',
    500,
    fc.asyncProperty(fc.boolean(), baseArb, mutationsArb, cutsArb, fc.array(fc.boolean(), { maxLength: 9 }), async (allow, base, mutations, cuts, pauses) => {
      const hub = new Hub(hubOptions(), log, defaultWriteBatch());
      const transport = new NullTransport();
      const access = async (): Promise<string | null> => (allow ? null : 'denied by the test');
      const session = new RtmpSession(transport, { hub, log, access });
      try {
        // pieces arrive with the access check sometimes still pending, sometimes answered
        const parts = pieces(mutate(base, mutations), cuts);
        for (let i = 0; i < parts.length; i++) {
          session.receive(parts[i]!);
          if (pauses[i] === true) await new Promise((r) => setImmediate(r));
        }
        await new Promise((r) => setImmediate(r));
        expectSaneEnd(session, transport);
        expectHubConsistent(hub, [session]);
        if (!allow) expect(hub.streams.size).toBe(0);
        session.close('end of case');
        await new Promise((r) => setImmediate(r));
        expect(hub.streams.size).toBe(0);
      } finally {
        hub.close();
      }
    }),
  );

});
