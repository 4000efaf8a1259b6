// The RTMP listener: binds sockets to RtmpSessions and owns every timer that
// is about wall-clock time (handshake deadline, idle connections, a publisher
// that went silent). Sessions themselves only see bytes.
import net from 'node:net';
import tls from 'node:tls';
import type { Hub } from '../hub/hub.js';
import type { SessionEndedListener } from '../events.js';
import type { AmfLimits } from '../amf/types.js';
import type { Logger } from '../log.js';
import type { WriteBatch } from '../hub/write-batch.js';
import { RtmpSession, type AccessCheck, type Transport } from './session.js';

/** The listener's bounds (the config table holds their defaults). */
export interface RtmpLimits {
  amfLimits: AmfLimits;
  /** a handshake not complete after this long is dropped */
  handshakeTimeoutMs: number;
  /** a connection neither publishing nor playing after this long is dropped */
  idleTimeoutMs: number;
  /** a publisher that sends nothing for this long is considered gone */
  publisherTimeoutMs: number;
  maxConnections: number;
  maxConnectionsPerAddress: number;
  maxMessageBytes: number;
  /** answer RTMPE handshakes on the plain port */
  rtmpe: boolean;
}

export interface RtmpServerOptions extends RtmpLimits {
  hub: Hub;
  /** the gateway's write batching: each socket read runs as one batch */
  writeBatch: WriteBatch;
  log: Logger;
  access?: AccessCheck;
  onEnded?: SessionEndedListener;
  /** called when a limit closes or refuses a connection */
  onLimit?: (reason: string) => void;
  onProtocolError?: (code: string) => void;
}

class SocketTransport implements Transport {
  readonly remoteAddress: string;
  #socket: net.Socket;

  constructor(socket: net.Socket) {
    this.#socket = socket;
    this.remoteAddress = socket.remoteAddress?.replace(/^::ffff:/, '') ?? 'unknown';
  }

  get bufferedBytes(): number {
    return this.#socket.writableLength;
  }

  write(buf: Buffer): void {
    if (!this.#socket.destroyed && this.#socket.writable) this.#socket.write(buf);
  }

  cork(): void {
    this.#socket.cork();
  }

  uncork(): void {
    this.#socket.uncork();
  }

  close(): void {
    const socket = this.#socket;
    if (socket.destroyed) return;
    // Let a final status message flush, but never wait long on a peer that does not read.
    socket.end();
    setTimeout(() => socket.destroy(), 2_000).unref();
  }
}

export interface TlsFiles {
  cert: Buffer;
  key: Buffer;
}

export class RtmpServer {
  readonly sessions = new Set<RtmpSession>();
  readonly options: RtmpServerOptions;
  #servers: net.Server[] = [];
  #perAddress = new Map<string, number>();
  #log: Logger;

  constructor(options: RtmpServerOptions) {
    this.options = options;
    this.#log = options.log;
  }

