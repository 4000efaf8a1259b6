// Prometheus metrics (prom-client). Gauges are read from the hub and the
// listeners when scraped, and counters are bumped at connection or stream
// events, so nothing is added to the per-tag, per-viewer path.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { Hub } from './hub/hub.js';
import type { LiveStream } from './hub/live-stream.js';
import { VIEWER_PROTOCOLS } from './hub/subscriber.js';

export interface MetricsSources {
  hub: Hub;
  rtmpConnections: () => number;
  /** RTMP sessions tunnelled over HTTP */
  rtmptConnections?: () => number;
  httpViewers: () => number;
  wsViewers: () => number;
}

export class GatewayMetrics {
  readonly registry = new Registry();
  readonly authRefusals: Counter<'action' | 'protocol'>;
  readonly connectionsRefused: Counter<'reason'>;
  readonly sessionsEnded: Counter<'kind' | 'protocol'>;
  readonly protocolErrors: Counter<'code'>;
  /** bytes of viewers and streams that have ended; live ones are added at scrape time */
  #bytesOutEnded = 0;
  #bytesInEnded = 0;
  #internalInEnded = 0;
  #internalOutEnded = 0;
  #droppedEnded = 0;
  #slowEnded = 0;
  #discontinuitiesEnded = 0;
  #loopDelay = monitorEventLoopDelay({ resolution: 20 });

  constructor(src: MetricsSources) {
    const r = this.registry;
    collectDefaultMetrics({ register: r, prefix: 'gateway_process_' });
    this.#loopDelay.enable();
    const hub = src.hub;
    const live = () => [...hub.streams.values()];
    const sum = (of: (s: LiveStream) => number): number => live().reduce((a, s) => a + of(s), 0);
    /** A gauge of one figure summed over the live streams. */
    const streamGauge = (name: string, help: string, of: (s: LiveStream) => number): void => {
      new Gauge({
        name, help, registers: [r],
        collect() {
          this.set(sum(of));
        },
      });
    };
    /** A counter of one figure summed over the live streams, plus what ended streams had when they went. */
    const streamCounter = (name: string, help: string, ended: () => number, of: (s: LiveStream) => number): void => {
      new Counter({
        name, help, registers: [r],
        collect() {
          this.reset();
          this.inc(ended() + sum(of));
        },
      });
    };
    new Gauge({
      name: 'gateway_connections', help: 'open connections by protocol', labelNames: ['protocol'], registers: [r],
      collect() {
        this.set({ protocol: 'rtmp' }, src.rtmpConnections());
        if (src.rtmptConnections !== undefined) this.set({ protocol: 'rtmpt' }, src.rtmptConnections());
        this.set({ protocol: 'http' }, src.httpViewers());
        this.set({ protocol: 'ws' }, src.wsViewers());
      },
    });
    new Gauge({
      name: 'gateway_streams_live', help: 'streams with a publisher (a cluster copy is counted on its owner only)', registers: [r],
      collect() {
        this.set(live().filter((s) => s.publisher !== null && !s.fedByInternalLink).length);
      },
    });
    new Gauge({
      name: 'gateway_viewers', help: 'viewers by protocol', labelNames: ['protocol'], registers: [r],
      collect() {
        // Every label value is set on each scrape, so a protocol without viewers reads 0, not absent.
        const counts = live().map((s) => hub.viewersByProtocol(s));
        for (const protocol of VIEWER_PROTOCOLS) this.set({ protocol }, counts.reduce((n, v) => n + v[protocol], 0));
      },
    });
    const self = this;
    streamCounter('gateway_bytes_in_total', 'media bytes received from publishers (not over internal links)',
      () => self.#bytesInEnded, (s) => (s.fedByInternalLink ? 0 : s.bytesIn));
    streamGauge('gateway_internal_links', 'internal links: other workers or nodes copying a stream from here (not viewers)',
      (s) => hub.internalLinkCount(s));
    new Counter({
      name: 'gateway_internal_link_bytes_total',
      help: 'media bytes over internal links between workers or nodes: in, copies of streams owned elsewhere; out, to other copies',
      labelNames: ['direction'], registers: [r],
      collect() {
        this.reset();
        let received = self.#internalInEnded;
        let sent = self.#internalOutEnded;
        for (const s of live()) {
          if (s.fedByInternalLink) received += s.bytesIn;
          sent += s.totalInternalBytesOut;
        }
        this.inc({ direction: 'in' }, received);
        this.inc({ direction: 'out' }, sent);
      },
    });
    streamCounter('gateway_bytes_out_total', 'media bytes sent to viewers', () => self.#bytesOutEnded, (s) => s.totalBytesOut);
    new Counter({
      name: 'gateway_slow_viewer_dropped_tags_total', help: 'audio/video tags skipped for slow viewers', registers: [r],
      collect() {
        this.reset();
        let n = self.#droppedEnded;
        for (const s of live()) {
          n += s.droppedTags;
          for (const sub of s.subscribers) n += sub.droppedTags;
        }
        this.inc(n);
      },
    });
    streamCounter('gateway_slow_viewer_disconnects_total', 'viewers disconnected for being too slow',
      () => self.#slowEnded, (s) => s.slowDisconnects);
    streamGauge('gateway_push_relays', 'push relays forwarding streams to other servers (not counted as viewers)',
      (s) => hub.relayCount(s));
    streamCounter('gateway_timestamp_discontinuities_total', 'publisher timestamp jumps (clock reset, 31-bit wrap) the timeline re-offset',
      () => self.#discontinuitiesEnded, (s) => s.timeline.discontinuities);
    new Gauge({
      name: 'gateway_event_loop_lag_seconds', help: 'event loop delay p99 since the last scrape', registers: [r],
      collect() {
        const p99 = self.#loopDelay.percentile(99);
        this.set(Number.isFinite(p99) ? p99 / 1e9 : 0);
        self.#loopDelay.reset();
      },
    });
    this.authRefusals = new Counter({
      name: 'gateway_auth_refusals_total', help: 'publish/play refused by signature or webhook',
      labelNames: ['action', 'protocol'], registers: [r],
    });
    this.connectionsRefused = new Counter({
      name: 'gateway_limit_refusals_total', help: 'connections or requests refused or closed by a configured limit',
      labelNames: ['reason'], registers: [r],
    });
    this.protocolErrors = new Counter({
      name: 'gateway_protocol_errors_total', help: 'connections closed for malformed input, by error code',
      labelNames: ['code'], registers: [r],
    });
    this.sessionsEnded = new Counter({
      name: 'gateway_sessions_ended_total', help: 'publish and play sessions that ended',
      labelNames: ['kind', 'protocol'], registers: [r],
    });
  }

  /** A stream ended: keep its totals so counters never go backwards. */
  streamEnded(s: {
    bytesIn: number;
    fedByInternalLink: boolean;
    totalBytesOut: number;
    totalInternalBytesOut: number;
    droppedTags: number;
    slowDisconnects: number;
    timeline: { discontinuities: number };
  }): void {
    this.#discontinuitiesEnded += s.timeline.discontinuities;
    if (s.fedByInternalLink) this.#internalInEnded += s.bytesIn;
    else this.#bytesInEnded += s.bytesIn;
    this.#bytesOutEnded += s.totalBytesOut;
    this.#internalOutEnded += s.totalInternalBytesOut;
    this.#droppedEnded += s.droppedTags;
    this.#slowEnded += s.slowDisconnects;
  }

  close(): void {
    this.#loopDelay.disable();
  }
}
