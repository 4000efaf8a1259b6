import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkSignature, signStream, signedQuery } from '../../server/auth/signature.js';

const SECRET = 's3cret';
const NOW = 1_700_000_000;

function q(exp: string | number, sig: string): URLSearchParams {
  return new URLSearchParams({ exp: String(exp), sig });
}

/** Flips one hex digit of `sig` at `i` to a different value. */
function flipHexDigit(sig: string, i: number): string {
  const d = parseInt(sig[i]!, 16);
  return sig.slice(0, i) + ((d + 1) % 16).toString(16) + sig.slice(i + 1);
}

describe('signStream', () => {
  it('is the hex HMAC-SHA256 of ACTION:APP/KEY:EXP keyed with the secret (known answer)', () => {
    // Computed independently of the module under test.
    const expected = createHmac('sha256', Buffer.from('s3cret', 'utf8')).update(Buffer.from('play:live/cam1:1700000000', 'utf8')).digest('hex');
    expect(signStream('s3cret', 'play', 'live/cam1', 1700000000)).toBe(expected);
    expect(expected).toMatch(/^[0-9a-f]{64}$/);
  });

  it('binds the action, the stream, the expiry and the secret', () => {
    const base = signStream(SECRET, 'play', 'live/cam1', NOW);
    expect(signStream(SECRET, 'publish', 'live/cam1', NOW)).not.toBe(base);
    expect(signStream(SECRET, 'play', 'live/cam2', NOW)).not.toBe(base);
    expect(signStream(SECRET, 'play', 'live/cam1', NOW + 1)).not.toBe(base);
    expect(signStream('other', 'play', 'live/cam1', NOW)).not.toBe(base);
  });
});

describe('signedQuery', () => {
  it('builds exp=NOW+TTL&sig=… for the given action and stream', () => {
    const params = new URLSearchParams(signedQuery(SECRET, 'publish', 'live/cam1', 60, NOW));
    expect([...params.keys()]).toEqual(['exp', 'sig']);
    expect(params.get('exp')).toBe(String(NOW + 60));
    expect(params.get('sig')).toBe(signStream(SECRET, 'publish', 'live/cam1', NOW + 60));
  });
});

