// RTMP handshake: RTMP 1.0 spec §5.2 (plain C0/C1/C2 ↔ S0/S1/S2) plus the Flash Player 9 "digest" variant, as pure state machines.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { ProtocolError } from '../errors.js';
import { DH_KEY_BYTES, dhKeyPair, dhOffset, serverRtmpeKeys, type RtmpeKeys, type RtmpeType, type8Signature } from './rtmpe.js';

export const HANDSHAKE_SIZE = 1536;

const RTMP_VERSION = 3;
const DIGEST_SIZE = 32;
const C0C1_SIZE = 1 + HANDSHAKE_SIZE;
const S0S1S2_SIZE = 1 + 2 * HANDSHAKE_SIZE;

// The 32 bytes that follow the printable prefix of both Adobe handshake keys. They are public knowledge:
// librtmp (handshake.h), FFmpeg (rtmpproto.c), nginx-rtmp and SRS all carry the same constant.
const KEY_TAIL = Buffer.from('f0eec24a8068bee82e00d0d1029e7e576eec5d2d29806fab93b8e636cfeb31ae', 'hex');
const FP_KEY = Buffer.concat([Buffer.from('Genuine Adobe Flash Player 001', 'latin1'), KEY_TAIL]); // 62 bytes
const FMS_KEY = Buffer.concat([Buffer.from('Genuine Adobe Flash Media Server 001', 'latin1'), KEY_TAIL]); // 68 bytes
// C1/S1 digests are keyed with only the printable prefix; the full keys are reserved for the C2/S2 signatures.
const FP_KEY_PREFIX = FP_KEY.subarray(0, 30);
const FMS_KEY_PREFIX = FMS_KEY.subarray(0, 36);

// Advertised in S1 bytes 4..7. librtmp and FFmpeg only look for a server digest when byte 4 is non-zero.
const SERVER_VERSION = [4, 5, 0, 1] as const;
// FFmpeg presents itself as Flash Player 9.0.124.2; servers that gate on the player version accept that.
const CLIENT_VERSION = [9, 0, 124, 2] as const;

/**
 * Where the 1536-byte C1/S1 keeps its digest. Numbering follows nginx-rtmp/SRS:
 * scheme 0 = "key block then digest block" (digest block starts at 772),
 * scheme 1 = "digest block then key block" (digest block starts at 8).
 * librtmp numbers them the other way round (its offset 1 is our scheme 1).
 * Flash Player, librtmp and FFmpeg send scheme 1 for plain RTMP; scheme 0 is used by RTMPE and a few encoders.
 */
export type DigestScheme = 0 | 1;

export type HandshakeResult = { send: Buffer | null; done: boolean; rest: Buffer | null };

type Random = (n: number) => Buffer;

function digestOffset(sig: Buffer, scheme: DigestScheme): number {
  const base = scheme === 0 ? 772 : 8;
  // Sum of 4 bytes mod 728 keeps the 32-byte digest inside its 764-byte block (4 bytes of offset + 728 + 32).
  const sum = sig[base]! + sig[base + 1]! + sig[base + 2]! + sig[base + 3]!;
  return (sum % 728) + base + 4;
}

function hmac(key: Buffer, ...parts: Buffer[]): Buffer {
  const h = createHmac('sha256', key);
  for (const p of parts) h.update(p);
  return h.digest();
}

/** HMAC over the whole 1536-byte block except the 32 bytes that will hold the digest itself. */
function blockDigest(sig: Buffer, offset: number, key: Buffer): Buffer {
  return hmac(key, sig.subarray(0, offset), sig.subarray(offset + DIGEST_SIZE));
}

function findDigest(sig: Buffer, key: Buffer, order: readonly DigestScheme[]): { scheme: DigestScheme; offset: number } | null {
  for (const scheme of order) {
    const offset = digestOffset(sig, scheme);
    if (timingSafeEqual(blockDigest(sig, offset, key), sig.subarray(offset, offset + DIGEST_SIZE))) {
      return { scheme, offset };
    }
  }
  return null;
}

/** Stamps a digest into `sig` (random bytes already in place, which also pick the position). Returns the offset. */
function writeDigest(sig: Buffer, scheme: DigestScheme, key: Buffer): number {
  const offset = digestOffset(sig, scheme);
  blockDigest(sig, offset, key).copy(sig, offset);
  return offset;
}

