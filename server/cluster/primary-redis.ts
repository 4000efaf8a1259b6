// `--workers N` with `--cluster-redis`: the primary is this node's one member
// of the Redis cluster. Other nodes know the node by one URL (its public HTTP
// port, which every worker serves) and never see its workers; inside the node
// the primary's table still says which worker owns what. A worker's claim is
// reserved in that table first (so two workers of one node cannot both win)
// and then made in Redis (so two nodes cannot). Streams of other nodes reach
// the workers with the table; a worker pulls them from the owning node's URL,
// and whichever worker of that node takes the request pulls it, if need be,
// from its own owner worker.
import type { Logger } from '../log.js';
import { RedisRegistry } from './redis-registry.js';
import type { ClaimResult, ClusterView, RegistryHealth } from './registry.js';

export interface PrimaryRedisOptions {
  url: string;
  /** the node's base URL, its id in Redis (the public HTTP port the workers share) */
  advertise: string;
  ttlMs: number;
}

export interface NodeMember {
  readonly health: RegistryHealth;
  claim(name: string, takeover: boolean): Promise<ClaimResult>;
  release(name: string): Promise<void>;
  /** streams held by other nodes, from the snapshot */
  remote(): [string, string][];
  /** ask Redis now where a stream this node does not hold lives */
  relocate(name: string): Promise<string | null>;
  kick(name: string): Promise<boolean>;
  view(): Promise<ClusterView>;
  close(): Promise<void>;
}

export interface NodeMemberHooks {
  /** what this node holds now: owned by one of its workers, and pulled from other nodes */
  held(): { owned: string[]; pulls: string[]; viewers: number };
  /** Redis says another node took `name` over */
  lost(name: string): void;
  /** the owners of other nodes changed */
  changed(): void;
  /** another node asks this one to kick the publisher of `name` */
  kick(name: string): void;
}

export function joinRedis(o: PrimaryRedisOptions, hooks: NodeMemberHooks, log: Logger): NodeMember {
  const redis = new RedisRegistry({ url: o.url, self: o.advertise, ttlMs: o.ttlMs, log, onKick: hooks.kick, onChange: hooks.changed });
  redis.start();
  let ticking = false;
  let connected = false;
  const timer = setInterval(() => {
    if (redis.health.connected !== connected) {
      connected = redis.health.connected;
      // The workers show the registry's health in /api/health and metrics.
      hooks.changed();
    }
    if (ticking) return;
    ticking = true;
    const { owned, pulls, viewers } = hooks.held();
    redis.refresh(owned, pulls, viewers).then(
      (lost) => {
        ticking = false;
        for (const name of lost) hooks.lost(name);
      },
      () => (ticking = false),
    );
  }, 1_000);
  timer.unref();
  return {
    get health() {
      return redis.health;
    },
    claim: (name, takeover) => redis.claim(name, takeover),
    release: (name) => redis.release(name),
    remote: () => redis.remoteOwners(),
    async relocate(name) {
      return (await redis.relocate(name))?.url ?? null;
    },
    kick: (name) => redis.kick(name),
    view: () => redis.view(),
    async close() {
      clearInterval(timer);
      await redis.close();
    },
  };
}
