// RTMPE crypto: RC4 and XTEA against published test vectors, and the server's encrypted handshake
// checked by a client written here from the published description of librtmp's FP10 variant.
import { createDiffieHellman, createHash, createHmac, getDiffieHellman, randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ServerHandshake } from '../../server/rtmp/handshake.js';
import { Rc4 } from '../../server/rtmp/rc4.js';
import { dhOffset, rtmpeKeys, sharedSecret, type8Signature, xteaEncrypt, dhKeyPair } from '../../server/rtmp/rtmpe.js';

const PRIME = getDiffieHellman('modp2').getPrime();
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

describe('RC4', () => {
  it.each([
    ['Key', 'Plaintext', 'bbf316e8d940af0ad3'],
    ['Wiki', 'pedia', '1021bf0420'],
    ['Secret', 'Attack at dawn', '45a01f645fc35b383552544b9bf5'],
  ])('key %j encrypts %j to the published %s', (key, plain, cipher) => {
    expect(hex(new Rc4(Buffer.from(key)).update(Buffer.from(plain)))).toBe(cipher);
  });

  it('RFC 6229: 40-bit key 0102030405, keystream bytes 0-15 and 1536-1551 (after a skip)', () => {
    const key = Buffer.from('0102030405', 'hex');
    expect(hex(new Rc4(key).update(Buffer.alloc(16)))).toBe('b2396305f03dc027ccc3524a0a1118a8');
    const skipped = new Rc4(key);
    skipped.skip(1536);
    expect(hex(skipped.update(Buffer.alloc(16)))).toBe('d8729db41882259bee4f825325f5a130');
  });

  it('is a stream: any split of the input gives the same bytes, and decrypting restores it', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 32 }), fc.uint8Array({ maxLength: 600 }), fc.array(fc.nat(600)), (key, data, cuts) => {
        const whole = new Rc4(key).update(data);
        const split = new Rc4(key);
        const points = [0, ...[...new Set(cuts.map((c) => Math.min(c, data.length)))].sort((a, b) => a - b), data.length];
        const parts = points.slice(1).map((end, i) => split.update(data.subarray(points[i], end)));
        expect(hex(Buffer.concat(parts))).toBe(hex(whole));
        expect(hex(new Rc4(key).update(whole))).toBe(hex(data));
      }),
    );
  });

  it('refuses an empty key', () => {
    expect(() => new Rc4(new Uint8Array(0))).toThrow(RangeError);
  });
});

describe('XTEA (type 8 signatures)', () => {
  it('matches the published 32-round test vector', () => {
    const [v0, v1] = xteaEncrypt(0x41424344, 0x45464748, [0x00010203, 0x04050607, 0x08090a0b, 0x0c0d0e0f]);
    expect([v0.toString(16), v1.toString(16)]).toEqual(['497df3d0', '72612cb5']);
  });

  it('type8Signature encrypts each 8-byte block as little-endian words with the key picked by the digest byte', () => {
    const sig = Buffer.from(Array.from({ length: 32 }, (_, i) => i));
    const digest = Buffer.alloc(32, 0);
    const out = Buffer.from(sig);
    type8Signature(out, digest);
    // Key 0 of librtmp's table for every block (digest byte 0 % 15 = 0).
    const k0 = [0xbff034b2, 0x11d9081f, 0xccdfb795, 0x748de732];
    for (let i = 0; i < 32; i += 8) {
      const [a, b] = xteaEncrypt(sig.readUInt32LE(i), sig.readUInt32LE(i + 4), k0);
      expect([out.readUInt32LE(i), out.readUInt32LE(i + 4)]).toEqual([a, b]);
    }
  });
});

describe('DH key positions', () => {
  it('keep the 128-byte key clear of the offset bytes and of the digest block of the same scheme', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1536, maxLength: 1536 }), (sig) => {
        const a = dhOffset(sig, 0);
        expect(a).toBeGreaterThanOrEqual(8);
        expect(a + 128).toBeLessThanOrEqual(768);
        const b = dhOffset(sig, 1);
        expect(b).toBeGreaterThanOrEqual(772);
        expect(b + 128).toBeLessThanOrEqual(1532);
      }),
    );
  });
});