  /** Listen for RTMP, or RTMPS when TLS files are given (same sessions, limits and auth). */
  listen(port: number, host: string, tlsFiles?: TlsFiles): Promise<number> {
    const server =
      tlsFiles === undefined
        ? net.createServer({ noDelay: true }, (socket) => this.#accept(socket))
        : tls.createServer(
            { cert: tlsFiles.cert, key: tlsFiles.key, handshakeTimeout: this.options.handshakeTimeoutMs },
            (socket) => this.#accept(socket, true),
          );
    if (tlsFiles !== undefined) {
      // A TLS handshake that fails or stalls never becomes a session; say why once.
      server.on('tlsClientError', (err: NodeJS.ErrnoException, socket: tls.TLSSocket) => {
        this.#log.info({ address: socket.remoteAddress, reason: err.code ?? err.message }, 'rtmps handshake failed');
        socket.destroy();
      });
    }
    this.#servers.push(server);
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve((server.address() as net.AddressInfo).port);
      });
    });
  }

  #accept(socket: net.Socket, tlsSession = false): void {
    const o = this.options;
    const address = socket.remoteAddress?.replace(/^::ffff:/, '') ?? 'unknown';
    if (!this.#admit(address, 'rtmp')) {
      socket.destroy();
      return;
    }
    socket.setKeepAlive(true, 10_000);
    socket.setNoDelay(true);
    // RTMPE inside TLS would only add cost; RTMPS clients never ask for it.
    const session = this.#start(new SocketTransport(socket), tlsSession ? 'rtmps' : 'rtmp', o.rtmpe && !tlsSession);
    const stopTimers = this.#startTimers(session);
    // Read inactivity: a publisher whose link died silently frees its key after this.
    socket.setTimeout(o.publisherTimeoutMs, () => {
      if (session.role === 'playing' || session.role === 'closed') return;
      o.onLimit?.(session.role === 'publishing' ? 'publisher-timeout' : 'read-timeout');
      session.close(`no data received for ${o.publisherTimeoutMs} ms`);
    });

    // One publisher read fans out as one batch: each viewer socket gets one writev for it.
    socket.on('data', (chunk: Buffer) => o.writeBatch.run(() => session.receive(chunk)));
    socket.on('error', (err: NodeJS.ErrnoException) => session.close(`socket error: ${err.code ?? err.message}`));
    socket.on('close', () => {
      stopTimers();
      session.close('connection closed by peer');
      this.#release(session, address);
    });
  }

  /**
   * A session on a transport that is not one of our sockets (an RTMPT tunnel): the same limits,
   * timers, access control and bookkeeping. null when a connection limit refuses it (logged).
   * The caller feeds it bytes and calls `detach` once its transport is gone.
   */
  attach(transport: Transport, protocol: 'rtmpt'): { session: RtmpSession; detach: () => void } | null {
    const address = transport.remoteAddress;
    if (!this.#admit(address, protocol)) return null;
    const session = this.#start(transport, protocol, this.options.rtmpe);
    const stopTimers = this.#startTimers(session);
    return {
      session,
      detach: () => {
        stopTimers();
        this.#release(session, address);
      },
    };
  }

  /** Open sessions by protocol, for the connections gauge. */
  countByProtocol(protocol: 'rtmp' | 'rtmps' | 'rtmpt'): number {
    let n = 0;
    for (const s of this.sessions) if (s.protocol === protocol) n++;
    return n;
  }

  #admit(address: string, protocol: string): boolean {
    const o = this.options;
    const count = this.#perAddress.get(address) ?? 0;
    if (this.sessions.size >= o.maxConnections || count >= o.maxConnectionsPerAddress) {
      this.#log.warn({ address, protocol, total: this.sessions.size, fromAddress: count }, 'rtmp connection refused: connection limit');
      o.onLimit?.(this.sessions.size >= o.maxConnections ? 'max-connections' : 'max-connections-per-address');
      return false;
    }
    this.#perAddress.set(address, count + 1);
    return true;
  }

  #start(transport: Transport, protocol: 'rtmp' | 'rtmps' | 'rtmpt', rtmpe: boolean): RtmpSession {
    const o = this.options;
    const session = new RtmpSession(transport, {
      hub: o.hub,
      log: this.#log,
      protocol,
      maxMessageBytes: o.maxMessageBytes,
      rtmpe,
      ...(o.access !== undefined ? { access: o.access } : {}),
      ...(o.onEnded !== undefined ? { onEnded: o.onEnded } : {}),
      ...(o.onProtocolError !== undefined ? { onProtocolError: o.onProtocolError } : {}),
      ...(o.onLimit !== undefined ? { onLimit: o.onLimit } : {}),
      amfLimits: o.amfLimits,
    });
    this.sessions.add(session);
    return session;
  }

  /** Handshake deadline and "publish or play soon" deadline; returns what clears them. */
  #startTimers(session: RtmpSession): () => void {
    const o = this.options;
    const deadline = setTimeout(() => {
      if (session.role === 'handshake') {
        o.onLimit?.('handshake-timeout');
        session.close(`handshake not complete after ${o.handshakeTimeoutMs} ms`);
      }
    }, o.handshakeTimeoutMs);
    const idle = setTimeout(() => {
      if (session.role === 'connecting' || session.role === 'connected') {
        o.onLimit?.('idle-timeout');
        session.close(`neither published nor played within ${o.idleTimeoutMs} ms`);
      }
    }, o.idleTimeoutMs);
    return () => {
      clearTimeout(deadline);
      clearTimeout(idle);
    };
  }

  #release(session: RtmpSession, address: string): void {
    this.sessions.delete(session);
    const n = (this.#perAddress.get(address) ?? 1) - 1;
    if (n <= 0) this.#perAddress.delete(address);
    else this.#perAddress.set(address, n);
  }

  /** Stop accepting; close every session. */
  close(): Promise<void> {
    for (const s of this.sessions) s.close('server shutting down');
    return Promise.all(this.#servers.map((srv) => new Promise<void>((resolve) => srv.close(() => resolve())))).then(
      () => undefined,
    );
  }
}
