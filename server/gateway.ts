// Composes the layers into one running gateway: hub, RTMP listener, HTTP app
// with WS-FLV upgrades. Used by main.ts and, in-process, by the tests.
import http, { type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { defaultConfig, type Config } from './config.js';
import { createHttpApp } from './http/app.js';
import { Hub } from './hub/hub.js';
import type { Logger } from './log.js';
import { silentLogger } from './log.js';
import { DEFAULT_RTMP_OPTIONS, RtmpServer } from './rtmp/server.js';
import { WsFlvServer } from './ws/flv-socket.js';

export interface Gateway {
  readonly hub: Hub;
  readonly rtmp: RtmpServer;
  readonly rtmpPort: number;
  readonly httpPort: number;
  readonly host: string;
  close(): Promise<void>;
}

function clientAddress(req: IncomingMessage): string {
  return req.socket.remoteAddress?.replace(/^::ffff:/, '') ?? 'unknown';
}

export async function startGateway(partial: Partial<Config> = {}, log: Logger = silentLogger()): Promise<Gateway> {
  const config: Config = { ...defaultConfig(), ...partial };
  const hub = new Hub(
    {
      gop: { maxBytes: config['gop-cache'] ? config['gop-max-bytes'] : 0, maxDurationMs: config['gop-max-ms'] },
      slow: {
        softBytes: config['slow-soft-bytes'],
        hardBytes: config['slow-hard-bytes'],
        maxSkipMs: config['slow-max-skip-ms'],
      },
      graceMs: config['grace-ms'],
      duplicatePublish: config['duplicate-publish'] as 'refuse' | 'takeover',
      maxStreams: config['max-streams'],
      maxViewersPerStream: config['max-viewers-per-stream'],
    },
    log,
  );
  const rtmp = new RtmpServer({
    ...DEFAULT_RTMP_OPTIONS,
    hub,
    log,
    handshakeTimeoutMs: config['handshake-timeout-ms'],
    idleTimeoutMs: config['idle-timeout-ms'],
    publisherTimeoutMs: config['publisher-timeout-ms'],
    maxConnections: config['max-connections'],
    maxConnectionsPerAddress: config['max-connections-per-address'],
    maxMessageBytes: config['max-message-bytes'],
  });
  const rtmpPort = await rtmp.listen(config['rtmp-port'], config.host);

  const routeOptions = { hub, log, clientAddress };
  const app = createHttpApp({ ...routeOptions, rtmpPort, corsOrigins: config['cors-origins'] });
  const ws = new WsFlvServer(routeOptions);
  const server = http.createServer(app);
  server.keepAliveTimeout = 5_000;
  server.on('upgrade', (req, socket, head) => {
    if (!ws.handleUpgrade(req, socket, head)) {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config['http-port'], config.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const httpPort = (server.address() as AddressInfo).port;

  let closing: Promise<void> | null = null;
  return {
    hub,
    rtmp,
    rtmpPort,
    httpPort,
    host: config.host,
    close() {
      closing ??= (async () => {
        hub.close();
        ws.close();
        const rtmpClosed = rtmp.close();
        const httpClosed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeAllConnections();
        await Promise.all([rtmpClosed, httpClosed]);
      })();
      return closing;
    },
  };
}
