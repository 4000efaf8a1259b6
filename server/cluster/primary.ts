// `--workers N`: the primary process forks N gateway workers that share the
// public RTMP, RTMPS and HTTP ports (Node's cluster hands connections out).
// It holds the machine's one table of stream owners, answers the workers'
// claims atomically (one event loop: no two owners), tells every worker each
// change, gathers /api/streams and /metrics from all of them, and restarts a
// worker that dies.
import cluster, { type Worker } from 'node:cluster';
import { AggregatorRegistry } from 'prom-client';
import type { Logger } from '../log.js';
import { generateClusterSecret } from './link-auth.js';
import { joinRedis, type NodeMember, type PrimaryRedisOptions } from './primary-redis.js';
import { mergeStreams, type LocalStreamView } from './stream-merge.js';
import type { ClusterNodeView, ClusterView } from './registry.js';
import { WORKER_ENV, type ToPrimary, type ToWorker } from './worker-registry.js';

interface Owner {
  url: string;
  worker: number;
  at: number;
}

interface WorkerState {
  url: string | null;
  streams: string[];
  pulls: string[];
  viewers: number;
  seen: number;
}

const RESTART_DELAY_MS = 500;
/** a worker forces its own exit 5 s after SIGTERM (main.ts); past this it is stuck and gets SIGKILL */
const STOP_GRACE_MS = 8_000;
/** releasing this node's claims in Redis may not hold the exit longer than this */
const REDIS_STOP_MS = 3_000;
/** a busy worker answers late; the asking worker waits up to REPLY_TIMEOUT_MS (8 s) */
const COLLECT_MS = 5_000;

export interface PrimaryOptions {
  workers: number;
  secret: string;
  /** an owner whose worker stops refreshing is forgotten after this */
  ttlMs: number;
  log: Logger;
  /** with --cluster-redis: this node joins the cluster through the primary (see primary-redis.ts) */
  redis?: PrimaryRedisOptions;
}

export interface Primary {
  /** SIGTERM every worker, SIGKILL the ones that hang; resolves once all have exited */
  stop(): Promise<{ killed: number }>;
  /** SIGKILL every worker now */
  kill(): void;
}

