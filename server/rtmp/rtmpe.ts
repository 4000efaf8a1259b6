// RTMPE, Adobe's encrypted RTMP handshake, as librtmp (rtmpdump) and Flash Player speak it:
// the C1/S1 blocks of the Flash Player 9 digest handshake also carry each side's Diffie-Hellman
// public key (1024-bit MODP group 2, generator 2), and after C2 both directions are RC4 with keys
// derived from the shared secret. It hides the stream from casual inspection; it is not security
// (no authentication of the server, RC4, a 1024-bit group): RTMPS is the secure choice.
import { createDiffieHellman, createHmac, getDiffieHellman, randomBytes, type DiffieHellman } from 'node:crypto';
import { ProtocolError } from '../errors.js';
import { Rc4 } from './rc4.js';
import type { Transport } from './session-contract.js';

export const DH_KEY_BYTES = 128;
/** RFC 2409's 1024-bit MODP group 2, the group librtmp calls P1024 */
const MODP2_PRIME = getDiffieHellman('modp2').getPrime();
const MODP2_P = BigInt(`0x${MODP2_PRIME.toString('hex')}`);
const HANDSHAKE_SIZE = 1536;

/** RTMPE handshake types: 6 plain signatures, 8 signatures run through XTEA (9, Blowfish, is not offered). */
export type RtmpeType = 6 | 8;

/**
 * Where the DH public key sits in C1/S1; it goes with the digest scheme (see handshake.ts):
 * scheme 0 (digest block at 772) keeps the key in the first half, scheme 1 in the second.
 */
export function dhOffset(sig: Uint8Array, scheme: 0 | 1): number {
  const base = scheme === 0 ? 768 : 1532;
  const sum = sig[base]! + sig[base + 1]! + sig[base + 2]! + sig[base + 3]!;
  // 632 + 128 keeps the key clear of both the offset bytes and the digest block.
  return (sum % 632) + (scheme === 0 ? 8 : 772);
}

/** One direction of the encrypted stream: RC4, or the choice between two secrets below. */
export interface StreamCipher {
  update(src: Uint8Array, dst?: Uint8Array): Uint8Array;
}

export interface RtmpeKeys {
  /** decrypts what the peer sends */
  decrypt: StreamCipher;
  /** encrypts what we send */
  encrypt: StreamCipher;
}

// createDiffieHellman checks the prime once (about 0.2 s), and a key pair from getDiffieHellman('modp2')
// costs even more every time; one shared object with a private key we pick costs a few ms per handshake.
// Sharing is safe because a handshake sets the key, computes and reads in one synchronous step.
let engine: DiffieHellman | null = null;
function dhEngine(): DiffieHellman {
  engine ??= createDiffieHellman(MODP2_PRIME, 2);
  return engine;
}

export interface DhKeyPair {
  privateKey: Buffer;
  /** big-endian, left-padded to 128 bytes as it travels in C1/S1 */
  publicKey: Buffer;
}

/** A fresh key pair; `privateKey` is for tests that need fixed bytes. */
export function dhKeyPair(privateKey?: Buffer): DhKeyPair {
  const x = privateKey ?? randomBytes(DH_KEY_BYTES);
  // Below 2^1023, hence below p (whose top 64 bits are all ones).
  if (privateKey === undefined) x[0]! &= 0x7f;
  const dh = dhEngine();
  dh.setPrivateKey(x);
  return { privateKey: x, publicKey: leftPad(dh.generateKeys(), DH_KEY_BYTES) };
}

function leftPad(b: Buffer, n: number): Buffer {
  if (b.length === n) return b;
  const out = Buffer.alloc(n);
  b.copy(out, n - b.length);
  return out;
}

/**
 * The shared secret as the two librtmp builds key their HMAC with. Its OpenSSL build writes the number
 * without leading zeros, then zero bytes up to 128 (`leftAligned`); its GnuTLS build (Debian's) writes
 * it left-padded to 128 bytes (`rightAligned`). They differ only when the secret starts with a zero
 * byte, one handshake in 256.
 */
