// The RTMPT tunnel as a pure state machine: request paths and bodies in, replies out, with fake
// RTMP endpoints. The property test sends hostile request sequences next to a well-behaved client.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Transport } from '../../server/rtmp/session-contract.js';
import { RtmptTunnel, type TunnelLimits } from '../../server/rtmpt/tunnel.js';

const LIMITS: TunnelLimits = { maxSessions: 8, maxBodyBytes: 1024, maxBufferedBytes: 4096, idleTimeoutMs: 1_000 };

/** An RTMP side that records what it received and writes what the test tells it to. */
class FakeEndpoint {
  received: Buffer[] = [];
  closedWith: string | null = null;
  constructor(readonly transport: Transport) {}
  receive(bytes: Buffer): void {
    this.received.push(Buffer.from(bytes));
  }
  close(reason: string): void {
    if (this.closedWith !== null) return;
    this.closedWith = reason;
    this.transport.close();
  }
}

function setup(limits: TunnelLimits = LIMITS) {
  const endpoints: FakeEndpoint[] = [];
  let detached = 0;
  let refuse = false;
  const tunnel = new RtmptTunnel(limits, (transport) => {
    if (refuse) return null;
    const endpoint = new FakeEndpoint(transport);
    endpoints.push(endpoint);
    return { endpoint, detach: () => detached++ };
  });
  const open = (now = 0): string => {
    const r = tunnel.handle('/open/1', Buffer.from([0]), '127.0.0.1', now);
    expect(r.status).toBe(200);
    return r.body.toString().trim();
  };
  return { tunnel, endpoints, open, detached: () => detached, refuseNext: (v: boolean) => (refuse = v) };
}