describe('checkSignature', () => {
  const exp = NOW + 60;
  const sig = signStream(SECRET, 'play', 'live/cam1', exp);

  it('accepts a valid, unexpired signature', () => {
    expect(checkSignature(SECRET, 'play', 'live/cam1', q(exp, sig), NOW)).toBeNull();
    // Valid up to and including the expiry second.
    expect(checkSignature(SECRET, 'play', 'live/cam1', q(exp, sig), exp)).toBeNull();
  });

  it('accepts a signedQuery link checked with the real clock', () => {
    const query = new URLSearchParams(signedQuery(SECRET, 'play', 'live/cam1', 300));
    expect(checkSignature(SECRET, 'play', 'live/cam1', query)).toBeNull();
  });

  it('refuses an expired signature', () => {
    expect(checkSignature(SECRET, 'play', 'live/cam1', q(exp, sig), exp + 1)).toBe('signature expired');
    const old = signStream(SECRET, 'play', 'live/cam1', NOW - 1);
    expect(checkSignature(SECRET, 'play', 'live/cam1', q(NOW - 1, old), NOW)).toBe('signature expired');
  });

  it('refuses a signature with one hex digit flipped, at the start, middle or end', () => {
    for (const i of [0, 31, 63]) {
      expect(checkSignature(SECRET, 'play', 'live/cam1', q(exp, flipHexDigit(sig, i)), NOW)).toBe('bad signature');
    }
  });

  it('refuses a signature for another stream, another secret, or a moved expiry', () => {
    expect(checkSignature(SECRET, 'play', 'live/cam2', q(exp, sig), NOW)).toBe('bad signature');
    expect(checkSignature(SECRET, 'play', 'other/cam1', q(exp, sig), NOW)).toBe('bad signature');
    expect(checkSignature('not-the-secret', 'play', 'live/cam1', q(exp, sig), NOW)).toBe('bad signature');
    expect(checkSignature(SECRET, 'play', 'live/cam1', q(exp + 3600, sig), NOW)).toBe('bad signature');
  });

  it('refuses a play signature used to publish, and a publish signature used to play', () => {
    expect(checkSignature(SECRET, 'publish', 'live/cam1', q(exp, sig), NOW)).toBe('bad signature');
    const pubSig = signStream(SECRET, 'publish', 'live/cam1', exp);
    expect(checkSignature(SECRET, 'publish', 'live/cam1', q(exp, pubSig), NOW)).toBeNull();
    expect(checkSignature(SECRET, 'play', 'live/cam1', q(exp, pubSig), NOW)).toBe('bad signature');
  });

  it('refuses a missing exp or sig', () => {
    expect(checkSignature(SECRET, 'play', 'live/cam1', new URLSearchParams(), NOW)).toBe('missing exp or sig');
    expect(checkSignature(SECRET, 'play', 'live/cam1', new URLSearchParams({ sig }), NOW)).toBe('missing exp or sig');
    expect(checkSignature(SECRET, 'play', 'live/cam1', new URLSearchParams({ exp: String(exp) }), NOW)).toBe('missing exp or sig');
  });

  it.each(['', 'abc', '-1', '1.5', '1e12', ' 1700000060', '0x10', '1234567890123'])('refuses malformed exp %j without throwing', (bad) => {
    expect(checkSignature(SECRET, 'play', 'live/cam1', q(bad, sig), NOW)).toBe('malformed exp');
  });

  it.each([
    ['empty', ''],
    ['too short', sig.slice(0, 62)],
    ['odd length', sig.slice(0, 63)],
    ['too long', `${sig}00`],
    ['non-hex', `${sig.slice(0, 63)}g`],
    ['with spaces', ` ${sig.slice(1)}`],
    ['base64', Buffer.from(sig, 'hex').toString('base64')],
  ])('refuses a malformed sig (%s) without throwing', (_what, bad) => {
    expect(() => checkSignature(SECRET, 'play', 'live/cam1', q(exp, bad), NOW)).not.toThrow();
    expect(checkSignature(SECRET, 'play', 'live/cam1', q(exp, bad), NOW)).toBe('malformed sig');
  });

  it('treats an upper-case hex sig as the same signature (hex is case-insensitive)', () => {
    expect(checkSignature(SECRET, 'play', 'live/cam1', q(exp, sig.toUpperCase()), NOW)).toBeNull();
  });
});

describe('properties', () => {
  const secret = fc.string({ minLength: 1, maxLength: 40 });
  const name = fc.stringMatching(/^[A-Za-z0-9_-]{1,20}$/);
  const stream = fc.tuple(name, name).map(([app, key]) => `${app}/${key}`);
  const action = fc.constantFrom('play' as const, 'publish' as const);
  const now = fc.integer({ min: 0, max: 4_000_000_000 });
  const ttl = fc.integer({ min: 0, max: 10 * 365 * 86_400 });

  it('a fresh signedQuery always verifies for its action and stream', () => {
    fc.assert(
      fc.property(secret, action, stream, now, ttl, (s, a, st, n, t) => {
        const query = new URLSearchParams(signedQuery(s, a, st, t, n));
        expect(checkSignature(s, a, st, query, n)).toBeNull();
      }),
    );
  });

  it('no single-character change to the sig value ever verifies', () => {
    // Any replacement character except the same hex digit in the other case (which is the same value).
    const replacement = fc.oneof(fc.constantFrom(...'0123456789abcdefABCDEF'), fc.string({ minLength: 1, maxLength: 1 }));
    fc.assert(
      fc.property(secret, action, stream, now, ttl, fc.nat({ max: 63 }), replacement, (s, a, st, n, t, i, c) => {
        const query = new URLSearchParams(signedQuery(s, a, st, t, n));
        const sig = query.get('sig')!;
        fc.pre(c.toLowerCase() !== sig[i]);
        query.set('sig', sig.slice(0, i) + c + sig.slice(i + 1));
        const verdict = checkSignature(s, a, st, query, n);
        expect(verdict === 'bad signature' || verdict === 'malformed sig', `got ${verdict}`).toBe(true);
      }),
    );
  });

  it('a signature never verifies for the other action', () => {
    fc.assert(
      fc.property(secret, action, stream, now, ttl, (s, a, st, n, t) => {
        const query = new URLSearchParams(signedQuery(s, a, st, t, n));
        expect(checkSignature(s, a === 'play' ? 'publish' : 'play', st, query, n)).toBe('bad signature');
      }),
    );
  });
});
