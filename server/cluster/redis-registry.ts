// The stream registry between nodes, in Redis. Each stream key holds its
// owner's internal URL with a short TTL the owner refreshes every second, so a
// crashed owner's key lapses by itself. Claims run as a Lua script (one atomic
// step: no two owners after a race). Each node also keeps a heartbeat key.
// Viewers never wait on Redis: lookups read a snapshot kept fresh by a 1 s
// scan and a pub/sub channel; Redis going away leaves every local stream and
// viewer alone, and the next refresh after it returns registers everything again.
import { createClient } from 'redis';
import type { Logger } from '../log.js';
import type { ClaimResult, ClusterNodeView, ClusterView, RegistryHealth, StreamLocation, StreamRegistry } from './registry.js';

export interface RedisRegistryOptions {
  url: string;
  /** this node's internal base URL, also its id */
  self: string;
  ttlMs: number;
  log: Logger;
  prefix?: string;
  /** another node asks the owner of `name` to kick its publisher (DELETE /api/streams on any node) */
  onKick?: (name: string) => void;
  /** the snapshot of owners changed (a primary passes it on to its workers) */
  onChange?: () => void;
}

/** KEYS[1] stream key; ARGV owner, ttl, takeover ('1'), channel. Returns {won, previous owner or ''}. */
const CLAIM = `
local cur = redis.call('GET', KEYS[1])
if cur == false or cur == ARGV[1] or ARGV[3] == '1' then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  if cur ~= ARGV[1] then redis.call('PUBLISH', ARGV[4], KEYS[1] .. ' ' .. ARGV[1]) end
  return {1, cur or ''}
end
return {0, cur}`;

/** KEYS stream keys; ARGV owner, ttl. Re-sets keys that are ours or lapsed; returns 0 for keys someone else holds. */
const REFRESH = `
local out = {}
for i, k in ipairs(KEYS) do
  local cur = redis.call('GET', k)
  if cur == false or cur == ARGV[1] then
    redis.call('SET', k, ARGV[1], 'PX', ARGV[2])
    out[i] = 1
  else
    out[i] = 0
  end
end
return out`;

