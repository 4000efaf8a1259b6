// Signed URLs: `?exp=UNIX_SECONDS&sig=HEX`, where sig is the hex
// HMAC-SHA256, keyed with the shared secret, of `ACTION:APP/KEY:EXP`. The
// action is part of what is signed, so a play link can never publish.
import { createHmac, timingSafeEqual } from 'node:crypto';

export type SignedAction = 'publish' | 'play';

export function signStream(secret: string, action: SignedAction, stream: string, exp: number): string {
  return createHmac('sha256', secret).update(`${action}:${stream}:${exp}`).digest('hex');
}

/** null when the query carries a valid, unexpired signature for this action and stream; else why not. */
export function checkSignature(
  secret: string,
  action: SignedAction,
  stream: string,
  query: URLSearchParams,
  nowSeconds = Math.floor(Date.now() / 1000),
): string | null {
  const expRaw = query.get('exp');
  const sig = query.get('sig');
  if (expRaw === null || sig === null) return 'missing exp or sig';
  if (!/^\d{1,12}$/.test(expRaw)) return 'malformed exp';
  const exp = Number(expRaw);
  if (exp < nowSeconds) return 'signature expired';
  if (!/^[0-9a-fA-F]{64}$/.test(sig)) return 'malformed sig';
  const expected = Buffer.from(signStream(secret, action, stream, exp), 'hex');
  // Constant-time: the comparison takes as long whichever byte differs.
  if (!timingSafeEqual(expected, Buffer.from(sig, 'hex'))) return 'bad signature';
  return null;
}

/** `exp=…&sig=…` for a link valid for ttlSeconds from now. */
export function signedQuery(secret: string, action: SignedAction, stream: string, ttlSeconds: number, nowSeconds = Math.floor(Date.now() / 1000)): string {
  const exp = nowSeconds + ttlSeconds;
  return `exp=${exp}&sig=${signStream(secret, action, stream, exp)}`;
}
