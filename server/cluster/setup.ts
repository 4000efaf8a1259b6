// Turns the cluster flags into a running ClusterNode for this process, and
// hands the gateway the few hooks it needs: the access check that claims a key
// before a publish, the missing-stream hook that starts internal pulls, the
// HTTP wrapper that serves the internal link, /api/cluster and metrics.
import cluster from 'node:cluster';
import http, { type RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import { AggregatorRegistry, Counter, Gauge, type Registry } from 'prom-client';
import type { AccessDecision } from '../auth/access.js';
import type { Config } from '../config.js';
import type { Hub } from '../hub/hub.js';
import type { Logger } from '../log.js';
import { ClusterNode } from './cluster-node.js';
import { isClusterCopy } from './internal-copy.js';
import { checkInternal } from './link-auth.js';
import { RtmptForwarder, rtmptIdPrefix } from './rtmpt-forward.js';
import { RedisRegistry } from './redis-registry.js';
import type { StreamRegistry } from './registry.js';
import { localStreamViews, type MergedStream } from './stream-merge.js';
import { WorkerRegistry, WORKER_ENV, type ToPrimary, type ToWorker } from './worker-registry.js';

export interface ClusterHooks {
  /** the access check to use: the public one, then (for publishes) the cluster-wide claim */
  access(base: AccessDecision | undefined): AccessDecision;
  streamMissing(app: string, key: string): void;
  /** the HTTP handler with the internal link in front of the public app */
  wrap(app: RequestListener): RequestListener;
  /** starts the registry once the public ports are known */
  start(httpPort: number, handler: RequestListener): Promise<void>;
  registerMetrics(registry: Registry): void;
  view(): Promise<unknown>;
  health(): unknown;
  /** every worker's streams merged (workers only; null: use this process's own list) */
  streams(): Promise<MergedStream[] | null>;
  /** one stream with every worker's viewers (workers only; null: use this process's own; undefined: not live anywhere) */
  stream(name: string): Promise<MergedStream | null | undefined>;
  /** every worker's metrics aggregated (workers only; null: use this process's own) */
  metrics(): Promise<string | null>;
  /** kick the publisher of `name` on whichever worker or node holds it; false when no other one does */
  kick(name: string): Promise<boolean>;
  close(): Promise<void>;
  /** marks this worker's RTMPT session ids, so other workers can send their requests here */
  readonly rtmptIdPrefix: string;
}

/** A cluster part runs with --cluster-redis, and in every worker of --workers N. */
export function clusterEnabled(config: Config): boolean {
  return config['cluster-redis'] !== '' || process.env[WORKER_ENV] !== undefined;
}

export function createClusterHooks(config: Config, hub: Hub, log: Logger): ClusterHooks | null {
  if (!clusterEnabled(config)) return null;
  const secret = config['cluster-secret'];
  let node: ClusterNode | null = null;
  let internal: http.Server | null = null;
  let workers: WorkerRegistry | null = null;
  let redisRegistry: RedisRegistry | null = null;
  let wrapped: RequestListener | null = null;
  let rtmptForwarder: RtmptForwarder | null = null;
  let rtmptForwarded: Counter | null = null;
  const answerPrimary = (msg: unknown): void => {
    const m = msg as ToWorker;
    if (typeof m !== 'object' || m === null) return;
    if (m.gw === 'collect') {
      const result = localStreamViews(hub, cluster.worker?.id ?? 0, m.name);
      process.send?.({ gw: 'collected', id: m.id, result } satisfies ToPrimary);
    } else if (m.gw === 'kick') {
      hub.get(m.name)?.publisher?.kick('kicked through the API');
    }
  };
  return {
    rtmptIdPrefix: cluster.worker !== undefined && process.env[WORKER_ENV] !== undefined ? rtmptIdPrefix(cluster.worker.id) : '',
    access(base) {
      return async (q) => {
        const denied = base === undefined ? null : await base(q);
        if (denied !== null || q.action !== 'publish') return denied;
        if (node === null) return 'cluster registry is starting';
        return node.claimForPublish(q.app, q.key);
      };
    },
    streamMissing(app, key) {
      node?.streamMissing(app, key);
    },
    wrap(app) {
      return (req, res) => {
        if (node === null) return app(req, res);
        if (rtmptForwarder !== null && !checkInternal(req, secret).internal && rtmptForwarder.route(req, res)) return;
        wrapped ??= node.wrap(app);
        wrapped(req, res);
      };
    },
    async start(httpPort, handler) {
      let registry: StreamRegistry;
      let peer: string;
      if (process.env[WORKER_ENV] !== undefined) {
        // A worker's internal link is its own loopback port (the public ports are shared by all workers).
        internal = http.createServer(handler);
        await new Promise<void>((resolve, reject) => {
          internal!.once('error', reject);
          internal!.listen({ port: 0, host: '127.0.0.1', exclusive: true }, () => resolve());
        });
        const url = `http://127.0.0.1:${(internal.address() as AddressInfo).port}`;
        peer = `worker ${cluster.worker?.id ?? process.pid}`;
        // Another node's owner lists this pull under the node and worker it came from.
        if (config['cluster-redis'] !== '') peer = `${config['cluster-advertise'] !== '' ? config['cluster-advertise'] : `http://${os.hostname()}:${httpPort}`} ${peer}`;
        workers = new WorkerRegistry(url, log);
        registry = workers;
        const known = workers;
        rtmptForwarder = new RtmptForwarder({
          self: cluster.worker?.id ?? 0, workerUrl: (id) => known.workerUrl(id), secret, peer, log,
          onForwarded: () => rtmptForwarded?.inc(),
        });
        process.on('message', answerPrimary);
      } else {
        const self = config['cluster-advertise'] !== '' ? config['cluster-advertise'] : `http://${os.hostname()}:${httpPort}`;
        const redis = new RedisRegistry({
          url: config['cluster-redis'], self, ttlMs: config['cluster-ttl-ms'], log,
          onKick: (name) => {
            const stream = hub.get(name);
            if (stream !== undefined && !isClusterCopy(stream)) stream.publisher?.kick('kicked through the API on another node');
          },
        });
        redisRegistry = redis;
        redis.start();
        registry = redis;
        peer = self;
      }
      node = new ClusterNode({
        hub,
        registry,
        secret,
        peer,
        log,
        takeover: config['duplicate-publish'] === 'takeover',
        timeoutMs: config['relay-timeout-ms'],
        pullIdleMs: 5_000,
        relocateForMs: config['cluster-ttl-ms'] + 2_000,
      });
    },
    registerMetrics(registry) {
      // The primary's aggregator asks each worker for this registry.
      if (process.env[WORKER_ENV] !== undefined) {
        AggregatorRegistry.setRegistries([registry]);
        // Constructing one installs prom-client's answer to the primary's requests in this worker.
        new AggregatorRegistry();
      }
      new Gauge({
        name: 'gateway_cluster_registry_up', help: 'the cluster registry (Redis, or the primary for workers) answers', registers: [registry],
        collect() {
          this.set(node?.registry.health.connected === true ? 1 : 0);
        },
      });
      rtmptForwarded = new Counter({
        name: 'gateway_rtmpt_forwarded_requests_total', help: 'RTMPT requests that reached a worker other than the one holding their session and were sent on to it', registers: [registry],
      });
      new Gauge({
        name: 'gateway_cluster_pulls', help: 'internal pulls: streams this process copies from their owner', registers: [registry],
        collect() {
          this.set(node?.pulls.size ?? 0);
        },
      });
    },
    async view() {
      return node === null ? null : node.view();
    },
    health() {
      return node === null ? null : node.registry.health;
    },
    async streams() {
      if (workers === null) return null;
      return ((await workers.ask({ gw: 'streams' })) as MergedStream[] | undefined) ?? null;
    },
    async stream(name) {
      if (workers === null) return null;
      const merged = (await workers.ask({ gw: 'streams', name })) as MergedStream[] | undefined;
      return merged === undefined ? null : merged[0];
    },
    async metrics() {
      if (workers === null) return null;
      return ((await workers.ask({ gw: 'metrics' })) as string | null | undefined) ?? null;
    },
    async kick(name) {
      if (redisRegistry !== null) return redisRegistry.kick(name);
      if (workers === null) return false;
      return (await workers.ask({ gw: 'kick', name })) === true;
    },
    async close() {
      process.off('message', answerPrimary);
      await node?.close();
      rtmptForwarder?.close();
      internal?.closeAllConnections();
      internal?.close();
    },
  };
}
