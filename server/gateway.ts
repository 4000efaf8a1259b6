// Composes the layers into one running gateway: hub, RTMP listener, HTTP app
// with WS-FLV upgrades. Used by main.ts and, in-process, by the tests.
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { DEFAULT_AMF_LIMITS } from './amf/types.js';
import { createAccessPolicy } from './auth/access.js';
import type { SignedAction } from './auth/signature.js';
import { notifyHook } from './auth/webhooks.js';
import { defaultConfig, type Config } from './config.js';
import type { SessionEnded } from './events.js';
import { createHttpApp } from './http/app.js';
import { HlsService } from './hls/service.js';
import { clientAddressResolver } from './http/client-address.js';
import { setAudioHoldWindow, setWriteMergeWindow } from './hub/write-batch.js';
import { GatewayMetrics } from './metrics.js';
import { parseRelayRule, RelayManager } from './relay/relays.js';
import { Hub } from './hub/hub.js';
import { Recorder } from './record/recorder.js';
import type { Logger } from './log.js';
import { silentLogger } from './log.js';
import { DEFAULT_RTMP_OPTIONS, RtmpServer } from './rtmp/server.js';
import { WsFlvServer } from './ws/flv-socket.js';

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
  const config: Config = { ...defaultConfig(), ...partial };
  setWriteMergeWindow(config['write-merge-ms']);
  setAudioHoldWindow(config['audio-hold-ms']);
  const hub = new Hub(
    {
      gop: { maxBytes: config['gop-cache'] ? config['gop-max-bytes'] : 0, maxDurationMs: config['gop-max-ms'] },
      slow: {
        softBytes: config['slow-soft-bytes'],
        hardBytes: config['slow-hard-bytes'],
        maxSkipMs: config['slow-max-skip-ms'],
      },
      graceMs: config['grace-ms'],
      rewind: { windowMs: config['rewind-seconds'] * 1000, maxBytes: config['rewind-max-bytes'] },
      duplicatePublish: config['duplicate-publish'] as 'refuse' | 'takeover',
      maxStreams: config['max-streams'],
      maxViewersPerStream: config['max-viewers-per-stream'],
    },
    log,
  );
  const signed = new Set<SignedAction>(config.auth === 'both' ? ['publish', 'play'] : [config.auth as SignedAction]);
  let metrics: GatewayMetrics | null = null;
  const access = createAccessPolicy({
    secret: config['auth-secret'] === '' ? null : config['auth-secret'],
    signed,
    onPublish: config['on-publish'] || null,
    onPlay: config['on-play'] || null,
    hookTimeoutMs: config['hook-timeout-ms'],
    log,
    onRefused: (action, protocol) => metrics?.authRefusals.inc({ action, protocol }),
  });
  const onEnded = (e: SessionEnded): void => {
    metrics?.sessionsEnded.inc({ kind: e.kind, protocol: e.protocol });
    if (config['on-done'] !== '') {
      notifyHook(
        config['on-done'],
        {
          action: 'done', ended: e.kind, app: e.app, key: e.key, stream: `${e.app}/${e.key}`, clientIp: e.address,
          protocol: e.protocol, query: {}, reason: e.reason, bytes: e.bytes,
        },
        config['hook-timeout-ms'],
        log,
      );
    }
  };
  const rtmp = new RtmpServer({
    ...DEFAULT_RTMP_OPTIONS,
    hub,
    log,
    ...(access !== undefined ? { access } : {}),
    onEnded,
    onLimit: (reason) => metrics?.connectionsRefused.inc({ reason }),
    amfLimits: { ...DEFAULT_AMF_LIMITS, maxDepth: config['amf-max-depth'], maxStringBytes: config['amf-max-string-bytes'] },
    onProtocolError: (code) => {
      metrics?.protocolErrors.inc({ code });
      if (code === 'limit') metrics?.connectionsRefused.inc({ reason: 'message-limits' });
    },
    handshakeTimeoutMs: config['handshake-timeout-ms'],
    idleTimeoutMs: config['idle-timeout-ms'],
    publisherTimeoutMs: config['publisher-timeout-ms'],
    maxConnections: config['max-connections'],
    maxConnectionsPerAddress: config['max-connections-per-address'],
    maxMessageBytes: config['max-message-bytes'],
  });
  const relays = new RelayManager(
    hub,
    {
      push: config.push.map(parseRelayRule),
      pull: config.pull.map(parseRelayRule),
      pullOnDemand: config['pull-on-demand'].map(parseRelayRule),
      timeoutMs: config['relay-timeout-ms'],
    },
    log,
  );
  const recorder = new Recorder(hub, {
    dir: config['record-dir'],
    auto: config.record,
    maxBytes: config['record-max-bytes'],
    maxSeconds: config['record-max-seconds'],
    log,
  });
  // Chained, not replaced: push relays may hold the hook already.
  const relaysOnPublished = hub.onPublished;
  hub.onPublished = (stream) => {
    relaysOnPublished?.(stream);
    recorder.streamPublished(stream);
  };
  const rtmpPort = await rtmp.listen(config['rtmp-port'], config.host);
  const rtmpsPort =
    config['rtmps-port'] !== 0 || config['tls-cert'] !== ''
      ? await rtmp.listen(config['rtmps-port'], config.host, {
          cert: readFileSync(config['tls-cert']),
          key: readFileSync(config['tls-key']),
        })
      : null;

  const routeOptions = {
    hub,
    log,
    clientAddress: clientAddressResolver(config['trusted-proxies']),
    onEnded,
    ...(access !== undefined
      ? {
          access: (play: { app: string; key: string; query: URLSearchParams }, address: string, protocol: 'http' | 'ws' | 'hls') =>
            access({ action: 'play', app: play.app, key: play.key, query: play.query, address, protocol }),
        }
      : {}),
  };
  const ws = new WsFlvServer(routeOptions);
  metrics = new GatewayMetrics({
    hub,
    rtmpConnections: () => rtmp.sessions.size,
    httpViewers: () => [...hub.streams.values()].reduce((n, s) => n + hub.viewersByProtocol(s).http, 0),
    wsViewers: () => ws.viewers,
  });
  const liveMetrics = metrics;
  hub.onStreamEnded = (s) => liveMetrics.streamEnded(s);
  hub.onLimit = (reason) => liveMetrics.connectionsRefused.inc({ reason });
  const hls = new HlsService(hub, log, {
    segmenter: {
      partTargetMs: config['hls-part-ms'],
      segmentMinMs: config['hls-segment-ms'],
      maxSegments: config['hls-segments'],
      maxBytes: config['hls-max-bytes'],
    },
    idleMs: config['hls-idle-ms'],
  }, onEnded);
  const app = createHttpApp({
    ...routeOptions,
    hls,
    rtmpPort,
    corsOrigins: config['cors-origins'],
    apiToken: config['api-token'],
    metrics,
    recorder,
  });
  // connectionsCheckingInterval: Node checks header timeouts only this often (30 s by default).
  const server = http.createServer({ connectionsCheckingInterval: 1_000 }, app);
  server.maxConnections = config['max-http-connections'];
  server.on('drop', () => liveMetrics.connectionsRefused.inc({ reason: 'max-http-connections' }));
  server.keepAliveTimeout = 5_000;
  // Slowloris: a request whose headers trickle in is dropped after this.
  server.headersTimeout = config['http-headers-timeout-ms'];
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
  relays.start();

  let closing: Promise<void> | null = null;
  return {
    hub,
    rtmp,
    rtmpPort,
    rtmpsPort,
    httpPort,
    host: config.host,
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
        liveMetrics.close();
      })();
      return closing;
    },
  };
}