// ---- an RTMPE client from the description (librtmp FP10: version 128.0.3.2, digest and key in the "772" layout) ----
const TAIL = Buffer.from('f0eec24a8068bee82e00d0d1029e7e576eec5d2d29806fab93b8e636cfeb31ae', 'hex');
const FP_KEY = Buffer.concat([Buffer.from('Genuine Adobe Flash Player 001'), TAIL]);
const FMS_KEY = Buffer.concat([Buffer.from('Genuine Adobe Flash Media Server 001'), TAIL]);
const hmac = (key: Buffer, ...data: Buffer[]): Buffer => data.reduce((h, d) => h.update(d), createHmac('sha256', key)).digest();
const sum4 = (b: Buffer, at: number): number => b[at]! + b[at + 1]! + b[at + 2]! + b[at + 3]!;
const digestAt = (b: Buffer): number => (sum4(b, 772) % 728) + 776;
const keyAt = (b: Buffer): number => (sum4(b, 768) % 632) + 8;
const withoutDigest = (b: Buffer, at: number): Buffer => Buffer.concat([b.subarray(0, at), b.subarray(at + 32)]);

function seeded(seed: string): (n: number) => Buffer {
  return (n) => {
    const out = Buffer.alloc(n);
    for (let i = 0; i < n; i += 32) createHash('sha256').update(`${seed}:${i}`).digest().copy(out, i);
    return out;
  };
}

function clientHello(type: 6 | 8, random: (n: number) => Buffer, privateKey?: Buffer) {
  const dh = createDiffieHellman(PRIME, 2);
  dh.setPrivateKey(privateKey ?? randomBytes(100));
  dh.generateKeys();
  const pub = Buffer.alloc(128);
  const raw = dh.getPublicKey();
  raw.copy(pub, 128 - raw.length);
  const c1 = random(1536);
  c1.writeUInt32BE(1000, 0);
  c1.set([128, 0, 3, 2], 4);
  pub.copy(c1, keyAt(c1));
  const d = digestAt(c1);
  hmac(FP_KEY.subarray(0, 30), withoutDigest(c1, d)).copy(c1, d);
  return { c0c1: Buffer.concat([Buffer.from([type]), c1]), c1, dh, pub, digest: c1.subarray(d, d + 32) };
}

// Recorded from a run checked end to end against rtmpdump -l 2 (test/e2e/rtmpe.test.ts).
const FIXTURE_S0S1S2_SHA256 = '3d75d56cbcc1602df63f6b83634663116d45583853d7a66d1a8e025790273101';
const FIXTURE_ENCRYPT_KEYSTREAM = '38f9ee17ba43f992';
const FIXTURE_DECRYPT_KEYSTREAM = '636a529704639932';

