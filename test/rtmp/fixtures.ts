// Shared helpers for the RTMP tests: annotated hex, "replay at every split"
// drivers for the chunk reader, and a scripted RTMP client that drives an
// RtmpSession through a fake Transport.
import { expect } from 'vitest';
import { decodeAmf0, decodeAmf3CommandPayload } from '../../server/amf/amf0.js';
import type { AmfValue } from '../../server/amf/types.js';
import { ProtocolError } from '../../server/errors.js';
import { ChunkStreamReader, type ChunkReaderLimits, type RtmpMessage } from '../../server/rtmp/chunk-reader.js';
import { ChunkStreamWriter, type OutgoingMessage } from '../../server/rtmp/chunk-writer.js';
import { commandMessage } from '../../server/rtmp/commands.js';
import { ClientHandshake } from '../../server/rtmp/handshake.js';
import { MessageType } from '../../server/rtmp/messages.js';
import { RtmpSession, type SessionOptions, type Transport } from '../../server/rtmp/session.js';

/** Joins annotated hex fragments into a Buffer; whitespace and `|` are cosmetic. */
export function hex(...parts: string[]): Buffer {
  return Buffer.from(parts.join('').replace(/[\s|]/g, ''), 'hex');
}

/** Runs `fn` and expects it to throw a ProtocolError with this code. */
export function expectProtocolError(fn: () => unknown, code: string): void {
  let thrown: unknown = null;
  try {
    fn();
  } catch (err) {
    thrown = err;
  }
  expect(thrown).toBeInstanceOf(ProtocolError);
  expect((thrown as ProtocolError).code).toBe(code);
}

/** `n` bytes 0, 1, 2, … (mod 256) starting at `start`: payloads whose every byte position is recognisable. */
export function pattern(n: number, start = 0): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (start + i) & 0xff;
  return b;
}

/** A plain, comparable view of a message (Buffers compare by content in toEqual). */
export interface MsgShape {
  csid: number;
  type: number;
  streamId: number;
  timestamp: number;
  payload: Buffer;
}

export function shape(m: RtmpMessage): MsgShape {
  return { csid: m.csid, type: m.type, streamId: m.streamId, timestamp: m.timestamp, payload: Buffer.from(m.payload) };
}

/** Feed `pieces` to a fresh reader; returns the messages (copied) and the reader. Throws what the reader throws. */
export function readPieces(
  pieces: Buffer[],
  limits: Partial<ChunkReaderLimits> = {},
): { messages: MsgShape[]; reader: ChunkStreamReader } {
  const messages: MsgShape[] = [];
  const reader = new ChunkStreamReader((m) => messages.push(shape(m)), limits);
  for (const p of pieces) reader.push(p);
  return { messages, reader };
}

/** Cut `data` at the given offsets (any order, duplicates and out-of-range values tolerated). */
export function splitAt(data: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => Math.max(0, Math.min(data.length, c))))].sort((a, b) => a - b);
  const bounds = [0, ...points, data.length];
  const out: Buffer[] = [];
  for (let i = 0; i + 1 < bounds.length; i++) {
    if (bounds[i + 1]! > bounds[i]!) out.push(data.subarray(bounds[i], bounds[i + 1]));
  }
  return out;
}

export function oneByteAtATime(data: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < data.length; i++) out.push(data.subarray(i, i + 1));
  return out;
}

/**
 * The replay rule for every parser fixture: `data` parses to `expected` when
 * pushed whole, split in two at every byte boundary, and one byte at a time.
 */
export function expectParsesEverywhere(
  data: Buffer,
  expected: MsgShape[],
  limits: Partial<ChunkReaderLimits> = {},
): void {
  const whole = readPieces([data], limits);
  expect(whole.messages).toEqual(expected);
  expect(whole.reader.bytesReceived).toBe(data.length);
  for (let cut = 1; cut < data.length; cut++) {
    const r = readPieces([data.subarray(0, cut), data.subarray(cut)], limits);
    expect(r.messages, `split at byte ${cut}`).toEqual(expected);
  }
  const bytewise = readPieces(oneByteAtATime(data), limits);
  expect(bytewise.messages, 'one byte at a time').toEqual(expected);
  expect(bytewise.reader.bytesReceived).toBe(data.length);
}

/**
 * The replay rule for fixtures that must fail: however `data` is split, pushing
 * it throws a ProtocolError with `code`, and emits exactly `before` first.
 */
