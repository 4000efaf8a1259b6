// Issue: hostile input. Every parser an RTMP peer can reach — handshake, chunk
// stream reader, AMF0/AMF3, command decoding, FLV demuxer, codec configuration
// parsers — and a whole RtmpSession with a real Hub are fed random bytes and
// mutated copies of a real ffmpeg publish (test/fixtures/ffmpeg-publish.rtmp,
// re-recorded with `npm run fuzz -- --capture`). Every input must end in a
// value or a ProtocolError; a session must keep going or close with a reason,
// never throw; and the hub must never keep a stream whose publisher is closed.
//
// Run counts: a short CI pass by default. `npm run fuzz` (scripts/fuzz.ts) sets
// FUZZ_RUNS (cases per property), FUZZ_SECONDS (time cap per property),
// FUZZ_SEED and FUZZ_REPORT (JSON lines: name, runs, ms) for a long run.
import { appendFileSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeAmf0, decodeAmf3CommandPayload, encodeAmf0 } from '../../server/amf/amf0.js';
import { decodeAmf3, encodeAmf3 } from '../../server/amf/amf3.js';
import type { AmfValue } from '../../server/amf/types.js';
import { ProtocolError } from '../../server/errors.js';
import { Hub } from '../../server/hub/hub.js';
import { defaultWriteBatch, hubOptions } from '../hub/fixtures.js';
import type { MediaTag } from '../../server/hub/media-tag.js';
import type { EndReason, Sink } from '../../server/hub/subscriber.js';
import { classifyAudio, classifyVideo } from '../../server/hub/track-info.js';
import { silentLogger } from '../../server/log.js';
import { parseAacAudioSpecificConfig } from '../../server/media/aac.js';
import { parseAudioTagHeader } from '../../server/media/audio.js';
import { parseAvcDecoderConfig } from '../../server/media/avc.js';
import { FlvDemuxer, flvFileHeader, serializeFlvTag } from '../../server/media/flv.js';
import { parseHevcDecoderConfig } from '../../server/media/hevc.js';
import { parseVideoTagHeader } from '../../server/media/video.js';
import { ChunkStreamReader, type RtmpMessage } from '../../server/rtmp/chunk-reader.js';
import { decodeCommand } from '../../server/rtmp/commands.js';
import { ServerHandshake } from '../../server/rtmp/handshake.js';
import { parseUserControl, splitAggregate } from '../../server/rtmp/messages.js';
import { RtmpSession, type Transport } from '../../server/rtmp/session.js';

// ---------------------------------------------------------------------------
// Run control

const env = process.env;
const RUNS = Number(env['FUZZ_RUNS'] ?? '') || undefined;
const SECONDS = Number(env['FUZZ_SECONDS'] ?? '') || undefined;
const SEED = env['FUZZ_SEED'] !== undefined && env['FUZZ_SEED'] !== '' ? Number(env['FUZZ_SEED']) : undefined;
const REPORT = env['FUZZ_REPORT'];

/** One fast-check property as one test: `ciRuns` cases in CI, FUZZ_RUNS / FUZZ_SECONDS under `npm run fuzz`. */
function property(name: string, ciRuns: number, prop: fc.IRawProperty<any, boolean>): void {
  const timeout = SECONDS !== undefined ? SECONDS * 1000 + 120_000 : 60_000;
  it(name, async () => {
    const started = performance.now();
    const details = await fc.check(prop, {
      numRuns: RUNS ?? ciRuns,
      ...(SECONDS !== undefined ? { interruptAfterTimeLimit: SECONDS * 1000, markInterruptAsFailure: false } : {}),
      ...(SEED !== undefined ? { seed: SEED } : {}),
    });
    const ms = performance.now() - started;
    if (REPORT !== undefined) {
      appendFileSync(
        REPORT,
        `${JSON.stringify({ name, runs: details.numRuns, ms, failed: details.failed, interrupted: details.interrupted, seed: details.seed })}\n`,
      );
    }
    if (details.failed) throw new Error(fc.defaultReportMessage(details) ?? `property failed (seed ${details.seed})`);
    expect(details.numRuns).toBeGreaterThan(0);
  }, timeout);
}

/** A returned value or a ProtocolError is fine; anything else (TypeError, RangeError, …) fails the case. */
function valueOrProtocolError<T>(fn: () => T): T | ProtocolError {
  try {
    return fn();
  } catch (err) {
    if (err instanceof ProtocolError) return err;
    throw err;
  }
}

