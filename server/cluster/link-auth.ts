// The internal link between workers and between nodes is a plain HTTP-FLV GET
// that carries the cluster secret. A request with the right secret skips the
// public access checks (signed URLs, on-play), which already ran once on the
// node the viewer reached; a wrong secret is refused outright.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

export const CLUSTER_SECRET_HEADER = 'x-gateway-cluster-secret';
/** which node or worker is pulling, shown in /api/cluster on the owner */
export const CLUSTER_PEER_HEADER = 'x-gateway-cluster-peer';
/** the owner's answer: how far back its rewind window reaches (ms) when the link opens */
export const CLUSTER_REWIND_HEADER = 'x-gateway-rewind-ms';

export function generateClusterSecret(): string {
  return randomBytes(24).toString('base64url');
}

/** Constant-time comparison; hashing first makes the lengths equal. */
export function secretMatches(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

export type InternalCheck = { internal: false } | { internal: true; ok: boolean; peer: string };

/** Whether `req` claims to be an internal pull, and whether its secret is right. */
export function checkInternal(req: IncomingMessage, secret: string): InternalCheck {
  const given = req.headers[CLUSTER_SECRET_HEADER];
  if (given === undefined) return { internal: false };
  const peerHeader = req.headers[CLUSTER_PEER_HEADER];
  const peer = typeof peerHeader === 'string' ? peerHeader.slice(0, 200) : 'unknown';
  return { internal: true, ok: typeof given === 'string' && secret !== '' && secretMatches(given, secret), peer };
}