/**
 * C2/S2 in the digest handshake prove knowledge of the full key *and* the peer's digest:
 * last 32 bytes = HMAC(HMAC(fullKey, peerDigest), first 1504 bytes).
 */
function signReply(reply: Buffer, peerDigest: Buffer, fullKey: Buffer): Buffer {
  const replyKey = hmac(fullKey, peerDigest);
  hmac(replyKey, reply.subarray(0, HANDSHAKE_SIZE - DIGEST_SIZE)).copy(reply, HANDSHAKE_SIZE - DIGEST_SIZE);
  return replyKey;
}

/** Copies `n` bytes from the injected RNG; a short RNG result leaves zeros rather than stale memory. */
function fillRandom(dst: Buffer, at: number, n: number, random: Random): void {
  random(n).copy(dst, at, 0, n);
}

function checkVersion(v: number, peer: 'client' | 'server', rtmpe = false): void {
  if (v === RTMP_VERSION) return;
  const hex = `0x${v.toString(16).padStart(2, '0')}`;
  if ((v === 6 || v === 8) && rtmpe) return;
  if (v === 6 || v === 8) {
    throw new ProtocolError('handshake', `${peer} requested RTMPE (encrypted RTMP, type ${v}), which is turned off (--rtmpe false)`);
  }
  if (v === 9) {
    throw new ProtocolError('handshake', `${peer} requested RTMPE type 9 (Blowfish-signed handshake), which is not supported; types 6 and 8 are`);
  }
  // Misdirected traffic is common on 1935; naming it saves a round of packet captures.
  if (v === 0x16) {
    throw new ProtocolError('handshake', `${peer} sent a TLS ClientHello (byte ${hex}); use plain rtmp:// on this port`);
  }
  if (v === 0x47 || v === 0x50 || v === 0x48 || v === 0x4f) {
    throw new ProtocolError('handshake', `${peer} sent what looks like HTTP (first byte ${hex} '${String.fromCharCode(v)}') to the RTMP port`);
  }
  throw new ProtocolError('handshake', `unsupported RTMP version byte ${hex} from ${peer} (only 3 is accepted)`);
}

/** Pure server-side handshake state machine: no sockets. */
export class ServerHandshake {
  private readonly now: () => number;
  private readonly random: Random;
  private state: 'c0c1' | 'c2' | 'done' = 'c0c1';
  // Only allocated when C0C1 arrives fragmented; a single-segment C0C1 is read in place.
  private partial: Buffer | null = null;
  private have = 0;
  // C2 is counted, not stored: nothing in it is checked, so buffering it would only cost memory.
  private c2Remaining = HANDSHAKE_SIZE;
  private _mode: 'simple' | 'digest' | 'rtmpe' | null = null;
  private readonly rtmpe: boolean;
  private readonly dhPrivateKey: Buffer | undefined;
  private type: 3 | RtmpeType = RTMP_VERSION;
  private _keys: RtmpeKeys | null = null;

  /**
   * rtmpe: answer the encrypted handshake types 6 and 8 (default true).
   * dhPrivateKey: a fixed Diffie-Hellman private key, for byte fixtures.
   */
  constructor(opts?: { now?: () => number; random?: (n: number) => Buffer; rtmpe?: boolean; dhPrivateKey?: Buffer }) {
    this.now = opts?.now ?? defaultNow;
    this.random = opts?.random ?? randomBytes;
    this.rtmpe = opts?.rtmpe ?? true;
    this.dhPrivateKey = opts?.dhPrivateKey;
  }

  /** Which reply was chosen once C1 was seen: the spec's echo, the Flash Player 9 digest answer, or RTMPE. */
  get mode(): 'simple' | 'digest' | 'rtmpe' | null {
    return this._mode;
  }

  /** The RTMPE type the client asked for, or 3 for plain RTMP. */
  get requestedType(): 3 | RtmpeType {
    return this.type;
  }

  /** After an RTMPE handshake: the RC4 streams for everything that follows C2 (both already 1536 bytes in). */
  get encryption(): RtmpeKeys | null {
    return this.state === 'done' ? this._keys : null;
  }

