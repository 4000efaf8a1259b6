// Tests for the RTMP handshake state machines (plain §5.2 echo and Flash Player 9 digest variant).
import { createHash, createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ProtocolError } from '../../server/errors.js';
import { ClientHandshake, HANDSHAKE_SIZE, ServerHandshake, type HandshakeResult } from '../../server/rtmp/handshake.js';

// --- Independent verifier: written from the published description, shares nothing with the module. ---
const TAIL = 'f0eec24a8068bee82e00d0d1029e7e576eec5d2d29806fab93b8e636cfeb31ae';
const FP62 = Buffer.concat([Buffer.from('Genuine Adobe Flash Player 001'), Buffer.from(TAIL, 'hex')]);
const FMS68 = Buffer.concat([Buffer.from('Genuine Adobe Flash Media Server 001'), Buffer.from(TAIL, 'hex')]);

function refOffset(block: Buffer, scheme: 0 | 1): number {
  const base = scheme === 0 ? 772 : 8;
  let s = 0;
  for (let i = 0; i < 4; i++) s += block[base + i]!;
  return base + 4 + (s % 728);
}
function refHmac(key: Buffer, data: Buffer): Buffer {
  return createHmac('sha256', key).update(data).digest();
}
/** Returns the digest offset if `block` carries a valid digest for `key` under `scheme`, else -1. */
function refFindDigest(block: Buffer, key: Buffer, scheme: 0 | 1): number {
  const off = refOffset(block, scheme);
  const without = Buffer.concat([block.subarray(0, off), block.subarray(off + 32)]);
  return refHmac(key, without).equals(block.subarray(off, off + 32)) ? off : -1;
}
function refReplyValid(reply: Buffer, peerDigest: Buffer, fullKey: Buffer): boolean {
  const k = refHmac(fullKey, peerDigest);
  return refHmac(k, reply.subarray(0, 1504)).equals(reply.subarray(1504));
}

/** Deterministic RNG so that differently-split runs must produce byte-identical output. */
function seededRandom(seed: string): (n: number) => Buffer {
  let counter = 0;
  return (n) => {
    const parts: Buffer[] = [];
    let len = 0;
    while (len < n) {
      const h = createHash('sha256').update(`${seed}:${counter++}`).digest();
      parts.push(h);
      len += h.length;
    }
    return Buffer.concat(parts).subarray(0, n);
  };
}

/** Feeds `data` cut at `cuts`; returns concatenated `send`, `rest` and the step at which `done` became true. */
function feed(hs: { push(b: Buffer): HandshakeResult }, data: Buffer, cuts: number[]) {
  const points = [...new Set(cuts.map((c) => Math.max(0, Math.min(data.length, c))))].sort((a, b) => a - b);
  const bounds = [0, ...points, data.length];
  const sends: Buffer[] = [];
  let rest: Buffer | null = null;
  let done = false;
  const rests: Buffer[] = [];
  for (let i = 0; i + 1 < bounds.length; i++) {
    const r = hs.push(data.subarray(bounds[i], bounds[i + 1]));
    if (r.send) sends.push(r.send);
    if (r.done) {
      // After completion the whole rest of the stream is chunk data; collect it all.
      if (r.rest) rests.push(r.rest);
      done = true;
    } else {
      expect(r.rest).toBeNull();
    }
  }
  if (rests.length) rest = Buffer.concat(rests);
  return { send: Buffer.concat(sends), rest, done };
}

// Fixture: a plain (version 0) C0C1 with a recognisable pattern.
function plainC0C1(): Buffer {
  const b = Buffer.alloc(1 + HANDSHAKE_SIZE);
  b[0] = 3;
  b.writeUInt32BE(0x01020304, 1);
  for (let i = 9; i < b.length; i++) b[i] = (i * 7) & 0xff;
  return b;
}
const fixedServer = () => new ServerHandshake({ now: () => 0x0a0b0c0d, random: (n) => Buffer.alloc(n, 0xab) });

