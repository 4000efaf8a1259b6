import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { clientAddressResolver } from '../../server/http/client-address.js';

/** Just what the resolver reads of a request: the peer address and the headers. */
function req(peer: string | undefined, xff?: string | string[]): IncomingMessage {
  return {
    socket: { remoteAddress: peer },
    headers: xff === undefined ? {} : { 'x-forwarded-for': xff },
  } as unknown as IncomingMessage;
}

const PROXY = '10.0.0.1';
const PROXY2 = '10.0.0.2';

describe('clientAddressResolver', () => {
  it('ignores X-Forwarded-For from a peer that is not a trusted proxy', () => {
    const resolve = clientAddressResolver([PROXY]);
    expect(resolve(req('198.51.100.9', '203.0.113.1'))).toBe('198.51.100.9');
  });

  it('uses the peer address when a trusted proxy sends no (or an empty) X-Forwarded-For', () => {
    const resolve = clientAddressResolver([PROXY]);
    expect(resolve(req(PROXY))).toBe(PROXY);
    expect(resolve(req(PROXY, ''))).toBe(PROXY);
    expect(resolve(req(PROXY, ' , '))).toBe(PROXY);
  });

  it('takes the right-most X-Forwarded-For hop from a trusted proxy', () => {
    const resolve = clientAddressResolver([PROXY]);
    expect(resolve(req(PROXY, '203.0.113.1'))).toBe('203.0.113.1');
    expect(resolve(req(PROXY, '  203.0.113.1  '))).toBe('203.0.113.1');
  });

  it('walks back through a chain of trusted proxies to the first untrusted hop', () => {
    const resolve = clientAddressResolver([PROXY, PROXY2]);
    // client -> PROXY2 -> PROXY -> us: PROXY appends PROXY2's address.
    expect(resolve(req(PROXY, `203.0.113.1, ${PROXY2}`))).toBe('203.0.113.1');
    expect(resolve(req(PROXY, `203.0.113.1,${PROXY2},${PROXY}`))).toBe('203.0.113.1');
  });

  it('ignores spoofed left-most entries the client wrote itself', () => {
    const resolve = clientAddressResolver([PROXY, PROXY2]);
    // The client sent "X-Forwarded-For: 1.1.1.1, 2.2.2.2"; the proxy appended the real address.
    expect(resolve(req(PROXY, '1.1.1.1, 2.2.2.2, 203.0.113.1'))).toBe('203.0.113.1');
    expect(resolve(req(PROXY, `1.1.1.1, 203.0.113.1, ${PROXY2}`))).toBe('203.0.113.1');
  });

  it('joins repeated X-Forwarded-For headers in order', () => {
    const resolve = clientAddressResolver([PROXY]);
    expect(resolve(req(PROXY, ['1.1.1.1', '203.0.113.1']))).toBe('203.0.113.1');
  });

  it('falls back to the left-most hop when every hop is a trusted proxy', () => {
    const resolve = clientAddressResolver([PROXY, PROXY2]);
    expect(resolve(req(PROXY, `${PROXY2}, ${PROXY}`))).toBe(PROXY2);
  });

  it('normalizes IPv4-mapped IPv6 addresses, for the peer and for the hops', () => {
    const resolve = clientAddressResolver(['127.0.0.1']);
    expect(resolve(req('::ffff:127.0.0.1', '::ffff:203.0.113.1'))).toBe('203.0.113.1');
    expect(resolve(req('::ffff:198.51.100.9', '203.0.113.1'))).toBe('198.51.100.9');
    // A trusted list written in the mapped form matches the plain IPv4 peer too.
    expect(clientAddressResolver(['::ffff:10.0.0.1'])(req(PROXY, '203.0.113.1'))).toBe('203.0.113.1');
  });

  it('matches IPv6 proxies case-insensitively', () => {
    const resolve = clientAddressResolver(['2001:DB8::1']);
    expect(resolve(req('2001:db8::1', '2001:db8::beef'))).toBe('2001:db8::beef');
    expect(clientAddressResolver(['::1'])(req('::1', '2001:db8::7'))).toBe('2001:db8::7');
  });

  it('never trusts anyone when the trusted list is empty', () => {
    const resolve = clientAddressResolver([]);
    expect(resolve(req('127.0.0.1', '203.0.113.1'))).toBe('127.0.0.1');
    expect(resolve(req('::1', '203.0.113.1'))).toBe('::1');
    expect(resolve(req('', '203.0.113.1'))).toBe('');
  });

  it('answers "unknown" for a socket without an address (already closed)', () => {
    expect(clientAddressResolver([PROXY])(req(undefined, '203.0.113.1'))).toBe('unknown');
  });
});