export function runPrimary(o: PrimaryOptions): Primary {
  const log = o.log.child({ component: 'primary' });
  const secret = o.secret !== '' ? o.secret : generateClusterSecret();
  const owners = new Map<string, Owner>();
  const states = new Map<number, WorkerState>();
  const aggregator = new AggregatorRegistry();
  let stopping = false;
  let nextCollect = 1;
  const collecting = new Map<number, { want: number; got: unknown[]; done: (v: unknown[]) => void }>();

  /** names Redis gave to another node; the owning worker hears it at its next refresh */
  const lostToRedis = new Set<string>();
  const member: NodeMember | null = o.redis === undefined ? null : joinRedis(o.redis, {
    held: () => {
      const pulls = new Set<string>();
      let viewers = 0;
      for (const st of states.values()) {
        viewers += st.viewers;
        for (const p of st.pulls) if (!owners.has(p)) pulls.add(p);
      }
      return { owned: [...owners.keys()], pulls: [...pulls], viewers };
    },
    lost: (name) => {
      if (!owners.delete(name)) return;
      lostToRedis.add(name);
      broadcast();
    },
    changed: () => broadcast(),
    kick: (name) => {
      const target = cluster.workers?.[owners.get(name)?.worker ?? -1];
      if (target?.isConnected()) target.send({ gw: 'kick', id: 0, name } satisfies ToWorker);
    },
  }, log);

  const table = (): ToWorker => ({
    gw: 'table',
    owners: [...owners].map(([n, w]) => [n, w.url]),
    workers: [...states].flatMap(([id, s]) => (s.url === null ? [] : [[id, s.url] as [number, string]])),
    ...(member !== null ? { remote: member.remote().filter(([n]) => !owners.has(n)), health: member.health } : {}),
  });
  const release = (name: string): void => {
    if (member !== null && !owners.has(name)) void member.release(name);
  };
  const broadcast = (): void => {
    const msg = table();
    for (const w of Object.values(cluster.workers ?? {})) if (w?.isConnected()) w.send(msg);
  };

  const fork = (): void => {
    const w = cluster.fork({ [WORKER_ENV]: '1', RTMP_GATEWAY_CLUSTER_SECRET: secret });
    states.set(w.id, { url: null, streams: [], pulls: [], viewers: 0, seen: Date.now() });
    w.on('message', (msg: unknown) => onMessage(w, msg as ToPrimary));
    // A send racing the worker's exit fails here; without a listener it would crash the primary.
    w.on('error', (err: Error) => log.warn({ worker: w.id, err: err.message }, 'message to a worker failed'));
  };

  /** Ask every worker; resolves once all have answered, or with the answers that came within COLLECT_MS. */
  const collect = (what: 'streams', name?: string): Promise<unknown[]> => {
    const id = nextCollect++;
    const workers = Object.values(cluster.workers ?? {}).filter((w): w is Worker => w?.isConnected() === true);
    return new Promise((resolve) => {
      const entry = { want: workers.length, got: [] as unknown[], done: resolve };
      collecting.set(id, entry);
      setTimeout(() => {
        collecting.delete(id);
        resolve(entry.got);
      }, COLLECT_MS).unref();
      for (const w of workers) w.send({ gw: 'collect', id, what, ...(name !== undefined ? { name } : {}) } satisfies ToWorker);
      if (workers.length === 0) resolve([]);
    });
  };

  const reply = (w: Worker, id: number, result: unknown): void => {
    if (w.isConnected()) w.send({ gw: 'reply', id, result } satisfies ToWorker);
  };

  const onMessage = (w: Worker, m: ToPrimary): void => {
    if (typeof m !== 'object' || m === null || typeof m.gw !== 'string') return;
    const state = states.get(w.id);
    switch (m.gw) {
      case 'hello':
        if (state !== undefined && typeof m.url === 'string') {
          state.url = m.url;
          broadcast();
        } else if (w.isConnected()) w.send(table());
        return;
      case 'claim': {
        const cur = owners.get(m.name);
        if (cur !== undefined && cur.url !== m.url && !m.takeover) return reply(w, m.id, { ok: false, owner: `worker ${cur.worker}` });
        // Reserved here first: another worker's claim meanwhile finds it taken.
        const mine = { url: m.url, worker: w.id, at: Date.now() };
        owners.set(m.name, mine);
        lostToRedis.delete(m.name);
        if (member === null) {
          broadcast();
          return reply(w, m.id, { ok: true });
        }
        void member.claim(m.name, m.takeover).then((r) => {
          if (!r.ok && owners.get(m.name) === mine) owners.delete(m.name);
          broadcast();
          reply(w, m.id, r);
        });
        return;
      }
      case 'refresh': {
        const lost: string[] = [];
        let changed = false;
        for (const name of m.owned) {
          const cur = owners.get(name);
          if (lostToRedis.delete(name)) {
            lost.push(name);
            continue;
          }
          if (cur === undefined) changed = true;
          else if (cur.url !== m.url) {
            lost.push(name);
            continue;
          }
          owners.set(name, { url: m.url, worker: w.id, at: Date.now() });
        }
        if (state !== undefined && state.url !== m.url) changed = true;
        if (state !== undefined) Object.assign(state, { url: m.url, streams: m.owned, pulls: m.pulls, viewers: typeof m.viewers === 'number' ? m.viewers : 0, seen: Date.now() });
        if (changed) broadcast();
        return reply(w, m.id, lost);
      }
      case 'release': {
        if (owners.get(m.name)?.url === m.url) {
          owners.delete(m.name);
          release(m.name);
          broadcast();
        }
        return reply(w, m.id, true);
      }
      case 'relocate': {
        const local = owners.get(m.name);
        if (local !== undefined || member === null) return reply(w, m.id, local === undefined ? null : { url: local.url, sameNode: true });
        void member.relocate(m.name).then((url) => reply(w, m.id, url === null ? null : { url, sameNode: false }));
        return;
      }
      case 'view': {
        const now = Date.now();
        const workers: ClusterNodeView[] = [...states].map(([id, s]) => ({
          id: `worker ${id}`, url: s.url ?? '', streams: s.streams, pulls: s.pulls, viewers: s.viewers, seenMsAgo: now - s.seen,
          ...(cluster.workers?.[id]?.process.pid !== undefined ? { pid: cluster.workers[id]!.process.pid! } : {}),
        }));
        if (member !== null) {
          // The cluster's nodes and owners as Redis has them, and this node's workers.
          void member.view().then((v) => reply(w, m.id, { ...v, workers, localOwners: [...owners].map(([name, ow]) => ({ name, owner: `worker ${ow.worker}` })) }));
          return;
        }
        const view: ClusterView = {
          self: 'primary',
          health: { backend: 'workers', connected: true },
          nodes: workers,
          streams: [...owners].map(([name, ow]) => ({ name, owner: `worker ${ow.worker}` })),
        };
        return reply(w, m.id, view);
      }
      case 'streams':
        void collect('streams', m.name).then((all) => reply(w, m.id, mergeStreams(all as LocalStreamView[][])));
        return;
      case 'metrics':
        aggregator.clusterMetrics().then(
          (text) => reply(w, m.id, text),
          () => reply(w, m.id, null),
        );
        return;
      case 'kick': {
        const owner = owners.get(m.name);
        const target = owner === undefined ? undefined : cluster.workers?.[owner.worker];
        if (target?.isConnected()) target.send({ gw: 'kick', id: m.id, name: m.name } satisfies ToWorker);
        if (target === undefined && member !== null) {
          void member.kick(m.name).then((ok) => reply(w, m.id, ok));
          return;
        }
        return reply(w, m.id, target !== undefined);
      }
      case 'collected': {
        const c = collecting.get(m.id);
        if (c === undefined) return;
        c.got.push(m.result);
        if (c.got.length >= c.want) {
          collecting.delete(m.id);
          c.done(c.got);
        }
        return;
      }
    }
  };

  cluster.on('exit', (w, code, signal) => {
    states.delete(w.id);
    for (const [name, ow] of owners) {
      if (ow.worker === w.id) {
        owners.delete(name);
        release(name);
      }
    }
    // The table also lists the live workers (RTMPT requests are sent to the one holding their session).
    broadcast();
    if (stopping) return;
    log.warn({ worker: w.id, pid: w.process.pid, code, signal }, 'worker died; starting a new one');
    // A restart due while the primary stops would be a worker nobody stops.
    setTimeout(() => {
      if (!stopping) fork();
    }, RESTART_DELAY_MS).unref();
  });

  // Owners whose worker went quiet (hung, not dead) lapse like Redis keys do.
  const sweep = setInterval(() => {
    const now = Date.now();
    let changed = false;
    for (const [name, ow] of owners) {
      if (now - ow.at > o.ttlMs) {
        owners.delete(name);
        release(name);
        changed = true;
      }
    }
    if (changed) broadcast();
  }, 1_000);
  sweep.unref();

  for (let i = 0; i < o.workers; i++) fork();
  log.info({ workers: o.workers }, `primary started ${o.workers} workers`);

  return {
    async stop() {
      stopping = true;
      clearInterval(sweep);
      const workers = Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined && !w.isDead());
      const killed = await stopWorkers(workers, log);
      // Workers release their claims as they stop; what is left is released here, unless Redis hangs.
      if (member !== null) {
        const redisDone = Promise.all([...owners.keys()].map((n) => member.release(n))).then(() => member.close());
        await Promise.race([redisDone, new Promise<void>((resolve) => setTimeout(resolve, REDIS_STOP_MS).unref())]);
      }
      return { killed };
    },
    kill() {
      stopping = true;
      for (const w of Object.values(cluster.workers ?? {})) if (w !== undefined && !w.isDead()) w.process.kill('SIGKILL');
    },
  };
}

/**
 * SIGTERM to every worker; one still alive after STOP_GRACE_MS (its event loop blocked, or its
 * shutdown stuck) gets SIGKILL, so a stuck worker never holds the primary. Resolves once all have
 * exited, to how many had to be killed.
 */
async function stopWorkers(workers: Worker[], log: Logger): Promise<number> {
  let killed = 0;
  await Promise.all(workers.map((w) => new Promise<void>((resolve) => {
    const timer = setTimeout(() => {
      if (w.isDead()) return;
      killed++;
      log.warn({ worker: w.id, pid: w.process.pid, graceMs: STOP_GRACE_MS }, 'worker did not stop in time; killing it');
      w.process.kill('SIGKILL');
    }, STOP_GRACE_MS);
    w.process.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    if (w.process.exitCode !== null || w.process.signalCode !== null) {
      clearTimeout(timer);
      resolve();
      return;
    }
    w.process.kill('SIGTERM');
  })));
  return killed;
}
