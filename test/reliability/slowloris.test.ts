// Issue: hostile input — slowloris. Three hundred connections to the RTMP port
// and three hundred to the HTTP port, from another loopback address
// (127.0.0.2), each send one byte and stall; when dropped they come back. A
// real ffmpeg on 127.0.0.1 must still publish and viewers must still play, and
// the RTMP attackers must be dropped by the handshake timeout and the
// per-address limit.
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publish, testSource, type Proc } from '../support/ffmpeg.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { httpViewer, wsViewer, type TestViewer } from '../support/viewers.js';
import { waitFor } from '../support/wait.js';

const ATTACKERS = 300;
const ATTACKER_ADDRESS = '127.0.0.2';

interface Attack {
  /** connections the server ended (not us) */
  dropped: number;
  open: number;
  stop(): void;
}

/** `n` connections that each send `byte` and stall; every one that the server drops reconnects shortly after. */
function attack(port: number, n: number, byte: string): Attack {
  let stopped = false;
  const sockets = new Set<net.Socket>();
  const state: Attack = {
    dropped: 0,
    open: 0,
    stop() {
      stopped = true;
      for (const s of sockets) s.destroy();
    },
  };
  const one = (): void => {
    if (stopped) return;
    const s = net.connect({ port, host: '127.0.0.1', localAddress: ATTACKER_ADDRESS });
    sockets.add(s);
    let connected = false;
    s.on('connect', () => {
      connected = true;
      state.open++;
      s.write(byte);
    });
    s.on('error', () => {});
    s.on('close', () => {
      sockets.delete(s);
      if (connected) state.open--;
      if (stopped) return;
      state.dropped++;
      // back off a little so a refused attacker is a trickle, not a busy loop
      setTimeout(one, 100 + Math.floor(Math.random() * 200));
    });
  };
  for (let i = 0; i < n; i++) one();
  return state;
}

async function refusals(gw: TestGateway, reason: string): Promise<number> {
  const text = await (await fetch(gw.httpUrl('/metrics'))).text();
  const line = text.split('\n').find((l) => l.startsWith(`gateway_limit_refusals_total{reason="${reason}"}`));
  return line === undefined ? 0 : Number(line.split(' ').at(-1));
}

describe('slowloris', () => {
  let gw: TestGateway;
  const attacks: Attack[] = [];
  const procs: Proc[] = [];
  const viewers: TestViewer[] = [];
  beforeAll(async () => {
    testSource();
    gw = await startTestGateway({
      'handshake-timeout-ms': 2_000,
      'idle-timeout-ms': 4_000,
      'max-connections-per-address': 50,
    });
  });
  afterAll(async () => {
    for (const a of attacks) a.stop();
    for (const v of viewers) v.close();
    await Promise.all(procs.map((p) => p.stop()));
    await gw.close();
  });

  it('300 stalled connections on each port do not stop ffmpeg publishing or viewers playing, and the RTMP ones are dropped', async () => {
    const rtmp = attack(gw.rtmpPort, ATTACKERS, '\x03');
    const http = attack(gw.httpPort, ATTACKERS, 'G');
    attacks.push(rtmp, http);
    // the attack is in place: the per-address limit is full and the HTTP port holds its stalled requests
    await waitFor('attackers connected', () => gw.rtmp.sessions.size >= 50 && http.open >= ATTACKERS);

    const p = publish(gw.rtmpUrl('live/real'));
    procs.push(p);
    await waitFor('ffmpeg publishes through the attack', () => gw.hub.get('live/real')?.ready === true);
    const ws = wsViewer(gw.wsUrl('/live/real.flv'));
    const web = httpViewer(gw.httpUrl('/live/real.flv'));
    viewers.push(ws, web);
    await waitFor('viewers play through the attack', () => ws.flv.videoFrames().length > 60 && web.flv.videoFrames().length > 60);
    expect(ws.flv.problems()).toEqual([]);
    expect(web.flv.problems()).toEqual([]);
    // the HTTP attackers were still holding their connections while the viewers played
    expect(http.open).toBe(ATTACKERS);

    // attackers were refused at accept and the admitted ones dropped at the handshake deadline, and came back
    await waitFor('attackers dropped by the handshake timeout', async () => (await refusals(gw, 'handshake-timeout')) >= 50);
    expect(await refusals(gw, 'max-connections-per-address')).toBeGreaterThan(0);
    expect(rtmp.dropped).toBeGreaterThan(ATTACKERS);
    // never more than the per-address limit from the attacker, plus ffmpeg
    const fromAttacker = [...gw.rtmp.sessions].filter((s) => s.transport.remoteAddress === ATTACKER_ADDRESS).length;
    expect(fromAttacker).toBeLessThanOrEqual(50);
    // ffmpeg is still running and still the publisher
    expect(p.child.exitCode).toBeNull();
    expect(gw.hub.get('live/real')?.publisher?.address).toBe('127.0.0.1');
  });
});