describe('ServerHandshake — simple (RTMP 1.0 §5.2)', () => {
  const c0c1 = plainC0C1();
  const c2 = Buffer.alloc(HANDSHAKE_SIZE, 0x42);
  const tail = Buffer.from('chunk-stream-start');

  it('answers S0=3, S1=time+zero+random, S2=echo of C1', () => {
    const hs = fixedServer();
    const r = hs.push(c0c1);
    expect(r.done).toBe(false);
    expect(r.rest).toBeNull();
    const s = r.send!;
    expect(s.length).toBe(1 + 2 * HANDSHAKE_SIZE);
    expect(s[0]).toBe(3);
    expect(s.subarray(1, 5).toString('hex')).toBe('0a0b0c0d');
    expect(s.subarray(5, 9).toString('hex')).toBe('00000000');
    expect(s.subarray(9, 1537).equals(Buffer.alloc(HANDSHAKE_SIZE - 8, 0xab))).toBe(true);
    expect(s.subarray(1537).equals(c0c1.subarray(1))).toBe(true);
    expect(hs.mode).toBe('simple');
  });

  it('waits for the full C2, then completes with the trailing bytes as rest (no copy)', () => {
    const hs = fixedServer();
    hs.push(c0c1);
    const r1 = hs.push(c2.subarray(0, HANDSHAKE_SIZE - 1));
    expect(r1).toEqual({ send: null, done: false, rest: null });
    const last = Buffer.concat([c2.subarray(HANDSHAKE_SIZE - 1), tail]);
    const r2 = hs.push(last);
    expect(r2.done).toBe(true);
    expect(r2.send).toBeNull();
    expect(r2.rest!.toString()).toBe('chunk-stream-start');
    expect(r2.rest!.buffer).toBe(last.buffer);
    expect(r2.rest!.byteOffset).toBe(last.byteOffset + 1);
    // Anything pushed afterwards is chunk data and is handed straight back.
    const more = Buffer.from('x');
    expect(hs.push(more)).toEqual({ send: null, done: true, rest: more });
  });

  it('rest is null when C2 ends exactly at the chunk boundary', () => {
    const hs = fixedServer();
    const r = hs.push(Buffer.concat([c0c1, c2]));
    expect(r.done).toBe(true);
    expect(r.send![0]).toBe(3);
    expect(r.rest).toBeNull();
  });

  it('every single split point and one-byte-at-a-time give the same result', () => {
    const all = Buffer.concat([c0c1, c2, tail]);
    const ref = feed(fixedServer(), all, []);
    expect(ref.done).toBe(true);
    expect(ref.rest!.equals(tail)).toBe(true);
    for (let k = 0; k <= all.length; k++) {
      const got = feed(fixedServer(), all, [k]);
      if (!got.send.equals(ref.send) || !got.rest?.equals(tail) || !got.done) {
        throw new Error(`split at ${k} diverged`);
      }
    }
    const bytes = Array.from({ length: all.length }, (_, i) => i);
    const oneByOne = feed(fixedServer(), all, bytes);
    expect(oneByOne.send.equals(ref.send)).toBe(true);
    expect(oneByOne.rest!.equals(tail)).toBe(true);
  });

  it('does not answer before C0+C1 is complete', () => {
    const hs = fixedServer();
    expect(hs.push(c0c1.subarray(0, 1536))).toEqual({ send: null, done: false, rest: null });
    expect(hs.push(Buffer.alloc(0))).toEqual({ send: null, done: false, rest: null });
    expect(hs.push(c0c1.subarray(1536)).send!.length).toBe(3073);
  });
});

describe('version byte', () => {
  for (const v of [0, 6, 0xff, 8, 9, 0x47, 0x16]) {
    it(`refuses C0 = ${v} with a ProtocolError on the first byte (RTMPE turned off)`, () => {
      const hs = new ServerHandshake({ rtmpe: false });
      let err: unknown;
      try {
        hs.push(Buffer.from([v]));
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ProtocolError);
      expect((err as ProtocolError).code).toBe('handshake');
      if (v === 6 || v === 8) expect((err as Error).message).toMatch(/RTMPE .*turned off \(--rtmpe false\)/);
      if (v === 9) expect((err as Error).message).toMatch(/type 9 .*not supported/);
      if (v === 0 || v === 0xff) expect((err as Error).message).toMatch(/only 3 is accepted/);
    });
  }
  it('client refuses an S0 other than 3', () => {
    const c = new ClientHandshake();
    c.start();
    expect(() => c.push(Buffer.from([6, 0, 0]))).toThrow(ProtocolError);
  });
});