export function expectFailsEverywhere(
  data: Buffer,
  code: string,
  before: MsgShape[] = [],
  limits: Partial<ChunkReaderLimits> = {},
): void {
  const splits: Buffer[][] = [[data], oneByteAtATime(data)];
  for (let cut = 1; cut < data.length; cut++) splits.push([data.subarray(0, cut), data.subarray(cut)]);
  for (const pieces of splits) {
    const messages: MsgShape[] = [];
    const reader = new ChunkStreamReader((m) => messages.push(shape(m)), limits);
    let thrown: unknown = null;
    try {
      for (const p of pieces) reader.push(p);
    } catch (err) {
      thrown = err;
    }
    expect(thrown, `pieces ${pieces.map((p) => p.length).join('+')}`).toMatchObject({ name: 'ProtocolError', code });
    expect(messages).toEqual(before);
  }
}

// ---------------------------------------------------------------------------
// Session driving

/** Collects what the session writes; counts close() calls. */
export class FakeTransport implements Transport {
  readonly remoteAddress = '192.0.2.7:50000';
  bufferedBytes = 0;
  readonly written: Buffer[] = [];
  closeCalls = 0;
  write(buf: Buffer): void {
    // Copy: a shared tag encoding must not be observed through later mutation.
    this.written.push(Buffer.from(buf));
  }
  close(): void {
    this.closeCalls++;
  }
}

/** Resolves after pending microtasks and one macrotask turn (the session's async publish/play steps). */
export function flush(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * A scripted RTMP client: performs the handshake with ClientHandshake, sends
 * messages through its own ChunkStreamWriter, and parses everything the
 * session wrote back (after S0S1S2) with a ChunkStreamReader.
 */
export class TestClient {
  readonly transport = new FakeTransport();
  readonly session: RtmpSession;
  readonly writer = new ChunkStreamWriter();
  /** every message received from the server, in order */
  readonly received: RtmpMessage[] = [];
  #hs = new ClientHandshake();
  #handshakeDone = false;
  #seen = 0;
  #reader = new ChunkStreamReader((m) => this.received.push({ ...m, payload: Buffer.from(m.payload) }));
  #txn = 1;

  constructor(opts: SessionOptions) {
    this.session = new RtmpSession(this.transport, opts);
  }

  /** C0C1 → S0S1S2 → C2; `bytewise` feeds C0C1 and C2 to the session one byte per receive(). */
  handshake(bytewise = false): void {
    const give = (b: Buffer): void => {
      if (!bytewise) this.session.receive(b);
      else for (let i = 0; i < b.length; i++) this.session.receive(b.subarray(i, i + 1));
    };
    give(this.#hs.start());
    const s = Buffer.concat(this.transport.written.splice(0));
    const r = this.#hs.push(s);
    expect(r.done).toBe(true);
    expect(r.rest).toBeNull();
    give(r.send!);
    this.#handshakeDone = true;
  }

  /** chunk-stream bytes sent after the handshake (what the server's acknowledgements count) */
  sentBytes = 0;

  /** Raw bytes to the session. */
  raw(bytes: Buffer): void {
    if (this.#handshakeDone) this.sentBytes += bytes.length;
    this.session.receive(bytes);
  }

  /** Encode with the client's writer without sending, e.g. to send several messages in one receive(). */
  encode(msg: OutgoingMessage): Buffer {
    return this.writer.encode(msg);
  }

  send(msg: OutgoingMessage): void {
    this.raw(this.writer.encode(msg));
  }

  /** The bytes of an AMF0 command with the next transaction id, not sent. */
  encodeCommand(name: string, args: AmfValue[], streamId = 0, commandObject: AmfValue = null): Buffer {
    return this.encode(commandMessage([name, this.#txn++, commandObject, ...args], streamId));
  }

  /** Send an AMF0 command; returns its transaction id. */
  command(name: string, args: AmfValue[], streamId = 0, commandObject: AmfValue = null): number {
    const txn = this.#txn++;
    this.send(commandMessage([name, txn, commandObject, ...args], streamId));
    return txn;
  }

  /** Messages the session wrote since the last call. */
  poll(): RtmpMessage[] {
    const before = this.received.length;
    const fresh = this.transport.written.slice(this.#seen);
    this.#seen = this.transport.written.length;
    if (!this.#handshakeDone) throw new Error('poll() before handshake()');
    for (const b of fresh) this.#reader.push(b);
    return this.received.slice(before);
  }

  static values(msg: RtmpMessage): AmfValue[] {
    if (msg.type === MessageType.CommandAmf3 || msg.type === MessageType.DataAmf3) {
      return decodeAmf3CommandPayload(msg.payload);
    }
    return decodeAmf0(msg.payload);
  }

  /** The ffmpeg connect: app, flashVer, tcUrl… Returns the connect transaction id. */
  connect(app = 'live'): number {
    return this.command('connect', [], 0, {
      app,
      type: 'nonprivate',
      flashVer: 'FMLE/3.0 (compatible; Lavf61.1.100)',
      tcUrl: `rtmp://127.0.0.1:1935/${app}`,
    });
  }
}