// ---------------------------------------------------------------------------
// The captured publish and what is in it

const here = path.dirname(fileURLToPath(import.meta.url));
const CAPTURE = readFileSync(path.join(here, '..', 'fixtures', 'ffmpeg-publish.rtmp'));
const HANDSHAKE_BYTES = 1537 + 1536;
const CHUNKS = CAPTURE.subarray(HANDSHAKE_BYTES);

interface Captured {
  msg: RtmpMessage;
  /** offset in CAPTURE just past the message's last byte */
  end: number;
}
const MESSAGES: Captured[] = (() => {
  const out: Captured[] = [];
  let at = 0;
  const reader = new ChunkStreamReader((m) => out.push({ msg: { ...m, payload: Buffer.from(m.payload) }, end: at + 1 }));
  for (at = HANDSHAKE_BYTES; at < CAPTURE.length; at++) reader.push(CAPTURE.subarray(at, at + 1));
  return out;
})();
const commandPayloads = MESSAGES.filter((m) => m.msg.type === 20).map((m) => m.msg.payload);
const dataPayloads = MESSAGES.filter((m) => m.msg.type === 18).map((m) => m.msg.payload);
const videoConfig = MESSAGES.find((m) => m.msg.type === 9 && m.msg.payload[1] === 0)!;
const audioConfig = MESSAGES.find((m) => m.msg.type === 8 && m.msg.payload[1] === 0)!;
const keyframe = MESSAGES.find((m) => m.msg.type === 9 && m.msg.payload[0] === 0x17 && m.msg.payload[1] === 1)!;
const publishCommand = MESSAGES.find((m) => m.msg.type === 20 && decodeAmf0(m.msg.payload)[0] === 'publish')!;
const connectCommand = MESSAGES.find((m) => m.msg.type === 20 && decodeAmf0(m.msg.payload)[0] === 'connect')!;
const FLV = Buffer.concat([
  flvFileHeader(true, true),
  ...MESSAGES.filter((m) => [8, 9, 18].includes(m.msg.type)).slice(0, 24).map((m) => serializeFlvTag(m.msg.type, m.msg.timestamp, m.msg.payload)),
]);

// ---------------------------------------------------------------------------
// Mutations: bit flips, overwrites, insertions, deletions, duplicated ranges, truncation

type Mutation =
  | { kind: 'flip'; at: number; bit: number }
  | { kind: 'set'; at: number; value: number }
  | { kind: 'insert'; at: number; bytes: Uint8Array }
  | { kind: 'delete'; at: number; len: number }
  | { kind: 'duplicate'; at: number; from: number; len: number }
  | { kind: 'truncate'; at: number };

/** Offsets biased to the start of the input, where the handshake, commands and headers are. */
const offsetArb = fc.oneof(
  { weight: 2, arbitrary: fc.integer({ min: 0, max: 4_095 }) },
  { weight: 1, arbitrary: fc.nat() },
);
const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('flip' as const), at: offsetArb, bit: fc.integer({ min: 0, max: 7 }) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('set' as const), at: offsetArb, value: fc.oneof(fc.constantFrom(0, 0xff, 0x7f, 0x80, 3), fc.nat({ max: 255 })) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('insert' as const), at: offsetArb, bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('delete' as const), at: offsetArb, len: fc.integer({ min: 1, max: 64 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('duplicate' as const), at: offsetArb, from: offsetArb, len: fc.integer({ min: 1, max: 4_096 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }) },
);
const mutationsArb = fc.array(mutationArb, { minLength: 1, maxLength: 8 });

function mutate(seed: Buffer, mutations: readonly Mutation[], from = 0): Buffer {
  let b = Buffer.from(seed);
  for (const m of mutations) {
    const span = b.length - from;
    if (span <= 0) break;
    const at = from + (m.at % span);
    switch (m.kind) {
      case 'flip':
        b[at]! ^= 1 << m.bit;
        break;
      case 'set':
        b[at] = m.value;
        break;
      case 'insert':
        b = Buffer.concat([b.subarray(0, at), m.bytes, b.subarray(at)]);
        break;
      case 'delete':
        b = Buffer.concat([b.subarray(0, at), b.subarray(at + m.len)]);
        break;
      case 'duplicate': {
        const src = from + (m.from % span);
        b = Buffer.concat([b.subarray(0, at), b.subarray(src, src + m.len), b.subarray(at)]);
        break;
      }
      case 'truncate':
        b = b.subarray(0, at);
        break;
    }
  }
  return b;
}