export function sharedSecretForms(privateKey: Buffer, peerPublicKey: Buffer): { leftAligned: Buffer; rightAligned: Buffer } {
  const y = BigInt(`0x${peerPublicKey.toString('hex')}`);
  if (y < 2n || y > MODP2_P - 2n) throw new ProtocolError('handshake', 'RTMPE peer sent an invalid Diffie-Hellman public key');
  const dh = dhEngine();
  dh.setPrivateKey(privateKey);
  const raw = dh.computeSecret(peerPublicKey);
  let start = 0;
  while (start < raw.length - 1 && raw[start] === 0) start++;
  const leftAligned = Buffer.alloc(DH_KEY_BYTES);
  raw.copy(leftAligned, 0, start);
  return { leftAligned, rightAligned: leftPad(raw.subarray(start), DH_KEY_BYTES) };
}

/** The OpenSSL build's form (see sharedSecretForms). */
export function sharedSecret(privateKey: Buffer, peerPublicKey: Buffer): Buffer {
  return sharedSecretForms(privateKey, peerPublicKey).leftAligned;
}

/**
 * The server's keys whichever librtmp build the client is: one secret when both forms agree; when
 * they differ, the client's first bytes after the handshake settle it (see SecretChoice).
 */
export function serverRtmpeKeys(privateKey: Buffer, ourPublicKey: Buffer, peerPublicKey: Buffer): RtmpeKeys {
  const { leftAligned, rightAligned } = sharedSecretForms(privateKey, peerPublicKey);
  if (leftAligned.equals(rightAligned)) return rtmpeKeys(leftAligned, ourPublicKey, peerPublicKey);
  return new SecretChoice([rtmpeKeys(rightAligned, ourPublicKey, peerPublicKey), rtmpeKeys(leftAligned, ourPublicKey, peerPublicKey)]);
}

/**
 * The start of what a client sends first: a type-0 chunk header on a stream id of 2 to 63 whose
 * message is a command (AMF0 20 or AMF3 17: connect). A wrong key passes this about once in 2000.
 */
function looksLikeFirstChunk(b: Uint8Array): boolean {
  if (b.length === 0 || b[0]! >> 6 !== 0 || (b[0]! & 0x3f) < 2) return false;
  return b.length < 8 || b[7] === 20 || b[7] === 17;
}

