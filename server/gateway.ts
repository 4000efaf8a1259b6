// Composes the layers into one running gateway: hub, RTMP listener, HTTP app
// with WS-FLV upgrades. Used by main.ts and, in-process, by the tests.
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAccessPolicy } from './auth/access.js';
import { notifyHook } from './auth/webhooks.js';
import { defaultConfig, type Config } from './config.js';
import type { SessionEnded } from './events.js';
import { createHttpApp } from './http/app.js';
import { HlsService } from './hls/service.js';
import { clientAddressResolver } from './http/client-address.js';
import { setAudioHoldWindow, setWriteMergeWindow } from './hub/write-batch.js';
import { GatewayMetrics } from './metrics.js';
import { gatewayOptions } from './options.js';
import { RelayManager } from './relay/relays.js';
import { Hub } from './hub/hub.js';
import { Recorder } from './record/recorder.js';
import type { Logger } from './log.js';
import { silentLogger } from './log.js';
import { RtmpServer } from './rtmp/server.js';
import { WsFlvServer } from './ws/flv-socket.js';
import { createClusterHooks } from './cluster/setup.js';
import { isClusterCopy } from './cluster/internal-copy.js';

export interface Gateway {
  readonly hub: Hub;
  readonly rtmp: RtmpServer;
  readonly rtmpPort: number;
  /** null when RTMPS is off */
  readonly rtmpsPort: number | null;
  readonly httpPort: number;
  readonly host: string;
  readonly metrics: GatewayMetrics;
  readonly relays: RelayManager;
  readonly recorder: Recorder;
  readonly hls: HlsService;
  close(): Promise<void>;
}

export async function startGateway(partial: Partial<Config> = {}, log: Logger = silentLogger()): Promise<Gateway> {
  const config = { ...defaultConfig(), ...partial };
  const options = gatewayOptions(config);
  setWriteMergeWindow(options.writeBatch.mergeMs);
  setAudioHoldWindow(options.writeBatch.audioHoldMs);
  const hub = new Hub(options.hub, log);
  // Built before anything that reports to it; its gauges read their sources only when scraped.
  const metrics = new GatewayMetrics({
    hub,
    rtmpConnections: () => rtmp.sessions.size,
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
    if (onDone !== null) {
      notifyHook(
        onDone.url,
        {
          action: 'done', ended: e.kind, app: e.app, key: e.key, stream: `${e.app}/${e.key}`, clientIp: e.address,
          protocol: e.protocol, query: {}, reason: e.reason, bytes: e.bytes,
        },
        onDone.timeoutMs,
        log,
      );
    }
  };
  const rtmp = new RtmpServer({
    ...options.rtmp,
    hub,
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
  const { listen } = options;
  const rtmpPort = await rtmp.listen(listen.rtmpPort, listen.host);
  const rtmpsPort =
    listen.rtmps !== null
      ? await rtmp.listen(listen.rtmps.port, listen.host, {
          cert: readFileSync(listen.rtmps.certFile),
          key: readFileSync(listen.rtmps.keyFile),
        })
      : null;

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
  const ws = new WsFlvServer(routeOptions);
  const hls = new HlsService(hub, log, options.hls, onEnded);
  const app = createHttpApp({
    ...routeOptions,
    hls,
    rtmpPort,
    corsOrigins: options.http.corsOrigins,
    apiToken: options.http.apiToken,
    metrics,
    recorder,
    ...(cluster !== null ? { cluster } : {}),
  });
  cluster?.registerMetrics(metrics.registry);
  const handler = cluster === null ? app : cluster.wrap(app);
  // connectionsCheckingInterval: Node checks header timeouts only this often (30 s by default).
  const server = http.createServer({ connectionsCheckingInterval: 1_000 }, handler);
  server.maxConnections = options.http.maxConnections;
  server.on('drop', () => metrics.connectionsRefused.inc({ reason: 'max-http-connections' }));
  server.keepAliveTimeout = 5_000;
  // Slowloris: a request whose headers trickle in is dropped after this.
  server.headersTimeout = options.http.headersTimeoutMs;
  server.on('upgrade', (req, socket, head) => {
    if (!ws.handleUpgrade(req, socket, head)) {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(listen.httpPort, listen.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const httpPort = (server.address() as AddressInfo).port;
  await cluster?.start(httpPort, handler);
  relays.start();

  let closing: Promise<void> | null = null;
  return {
    hub,
    rtmp,
    rtmpPort,
    rtmpsPort,
    httpPort,
    host: listen.host,
    metrics,
    relays,
    recorder,
    hls,
    close() {
      closing ??= (async () => {
        // Stop accepting, then end every stream: viewers get a clean end
        // (WS close 1001, HTTP response end, RTMP status) and publishers are closed.
        const httpClosed = new Promise<void>((resolve) => server.close(() => resolve()));
        relays.close();
        await cluster?.close();
        hls.close();
        hub.close();
        // Ending the streams ended their recordings; this waits until every file is finished.
        const recordingsClosed = recorder.close();
        const rtmpClosed = rtmp.close();
        server.closeIdleConnections();
        // Give the goodbyes a moment to flush, then cut whatever is left.
        const grace = new Promise<void>((resolve) => setTimeout(resolve, 1_000).unref());
        await Promise.race([Promise.all([rtmpClosed, httpClosed]), grace]);
        ws.close();
        server.closeAllConnections();
        await Promise.all([rtmpClosed, httpClosed, recordingsClosed]);
        metrics.close();
      })();
      return closing;
    },
  };
}