/** KEYS[1] stream key; ARGV owner, channel. Deletes it only if it is still ours. */
const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  redis.call('PUBLISH', ARGV[2], KEYS[1])
end
return 1`;

type Client = ReturnType<typeof createClient>;

export class RedisRegistry implements StreamRegistry {
  readonly #o: Required<RedisRegistryOptions>;
  readonly #client: Client;
  readonly #events: Client;
  readonly #snapshot = new Map<string, string>();
  #health: RegistryHealth = { backend: 'redis', connected: false };
  #timer: NodeJS.Timeout;
  #closed = false;
  #everConnected = false;

  constructor(options: RedisRegistryOptions) {
    this.#o = { prefix: 'gateway:', onKick: () => {}, onChange: () => {}, ...options };
    const reconnectStrategy = (retries: number): number => Math.min(100 * 2 ** retries, 2_000);
    // No offline queue: while Redis is away a command fails at once instead of waiting for it to return.
    this.#client = createClient({ url: options.url, disableOfflineQueue: true, socket: { reconnectStrategy, connectTimeout: 2_000 } });
    this.#events = this.#client.duplicate();
    this.#client.on('error', (err: Error) => this.#down(err));
    this.#events.on('error', () => {});
    this.#client.on('ready', () => this.#up());
    this.#timer = setInterval(() => void this.#scan(), 1_000);
    this.#timer.unref();
  }

  get #channel(): string {
    return `${this.#o.prefix}streams`;
  }

  #key(name: string): string {
    return `${this.#o.prefix}stream:${name}`;
  }

  /** Connects in the background: a node starts (and serves its own streams) even while Redis is away. */
  start(): void {
    this.#client.connect().catch((err: Error) => this.#down(err));
    this.#events
      .connect()
      .then(() =>
        this.#events.subscribe(this.#channel, (message: string) => {
          // "KEY OWNER" when claimed, "KEY" when released.
          const [key, owner] = message.split(' ');
          const name = key?.slice(`${this.#o.prefix}stream:`.length) ?? '';
          if (owner === undefined) this.#snapshot.delete(name);
          else this.#snapshot.set(name, owner);
          this.#o.onChange();
        }),
      )
      .then(() => this.#events.subscribe(this.#kickChannel, (name: string) => this.#o.onKick(name)))
      .catch(() => {});
  }

  get #kickChannel(): string {
    return `${this.#o.prefix}kick`;
  }

  /** Ask the owner of `name`, wherever it is, to kick its publisher. False when no other node owns it. */
  async kick(name: string): Promise<boolean> {
    const at = await this.relocate(name);
    if (at === null) return false;
    try {
      await this.#client.publish(this.#kickChannel, name);
      return true;
    } catch {
      return false;
    }
  }

  get health(): RegistryHealth {
    return this.#health;
  }

  #down(err: Error): void {
    if (this.#closed) return;
    if (this.#health.connected || this.#health.downSince === undefined) {
      // Logged once per outage, not once per reconnect attempt.
      this.#o.log.warn({ redis: redactUrl(this.#o.url), err: err.message }, 'cluster registry: Redis unreachable; serving local streams, will re-register when it returns');
      this.#health = { backend: 'redis', connected: false, downSince: new Date().toISOString(), lastError: err.message };
    } else {
      this.#health.lastError = err.message;
    }
  }

  #up(): void {
    const was = this.#health.downSince;
    this.#health = { backend: 'redis', connected: true };
    if (this.#everConnected || was !== undefined) this.#o.log.info({ redis: redactUrl(this.#o.url), downSince: was }, 'cluster registry: Redis reachable');
    this.#everConnected = true;
    void this.#scan();
  }

  async #scanKeys(pattern: string): Promise<string[]> {
    const keys: string[] = [];
    let cursor = '0';
    do {
      const r = await this.#client.scan(cursor, { MATCH: pattern, COUNT: 500 });
      cursor = String(r.cursor);
      keys.push(...r.keys);
    } while (cursor !== '0');
    return keys;
  }

  async #entries(pattern: string): Promise<[string, string][]> {
    const keys = await this.#scanKeys(pattern);
    if (keys.length === 0) return [];
    const values = await this.#client.mGet(keys);
    const out: [string, string][] = [];
    keys.forEach((k, i) => {
      const v = values[i];
      if (typeof v === 'string') out.push([k, v]);
    });
    return out;
  }

  /** Rebuild the snapshot; a failure keeps the last one (a Redis outage must not end pulls). */
  async #scan(): Promise<void> {
    if (!this.#health.connected) return;
    try {
      const prefix = `${this.#o.prefix}stream:`;
      const entries = await this.#entries(`${prefix}*`);
      const before = JSON.stringify([...this.#snapshot].sort());
      this.#snapshot.clear();
      for (const [k, owner] of entries) this.#snapshot.set(k.slice(prefix.length), owner);
      if (JSON.stringify([...this.#snapshot].sort()) !== before) this.#o.onChange();
    } catch {
      // The error handler has logged the outage.
    }
  }

  async claim(name: string, takeover: boolean): Promise<ClaimResult> {
    try {
      const r = (await this.#client.eval(CLAIM, {
        keys: [this.#key(name)],
        arguments: [this.#o.self, String(this.#o.ttlMs), takeover ? '1' : '0', this.#channel],
      })) as [number, string];
      if (r[0] === 1) {
        this.#snapshot.set(name, this.#o.self);
        return { ok: true };
      }
      return { ok: false, owner: r[1] };
    } catch (err) {
      // Availability first: a node that cannot reach Redis still takes publishes; the next refresh registers them.
      return { ok: true, degraded: `registry unreachable: ${(err as Error).message}` };
    }
  }

  async refresh(owned: readonly string[], pulls: readonly string[], viewers: number): Promise<string[]> {
    if (!this.#health.connected) return [];
    const lost: string[] = [];
    try {
      if (owned.length > 0) {
        const r = (await this.#client.eval(REFRESH, {
          keys: owned.map((n) => this.#key(n)),
          arguments: [this.#o.self, String(this.#o.ttlMs)],
        })) as number[];
        owned.forEach((n, i) => {
          if (r[i] === 0) lost.push(n);
        });
      }
      const beat = JSON.stringify({ url: this.#o.self, streams: owned, pulls, viewers, at: Date.now() });
      await this.#client.set(`${this.#o.prefix}node:${this.#o.self}`, beat, { PX: this.#o.ttlMs });
    } catch {
      return [];
    }
    return lost;
  }

  async release(name: string): Promise<void> {
    if (this.#snapshot.get(name) === this.#o.self) this.#snapshot.delete(name);
    try {
      await this.#client.eval(RELEASE, { keys: [this.#key(name)], arguments: [this.#o.self, this.#channel] });
    } catch {
      // Unreachable: the key lapses within its TTL anyway.
    }
  }

  locate(name: string): StreamLocation | null {
    const owner = this.#snapshot.get(name);
    return owner === undefined || owner === this.#o.self ? null : { url: owner, sameNode: false };
  }

  /** From the last snapshot: every stream another node owns, with that node's URL. */
  remoteOwners(): [string, string][] {
    return [...this.#snapshot].filter(([, owner]) => owner !== this.#o.self);
  }

  async relocate(name: string): Promise<StreamLocation | null> {
    if (this.#health.connected) {
      try {
        const owner = await this.#client.get(this.#key(name));
        if (owner === null) this.#snapshot.delete(name);
        else this.#snapshot.set(name, owner);
      } catch {
        // Keep the snapshot's answer.
      }
    }
    return this.locate(name);
  }

  async view(): Promise<ClusterView> {
    const nodes: ClusterNodeView[] = [];
    const streams: { name: string; owner: string }[] = [];
    if (this.#health.connected) {
      try {
        const now = Date.now();
        for (const [, raw] of await this.#entries(`${this.#o.prefix}node:*`)) {
          const beat = JSON.parse(raw) as { url: string; streams: string[]; pulls: string[]; viewers?: number; at: number };
          // A node of an older version says nothing of its viewers.
          nodes.push({ id: beat.url, url: beat.url, streams: beat.streams, pulls: beat.pulls, viewers: beat.viewers ?? 0, seenMsAgo: Math.max(0, now - beat.at) });
        }
        const prefix = `${this.#o.prefix}stream:`;
        for (const [k, owner] of await this.#entries(`${prefix}*`)) streams.push({ name: k.slice(prefix.length), owner });
      } catch {
        // Shown as disconnected below.
      }
    }
    nodes.sort((a, b) => a.url.localeCompare(b.url));
    streams.sort((a, b) => a.name.localeCompare(b.name));
    return { self: this.#o.self, health: this.#health, nodes, streams };
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#timer);
    try {
      if (this.#client.isReady) await this.#client.del(`${this.#o.prefix}node:${this.#o.self}`);
    } catch {
      // It lapses within its TTL.
    }
    for (const c of [this.#events, this.#client]) {
      // A client still trying to reconnect is dropped at once: shutting down must not wait for Redis.
      if (!c.isReady) {
        if (c.isOpen) c.destroy();
        continue;
      }
      try {
        await c.quit();
      } catch {
        c.destroy();
      }
    }
  }
}

function redactUrl(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//***@');
}
