// Composes the layers into one gateway: hub, RTMP listener, HTTP app with
// WS-FLV upgrades. createGateway() is the library entry (mount the HTTP side
// into your own express app or http.Server); startGateway() runs it on an
// HTTP server of its own, as `npm start` and the tests do.
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type express from 'express';
import { createAccessPolicy } from './auth/access.js';
import { notifyHook } from './auth/webhooks.js';
import { ConfigError, defaultConfig, type Config } from './config.js';
import type { SessionEnded } from './events.js';
import { gatewayEventsOf, type GatewayEvents } from './gateway-events.js';
import { createHttpApp } from './http/app.js';
import { startRtmpt } from './rtmpt/service.js';
import { HlsService } from './hls/service.js';
import { clientAddressResolver } from './http/client-address.js';
import { Hub } from './hub/hub.js';
import { WriteBatch } from './hub/write-batch.js';
import { silentLogger, type Logger } from './log.js';
import { GatewayMetrics } from './metrics.js';
import { gatewayOptions, type GatewayOptions } from './options.js';
import { Recorder } from './record/recorder.js';
import { RelayManager } from './relay/relays.js';
import { RtmpServer } from './rtmp/server.js';
import type { TypedEmitter } from './typed-emitter.js';
import { WsFlvServer } from './ws/flv-socket.js';
import { clusterEnabled, createClusterHooks } from './cluster/setup.js';
import { isClusterCopy } from './cluster/internal-copy.js';

export interface RtmpPorts {
  rtmpPort: number;
  /** null when RTMPS is off */
  rtmpsPort: number | null;
}

export interface Gateway {
  readonly options: GatewayOptions;
  readonly hub: Hub;
  readonly rtmp: RtmpServer;
  readonly metrics: GatewayMetrics;
  readonly relays: RelayManager;
  readonly recorder: Recorder;
  readonly hls: HlsService;
  /** publish, unpublish, play, stop: with the stream and the client */
  readonly events: TypedEmitter<GatewayEvents>;
  /** HTTP-FLV, the API, /metrics, the page: `app.use(gateway.handler)`; other paths go on to `next` */
  readonly handler: express.Express;
  /** WS-FLV: true when the upgrade was a stream path and is now the gateway's */
  handleUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): boolean;
  /**
   * Serve the HTTP side from an express app (`app.use`) or an http.Server
   * (its requests and upgrades); pass the express app's http.Server as well
   * for WS-FLV. Upgrades that are not stream paths are left to other listeners.
   */
  mount(target: express.Application | http.Server, server?: http.Server): this;
  /** Start the RTMP (and RTMPS) listeners. */
  listen(): Promise<RtmpPorts>;
  /** End every viewer and publisher, stop the listeners; safe to call twice. */
  close(): Promise<void>;
}

export interface GatewayDeps {
  log?: Logger;
}

/** The gateway as a library: the same options as the config table (flags without `--`). */
export function createGateway(config: Partial<Config> = {}, deps: GatewayDeps = {}): Gateway {
  return buildGateway(config, deps.log ?? silentLogger(), false).gateway;
}

/** A gateway on an HTTP server of its own (what `npm start` runs). */
export interface StandaloneGateway extends Gateway, RtmpPorts {
  readonly httpPort: number;
  readonly host: string;
  readonly server: http.Server;
}