/** Cut points for delivering bytes in pieces, as TCP would. */
const cutsArb = fc.array(fc.nat(), { maxLength: 8 });
function pieces(data: Buffer, cuts: readonly number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (data.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let prev = 0;
  for (const p of [...points, data.length]) {
    if (p > prev) out.push(data.subarray(prev, p));
    prev = p;
  }
  return out;
}

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
    'the server handshake answers any bytes, in any split, with exactly S0S1S2 or a handshake ProtocolError',
    5_000,
    fc.property(fc.boolean(), fc.uint8Array({ maxLength: 3_500 }), cutsArb, (rtmp3, raw, cuts) => {
      const data = Buffer.from(raw);
      if (rtmp3 && data.length > 0) data[0] = 3;
      const hs = new ServerHandshake();
      let sent = 0;
      let consumed = 0;
      let done = false;
      try {
        for (const p of pieces(data, cuts)) {
          const r = hs.push(p);
          if (r.send !== null) sent += r.send.length;
          if (r.done && !done) {
            done = true;
            consumed += p.length - (r.rest?.length ?? 0);
          } else if (!done) consumed += p.length;
        }
      } catch (err) {
        expect(err).toBeInstanceOf(ProtocolError);
        expect((err as ProtocolError).code).toBe('handshake');
        return;
      }
      expect(sent === 0 || sent === 1 + 2 * 1536).toBe(true);
      expect(sent > 0).toBe(Math.min(consumed, data.length) >= 1537);
      if (done) expect(consumed).toBe(1537 + 1536);
    }),
  );

  property(
    'the chunk stream reader turns random bytes into messages or a ProtocolError, never holding more than it was given',
    5_000,
    fc.property(fc.uint8Array({ maxLength: 2_000 }), cutsArb, (raw, cuts) => {
      const reader = new ChunkStreamReader(() => {}, { maxMessageBytes: 64 * 1024 });
      let pushed = 0;
      const r = valueOrProtocolError(() => {
        for (const p of pieces(Buffer.from(raw), cuts)) {
          reader.push(p);
          pushed += p.length;
          // Nothing is allocated for bytes a header announces but that have not arrived.
          expect(reader.bufferedBytes).toBeLessThanOrEqual(pushed);
        }
      });
      if (r instanceof ProtocolError) expect(['chunk', 'message', 'limit']).toContain(r.code);
    }),
  );

  property(
    'the chunk stream reader parses mutated captures of a real publish into bounded messages or a ProtocolError',
    2_000,
    fc.property(mutationsArb, cutsArb, (mutations, cuts) => {
      const data = mutate(CHUNKS.subarray(0, 40_000), mutations);
      const max = 64 * 1024;
      const reader = new ChunkStreamReader(
        (m) => {
          expect(m.payload.length).toBeLessThanOrEqual(max);
          // the control messages the session parses on receipt must not throw anything but ProtocolError
          if (m.type === 4) valueOrProtocolError(() => parseUserControl(m.payload));
          if (m.type === 22) valueOrProtocolError(() => splitAggregate(m));
        },
        { maxMessageBytes: max },
      );
      let pushed = 0;
      valueOrProtocolError(() => {
        for (const p of pieces(data, cuts)) {
          reader.push(p);
          pushed += p.length;
          expect(reader.bufferedBytes).toBeLessThanOrEqual(pushed);
        }
      });
    }),
  );

  // Beyond "a value or a ProtocolError" (test/media/hostile.test.ts's check for the media parsers): what the
  // decoder accepted from hostile bytes is a value the encoder writes and the decoder reads back unchanged,
  // so nothing half-built (a cyclic reference, a hole, a wrong type) gets past it into the hub.
  const amf0RoundTrips = (values: AmfValue[]): void => {
    expect(decodeAmf0(encodeAmf0(values))).toEqual(values);
  };
  const amf3RoundTrips = (value: AmfValue): void => {
    expect(decodeAmf3(encodeAmf3(value)).value).toEqual(value);
  };

  property(
    'AMF0 decoding of random bytes yields an amf ProtocolError or values that round-trip through the encoder',
    10_000,
    fc.property(fc.uint8Array({ maxLength: 300 }), (raw) => {
      const r = valueOrProtocolError(() => decodeAmf0(Buffer.from(raw)));
      if (r instanceof ProtocolError) expect(r.code).toBe('amf');
      else amf0RoundTrips(r);
    }),
  );

  property(
    'AMF0 decoding of mutated real commands and metadata yields an amf ProtocolError or values that round-trip',
    10_000,
    fc.property(fc.constantFrom(...commandPayloads, ...dataPayloads), mutationsArb, (seed, mutations) => {
      const r = valueOrProtocolError(() => decodeAmf0(mutate(seed, mutations)));
      if (r instanceof ProtocolError) expect(r.code).toBe('amf');
      else amf0RoundTrips(r);
    }),
  );

  const amf3Seeds = [
    ...dataPayloads.map((p) => encodeAmf3(decodeAmf0(p)[2] as AmfValue)),
    ...commandPayloads.map((p) => Buffer.concat([Buffer.from([0]), p])),
    // AMF0 switching to AMF3 mid-body (0x11), as AMF3 clients send
    Buffer.concat([Buffer.from([0]), encodeAmf0(['connect', 1]), Buffer.from([0x11]), encodeAmf3(decodeAmf0(connectCommand.msg.payload)[2] as AmfValue)]),
  ];
  property(
    'AMF3 decoding of random bytes yields an amf ProtocolError or a value that round-trips through the encoder',
    10_000,
    fc.property(fc.uint8Array({ maxLength: 300 }), (raw) => {
      const b = Buffer.from(raw);
      const value = valueOrProtocolError(() => decodeAmf3(b).value);
      if (value instanceof ProtocolError) expect(value.code).toBe('amf');
      else amf3RoundTrips(value);
      const command = valueOrProtocolError(() => decodeAmf3CommandPayload(b));
      if (command instanceof ProtocolError) expect(command.code).toBe('amf');
    }),
  );

  property(
    'AMF3 decoding of mutated real values and AMF3 command bodies yields an amf ProtocolError or a value that round-trips',
    10_000,
    fc.property(fc.constantFrom(...amf3Seeds), mutationsArb, (seed, mutations) => {
      const b = mutate(seed, mutations);
      const value = valueOrProtocolError(() => decodeAmf3(b).value);
      if (value instanceof ProtocolError) expect(value.code).toBe('amf');
      else amf3RoundTrips(value);
      const command = valueOrProtocolError(() => decodeAmf3CommandPayload(b));
      if (command instanceof ProtocolError) expect(command.code).toBe('amf');
    }),
  );

  property(
    'command decoding of mutated real commands (AMF0 and AMF3) yields a command or a ProtocolError',
    10_000,
    fc.property(fc.constantFrom(...commandPayloads), fc.constantFrom(17, 20), mutationsArb, (seed, type, mutations) => {
      const body = mutate(type === 17 ? Buffer.concat([Buffer.from([0]), seed]) : seed, mutations);
      const r = valueOrProtocolError(() => decodeCommand(type, body));
      if (r instanceof ProtocolError) expect(['amf', 'command']).toContain(r.code);
      else expect(typeof r.name).toBe('string');
    }),
  );

  property(
    'the FLV demuxer reads mutated FLV of real media, in any split, into bounded tags or an flv ProtocolError',
    5_000,
    fc.property(mutationsArb, cutsArb, (mutations, cuts) => {
      const data = mutate(FLV, mutations);
      const d = new FlvDemuxer({ maxTagBytes: 32 * 1024 });
      let pushed = 0;
      const r = valueOrProtocolError(() => {
        for (const p of pieces(data, cuts)) {
          for (const t of d.push(p)) expect(t.payload.length).toBeLessThanOrEqual(32 * 1024);
          pushed += p.length;
          expect(d.pendingBytes).toBeLessThanOrEqual(pushed);
        }
      });
      if (r instanceof ProtocolError) expect(r.code).toBe('flv');
    }),
  );

  property(
    'video tag and AVC/HEVC configuration parsers take mutated real sequence headers and keyframes to a value or a ProtocolError',
    10_000,
    fc.property(fc.constantFrom(videoConfig.msg.payload, keyframe.msg.payload.subarray(0, 64)), mutationsArb, (seed, mutations) => {
      const body = mutate(seed, mutations);
      // the hub's classifier must absorb every parser error itself: it runs on the publish path
      const c = classifyVideo(body);
      if (c.config !== undefined) {
        expect(Number.isInteger(c.config.width) && c.config.width >= 0 && c.config.width <= 65535).toBe(true);
        expect(Number.isInteger(c.config.height) && c.config.height >= 0 && c.config.height <= 65535).toBe(true);
      }
      const h = valueOrProtocolError(() => parseVideoTagHeader(body));
      if (!(h instanceof ProtocolError)) {
        expect(h.dataOffset).toBeLessThanOrEqual(body.length);
        valueOrProtocolError(() => parseAvcDecoderConfig(body.subarray(h.dataOffset)));
        valueOrProtocolError(() => parseHevcDecoderConfig(body.subarray(h.dataOffset)));
      }
    }),
  );

  property(
    'audio tag and AAC configuration parsers take mutated real sequence headers to a value or a ProtocolError',
    10_000,
    fc.property(fc.constantFrom(audioConfig.msg.payload, MESSAGES.find((m) => m.msg.type === 8 && m.msg.payload[1] === 1)!.msg.payload.subarray(0, 32)), mutationsArb, (seed, mutations) => {
      const body = mutate(seed, mutations);
      const c = classifyAudio(body);
      if (c.config !== undefined) expect(c.config.sampleRate).toBeGreaterThanOrEqual(0);
      const h = valueOrProtocolError(() => parseAudioTagHeader(body));
      if (!(h instanceof ProtocolError)) {
        expect(h.dataOffset).toBeLessThanOrEqual(body.length);
        valueOrProtocolError(() => parseAacAudioSpecificConfig(body.subarray(h.dataOffset)));
      }
    }),
  );

  property(
    'an RtmpSession fed a mutated real publish keeps going or closes with a reason, and the hub stays consistent',
    1_500,
    fc.property(baseArb, mutationsArb, cutsArb, (base, mutations, cuts) => {
      const hub = new Hub(hubOptions(), log, defaultWriteBatch());
      const { session, transport } = newSession(hub);
      try {
        feed(session, mutate(base, mutations), cuts);
        expectSaneEnd(session, transport);
        expectHubConsistent(hub, [session]);
        session.close('end of case');
        // closing the only publisher leaves nothing behind
        expect(hub.streams.size).toBe(0);
      } finally {
        hub.close();
      }
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
      const hub = new Hub(hubOptions(), log, defaultWriteBatch());
      const { session, transport } = newSession(hub);
      try {
        feed(session, Buffer.concat([CAPTURE.subarray(0, prefix), Buffer.from(raw)]), cuts.map((c) => c + prefix));
        expectSaneEnd(session, transport);
        expectHubConsistent(hub, [session]);
        session.close('end of case');
        expect(hub.streams.size).toBe(0);
      } finally {
        hub.close();
      }
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

  property(
    'announced lengths are not trusted: huge lengths with few bytes behind them allocate nothing and fail or wait',
    2_000,
    fc.property(fc.integer({ min: 65_536, max: 0xffffff }), fc.integer({ min: 0, max: 64 }), (announced, have) => {
      // chunk header type 0 announcing `announced` bytes: refused by the limit at once, before any payload
      const header = Buffer.from([0x03, 0, 0, 0, (announced >> 16) & 0xff, (announced >> 8) & 0xff, announced & 0xff, 20, 0, 0, 0, 0]);
      const reader = new ChunkStreamReader(() => {}, { maxMessageBytes: 65_535 });
      const r = valueOrProtocolError(() => reader.push(Buffer.concat([header, Buffer.alloc(have)])));
      expect(r).toBeInstanceOf(ProtocolError);
      expect((r as ProtocolError).code).toBe('limit');
      // under the limit it waits, holding only what arrived
      const lenient = new ChunkStreamReader(() => {}, { maxMessageBytes: 0xffffff });
      lenient.push(Buffer.concat([header, Buffer.alloc(have)]));
      expect(lenient.bufferedBytes).toBe(Math.min(have, 128));
      // AMF0 long string and strict array announcing more than there is
      const long = Buffer.concat([Buffer.from([0x0c]), Buffer.alloc(4), Buffer.alloc(have)]);
      long.writeUInt32BE(announced, 1);
      expect(valueOrProtocolError(() => decodeAmf0(long))).toBeInstanceOf(ProtocolError);
      const arr = Buffer.concat([Buffer.from([0x0a]), Buffer.alloc(4), Buffer.alloc(have)]);
      arr.writeUInt32BE(announced, 1);
      expect(valueOrProtocolError(() => decodeAmf0(arr))).toBeInstanceOf(ProtocolError);
      // an FLV tag announcing a large body: pending bytes are what arrived
      const d = new FlvDemuxer();
      const tag = Buffer.alloc(11 + have);
      tag[0] = 9;
      tag.writeUIntBE(announced, 1, 3);
      d.push(Buffer.concat([flvFileHeader(true, true), tag]));
      expect(d.pendingBytes).toBe(11 + have);
    }),
  );
});