/** Keys for two candidate secrets; the first bytes decrypted (or, failing that, sent) settle which. */
class SecretChoice implements RtmpeKeys {
  readonly #candidates: RtmpeKeys[];
  #chosen: RtmpeKeys | null = null;
  readonly decrypt: StreamCipher = { update: (src, dst) => this.#decrypt(src, dst) };
  readonly encrypt: StreamCipher = { update: (src, dst) => this.#settle(0).encrypt.update(src, dst) };

  constructor(candidates: RtmpeKeys[]) {
    this.#candidates = candidates;
  }

  #settle(index: number): RtmpeKeys {
    this.#chosen ??= this.#candidates[index]!;
    return this.#chosen;
  }

  #decrypt(src: Uint8Array, dst?: Uint8Array): Uint8Array {
    if (this.#chosen) return this.#chosen.decrypt.update(src, dst);
    const plain = this.#candidates.map((k) => k.decrypt.update(src));
    const found = Math.max(0, plain.findIndex(looksLikeFirstChunk));
    this.#settle(found);
    if (!dst) return plain[found]!;
    dst.set(plain[found]!);
    return dst;
  }
}

/**
 * RC4 keys: each direction is keyed with the first 16 bytes of HMAC-SHA256(secret, the receiving
 * side's public key), and both keystreams start 1536 bytes in.
 */
export function rtmpeKeys(secret: Buffer, ourPublicKey: Buffer, peerPublicKey: Buffer): RtmpeKeys {
  const key = (pub: Buffer): Buffer => createHmac('sha256', secret).update(pub).digest().subarray(0, 16);
  const encrypt = new Rc4(key(peerPublicKey));
  const decrypt = new Rc4(key(ourPublicKey));
  encrypt.skip(HANDSHAKE_SIZE);
  decrypt.skip(HANDSHAKE_SIZE);
  return { encrypt, decrypt };
}

// Type 8's XTEA keys, public knowledge from librtmp (handshake.h); entry 15 is never selected.
const XTEA_KEYS: readonly (readonly number[])[] = [
  [0xbff034b2, 0x11d9081f, 0xccdfb795, 0x748de732], [0x086a5eb6, 0x1743090e, 0x6ef05ab8, 0xfe5a39e2],
  [0x7b10956f, 0x76ce0521, 0x2388a73a, 0x440149a1], [0xa943f317, 0xebf11bb2, 0xa691a5ee, 0x17f36339],
  [0x7a30e00a, 0xb529e22c, 0xa087aea5, 0xc0cb79ac], [0xbdce0c23, 0x2febdeff, 0x1cfaae16, 0x1123239d],
  [0x55dd3f7b, 0x77e7e62e, 0x9bb8c499, 0xc9481ee4], [0x407bb6b4, 0x71e89136, 0xa7aebf55, 0xca33b839],
  [0xfcf6bdc3, 0xb63c3697, 0x7ce4f825, 0x04d959b2], [0x28e091fd, 0x41954c4c, 0x7fb7db00, 0xe3a066f8],
  [0x57845b76, 0x4f251b03, 0x46d45bcd, 0xa2c30d29], [0x0acceef8, 0xda55b546, 0x03473452, 0x5863713b],
  [0xb82075dc, 0xa75f1fee, 0xd84268e8, 0xa72a44cc], [0x07cf6e9e, 0xa16d7b25, 0x9fa7ae6c, 0xd92f5629],
  [0xfeb1eae4, 0x8c8c3ce1, 0x4e0064a7, 0x6a387c2a],
];

/** XTEA, 32 rounds, on one 64-bit block given as two words. */
export function xteaEncrypt(v0: number, v1: number, k: readonly number[]): [number, number] {
  let sum = 0;
  for (let round = 0; round < 32; round++) {
    v0 = (v0 + ((((v1 << 4) ^ (v1 >>> 5)) + v1) ^ (sum + k[sum & 3]!))) >>> 0;
    sum = (sum + 0x9e3779b9) >>> 0;
    v1 = (v1 + ((((v0 << 4) ^ (v0 >>> 5)) + v0) ^ (sum + k[(sum >>> 11) & 3]!))) >>> 0;
  }
  return [v0, v1];
}

/** Type 8: each 8-byte block of the C2/S2 signature is XTEA-encrypted (little-endian words), keyed by the digest. */
export function type8Signature(signature: Buffer, digestKey: Buffer): void {
  for (let i = 0; i < signature.length; i += 8) {
    const [v0, v1] = xteaEncrypt(signature.readUInt32LE(i), signature.readUInt32LE(i + 4), XTEA_KEYS[digestKey[i]! % 15]!);
    signature.writeUInt32LE(v0, i);
    signature.writeUInt32LE(v1, i + 4);
  }
}

/** Everything written after the handshake goes through RC4; shared buffers are never touched. */
export class Rc4Transport implements Transport {
  readonly #inner: Transport;
  readonly #cipher: StreamCipher;

  constructor(inner: Transport, cipher: StreamCipher) {
    this.#inner = inner;
    this.#cipher = cipher;
  }

  get remoteAddress(): string {
    return this.#inner.remoteAddress;
  }

  get bufferedBytes(): number {
    return this.#inner.bufferedBytes;
  }

  write(buf: Buffer): void {
    this.#inner.write(this.#cipher.update(buf) as Buffer);
  }

  cork(): void {
    this.#inner.cork?.();
  }

  uncork(): void {
    this.#inner.uncork?.();
  }

  close(): void {
    this.#inner.close();
  }
}
