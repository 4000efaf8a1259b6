// RTMPT: RTMP carried in HTTP POSTs for clients that can only reach the web port. The client opens
// a session (POST /open/1, answered with its id), then sends its RTMP bytes in POST /send/ID/SEQ
// and polls with POST /idle/ID/SEQ; every answer starts with one byte, the polling interval the
// server suggests, followed by whatever RTMP bytes are waiting; POST /close/ID/SEQ ends it.
// This module is the tunnel as a pure state machine (requests in, replies out, the clock passed
// in); the HTTP adapter (http/rtmpt-route.ts) reads bodies and writes replies.
import { randomBytes } from 'node:crypto';
import type { Transport } from '../rtmp/session-contract.js';

export interface TunnelLimits {
  /** open tunnel sessions at most */
  maxSessions: number;
  /** largest request body (RTMP bytes in one /send) */
  maxBodyBytes: number;
  /** RTMP bytes waiting for the client's next poll; beyond this the session is closed */
  maxBufferedBytes: number;
  /** a session the client has not polled for this long is closed */
  idleTimeoutMs: number;
}

/** The RTMP side of one tunnel session, as the tunnel drives it. */
export interface TunnelEndpoint {
  receive(bytes: Buffer): void;
  close(reason: string): void;
}

/** Makes the RTMP session for a new tunnel; null when a connection limit refuses it. */
export type OpenEndpoint = (transport: Transport) => { endpoint: TunnelEndpoint; detach: () => void } | null;

export interface TunnelReply {
  status: number;
  body: Buffer;
  /** application/x-fcs for the tunnel's own answers, text/plain for errors */
  contentType: string;
}

export type TunnelCommand = 'open' | 'idle' | 'send' | 'close';

const FCS = 'application/x-fcs';
/** Polling interval byte: 1 while data flows, doubling (to this cap) while polls come back empty. */
const MAX_INTERVAL = 32;

function error(status: number, message: string): TunnelReply {
  return { status, body: Buffer.from(`${message}\n`), contentType: 'text/plain; charset=utf-8' };
}

/** Collects what the RTMP session writes until the client polls for it. */
class QueueTransport implements Transport {
  readonly remoteAddress: string;
  queue: Buffer[] = [];
  bytes = 0;
  /** the RTMP session closed its side; the queue is still handed out once */
  closed = false;
  #limit: number;
  #overflow: () => void;

  constructor(address: string, limit: number, overflow: () => void) {
    this.remoteAddress = address;
    this.#limit = limit;
    this.#overflow = overflow;
  }

  get bufferedBytes(): number {
    return this.bytes;
  }

  write(buf: Buffer): void {
    if (this.closed) return;
    this.queue.push(buf);
    this.bytes += buf.length;
    if (this.bytes > this.#limit) this.#overflow();
  }

  take(): Buffer[] {
    const out = this.queue;
    this.queue = [];
    this.bytes = 0;
    return out;
  }

  close(): void {
    this.closed = true;
  }
}

interface TunnelSession {
  id: string;
  transport: QueueTransport;
  endpoint: TunnelEndpoint;
  detach: () => void;
  /** the sequence number the next request must carry; null until the first one (0 or 1) */
  nextSeq: number | null;
  lastSeen: number;
  interval: number;
}

export interface TunnelEvents {
  /** one line per session that ends, with why */
  onSessionEnded?: (id: string, address: string, reason: string) => void;
}

/** Says which process made a session id; with --workers N, a request for a session another worker holds is sent there. */
export interface TunnelIdentity {
  idPrefix: string;
}

export class RtmptTunnel {
  readonly limits: TunnelLimits;
  #sessions = new Map<string, TunnelSession>();
  #open: OpenEndpoint;
  #events: TunnelEvents;

  readonly #idPrefix: string;

  constructor(limits: TunnelLimits, open: OpenEndpoint, events: TunnelEvents = {}, identity: TunnelIdentity = { idPrefix: '' }) {
    this.limits = limits;
    this.#idPrefix = identity.idPrefix;
    this.#open = open;
    this.#events = events;
  }

  get size(): number {
    return this.#sessions.size;
  }

