// Hostile input, RTMP framing: the handshake, the chunk stream reader, command decoding and announced lengths.
// Run control, the captured publish and the mutations: harness.ts.
import fc from 'fast-check';
import { describe, expect } from 'vitest';
import { decodeAmf0 } from '../../../server/amf/amf0.js';
import { ProtocolError } from '../../../server/errors.js';
import { FlvDemuxer, flvFileHeader } from '../../../server/media/flv.js';
import { ChunkStreamReader } from '../../../server/rtmp/chunk-reader.js';
import { decodeCommand } from '../../../server/rtmp/commands.js';
import { ServerHandshake } from '../../../server/rtmp/handshake.js';
import { parseUserControl, splitAggregate } from '../../../server/rtmp/messages.js';
import {
  property, valueOrProtocolError, CHUNKS, commandPayloads, mutationsArb, mutate, cutsArb, pieces,
} from './harness.js';

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