describe('digest (Flash Player 9) handshake', () => {
  for (const scheme of [0, 1] as const) {
    it(`scheme ${scheme}: recognises the client digest and answers with a verifiable S1/S2`, () => {
      const client = new ClientHandshake({ digest: true, scheme });
      const c0c1 = client.start();
      const c1 = c0c1.subarray(1);
      expect(c0c1[0]).toBe(3);
      expect(c1.readUInt32BE(4)).not.toBe(0);
      const cOff = refFindDigest(c1, FP62.subarray(0, 30), scheme);
      expect(cOff).toBeGreaterThan(0);
      const clientDigest = c1.subarray(cOff, cOff + 32);

      const server = new ServerHandshake();
      const s = server.push(c0c1).send!;
      expect(server.mode).toBe('digest');
      expect(s[0]).toBe(3);
      const s1 = s.subarray(1, 1537);
      const s2 = s.subarray(1537);
      expect(s1[4]).not.toBe(0);
      expect(refFindDigest(s1, FMS68.subarray(0, 36), scheme)).toBeGreaterThan(0);
      expect(refFindDigest(s1, FMS68.subarray(0, 36), scheme === 0 ? 1 : 0)).toBe(-1);
      expect(refReplyValid(s2, clientDigest, FMS68)).toBe(true);
      // S2 in digest mode is not the plain echo.
      expect(s2.equals(c1)).toBe(false);

      // The client's C2 is signed with the server digest and the full player key.
      const r = client.push(s);
      expect(r.done).toBe(true);
      expect(client.serverDigest).toBe(true);
      const sOff = refFindDigest(s1, FMS68.subarray(0, 36), scheme);
      expect(refReplyValid(r.send!, s1.subarray(sOff, sOff + 32), FP62)).toBe(true);
    });
  }

  it('a corrupted client digest falls back to the plain echo', () => {
    const c0c1 = Buffer.from(new ClientHandshake({ digest: true }).start());
    // Byte 1000 is covered by the scheme-1 digest but is neither the digest nor its offset bytes.
    c0c1[1 + 1000] ^= 1;
    const server = new ServerHandshake();
    const s = server.push(c0c1).send!;
    expect(server.mode).toBe('simple');
    expect(s.readUInt32BE(5)).toBe(0);
    expect(s.subarray(1537).equals(c0c1.subarray(1))).toBe(true);
  });

  it('a non-zero version without any digest falls back to the plain echo', () => {
    const c0c1 = plainC0C1();
    c0c1.writeUInt32BE(0x09007c02, 5);
    const server = new ServerHandshake();
    const s = server.push(c0c1).send!;
    expect(server.mode).toBe('simple');
    expect(s.subarray(1537).equals(c0c1.subarray(1))).toBe(true);
  });

  it('digest client against a plain-echo server echoes S1 as C2', () => {
    const client = new ClientHandshake({ digest: true });
    const c0c1 = client.start();
    const s1 = Buffer.alloc(HANDSHAKE_SIZE, 0x11);
    s1.writeUInt32BE(0, 4);
    const r = client.push(Buffer.concat([Buffer.from([3]), s1, c0c1.subarray(1)]));
    expect(r.done).toBe(true);
    expect(client.serverDigest).toBe(false);
    expect(r.send!.equals(s1)).toBe(true);
  });
});

describe('ServerHandshake ↔ ClientHandshake loopback', () => {
  for (const digest of [false, true]) {
    it(`completes (${digest ? 'digest' : 'simple'})`, () => {
      const client = new ClientHandshake({ digest });
      const server = new ServerHandshake();
      const a = server.push(client.start());
      expect(a.done).toBe(false);
      expect(server.mode).toBe(digest ? 'digest' : 'simple');
      const serverChunks = Buffer.from('server says hi');
      const b = client.push(Buffer.concat([a.send!, serverChunks]));
      expect(b.done).toBe(true);
      expect(b.rest!.toString()).toBe('server says hi');
      expect(client.serverDigest).toBe(digest);
      const payload = Buffer.from('connect...');
      const c = server.push(Buffer.concat([b.send!, payload]));
      expect(c.done).toBe(true);
      expect(c.send).toBeNull();
      expect(c.rest!.equals(payload)).toBe(true);
      if (!digest) expect(b.send!.equals(a.send!.subarray(1, 1537))).toBe(true);
    });
  }
  it('client sends C2 as soon as S0S1 are in and completes only after S2', () => {
    const client = new ClientHandshake();
    const server = new ServerHandshake();
    const s = server.push(client.start()).send!;
    const r1 = client.push(s.subarray(0, 1537));
    expect(r1.send!.length).toBe(HANDSHAKE_SIZE);
    expect(r1.done).toBe(false);
    const r2 = client.push(s.subarray(1537));
    expect(r2).toEqual({ send: null, done: true, rest: null });
  });
});

describe('property: arbitrary segmentation', () => {
  it('random split points always complete with identical output and exact trailing bytes', () => {
    fc.assert(
      fc.property(
        fc.boolean(),
        fc.constantFrom<0 | 1>(0, 1),
        fc.array(fc.integer({ min: 0, max: 1537 + 1536 + 64 }), { maxLength: 40 }),
        fc.uint8Array({ maxLength: 64 }),
        fc.string(),
        (digest, scheme, cuts, trailing, seed) => {
          const c0c1 = new ClientHandshake({ digest, scheme, random: seededRandom(`c${seed}`), now: () => 7 }).start();
          const c2 = Buffer.alloc(HANDSHAKE_SIZE, 0x5c);
          const all = Buffer.concat([c0c1, c2, Buffer.from(trailing)]);
          const mk = () => new ServerHandshake({ now: () => 123456, random: seededRandom(`s${seed}`) });
          const ref = mk().push(all);
          const got = feed(mk(), all, cuts);
          expect(got.done).toBe(true);
          expect(got.send.equals(ref.send!)).toBe(true);
          if (trailing.length === 0) expect(got.rest).toBeNull();
          else expect(got.rest!.equals(Buffer.from(trailing))).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });
});