  /** Feed received bytes. Returns bytes to send now (may be empty), whether the handshake is complete,
   *  and when complete, any bytes received after C2 (the start of the chunk stream) — without copying if possible. */
  push(chunk: Buffer): HandshakeResult {
    if (this.state === 'done') return { send: null, done: true, rest: chunk.length > 0 ? chunk : null };
    let pos = 0;
    let send: Buffer | null = null;

    if (this.state === 'c0c1') {
      if (chunk.length === 0) return { send: null, done: false, rest: null };
      // Checked on the first byte so RTMPE/HTTP/TLS are refused before 1.5 KB is waited for.
      if (this.have === 0) {
        checkVersion(chunk[0]!, 'client', this.rtmpe);
        this.type = chunk[0] as 3 | RtmpeType;
      }
      let c1: Buffer;
      if (this.have === 0 && chunk.length >= C0C1_SIZE) {
        c1 = chunk.subarray(1, C0C1_SIZE);
        pos = C0C1_SIZE;
      } else {
        this.partial ??= Buffer.alloc(C0C1_SIZE);
        pos = Math.min(chunk.length, C0C1_SIZE - this.have);
        chunk.copy(this.partial, this.have, 0, pos);
        this.have += pos;
        if (this.have < C0C1_SIZE) return { send: null, done: false, rest: null };
        c1 = this.partial.subarray(1);
      }
      send = this.reply(c1);
      this.partial = null;
      this.state = 'c2';
    }

    const take = Math.min(chunk.length - pos, this.c2Remaining);
    this.c2Remaining -= take;
    pos += take;
    if (this.c2Remaining > 0) return { send, done: false, rest: null };
    this.state = 'done';
    return { send, done: true, rest: pos < chunk.length ? chunk.subarray(pos) : null };
  }

  private reply(c1: Buffer): Buffer {
    const out = Buffer.alloc(S0S1S2_SIZE);
    out[0] = RTMP_VERSION;
    const s1 = out.subarray(1, 1 + HANDSHAKE_SIZE);
    const s2 = out.subarray(1 + HANDSHAKE_SIZE);
    s1.writeUInt32BE(this.now() >>> 0, 0);
    fillRandom(s1, 8, HANDSHAKE_SIZE - 8, this.random);

    // A zero version field is the spec's "simple" client; anything else may carry a Flash Player digest.
    // Scheme 1 first because that is what nearly every client sends.
    const found = c1.readUInt32BE(4) === 0 ? null : findDigest(c1, FP_KEY_PREFIX, [1, 0]);
    if (this.type !== RTMP_VERSION) {
      if (found === null) throw new ProtocolError('handshake', `RTMPE (type ${this.type}) C1 carries no valid Flash Player digest`);
      return this.rtmpeReply(out, c1, found);
    }
    if (!found) {
      // Clients that set a version without a digest (or a digest we cannot verify) still accept the spec's echo.
      c1.copy(s2);
      this._mode = 'simple';
      return out;
    }
    s1.set(SERVER_VERSION, 4);
    // Same scheme as the client: librtmp looks there first and only warns before retrying the other one.
    writeDigest(s1, found.scheme, FMS_KEY_PREFIX);
    fillRandom(s2, 0, HANDSHAKE_SIZE - DIGEST_SIZE, this.random);
    signReply(s2, c1.subarray(found.offset, found.offset + DIGEST_SIZE), FMS_KEY);
    this._mode = 'digest';
    return out;
  }

  /** The digest answer plus our DH public key in S1; S2's signature is XTEA-wrapped for type 8. */
  private rtmpeReply(out: Buffer, c1: Buffer, found: { scheme: DigestScheme; offset: number }): Buffer {
    out[0] = this.type;
    const s1 = out.subarray(1, 1 + HANDSHAKE_SIZE);
    const s2 = out.subarray(1 + HANDSHAKE_SIZE);
    const clientKeyAt = dhOffset(c1, found.scheme);
    const clientPublicKey = Buffer.from(c1.subarray(clientKeyAt, clientKeyAt + DH_KEY_BYTES));
    const { privateKey, publicKey } = dhKeyPair(this.dhPrivateKey);
    s1.set(SERVER_VERSION, 4);
    publicKey.copy(s1, dhOffset(s1, found.scheme));
    writeDigest(s1, found.scheme, FMS_KEY_PREFIX);
    this._keys = serverRtmpeKeys(privateKey, publicKey, clientPublicKey);
    fillRandom(s2, 0, HANDSHAKE_SIZE - DIGEST_SIZE, this.random);
    const replyKey = signReply(s2, c1.subarray(found.offset, found.offset + DIGEST_SIZE), FMS_KEY);
    if (this.type === 8) type8Signature(s2.subarray(HANDSHAKE_SIZE - DIGEST_SIZE), replyKey);
    this._mode = 'rtmpe';
    return out;
  }
}