describe('RTMPT tunnel', () => {
  it('open answers a fresh 128-bit hex id with a newline, as application/x-fcs', () => {
    const { tunnel } = setup();
    const a = tunnel.handle('/open/1', Buffer.from([0]), '127.0.0.1', 0);
    const b = tunnel.handle('/open/1', Buffer.from([0]), '127.0.0.1', 0);
    expect(a.contentType).toBe('application/x-fcs');
    expect(a.body.toString()).toMatch(/^[0-9a-f]{32}\n$/);
    expect(a.body.equals(b.body)).toBe(false);
    expect(tunnel.size).toBe(2);
  });

  it('a worker marks its ids with its prefix, and the marked id opens its session', () => {
    const endpoints: FakeEndpoint[] = [];
    const tunnel = new RtmptTunnel(LIMITS, (transport) => {
      const endpoint = new FakeEndpoint(transport);
      endpoints.push(endpoint);
      return { endpoint, detach: () => {} };
    }, {}, { idPrefix: 'w3-' });
    const id = tunnel.handle('/open/1', Buffer.from([0]), '127.0.0.1', 0).body.toString().trim();
    expect(id).toMatch(/^w3-[0-9a-f]{32}$/);
    expect(tunnel.handle(`/send/${id}/1`, Buffer.from([3]), '127.0.0.1', 0).status).toBe(200);
    expect(endpoints[0]!.received).toEqual([Buffer.from([3])]);
  });

  it('send hands the body to the RTMP session; idle and send answer the interval byte and the waiting bytes', () => {
    const { tunnel, endpoints, open } = setup();
    const id = open();
    const ep = endpoints[0]!;
    const first = tunnel.handle(`/send/${id}/0`, Buffer.from('C0C1'), '127.0.0.1', 1);
    expect(ep.received.map(String)).toEqual(['C0C1']);
    expect([...first.body]).toEqual([2]);
    ep.transport.write(Buffer.from('S0'));
    ep.transport.write(Buffer.from('S1S2'));
    expect(ep.transport.bufferedBytes).toBe(6);
    const r = tunnel.handle(`/idle/${id}/1`, Buffer.from([0]), '127.0.0.1', 2);
    expect(r.status).toBe(200);
    expect(r.body[0]).toBe(1);
    expect(r.body.subarray(1).toString()).toBe('S0S1S2');
    expect(ep.transport.bufferedBytes).toBe(0);
    // Empty polls double the suggested interval up to 32.
    const intervals = [2, 3, 4, 5, 6, 7, 8].map((seq) => tunnel.handle(`/idle/${id}/${seq}`, Buffer.from([0]), '127.0.0.1', 3).body[0]);
    expect(intervals).toEqual([2, 4, 8, 16, 32, 32, 32]);
  });

  it('checks the sequence: first 0 or 1, then each one more; a wrong one is a 400 that changes nothing', () => {
    const { tunnel, open } = setup();
    const id = open();
    expect(tunnel.handle(`/idle/${id}/2`, Buffer.alloc(1), 'a', 0).status).toBe(400);
    expect(tunnel.handle(`/idle/${id}/1`, Buffer.alloc(1), 'a', 0).status).toBe(200);
    const replay = tunnel.handle(`/idle/${id}/1`, Buffer.alloc(1), 'a', 0);
    expect(replay.status).toBe(400);
    expect(replay.body.toString()).toMatch(/wrong sequence number 1, expected 2/);
    expect(tunnel.handle(`/idle/${id}/9`, Buffer.alloc(1), 'a', 0).status).toBe(400);
    expect(tunnel.handle(`/idle/${id}/x`, Buffer.alloc(1), 'a', 0).status).toBe(400);
    expect(tunnel.handle(`/idle/${id}`, Buffer.alloc(1), 'a', 0).status).toBe(400);
    expect(tunnel.handle(`/idle/${id}/2`, Buffer.alloc(1), 'a', 0).status).toBe(200);
  });

  it('unknown sessions, oversized bodies, ident and other paths get clear errors', () => {
    const { tunnel, open } = setup();
    const id = open();
    const unknown = tunnel.handle('/idle/0123456789abcdef0123456789abcdef/0', Buffer.alloc(1), 'a', 0);
    expect(unknown.status).toBe(404);
    expect(unknown.body.toString()).toMatch(/unknown or expired RTMPT session/);
    expect(tunnel.handle(`/send/${id}/0`, Buffer.alloc(1025), 'a', 0).status).toBe(413);
    expect(tunnel.handle('/fcs/ident2', Buffer.alloc(1), 'a', 0).status).toBe(404);
    expect(RtmptTunnel.parsePath('/live/cam.flv')).toBeNull();
    expect(RtmptTunnel.parsePath('/open/1')).toEqual({ command: 'open', id: '1', seq: null });
  });

  it('close ends the RTMP session and forgets the id', () => {
    const { tunnel, endpoints, open, detached } = setup();
    const id = open();
    const r = tunnel.handle(`/close/${id}/1`, Buffer.alloc(1), 'a', 0);
    expect(r.status).toBe(200);
    expect([...r.body]).toEqual([0]);
    expect(endpoints[0]!.closedWith).toBe('rtmpt: closed by the client');
    expect(detached()).toBe(1);
    expect(tunnel.handle(`/idle/${id}/2`, Buffer.alloc(1), 'a', 0).status).toBe(404);
  });

  it('when the RTMP side closes, its last bytes go out on the next poll and the session is gone after', () => {
    const { tunnel, endpoints, open } = setup();
    const id = open();
    const ep = endpoints[0]!;
    ep.transport.write(Buffer.from('bye'));
    ep.close('refused');
    const last = tunnel.handle(`/idle/${id}/0`, Buffer.alloc(1), 'a', 0);
    expect(last.body.subarray(1).toString()).toBe('bye');
    expect(tunnel.handle(`/idle/${id}/1`, Buffer.alloc(1), 'a', 0).status).toBe(404);
    expect(tunnel.size).toBe(0);
  });

  it('closes sessions not polled within the idle timeout, and one that falls too far behind', () => {
    const { tunnel, endpoints, open } = setup();
    const idle = open(0);
    const busy = open(0);
    tunnel.handle(`/idle/${busy}/0`, Buffer.alloc(1), 'a', 900);
    tunnel.sweep(1_000);
    expect(endpoints[0]!.closedWith).toBe('rtmpt: not polled for 1000 ms');
    expect(endpoints[1]!.closedWith).toBeNull();
    expect(tunnel.handle(`/idle/${idle}/0`, Buffer.alloc(1), 'a', 1_000).status).toBe(404);
    endpoints[1]!.transport.write(Buffer.alloc(4097));
    expect(endpoints[1]!.closedWith).toBe('rtmpt: client fell more than 4096 bytes behind');
    expect(tunnel.size).toBe(0);
  });

  it('refuses new sessions over maxSessions or when the RTMP listener refuses (503)', () => {
    const { tunnel, open, refuseNext } = setup({ ...LIMITS, maxSessions: 2 });
    open();
    refuseNext(true);
    expect(tunnel.handle('/open/1', Buffer.alloc(1), 'a', 0).status).toBe(503);
    refuseNext(false);
    open();
    const full = tunnel.handle('/open/1', Buffer.alloc(1), 'a', 0);
    expect(full.status).toBe(503);
    expect(full.body.toString()).toMatch(/already 2 RTMPT sessions/);
  });

  it('property: hostile request sequences never disturb a well-behaved session nor exceed the bounds', () => {
    const hostile = fc.record({
      command: fc.constantFrom('open', 'idle', 'send', 'close', 'fcs'),
      target: fc.constantFrom('victim', 'own', 'random'),
      seq: fc.oneof(fc.integer({ min: -2, max: 40 }), fc.constant(NaN)),
      body: fc.integer({ min: 0, max: 1100 }),
      write: fc.integer({ min: 0, max: 3000 }),
      advanceMs: fc.integer({ min: 0, max: 400 }),
    });
    fc.assert(
      fc.property(fc.array(hostile, { maxLength: 60 }), fc.array(fc.uint8Array({ minLength: 1, maxLength: 200 }), { minLength: 1, maxLength: 30 }), (attacks, messages) => {
        const { tunnel, endpoints, open } = setup({ ...LIMITS, maxSessions: 4 });
        let now = 0;
        const good = open(now);
        const goodEndpoint = endpoints[0]!;
        let goodSeq = 0;
        const own: string[] = [];
        let i = 0;
        for (const a of attacks) {
          now += a.advanceMs;
          // The well-behaved client sends one message and polls between attacks, often enough to stay alive.
          if (i < messages.length) {
            const r = tunnel.handle(`/send/${good}/${goodSeq++}`, Buffer.from(messages[i++]!), '10.0.0.1', now);
            expect(r.status).toBe(200);
          } else {
            expect(tunnel.handle(`/idle/${good}/${goodSeq++}`, Buffer.alloc(1), '10.0.0.1', now).status).toBe(200);
          }
          let id: string;
          let seq = a.seq;
          if (a.target === 'victim') {
            id = good;
            if (seq === goodSeq) seq = goodSeq + 1; // an attacker cannot know the next number and the id
          } else if (a.target === 'own' && own.length > 0) id = own[a.write % own.length]!;
          else id = `${a.write.toString(16)}x`;
          const path = a.command === 'fcs' ? '/fcs/ident2' : a.command === 'open' ? '/open/1' : `/${a.command}/${id}/${Number.isNaN(seq) ? 'z' : seq}`;
          const reply = tunnel.handle(path, Buffer.alloc(a.body), '10.6.6.6', now);
          expect([200, 400, 404, 413, 503]).toContain(reply.status);
          if (a.command === 'open' && reply.status === 200) own.push(reply.body.toString().trim());
          // Their RTMP sides write without being polled; each stays within its bound or is closed.
          for (const ep of endpoints.slice(1)) if (ep.closedWith === null) ep.transport.write(Buffer.alloc(a.write));
          for (const ep of endpoints) expect(ep.transport.bufferedBytes).toBeLessThanOrEqual(LIMITS.maxBufferedBytes + 3000);
          tunnel.sweep(now);
        }
        while (i < messages.length) {
          expect(tunnel.handle(`/send/${good}/${goodSeq++}`, Buffer.from(messages[i++]!), '10.0.0.1', now).status).toBe(200);
        }
        expect(goodEndpoint.closedWith).toBeNull();
        expect(Buffer.concat(goodEndpoint.received).equals(Buffer.concat(messages.map((m) => Buffer.from(m))))).toBe(true);
        expect(tunnel.size).toBeLessThanOrEqual(4);
      }),
      { numRuns: 300 },
    );
  });
});