  /** Which tunnel request a path is, or null when it is not one (the caller serves it otherwise). */
  static parsePath(path: string): { command: TunnelCommand; id: string; seq: number | null } | 'ident' | null {
    if (path === '/fcs/ident2' || path === '/fcs/ident') return 'ident';
    const m = /^\/(open|idle|send|close)\/([^/]{1,128})(?:\/([^/]{1,32}))?\/?$/.exec(path);
    if (m === null) return null;
    const seq = m[3] === undefined ? null : /^\d{1,10}$/.test(m[3]) ? Number(m[3]) : -1;
    return { command: m[1] as TunnelCommand, id: m[2]!, seq };
  }

  /** One request, whose body the adapter has read (at most maxBodyBytes). */
  handle(path: string, body: Buffer, address: string, now: number): TunnelReply {
    const req = RtmptTunnel.parsePath(path);
    // Flash Player asks for an identity first and carries on with /open when there is none.
    if (req === 'ident') return error(404, 'no FCS identity here; continue with /open/1');
    if (req === null) return error(404, `not an RTMPT request: ${path.slice(0, 80)}`);
    if (body.length > this.limits.maxBodyBytes) return error(413, `request body over ${this.limits.maxBodyBytes} bytes`);
    if (req.command === 'open') return this.#openSession(address, now);
    const session = this.#sessions.get(req.id);
    if (session === undefined) return error(404, 'unknown or expired RTMPT session');
    if (req.seq === null || req.seq < 0) return error(400, `${req.command} needs a numeric sequence: /${req.command}/ID/SEQ`);
    const expected = session.nextSeq;
    if (expected === null ? req.seq > 1 : req.seq !== expected) {
      return error(400, `wrong sequence number ${req.seq}, expected ${expected ?? '0 or 1'}`);
    }
    session.nextSeq = req.seq + 1;
    session.lastSeen = now;
    if (req.command === 'close') {
      this.#end(session, 'closed by the client');
      return { status: 200, body: Buffer.from([0]), contentType: FCS };
    }
    if (req.command === 'send' && body.length > 0) session.endpoint.receive(body);
    return this.#drain(session);
  }

  /** Close sessions the client stopped polling. */
  sweep(now: number): void {
    for (const session of this.#sessions.values()) {
      if (now - session.lastSeen >= this.limits.idleTimeoutMs) {
        this.#end(session, `not polled for ${this.limits.idleTimeoutMs} ms`);
      }
    }
  }

  /** Close every session (shutdown). */
  close(reason: string): void {
    for (const session of this.#sessions.values()) this.#end(session, reason);
  }

  #openSession(address: string, now: number): TunnelReply {
    if (this.#sessions.size >= this.limits.maxSessions) return error(503, `already ${this.#sessions.size} RTMPT sessions`);
    // 128 random bits: an id is the only thing that lets a request into a session.
    const id = `${this.#idPrefix}${randomBytes(16).toString('hex')}`;
    let session: TunnelSession | null = null;
    const transport = new QueueTransport(address, this.limits.maxBufferedBytes, () => {
      if (session !== null) this.#end(session, `client fell more than ${this.limits.maxBufferedBytes} bytes behind`);
    });
    const opened = this.#open(transport);
    if (opened === null) return error(503, 'connection limit reached');
    session = { id, transport, endpoint: opened.endpoint, detach: opened.detach, nextSeq: null, lastSeen: now, interval: 1 };
    this.#sessions.set(id, session);
    return { status: 200, body: Buffer.from(`${id}\n`), contentType: FCS };
  }

  #drain(session: TunnelSession): TunnelReply {
    const t = session.transport;
    const data = t.take();
    session.interval = data.length > 0 ? 1 : Math.min(session.interval * 2, MAX_INTERVAL);
    // The RTMP side hung up: its last words (if any) go out now, later requests find no session.
    if (t.closed) this.#end(session, 'rtmp session ended');
    return { status: 200, body: Buffer.concat([Buffer.from([session.interval]), ...data]), contentType: FCS };
  }

  #end(session: TunnelSession, reason: string): void {
    if (this.#sessions.get(session.id) !== session) return;
    this.#sessions.delete(session.id);
    session.endpoint.close(`rtmpt: ${reason}`);
    session.transport.closed = true;
    session.detach();
    this.#events.onSessionEnded?.(session.id, session.transport.remoteAddress, reason);
  }
}
