// From the config table (flat, user-facing names) to the options each part of
// the gateway takes. Pure: no files are read and nothing is started, so it is
// tested on its own. Every default lives in the config table (config.ts); the
// parts take complete options and keep no defaults of their own.
import { DEFAULT_AMF_LIMITS, type AmfLimits } from './amf/types.js';
import type { SignedAction } from './auth/signature.js';
import { defaultConfig, type Config } from './config.js';
import type { HubOptions } from './hub/hub.js';
import type { WriteBatchOptions } from './hub/write-batch.js';
import type { HlsServiceOptions } from './hls/service.js';
import type { RecorderSettings } from './record/recorder.js';
import { parseRelayRule, type RelayConfig } from './relay/relays.js';
import type { RtmpLimits } from './rtmp/server.js';
import type { RtmptOptions } from './rtmpt/service.js';

export interface ListenOptions {
  host: string;
  rtmpPort: number;
  httpPort: number;
  /** RTMP over TLS; null: off */
  rtmps: { port: number; certFile: string; keyFile: string } | null;
}

export interface AccessOptions {
  /** shared secret for signed URLs; null: signing off */
  secret: string | null;
  signed: ReadonlySet<SignedAction>;
  onPublish: string | null;
  onPlay: string | null;
  hookTimeoutMs: number;
}

export interface HttpOptions {
  corsOrigins: string[];
  apiToken: string;
  trustedProxies: string[];
  maxConnections: number;
  headersTimeoutMs: number;
}

export interface GatewayOptions {
  listen: ListenOptions;
  logLevel: string;
  writeBatch: WriteBatchOptions;
  hub: HubOptions;
  rtmp: RtmpLimits;
  /** RTMPT on the HTTP port; null: off */
  rtmpt: RtmptOptions | null;
  access: AccessOptions;
  /** the on-done webhook; null: none */
  onDone: { url: string; timeoutMs: number } | null;
  relays: RelayConfig;
  recorder: RecorderSettings;
  http: HttpOptions;
  hls: HlsServiceOptions;
}

const orNull = (s: string): string | null => (s === '' ? null : s);

/** The options of every part, from a validated config. */
export function gatewayOptions(config: Config): GatewayOptions {
  const amfLimits: AmfLimits = {
    ...DEFAULT_AMF_LIMITS,
    maxDepth: config['amf-max-depth'],
    maxStringBytes: config['amf-max-string-bytes'],
  };
  return {
    listen: {
      host: config.host,
      rtmpPort: config['rtmp-port'],
      httpPort: config['http-port'],
      rtmps:
        config['rtmps-port'] !== 0 || config['tls-cert'] !== ''
          ? { port: config['rtmps-port'], certFile: config['tls-cert'], keyFile: config['tls-key'] }
          : null,
    },
    logLevel: config['log-level'],
    writeBatch: { mergeMs: config['write-merge-ms'], audioHoldMs: config['audio-hold-ms'] },
    hub: {
      gop: { maxBytes: config['gop-cache'] ? config['gop-max-bytes'] : 0, maxDurationMs: config['gop-max-ms'] },
      slow: {
        softBytes: config['slow-soft-bytes'],
        hardBytes: config['slow-hard-bytes'],
        maxSkipMs: config['slow-max-skip-ms'],
      },
      graceMs: config['grace-ms'],
      rewind: { windowMs: config['rewind-seconds'] * 1000, maxBytes: config['rewind-max-bytes'] },
      duplicatePublish: config['duplicate-publish'] === 'takeover' ? 'takeover' : 'refuse',
      maxStreams: config['max-streams'],
      maxViewersPerStream: config['max-viewers-per-stream'],
    },
    rtmp: {
      handshakeTimeoutMs: config['handshake-timeout-ms'],
      idleTimeoutMs: config['idle-timeout-ms'],
      publisherTimeoutMs: config['publisher-timeout-ms'],
      maxConnections: config['max-connections'],
      maxConnectionsPerAddress: config['max-connections-per-address'],
      maxMessageBytes: config['max-message-bytes'],
      amfLimits,
      rtmpe: config.rtmpe,
    },
    rtmpt: config.rtmpt
      ? {
          maxSessions: config['max-connections'],
          maxBodyBytes: config['rtmpt-max-body-bytes'],
          // Above the slow-viewer hard limit, so a tunnelled player that falls behind is handled like any other first.
          maxBufferedBytes: 2 * config['slow-hard-bytes'],
          idleTimeoutMs: config['rtmpt-idle-timeout-ms'],
          bodyTimeoutMs: config['rtmpt-body-timeout-ms'],
        }
      : null,
    access: {
      secret: orNull(config['auth-secret']),
      signed: new Set<SignedAction>(config.auth === 'both' ? ['publish', 'play'] : [config.auth as SignedAction]),
      onPublish: orNull(config['on-publish']),
      onPlay: orNull(config['on-play']),
      hookTimeoutMs: config['hook-timeout-ms'],
    },
    onDone: config['on-done'] === '' ? null : { url: config['on-done'], timeoutMs: config['hook-timeout-ms'] },
    relays: {
      push: config.push.map(parseRelayRule),
      pull: config.pull.map(parseRelayRule),
      pullOnDemand: config['pull-on-demand'].map(parseRelayRule),
      timeoutMs: config['relay-timeout-ms'],
    },
    recorder: {
      dir: config['record-dir'],
      auto: [...config.record],
      maxBytes: config['record-max-bytes'],
      maxSeconds: config['record-max-seconds'],
    },
    http: {
      corsOrigins: [...config['cors-origins']],
      apiToken: config['api-token'],
      trustedProxies: [...config['trusted-proxies']],
      maxConnections: config['max-http-connections'],
      headersTimeoutMs: config['http-headers-timeout-ms'],
    },
    hls: {
      segmenter: {
        partTargetMs: config['hls-part-ms'],
        segmentMinMs: config['hls-segment-ms'],
        segmentMaxMs: config['hls-segment-max-ms'],
        maxSegments: config['hls-segments'],
        maxBytes: config['hls-max-bytes'],
      },
      idleMs: config['hls-idle-ms'],
      sessionIdleMs: config['hls-session-idle-ms'],
      maxWaitsPerStream: config['hls-max-waits'],
      maxSessionsPerStream: config['hls-max-sessions'],
    },
  };
}

/** The options a default config gives: what tests and embedders start from. */
export function defaultOptions(): GatewayOptions {
  return gatewayOptions(defaultConfig());
}