/** Client side, for tests and for relays (push/pull to other RTMP servers). */
export class ClientHandshake {
  private readonly digest: boolean;
  private readonly scheme: DigestScheme;
  private readonly now: () => number;
  private readonly random: Random;
  private started = false;
  private finished = false;
  private readonly s0s1s2 = Buffer.alloc(S0S1S2_SIZE);
  private have = 0;
  private c2Sent = false;
  private _serverDigest = false;
  private clientDigest: Buffer | null = null;

  /**
   * digest: send a Flash-Player-style C1 with a client digest (needed by some servers).
   * scheme: where that digest goes (default 1, as Flash Player/FFmpeg/librtmp do).
   */
  constructor(opts?: { digest?: boolean; scheme?: DigestScheme; now?: () => number; random?: (n: number) => Buffer }) {
    this.digest = opts?.digest ?? false;
    this.scheme = opts?.scheme ?? 1;
    this.now = opts?.now ?? defaultNow;
    this.random = opts?.random ?? randomBytes;
  }

  /** True once S1 has been received and carried a valid server digest (digest mode only). */
  get serverDigest(): boolean {
    return this._serverDigest;
  }

  /** C0+C1 */
  start(): Buffer {
    if (this.started) throw new Error('ClientHandshake.start() called twice');
    this.started = true;
    const out = Buffer.alloc(C0C1_SIZE);
    out[0] = RTMP_VERSION;
    const c1 = out.subarray(1);
    c1.writeUInt32BE(this.now() >>> 0, 0);
    fillRandom(c1, 8, HANDSHAKE_SIZE - 8, this.random);
    if (this.digest) {
      c1.set(CLIENT_VERSION, 4);
      const offset = writeDigest(c1, this.scheme, FP_KEY_PREFIX);
      this.clientDigest = c1.subarray(offset, offset + DIGEST_SIZE);
    }
    return out;
  }

  /**
   * C2 goes out as soon as S1 is complete (§5.2.4: the client waits for S1, not S2), which also covers
   * servers that hold S2 back. S2 is not verified: servers differ, and the chunk stream will tell.
   */
  push(chunk: Buffer): HandshakeResult {
    if (!this.started) throw new Error('ClientHandshake.push() before start()');
    if (this.finished) return { send: null, done: true, rest: chunk.length > 0 ? chunk : null };
    if (chunk.length === 0) return { send: null, done: false, rest: null };
    if (this.have === 0) checkVersion(chunk[0]!, 'server');
    const take = Math.min(chunk.length, S0S1S2_SIZE - this.have);
    chunk.copy(this.s0s1s2, this.have, 0, take);
    this.have += take;

    let send: Buffer | null = null;
    if (!this.c2Sent && this.have >= C0C1_SIZE) {
      send = this.makeC2(this.s0s1s2.subarray(1, C0C1_SIZE));
      this.c2Sent = true;
    }
    if (this.have < S0S1S2_SIZE) return { send, done: false, rest: null };
    this.finished = true;
    return { send, done: true, rest: take < chunk.length ? chunk.subarray(take) : null };
  }

  private makeC2(s1: Buffer): Buffer {
    if (this.clientDigest && s1[4] !== 0) {
      const other: DigestScheme = this.scheme === 0 ? 1 : 0;
      const found = findDigest(s1, FMS_KEY_PREFIX, [this.scheme, other]);
      if (found) {
        this._serverDigest = true;
        const c2 = Buffer.alloc(HANDSHAKE_SIZE);
        fillRandom(c2, 0, HANDSHAKE_SIZE - DIGEST_SIZE, this.random);
        signReply(c2, s1.subarray(found.offset, found.offset + DIGEST_SIZE), FP_KEY);
        return c2;
      }
    }
    // Plain servers (and digest-less answers to a digest C1) expect the spec's echo of S1.
    return Buffer.from(s1);
  }
}

// Process-relative milliseconds: the peer only uses this as the epoch for our chunk timestamps.
const startedAt = performance.now();
function defaultNow(): number {
  return Math.floor(performance.now() - startedAt);
}
