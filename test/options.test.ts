// gatewayOptions(): the config table's flat names to each part's options, pure.
import { describe, expect, it } from 'vitest';
import { DEFAULT_AMF_LIMITS } from '../server/amf/types.js';
import { defaultConfig, loadConfig, OPTIONS } from '../server/config.js';
import { defaultOptions, gatewayOptions } from '../server/options.js';
import { DEFAULT_CHUNK_READER_LIMITS } from '../server/rtmp/chunk-reader.js';

const withFlags = (...argv: string[]) => gatewayOptions(loadConfig(argv, {}).config);

describe('gatewayOptions', () => {
  it('maps the default config to the documented defaults of every part', () => {
    const o = defaultOptions();
    expect(o.listen).toEqual({ host: '0.0.0.0', rtmpPort: 1935, httpPort: 8000, rtmps: null });
    expect(o.hub).toEqual({
      gop: { maxBytes: 12 * 1024 * 1024, maxDurationMs: 20_000 },
      slow: { softBytes: 2 * 1024 * 1024, hardBytes: 8 * 1024 * 1024, maxSkipMs: 15_000 },
      graceMs: 0,
      rewind: { windowMs: 0, maxBytes: 256 * 1024 * 1024 },
      duplicatePublish: 'refuse',
      maxStreams: 1000,
      maxViewersPerStream: 10_000,
    });
    expect(o.rtmp).toEqual({
      handshakeTimeoutMs: 5_000,
      idleTimeoutMs: 30_000,
      publisherTimeoutMs: 15_000,
      maxConnections: 5_000,
      maxConnectionsPerAddress: 200,
      maxMessageBytes: 16 * 1024 * 1024,
      amfLimits: DEFAULT_AMF_LIMITS,
      rtmpe: true,
    });
    expect(o.rtmpt).toEqual({
      maxSessions: 5_000, maxBodyBytes: 4 * 1024 * 1024, maxBufferedBytes: 16 * 1024 * 1024, idleTimeoutMs: 15_000, bodyTimeoutMs: 10_000,
    });
    expect(withFlags('--rtmpt', 'false').rtmpt).toBeNull();
    expect(withFlags('--rtmpe', 'false').rtmp.rtmpe).toBe(false);
    expect(o.access).toEqual({ secret: null, signed: new Set(['publish', 'play']), onPublish: null, onPlay: null, hookTimeoutMs: 3_000 });
    expect(o.onDone).toBeNull();
    expect(o.relays).toEqual({ push: [], pull: [], pullOnDemand: [], timeoutMs: 10_000 });
    expect(o.recorder).toEqual({ dir: 'recordings', auto: [], maxBytes: 512 * 1024 * 1024, maxSeconds: 3600 });
    expect(o.writeBatch).toEqual({ mergeMs: 0, audioHoldMs: 40 });
    expect(o.http).toEqual({
      corsOrigins: ['*'], apiToken: '', trustedProxies: ['127.0.0.1', '::1'], maxConnections: 10_000, headersTimeoutMs: 10_000,
    });
    expect(o.hls).toEqual({
      segmenter: { partTargetMs: 300, segmentMinMs: 1000, segmentMaxMs: 10_000, maxSegments: 8, maxBytes: 48 * 1024 * 1024 },
      idleMs: 30_000,
      sessionIdleMs: 15_000,
      maxWaitsPerStream: 10_000,
      maxSessionsPerStream: 100_000,
    });
  });

  it('takes the codec-level bounds from the codecs, so each default is written once', () => {
    expect(OPTIONS['max-message-bytes'].default).toBe(DEFAULT_CHUNK_READER_LIMITS.maxMessageBytes);
    expect(OPTIONS['amf-max-depth'].default).toBe(DEFAULT_AMF_LIMITS.maxDepth);
    expect(OPTIONS['amf-max-string-bytes'].default).toBe(DEFAULT_AMF_LIMITS.maxStringBytes);
  });

  it('carries each flag to the part that uses it', () => {
    const o = withFlags(
      '--grace-ms', '2500', '--duplicate-publish', 'takeover', '--rewind-seconds', '30', '--amf-max-depth', '8',
      '--auth-secret', 's3cret', '--auth', 'play', '--on-done', 'http://127.0.0.1:9/done', '--hook-timeout-ms', '700',
      '--pull-on-demand', 'live/*=rtmp://127.0.0.1:1936/origin', '--write-merge-ms', '15', '--max-http-connections', '7',
    );
    expect(o.hub).toMatchObject({ graceMs: 2500, duplicatePublish: 'takeover', rewind: { windowMs: 30_000 } });
    expect(o.rtmp.amfLimits).toEqual({ ...DEFAULT_AMF_LIMITS, maxDepth: 8 });
    expect(o.access).toMatchObject({ secret: 's3cret', signed: new Set(['play']), hookTimeoutMs: 700 });
    expect(o.onDone).toEqual({ url: 'http://127.0.0.1:9/done', timeoutMs: 700 });
    expect(o.relays.pullOnDemand).toEqual([{ app: 'live', key: '*', url: 'rtmp://127.0.0.1:1936/origin' }]);
    expect(o.writeBatch.mergeMs).toBe(15);
    expect(o.http.maxConnections).toBe(7);
    const hls = withFlags('--hls-segment-max-ms', '4000', '--hls-session-idle-ms', '900', '--hls-max-waits', '3', '--hls-max-sessions', '5').hls;
    expect(hls).toMatchObject({ segmenter: { segmentMaxMs: 4000 }, sessionIdleMs: 900, maxWaitsPerStream: 3, maxSessionsPerStream: 5 });
  });

  it('--gop-cache false turns the GOP cache off through a zero byte bound', () => {
    expect(withFlags('--gop-cache', 'false').hub.gop.maxBytes).toBe(0);
  });

  it('names the RTMPS files without reading them (the composition root reads them)', () => {
    const config = { ...defaultConfig(), 'rtmps-port': 1443, 'tls-cert': '/nonexistent/cert.pem', 'tls-key': '/nonexistent/key.pem' };
    expect(gatewayOptions(config).listen.rtmps).toEqual({ port: 1443, certFile: '/nonexistent/cert.pem', keyFile: '/nonexistent/key.pem' });
  });

  it('is pure: the same config gives equal options, and changing the result does not change the next', () => {
    const config = defaultConfig();
    const a = gatewayOptions(config);
    a.hub.gop.maxBytes = 1;
    a.http.corsOrigins.length = 0;
    a.recorder.auto.push('live/*');
    const b = gatewayOptions(config);
    expect(b).toEqual(gatewayOptions(defaultConfig()));
    expect(b.hub.gop.maxBytes).toBe(12 * 1024 * 1024);
    expect(b.http.corsOrigins).toEqual(['*']);
    expect(b.recorder.auto).toEqual([]);
  });
});
