// The viewer's real address. X-Forwarded-For is believed only when the
// connection comes from a configured proxy; then the address is the right-most
// entry that is not itself a trusted proxy (entries further left are client-supplied).
import type { IncomingMessage } from 'node:http';

function normalize(a: string): string {
  // IPv6 hex digits are case-insensitive: a trusted proxy configured as `2001:DB8::1` (or
  // `::FFFF:10.0.0.1`) must match the lower-case address Node reports.
  return a.trim().toLowerCase().replace(/^::ffff:/, '');
}

export function clientAddressResolver(trustedProxies: readonly string[]): (req: IncomingMessage) => string {
  const trusted = new Set(trustedProxies.map(normalize));
  return (req) => {
    const peer = normalize(req.socket.remoteAddress ?? 'unknown');
    if (!trusted.has(peer)) return peer;
    const header = req.headers['x-forwarded-for'];
    const value = Array.isArray(header) ? header.join(',') : header;
    if (value === undefined || value === '') return peer;
    const hops = value.split(',').map(normalize).filter((h) => h !== '');
    for (let i = hops.length - 1; i >= 0; i--) {
      if (!trusted.has(hops[i]!)) return hops[i]!;
    }
    return hops[0] ?? peer;
  };
}
