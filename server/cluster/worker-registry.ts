// The stream registry as a worker sees it: the primary process holds the one
// table of who owns what on this machine; a worker asks it over cluster IPC
// and receives every change of the table, so lookups stay local and instant.
import type { Logger } from '../log.js';
import type { ClaimResult, ClusterView, RegistryHealth, StreamLocation, StreamRegistry } from './registry.js';

/** Set in the environment of the processes the primary forks. */
export const WORKER_ENV = 'RTMP_GATEWAY_WORKER';

/** Messages between a worker and the primary; `gw` tells them from other IPC traffic (e.g. prom-client's). */
export type ToPrimary =
  | { gw: 'claim'; id: number; name: string; takeover: boolean; url: string }
  | { gw: 'refresh'; id: number; owned: string[]; pulls: string[]; viewers: number; url: string }
  | { gw: 'release'; id: number; name: string; url: string }
  | { gw: 'relocate'; id: number; name: string }
  | { gw: 'view'; id: number }
  /** every worker's streams merged; with `name`, that one stream with its viewers */
  | { gw: 'streams'; id: number; name?: string }
  | { gw: 'kick'; id: number; name: string }
  | { gw: 'metrics'; id: number }
  | { gw: 'collected'; id: number; result: unknown }
  /** a worker's registry is ready for the table (a restarted worker missed every change before) */
  | { gw: 'hello'; url?: string };

export type ToWorker =
  | { gw: 'reply'; id: number; result: unknown }
  /** owners: this node's workers; remote and health: other nodes' streams and Redis, with --cluster-redis */
  | { gw: 'table'; owners: [string, string][]; remote?: [string, string][]; health?: RegistryHealth; workers?: [number, string][] }
  | { gw: 'collect'; id: number; what: 'streams'; name?: string }
  | { gw: 'kick'; id: number; name: string };

/** a message to the primary before the registry numbers it */
export type WorkerRequest = ToPrimary extends infer T ? (T extends { gw: 'collected' | 'hello' } ? never : Omit<T, 'id'>) : never;

/** prom-client's own cluster timeout is 5 s; the primary's answer may wait on it */
const REPLY_TIMEOUT_MS = 8_000;

export class WorkerRegistry implements StreamRegistry {
  readonly #self: string;
  readonly #owners = new Map<string, StreamLocation>();
  /** the node's registry as the primary reports it (Redis, with --cluster-redis) */
  #nodeHealth: RegistryHealth | null = null;
  /** live workers' internal URLs, by cluster worker id */
  #workerUrls = new Map<number, string>();
  readonly #waiting = new Map<number, { resolve: (v: unknown) => void; timer: NodeJS.Timeout }>();
  #nextId = 1;
  #onMessage: (msg: unknown) => void;

  constructor(self: string, readonly log: Logger) {
    this.#self = self;
    this.#onMessage = (msg) => {
      const m = msg as ToWorker;
      if (typeof m !== 'object' || m === null || typeof m.gw !== 'string') return;
      if (m.gw === 'reply') {
        const w = this.#waiting.get(m.id);
        if (w === undefined) return;
        this.#waiting.delete(m.id);
        clearTimeout(w.timer);
        w.resolve(m.result);
      } else if (m.gw === 'table') {
        this.#owners.clear();
        for (const [name, url] of m.remote ?? []) this.#owners.set(name, { url, sameNode: false });
        for (const [name, url] of m.owners) this.#owners.set(name, { url, sameNode: true });
        this.#nodeHealth = m.health ?? null;
        this.#workerUrls = new Map(m.workers ?? []);
      }
    };
    process.on('message', this.#onMessage);
    // With its internal URL: the other workers can send it RTMPT requests from now on.
    process.send?.({ gw: 'hello', url: self } satisfies ToPrimary);
  }

  /** Ask the primary; resolves to undefined when it does not answer in time. */
  ask(msg: WorkerRequest): Promise<unknown> {
    // Without the primary (it has gone) nobody answers; process.send would only emit an 'error' event.
    if (process.connected !== true) return Promise.resolve(undefined);
    const id = this.#nextId++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#waiting.delete(id);
        resolve(undefined);
      }, REPLY_TIMEOUT_MS);
      timer.unref();
      this.#waiting.set(id, { resolve, timer });
      try {
        process.send?.({ ...msg, id });
      } catch {
        clearTimeout(timer);
        this.#waiting.delete(id);
        resolve(undefined);
      }
    });
  }

  workerUrl(id: number): string | undefined {
    return this.#workerUrls.get(id);
  }

  get health(): RegistryHealth {
    if (process.connected !== true) return { backend: 'workers', connected: false };
    return this.#nodeHealth ?? { backend: 'workers', connected: true };
  }

  async claim(name: string, takeover: boolean): Promise<ClaimResult> {
    const r = (await this.ask({ gw: 'claim', name, takeover, url: this.#self })) as ClaimResult | undefined;
    return r ?? { ok: true, degraded: 'the primary did not answer' };
  }

  async refresh(owned: readonly string[], pulls: readonly string[], viewers: number): Promise<string[]> {
    const r = (await this.ask({ gw: 'refresh', owned: [...owned], pulls: [...pulls], viewers, url: this.#self })) as string[] | undefined;
    return r ?? [];
  }

  async release(name: string): Promise<void> {
    await this.ask({ gw: 'release', name, url: this.#self });
  }

  locate(name: string): StreamLocation | null {
    const at = this.#owners.get(name);
    return at === undefined || at.url === this.#self ? null : at;
  }

  async relocate(name: string): Promise<StreamLocation | null> {
    const at = (await this.ask({ gw: 'relocate', name })) as StreamLocation | null | undefined;
    if (at !== null && typeof at === 'object') this.#owners.set(name, at);
    else if (at === null) this.#owners.delete(name);
    return this.locate(name);
  }

  async view(): Promise<ClusterView> {
    const v = (await this.ask({ gw: 'view' })) as ClusterView | undefined;
    return v ?? { self: this.#self, health: this.health, nodes: [], streams: [] };
  }

  async close(): Promise<void> {
    process.off('message', this.#onMessage);
    for (const w of this.#waiting.values()) clearTimeout(w.timer);
    this.#waiting.clear();
  }
}