export async function startGateway(config: Partial<Config> = {}, log: Logger = silentLogger()): Promise<StandaloneGateway> {
  const { gateway, server, startRtmp, startCluster, relays } = buildGateway(config, log, true);
  if (server === null) throw new Error('unreachable: a standalone gateway has a server');
  try {
    const ports = await startRtmp();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(gateway.options.listen.httpPort, gateway.options.listen.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const httpPort = (server.address() as AddressInfo).port;
    await startCluster(httpPort);
    relays.start();
    return Object.assign(gateway, ports, { httpPort, host: gateway.options.listen.host, server });
  } catch (err) {
    await gateway.close();
    throw err;
  }
}

interface Built {
  gateway: Gateway;
  /** the gateway's own HTTP server (startGateway); null when mounted */
  server: http.Server | null;
  relays: RelayManager;
  startRtmp(): Promise<RtmpPorts>;
  /** workers and nodes: join once the public HTTP port is known */
  startCluster(httpPort: number): Promise<void>;
}

function buildGateway(partial: Partial<Config>, log: Logger, ownServer: boolean): Built {
  const config = { ...defaultConfig(), ...partial };
  const options = gatewayOptions(config);
  if (!ownServer && clusterEnabled(config)) {
    throw new ConfigError('clustering (workers, cluster-redis) needs the gateway\'s own HTTP server: use startGateway');
  }
  // This gateway's own: another gateway in the process batches its writes apart.
  const writeBatch = new WriteBatch(options.writeBatch);
  const hub = new Hub(options.hub, log, writeBatch);
  // Built before anything that reports to it; its gauges read their sources only when scraped.
  const metrics = new GatewayMetrics({
    hub,
    rtmpConnections: () => rtmp.sessions.size - rtmp.countByProtocol('rtmpt'),
    rtmptConnections: () => rtmp.countByProtocol('rtmpt'),
    httpViewers: () => hub.viewerCount('http'),
    wsViewers: () => hub.viewerCount('ws'),
  });
  hub.events.on('stream-ended', (s) => metrics.streamEnded(s));
  hub.events.on('limit', (reason) => metrics.connectionsRefused.inc({ reason }));
  const publicAccess = createAccessPolicy({
    ...options.access,
    log,
    onRefused: (action, protocol) => metrics.authRefusals.inc({ action, protocol }),
  });
  // Workers and nodes: a publish claims its key cluster-wide; a missing stream is pulled from its owner.
  const cluster = createClusterHooks(config, hub, log);
  const access = cluster === null ? publicAccess : cluster.access(publicAccess);
  if (cluster !== null) hub.events.on('missing', (app, key) => cluster.streamMissing(app, key));
  const onDone = options.onDone;
  const onEnded = (e: SessionEnded): void => {
    metrics.sessionsEnded.inc({ kind: e.kind, protocol: e.protocol });
    if (onDone === null) return;
    notifyHook(
      onDone.url,
      {
        action: 'done', ended: e.kind, app: e.app, key: e.key, stream: `${e.app}/${e.key}`, clientIp: e.address,
        protocol: e.protocol, query: {}, reason: e.reason, bytes: e.bytes,
      },
      onDone.timeoutMs,
      log,
    );
  };
  const rtmp = new RtmpServer({
    ...options.rtmp,
    hub,
    writeBatch,
    log,
    ...(access !== undefined ? { access } : {}),
    onEnded,
    onLimit: (reason) => metrics.connectionsRefused.inc({ reason }),
    onProtocolError: (code) => {
      metrics.protocolErrors.inc({ code });
      if (code === 'limit') metrics.connectionsRefused.inc({ reason: 'message-limits' });
    },
  });
  const relays = new RelayManager(hub, options.relays, log);
  const recorder = new Recorder(hub, { ...options.recorder, log });
  // Recorded once, by the owner: not again by every worker or node that copies the stream.
  hub.events.on('published', (stream) => {
    if (!isClusterCopy(stream)) recorder.streamPublished(stream);
  });
  const events = gatewayEventsOf(hub);

  const routeOptions = {
    hub,
    log,
    clientAddress: clientAddressResolver(options.http.trustedProxies),
    onEnded,
    ...(access !== undefined
      ? {
          access: (play: { app: string; key: string; query: URLSearchParams }, address: string, protocol: 'http' | 'ws' | 'hls') =>
            access({ action: 'play', app: play.app, key: play.key, query: play.query, address, protocol }),
        }
      : {}),
  };
  const rtmpt = options.rtmpt === null ? null : startRtmpt(rtmp, { ...options.rtmpt, idPrefix: cluster?.rtmptIdPrefix ?? '' }, log);
  const ws = new WsFlvServer(routeOptions);
  const hls = new HlsService(hub, log, options.hls, onEnded);
  let ports: RtmpPorts | null = null;
  const handler = createHttpApp({
    ...routeOptions,
    hls,
    rtmpPort: () => ports?.rtmpPort ?? options.listen.rtmpPort,
    corsOrigins: options.http.corsOrigins,
    apiToken: options.http.apiToken,
    metrics,
    recorder,
    mounted: !ownServer,
    ...(cluster !== null ? { cluster } : {}),
    ...(rtmpt !== null ? { rtmpt: { tunnel: rtmpt.tunnel, bodyTimeoutMs: rtmpt.bodyTimeoutMs, clientAddress: routeOptions.clientAddress, writeBatch } } : {}),
  });
  cluster?.registerMetrics(metrics.registry);
  // The cluster's internal link sits in front of the public app on the gateway's own server.
  const serverHandler = cluster === null ? handler : cluster.wrap(handler);
  const upgrades = new Map<http.Server, (req: http.IncomingMessage, socket: Duplex, head: Buffer) => void>();
  const listenUpgrades = (httpServer: http.Server): void => {
    if (upgrades.has(httpServer)) return;
    const onUpgrade = (req: http.IncomingMessage, socket: Duplex, head: Buffer): void => {
      if (ws.handleUpgrade(req, socket, head)) return;
      // Alone on this server: nobody else will answer, so say no rather than leave the socket hanging.
      if (httpServer.listenerCount('upgrade') > 1) return;
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    };
    upgrades.set(httpServer, onUpgrade);
    httpServer.on('upgrade', onUpgrade);
  };

  const server = ownServer ? ownHttpServer(options, metrics) : null;
  const startRtmp = async (): Promise<RtmpPorts> => {
    const { listen } = options;
    const rtmpPort = await rtmp.listen(listen.rtmpPort, listen.host);
    const rtmpsPort =
      listen.rtmps !== null
        ? await rtmp.listen(listen.rtmps.port, listen.host, {
            cert: readFileSync(listen.rtmps.certFile),
            key: readFileSync(listen.rtmps.keyFile),
          })
        : null;
    ports = { rtmpPort, rtmpsPort };
    return ports;
  };
  let closing: Promise<void> | null = null;
  const gateway: Gateway = {
    options,
    hub,
    rtmp,
    metrics,
    relays,
    recorder,
    hls,
    events,
    handler,
    handleUpgrade: (req, socket, head) => ws.handleUpgrade(req, socket, head),
    mount(target, server) {
      const httpServer = target instanceof http.Server ? target : server;
      if (target instanceof http.Server) target.on('request', handler);
      else target.use(handler);
      if (httpServer !== undefined) listenUpgrades(httpServer);
      return gateway;
    },
    async listen() {
      if (ports !== null) return ports;
      const started = await startRtmp();
      relays.start();
      return started;
    },
    close() {
      closing ??= (async () => {
        // Stop accepting (an own server), then end every stream: viewers get a clean end
        // (WS close 1001, HTTP response end, RTMP status) and publishers are closed.
        const httpClosed = server === null ? Promise.resolve() : new Promise<void>((resolve) => server.close(() => resolve()));
        relays.close();
        await cluster?.close();
        hls.close();
        hub.close();
        // Ending the streams ended their recordings; this waits until every file is finished.
        const recordingsClosed = recorder.close();
        rtmpt?.close();
        const rtmpClosed = rtmp.close();
        server?.closeIdleConnections();
        // Give the goodbyes a moment to flush, then cut whatever is left.
        const grace = new Promise<void>((resolve) => setTimeout(resolve, 1_000).unref());
        await Promise.race([Promise.all([rtmpClosed, httpClosed]), grace]);
        ws.close();
        server?.closeAllConnections();
        for (const [s, onUpgrade] of upgrades) s.off('upgrade', onUpgrade);
        await Promise.all([rtmpClosed, httpClosed, recordingsClosed]);
        metrics.close();
      })();
      return closing;
    },
  };
  if (server !== null) {
    server.on('request', serverHandler);
    listenUpgrades(server);
  }
  return {
    gateway,
    server,
    relays,
    startRtmp,
    startCluster: async (httpPort) => {
      await cluster?.start(httpPort, serverHandler);
    },
  };
}

function ownHttpServer(options: GatewayOptions, metrics: GatewayMetrics): http.Server {
  // connectionsCheckingInterval: Node checks header timeouts only this often (30 s by default).
  const server = http.createServer({ connectionsCheckingInterval: 1_000 });
  server.maxConnections = options.http.maxConnections;
  server.on('drop', () => metrics.connectionsRefused.inc({ reason: 'max-http-connections' }));
  server.keepAliveTimeout = 5_000;
  // Slowloris: a request whose headers trickle in is dropped after this.
  server.headersTimeout = options.http.headersTimeoutMs;
  return server;
}
