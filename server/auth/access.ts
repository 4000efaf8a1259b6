// The one access policy every protocol asks before a publish or a play:
// signed URL first (cheap, local), then the webhook.
import type { Logger } from '../log.js';
import { checkSignature, type SignedAction } from './signature.js';
import { callHook } from './webhooks.js';

export interface AccessPolicyOptions {
  secret: string | null;
  /** which actions need a signature when a secret is set */
  signed: ReadonlySet<SignedAction>;
  onPublish: string | null;
  onPlay: string | null;
  hookTimeoutMs: number;
  log: Logger;
  /** counts refusals for metrics */
  onRefused?: (action: SignedAction, protocol: string, reason: string) => void;
}

export interface AccessQuestion {
  action: SignedAction;
  app: string;
  key: string;
  query: URLSearchParams;
  address: string;
  protocol: string;
}

export type AccessDecision = (q: AccessQuestion) => Promise<string | null>;

export function createAccessPolicy(o: AccessPolicyOptions): AccessDecision | undefined {
  const needsSig = o.secret !== null && o.signed.size > 0;
  if (!needsSig && o.onPublish === null && o.onPlay === null) return undefined;
  return async (q) => {
    const stream = `${q.app}/${q.key}`;
    let denied: string | null = null;
    if (o.secret !== null && o.signed.has(q.action)) denied = checkSignature(o.secret, q.action, stream, q.query);
    const hook = q.action === 'publish' ? o.onPublish : o.onPlay;
    if (denied === null && hook !== null) {
      denied = await callHook(
        hook,
        {
          action: q.action,
          app: q.app,
          key: q.key,
          stream,
          clientIp: q.address,
          protocol: q.protocol,
          query: Object.fromEntries(q.query),
        },
        o.hookTimeoutMs,
      );
    }
    if (denied !== null) {
      o.log.warn({ action: q.action, stream, address: q.address, protocol: q.protocol, reason: denied }, `${q.action} refused`);
      o.onRefused?.(q.action, q.protocol, denied);
    }
    return denied;
  };
}
