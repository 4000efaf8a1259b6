// A loopback TCP proxy for fault tests: forwards each accepted connection to a
// target port and can, on command, stop forwarding in both directions while
// keeping every socket open — the "pulled cable" (no FIN, no RST, nothing).
// It can also record what clients send, which is how the fuzz fixture of a
// real ffmpeg publish was captured.
import net from 'node:net';

export interface ProxiedConnection {
  client: net.Socket;
  upstream: net.Socket;
  /** client→target bytes, when recording */
  sent: Buffer[];
}

export interface TcpProxy {
  readonly port: number;
  readonly connections: ReadonlySet<ProxiedConnection>;
  /** Stop forwarding on every open connection, both ways, without closing anything. */
  blackhole(): void;
  /** Destroy every open connection (both sides). */
  dropAll(): void;
  close(): Promise<void>;
}

export async function startTcpProxy(
  targetPort: number,
  opts: { targetHost?: string; record?: boolean } = {},
): Promise<TcpProxy> {
  const targetHost = opts.targetHost ?? '127.0.0.1';
  const connections = new Set<ProxiedConnection>();
  const server = net.createServer((client) => {
    const upstream = net.connect(targetPort, targetHost);
    const conn: ProxiedConnection = { client, upstream, sent: [] };
    connections.add(conn);
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    client.on('data', (d: Buffer) => {
      if (opts.record === true) conn.sent.push(Buffer.from(d));
      if (!upstream.write(d)) client.pause();
    });
    upstream.on('drain', () => client.resume());
    upstream.on('data', (d: Buffer) => {
      if (!client.write(d)) upstream.pause();
    });
    client.on('drain', () => upstream.resume());
    const done = (): void => {
      connections.delete(conn);
      client.destroy();
      upstream.destroy();
    };
    client.on('close', done);
    upstream.on('close', done);
    client.on('error', () => {});
    upstream.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    connections,
    blackhole() {
      for (const c of connections) {
        // Paused sockets are not read: the kernel buffers fill and each peer's writes simply stall.
        c.client.pause();
        c.upstream.pause();
        c.client.removeAllListeners('drain');
        c.upstream.removeAllListeners('drain');
        c.client.removeAllListeners('data');
        c.upstream.removeAllListeners('data');
        // Nor does either side learn that the other closed: the proxy keeps both sockets until close().
        c.client.removeAllListeners('close');
        c.upstream.removeAllListeners('close');
      }
    },
    dropAll() {
      for (const c of connections) {
        c.client.destroy();
        c.upstream.destroy();
      }
    },
    close() {
      for (const c of connections) {
        c.client.destroy();
        c.upstream.destroy();
      }
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
