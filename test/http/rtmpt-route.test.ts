// The RTMPT HTTP adapter under hostile request sequences: raw HTTP requests of any method, tunnel
// path and sequence, with bodies that are empty, not RTMP, a real C0+C1, over the limit, or shorter
// than declared, against a real gateway while ffmpeg publishes through the tunnel. Every request
// gets a clear answer (never a 500), and the tunnelled publisher never notices.
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publish, testSource, type Proc } from '../support/ffmpeg.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { memoryLog } from '../support/memory-log.js';
import { waitFor } from '../support/wait.js';

const MAX_BODY = 1024 * 1024;

interface Answer {
  status: number;
  contentType: string;
  text: string;
}

/** One raw HTTP/1.1 request on its own connection; status 0 when the server closed without an answer. */
function exchange(port: number, method: string, path: string, declared: number, body: Buffer): Promise<Answer> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    const parts: Buffer[] = [];
    s.on('data', (d: Buffer) => parts.push(d));
    s.on('error', () => {});
    s.on('close', () => {
      const raw = Buffer.concat(parts).toString('latin1');
      const head = raw.slice(0, Math.max(0, raw.indexOf('\r\n\r\n')));
      resolve({
        status: Number(/^HTTP\/1\.1 (\d{3})/.exec(raw)?.[1] ?? 0),
        contentType: /\r\ncontent-type: ([^\r]*)/i.exec(head)?.[1] ?? '',
        text: raw.slice(head.length + 4),
      });
    });
    s.end(Buffer.concat([Buffer.from(`${method} ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: ${declared}\r\n\r\n`), body]));
  });
}

const requestArb = fc.record({
  method: fc.constantFrom('POST', 'POST', 'POST', 'POST', 'GET', 'PUT'),
  command: fc.constantFrom('open', 'idle', 'send', 'close', 'fcs'),
  target: fc.constantFrom('own', 'own', 'random', 'malformed'),
  seq: fc.oneof(fc.nat(6).map(String), fc.constantFrom('', 'x', '-1', '99999999999')),
  body: fc.constantFrom('empty', 'garbage', 'handshake', 'over', 'short'),
});
type HostileRequest = typeof requestArb extends fc.Arbitrary<infer T> ? T : never;

describe('RTMPT route under hostile request sequences', () => {
  let gw: TestGateway;
  let ffmpeg: Proc;
  const mem = memoryLog();
  beforeAll(async () => {
    testSource();
    gw = await startTestGateway(
      // Timeouts far above a loaded machine's pauses: the bystander's polls must never look idle (idle and slow
      // tunnels have tests of their own in test/e2e/rtmpt-access.test.ts).
      { 'rtmpt-max-body-bytes': MAX_BODY, 'rtmpt-body-timeout-ms': 2_000, 'rtmpt-idle-timeout-ms': 15_000 },
      mem.log,
    );
    ffmpeg = publish(`rtmpt://127.0.0.1:${gw.httpPort}/live/bystander`);
    await waitFor('tunnelled stream ready', () => gw.hub.get('live/bystander')?.ready === true, 30_000);
  });
  afterAll(async () => {
    await ffmpeg?.stop();
    await gw?.close();
  });

  async function send(r: HostileRequest, own: string[]): Promise<{ answer: Answer; bodyKind: string }> {
    let path: string;
    if (r.command === 'open') path = '/open/1';
    else if (r.command === 'fcs') path = '/fcs/ident2';
    else {
      const id = r.target === 'own' && own.length > 0 ? own.at(-1)! : r.target === 'malformed' ? 'x' : randomBytes(16).toString('hex');
      path = `/${r.command}/${id}${r.seq === '' ? '' : `/${r.seq}`}`;
    }
    const bodies: Record<string, [number, Buffer]> = {
      empty: [0, Buffer.alloc(0)],
      garbage: [64, randomBytes(64)],
      handshake: [1537, Buffer.concat([Buffer.from([3]), randomBytes(1536)])],
      over: [MAX_BODY + 1, Buffer.alloc(0)],
      short: [100, randomBytes(10)],
    };
    const [declared, body] = bodies[r.body]!;
    const answer = await exchange(gw.httpPort, r.method, path, declared, body);
    if (r.command === 'open' && answer.status === 200) own.push(answer.text.trim());
    return { answer, bodyKind: r.body };
  }

  it('every request gets a clear answer, never a 500, and the tunnelled publisher carries on', async () => {
    const stream = gw.hub.get('live/bystander')!;
    const framesBefore = stream.videoFrames;
    await fc.assert(
      fc.asyncProperty(fc.array(requestArb, { minLength: 1, maxLength: 12 }), async (requests) => {
        const own: string[] = [];
        for (const r of requests) {
          const { answer, bodyKind } = await send(r, own);
          if (r.method !== 'POST') {
            expect(answer.status).toBe(405);
            continue;
          }
          // A client that hangs up inside its body gets Node's own bare 400 (or nothing): no one is left to read more.
          if (bodyKind === 'short') {
            expect([0, 400]).toContain(answer.status);
            continue;
          }
          if (bodyKind === 'over') expect(answer.status).toBe(413);
          else expect([200, 400, 404, 503]).toContain(answer.status);
          if (answer.status >= 400) {
            expect(answer.contentType).toMatch(/^text\/plain/);
            expect(answer.text.length).toBeGreaterThan(0);
          }
        }
      }),
      { numRuns: 50 },
    );
    await waitFor('publisher still sending', () => stream.videoFrames > framesBefore + 30);
    expect(gw.hub.get('live/bystander')).toBe(stream);
    expect(stream.publisher?.protocol).toBe('rtmpt');
    // Hostile requests are the clients' errors: nothing was logged as the gateway's own.
    expect(mem.messages().filter((m) => Number(m['level']) >= 50)).toEqual([]);
  });
});