describe('RTMPE server handshake', () => {
  for (const type of [6, 8] as const) {
    it(`type ${type}: S1 carries a valid FMS digest and our DH key; S2 is signed; both RC4 directions agree`, () => {
      const client = clientHello(type, seeded(`client${type}`));
      const server = new ServerHandshake({ random: seeded('server'), now: () => 5 });
      const r = server.push(Buffer.concat([client.c0c1, Buffer.alloc(1536, 7)]));
      expect(r.done).toBe(true);
      expect(server.mode).toBe('rtmpe');
      const out = r.send!;
      expect(out.length).toBe(3073);
      expect(out[0]).toBe(type);
      const s1 = out.subarray(1, 1537);
      const s2 = out.subarray(1537);
      expect([...s1.subarray(4, 8)].every((b) => b === 0)).toBe(false);
      const d = digestAt(s1);
      expect(hmac(FMS_KEY.subarray(0, 36), withoutDigest(s1, d)).equals(s1.subarray(d, d + 32))).toBe(true);

      const serverPub = Buffer.from(s1.subarray(keyAt(s1), keyAt(s1) + 128));
      const raw = client.dh.computeSecret(serverPub);
      const secret = Buffer.alloc(128);
      raw.subarray(raw.findIndex((b) => b !== 0)).copy(secret);

      const replyKey = hmac(FMS_KEY, client.digest);
      const expected = hmac(replyKey, s2.subarray(0, 1504));
      if (type === 8) type8Signature(expected, replyKey);
      expect(hex(s2.subarray(1504))).toBe(hex(expected));

      // Client keys: out = HMAC(secret, server key), in = HMAC(secret, client key); 1536 bytes skipped.
      const clientOut = new Rc4(hmac(secret, serverPub).subarray(0, 16));
      const clientIn = new Rc4(hmac(secret, client.pub).subarray(0, 16));
      clientOut.skip(1536);
      clientIn.skip(1536);
      const keys = server.encryption!;
      const hello = Buffer.from('connect over RTMPE');
      expect(keys.decrypt.update(clientOut.update(hello)).toString()).toBe('connect over RTMPE');
      const answer = Buffer.from('_result');
      expect(clientIn.update(keys.encrypt.update(answer)).toString()).toBe('_result');
    });
  }

  it('byte fixture: fixed randomness and DH keys give the same S0S1S2 and RC4 keystreams', () => {
    const client = clientHello(6, seeded('fixture-client'), Buffer.alloc(128, 0x11));
    const server = new ServerHandshake({ random: seeded('fixture-server'), now: () => 42, dhPrivateKey: Buffer.alloc(128, 0x22) });
    const r = server.push(client.c0c1);
    expect(createHash('sha256').update(r.send!).digest('hex')).toBe(FIXTURE_S0S1S2_SHA256);
    server.push(Buffer.alloc(1536));
    const keys = server.encryption!;
    expect(hex(keys.decrypt.update(Buffer.alloc(8)))).toBe(FIXTURE_DECRYPT_KEYSTREAM);
    expect(hex(keys.encrypt.update(Buffer.alloc(8)))).toBe(FIXTURE_ENCRYPT_KEYSTREAM);
  });

  it('derives each direction from HMAC(secret, receiving side key) and skips 1536 bytes', () => {
    const secret = Buffer.alloc(128, 3);
    const ours = Buffer.alloc(128, 4);
    const theirs = Buffer.alloc(128, 5);
    const keys = rtmpeKeys(secret, ours, theirs);
    const enc = new Rc4(hmac(secret, theirs).subarray(0, 16));
    enc.skip(1536);
    expect(hex(keys.encrypt.update(Buffer.alloc(16)))).toBe(hex(enc.update(Buffer.alloc(16))));
    const dec = new Rc4(hmac(secret, ours).subarray(0, 16));
    dec.skip(1536);
    expect(hex(keys.decrypt.update(Buffer.alloc(16)))).toBe(hex(dec.update(Buffer.alloc(16))));
  });

  it('the shared secret is left-aligned in 128 bytes, as librtmp keys its HMAC', () => {
    const a = dhKeyPair();
    const b = dhKeyPair();
    const secret = sharedSecret(a.privateKey, b.publicKey);
    expect(secret.length).toBe(128);
    const other = createDiffieHellman(PRIME, 2);
    other.setPrivateKey(b.privateKey);
    const raw = other.computeSecret(a.publicKey);
    const trimmed = raw.subarray(raw.findIndex((x) => x !== 0));
    expect(hex(secret.subarray(0, trimmed.length))).toBe(hex(trimmed));
    expect(secret.subarray(trimmed.length).every((x) => x === 0)).toBe(true);
  });

  it('refuses a C1 without a valid digest, and an invalid DH public key, with handshake errors', () => {
    const bad = clientHello(6, seeded('nodigest'));
    bad.c1[1000] ^= 0xff;
    bad.c1[100] ^= 0xff;
    const noDigest = Buffer.concat([Buffer.from([6]), bad.c1]);
    expect(() => new ServerHandshake().push(noDigest)).toThrow(/no valid Flash Player digest/);

    const c1 = seeded('zero-key')(1536);
    c1.set([128, 0, 3, 2], 4);
    Buffer.alloc(128).copy(c1, keyAt(c1));
    c1[keyAt(c1) + 127] = 1;
    const d = digestAt(c1);
    hmac(FP_KEY.subarray(0, 30), withoutDigest(c1, d)).copy(c1, d);
    expect(() => new ServerHandshake().push(Buffer.concat([Buffer.from([6]), c1]))).toThrow(/invalid Diffie-Hellman public key/);
  });
});
