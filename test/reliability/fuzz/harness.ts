// Issue: hostile input; this is the harness of fuzz/*.test.ts. Every parser an RTMP peer can reach — handshake, chunk
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
import { expect, it } from 'vitest';
import { decodeAmf0 } from '../../../server/amf/amf0.js';
import { ProtocolError } from '../../../server/errors.js';
import { flvFileHeader, serializeFlvTag } from '../../../server/media/flv.js';
import { ChunkStreamReader, type RtmpMessage } from '../../../server/rtmp/chunk-reader.js';

// ---------------------------------------------------------------------------
// Run control

const env = process.env;
const RUNS = Number(env['FUZZ_RUNS'] ?? '') || undefined;
const SECONDS = Number(env['FUZZ_SECONDS'] ?? '') || undefined;
const SEED = env['FUZZ_SEED'] !== undefined && env['FUZZ_SEED'] !== '' ? Number(env['FUZZ_SEED']) : undefined;
const REPORT = env['FUZZ_REPORT'];

/** One fast-check property as one test: `ciRuns` cases in CI, FUZZ_RUNS / FUZZ_SECONDS under `npm run fuzz`. */
export function property(name: string, ciRuns: number, prop: fc.IRawProperty<any, boolean>): void {
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
export function valueOrProtocolError<T>(fn: () => T): T | ProtocolError {
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
export const CAPTURE = readFileSync(path.join(here, '..', '..', 'fixtures', 'ffmpeg-publish.rtmp'));
export const HANDSHAKE_BYTES = 1537 + 1536;
export const CHUNKS = CAPTURE.subarray(HANDSHAKE_BYTES);

interface Captured {
  msg: RtmpMessage;
  /** offset in CAPTURE just past the message's last byte */
  end: number;
}
export const MESSAGES: Captured[] = (() => {
  const out: Captured[] = [];
  let at = 0;
  const reader = new ChunkStreamReader((m) => out.push({ msg: { ...m, payload: Buffer.from(m.payload) }, end: at + 1 }));
  for (at = HANDSHAKE_BYTES; at < CAPTURE.length; at++) reader.push(CAPTURE.subarray(at, at + 1));
  return out;
})();
export const commandPayloads = MESSAGES.filter((m) => m.msg.type === 20).map((m) => m.msg.payload);
export const dataPayloads = MESSAGES.filter((m) => m.msg.type === 18).map((m) => m.msg.payload);
export const videoConfig = MESSAGES.find((m) => m.msg.type === 9 && m.msg.payload[1] === 0)!;
export const audioConfig = MESSAGES.find((m) => m.msg.type === 8 && m.msg.payload[1] === 0)!;
export const keyframe = MESSAGES.find((m) => m.msg.type === 9 && m.msg.payload[0] === 0x17 && m.msg.payload[1] === 1)!;
export const publishCommand = MESSAGES.find((m) => m.msg.type === 20 && decodeAmf0(m.msg.payload)[0] === 'publish')!;
export const connectCommand = MESSAGES.find((m) => m.msg.type === 20 && decodeAmf0(m.msg.payload)[0] === 'connect')!;
export const FLV = Buffer.concat([
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
export const mutationsArb = fc.array(mutationArb, { minLength: 1, maxLength: 8 });

export function mutate(seed: Buffer, mutations: readonly Mutation[], from = 0): Buffer {
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
export const cutsArb = fc.array(fc.nat(), { maxLength: 8 });
export function pieces(data: Buffer, cuts: readonly number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (data.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let prev = 0;
  for (const p of [...points, data.length]) {
    if (p > prev) out.push(data.subarray(prev, p));
    prev = p;
  }
  return out;
}
