// Relays to and from other RTMP servers. Push forwards a live stream to one
// or more servers (restreaming); pull plays a stream from another server into
// the hub, always (static) or when the first viewer asks (on demand). Every
// relay reconnects with capped exponential backoff while it is still wanted.
import type { Hub } from '../hub/hub.js';
import type { LiveStream, PublisherInfo } from '../hub/live-stream.js';
import type { MediaTag } from '../hub/media-tag.js';
import type { EndReason, Sink, Subscriber } from '../hub/subscriber.js';
import type { Logger } from '../log.js';
import { isSafeName } from '../names.js';
import { ingestMessage } from '../rtmp/ingest.js';
import { writeTagTo, type RtmpMediaPort } from '../rtmp/media-output.js';
import { parseRtmpUrl, redact, RtmpClient } from './rtmp-client.js';
import { isClusterCopy } from '../cluster/internal-copy.js';

export interface RelayRule {
  app: string;
  /** a stream key, or '*' for every key of the app */
  key: string;
  url: string;
}

/** `APP/KEY=rtmp://host/app/name` or `APP/*=rtmp://host/app` (the key is appended). */
export function parseRelayRule(text: string): RelayRule {
  const eq = text.indexOf('=');
  if (eq < 0) throw new Error(`relay rule needs APP/KEY=URL, got ${JSON.stringify(text)}`);
  const [app, key, extra] = text.slice(0, eq).trim().split('/');
  const url = text.slice(eq + 1).trim();
  if (app === undefined || key === undefined || extra !== undefined || !isSafeName(app) || (key !== '*' && !isSafeName(key))) {
    throw new Error(`relay rule stream must be APP/KEY or APP/*, got ${JSON.stringify(text.slice(0, eq))}`);
  }
  const probe = key === '*' ? `${url.replace(/\/$/, '')}/x` : url;
  parseRtmpUrl(probe); // throws with a clear message when malformed
  return { app, key, url };
}

function targetUrl(rule: RelayRule, app: string, key: string): string | null {
  if (rule.app !== app || (rule.key !== '*' && rule.key !== key)) return null;
  return rule.key === '*' ? `${rule.url.replace(/\/$/, '')}/${key}` : rule.url;
}

export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
}

const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 1_000, maxMs: 30_000 };

/** Reconnect delays: initial, doubling, capped; reset once a connection has worked. */
class Backoff {
  #next: number;
  constructor(readonly opts: BackoffOptions) {
    this.#next = opts.initialMs;
  }
  take(): number {
    const d = this.#next;
    this.#next = Math.min(this.opts.maxMs, this.#next * 2);
    return d;
  }
  reset(): void {
    this.#next = this.opts.initialMs;
  }
}

/** Forwards one live stream to one remote server. It is a hub viewer that writes RTMP. */
class PushRelay implements Sink {
  readonly protocol = 'relay' as const;
  #client: RtmpClient | null = null;
  /** where media goes once the remote server has started the stream */
  #port: RtmpMediaPort | null = null;
  #sub: Subscriber | null = null;
  #stopped = false;
  #retry: NodeJS.Timeout | null = null;
  #backoff: Backoff;

  readonly hub: Hub;
  readonly log: Logger;
  readonly timeoutMs: number;

  constructor(ctx: RelayContext, readonly stream: string, readonly url: string, readonly onStopped: (r: PushRelay) => void) {
    ({ hub: this.hub, log: this.log, timeoutMs: this.timeoutMs } = ctx);
    this.#backoff = new Backoff(ctx.backoff);
  }

  get bufferedBytes(): number {
    return this.#client?.bufferedBytes ?? 0;
  }

  start(): void {
    if (this.#stopped) return;
    const client = new RtmpClient(this.url, 'publish', {
      ready: () => {
        this.#backoff.reset();
        // Set before subscribing: the join burst (sequence headers, cached GOP) is written during it.
        this.#port = client;
        const r = this.hub.subscribe(this.stream, this, 0, parseRtmpUrl(this.url).host);
        if (!r.ok) {
          this.stop(r.detail);
          return;
        }
        this.#sub = r.subscriber;
        this.log.info({ stream: this.stream, to: redact(client.url) }, 'push relay publishing');
      },
      message: () => {},
      closed: (reason) => this.#onClientClosed(reason),
    }, this.log, this.hub.writeBatch, this.timeoutMs);
    this.#client = client;
    client.start();
  }

  #onClientClosed(reason: string): void {
    this.#client = null;
    this.#port = null;
    const sub = this.#sub;
    this.#sub = null;
    sub?.close('closed', reason);
    if (this.#stopped) return;
    const delay = this.#backoff.take();
    this.log.warn({ stream: this.stream, to: redact(parseRtmpUrl(this.url)), reason, retryInMs: delay }, 'push relay disconnected');
    this.#retry = setTimeout(() => {
      this.#retry = null;
      if (this.hub.get(this.stream)?.publisher != null) this.start();
      else this.stop('stream no longer live');
    }, delay);
    this.#retry.unref();
  }

  begin(): void {}

  write(tag: MediaTag): void {
    if (this.#port !== null) writeTagTo(this.#port, tag);
  }

  end(reason: EndReason, detail: string): void {
    if (reason === 'closed') return;
    if (reason === 'slow') {
      // The remote server is not keeping up: reconnect rather than fall further behind.
      this.#client?.close(`remote too slow: ${detail}`);
      return;
    }
    this.stop(detail);
  }

  stop(reason: string): void {
    if (this.#stopped) return;
    this.#stopped = true;
    if (this.#retry !== null) clearTimeout(this.#retry);
    this.#client?.close(reason);
    this.log.info({ stream: this.stream, to: redact(parseRtmpUrl(this.url)), reason }, 'push relay stopped');
    this.onStopped(this);
  }
}

/** Plays one stream from a remote server into the hub. */
class PullRelay {
  #client: RtmpClient | null = null;
  #stream: LiveStream | null = null;
  #stopped = false;
  #retry: NodeJS.Timeout | null = null;
  #idle: NodeJS.Timeout | null = null;
  #backoff: Backoff;
  #failures = 0;
  #everReceived = false;
  readonly publisher: PublisherInfo;

  readonly hub: Hub;
  readonly log: Logger;
  readonly timeoutMs: number;

  constructor(
    ctx: RelayContext,
    readonly app: string,
    readonly key: string,
    readonly url: string,
    readonly onDemand: boolean,
    readonly onStopped: (r: PullRelay) => void,
  ) {
    ({ hub: this.hub, log: this.log, timeoutMs: this.timeoutMs } = ctx);
    this.#backoff = new Backoff(ctx.backoff);
    const relay = this;
    this.publisher = {
      id: `pull:${app}/${key}`,
      address: parseRtmpUrl(url).host,
      protocol: 'relay',
      kick(reason: string) {
        relay.stop(reason);
      },
    };
  }

  get name(): string {
    return `${this.app}/${this.key}`;
  }

  start(): void {
    // On demand, the stream exists at once so the viewer who asked waits for it.
    if (this.onDemand && !this.#attach()) {
      this.stop('cannot publish the stream locally');
      return;
    }
    this.#connect();
  }

  #attach(): boolean {
    if (this.#stream !== null) return true;
    const r = this.hub.publish(this.app, this.key, this.publisher);
    if (!r.ok) {
      this.log.warn({ stream: this.name, reason: r.detail }, 'pull relay cannot publish');
      return false;
    }
    this.#stream = r.stream;
    return true;
  }

  #connect(): void {
    if (this.#stopped) return;
    const client = new RtmpClient(this.url, 'play', {
      ready: () => {
        if (!this.#attach()) {
          client.close('stream key is taken locally');
          return;
        }
        this.log.info({ stream: this.name, from: redact(client.url) }, 'pull relay playing');
      },
      message: (msg) => {
        // Only audio or video proves the remote stream is live (metadata may come first).
        if (client.mediaReceived && (!this.#everReceived || this.#failures > 0)) {
          this.#everReceived = true;
          this.#failures = 0;
          this.#backoff.reset();
        }
        if (this.#stream !== null) ingestMessage(this.#stream, msg);
      },
      closed: (reason) => this.#onClientClosed(reason),
    }, this.log, this.hub.writeBatch, this.timeoutMs);
    this.#client = client;
    client.start();
    if (this.onDemand) this.#watchViewers();
  }

  #onClientClosed(reason: string): void {
    this.#client = null;
    if (this.#stopped) return;
    this.#failures++;
    // On demand, a remote that never sent media has nothing for the viewer who asked: end now.
    const gaveUp = this.onDemand && (!this.#everReceived || this.#failures >= 3);
    // The remote stream went away: viewers are told (or wait out the grace period).
    if (this.#stream !== null && (!this.onDemand || gaveUp)) {
      const stream = this.#stream;
      this.#stream = null;
      stream.detach(this.publisher);
      if (this.onDemand) {
        this.stop(`remote unavailable: ${reason}`);
        return;
      }
    }
    const delay = this.#backoff.take();
    this.log.warn({ stream: this.name, from: redact(parseRtmpUrl(this.url)), reason, retryInMs: delay }, 'pull relay disconnected');
    this.#retry = setTimeout(() => {
      this.#retry = null;
      this.#connect();
    }, delay);
    this.#retry.unref();
  }

  /** On demand: stop pulling once nobody has watched for a while. */
  #watchViewers(): void {
    if (this.#idle !== null) return;
    let emptySince = 0;
    this.#idle = setInterval(() => {
      const s = this.hub.get(this.name);
      const viewers = s === undefined ? 0 : s.subscribers.size + s.waiting.size;
      if (viewers > 0) emptySince = 0;
      else if (emptySince === 0) emptySince = Date.now();
      else if (Date.now() - emptySince >= 10_000) this.stop('no viewers');
    }, 1_000);
    this.#idle.unref();
  }

  stop(reason: string): void {
    if (this.#stopped) return;
    this.#stopped = true;
    if (this.#retry !== null) clearTimeout(this.#retry);
    if (this.#idle !== null) clearInterval(this.#idle);
    this.#client?.close(reason);
    const stream = this.#stream;
    this.#stream = null;
    stream?.detach(this.publisher);
    this.log.info({ stream: this.name, reason }, 'pull relay stopped');
    this.onStopped(this);
  }
}

export interface RelayConfig {
  /** a remote that does not answer, or a pull that gets no media, for this long is dropped */
  timeoutMs: number;
  push: RelayRule[];
  pull: RelayRule[];
  pullOnDemand: RelayRule[];
  backoff?: BackoffOptions;
}

/** What every relay of one manager shares: where streams live, where to log, how to retry and when to give up. */
interface RelayContext {
  readonly hub: Hub;
  readonly log: Logger;
  readonly backoff: BackoffOptions;
  readonly timeoutMs: number;
}

export class RelayManager {
  #hub: Hub;
  #config: RelayConfig;
  #ctx: RelayContext;
  #pushes = new Set<PushRelay>();
  #pulls = new Map<string, PullRelay>();

  constructor(hub: Hub, config: RelayConfig, log: Logger) {
    this.#hub = hub;
    this.#config = config;
    this.#ctx = { hub, log: log.child({ component: 'relay' }), backoff: config.backoff ?? DEFAULT_BACKOFF, timeoutMs: config.timeoutMs };
    if (config.push.length > 0) hub.events.on('published', this.#onPublished);
    if (config.pullOnDemand.length > 0) hub.events.on('missing', this.#onMissing);
  }

  // A cluster copy is pushed by its owner, not once more by every process that copies it.
  #onPublished = (stream: LiveStream): void => {
    if (!isClusterCopy(stream)) this.#startPushes(stream);
  };
  #onMissing = (app: string, key: string): void => this.#pullOnDemand(app, key);

  /** Start the static pulls. */
  start(): void {
    for (const rule of this.#config.pull) {
      if (rule.key === '*') throw new Error('a static pull needs a concrete APP/KEY');
      this.#startPull(rule.app, rule.key, rule.url, false);
    }
  }

  get pushCount(): number {
    return this.#pushes.size;
  }

  get pullCount(): number {
    return this.#pulls.size;
  }

  #startPushes(stream: LiveStream): void {
    for (const rule of this.#config.push) {
      const url = targetUrl(rule, stream.app, stream.key);
      if (url === null) continue;
      const already = [...this.#pushes].some((p) => p.stream === stream.name && p.url === url);
      if (already) continue;
      const push = new PushRelay(this.#ctx, stream.name, url, (p) => this.#pushes.delete(p));
      this.#pushes.add(push);
      push.start();
    }
  }

  #pullOnDemand(app: string, key: string): void {
    for (const rule of this.#config.pullOnDemand) {
      const url = targetUrl(rule, app, key);
      if (url !== null) {
        this.#startPull(app, key, url, true);
        return;
      }
    }
  }

  #startPull(app: string, key: string, url: string, onDemand: boolean): void {
    const name = `${app}/${key}`;
    if (this.#pulls.has(name)) return;
    const pull = new PullRelay(this.#ctx, app, key, url, onDemand, (p) => {
      if (this.#pulls.get(p.name) === p) this.#pulls.delete(p.name);
    });
    this.#pulls.set(name, pull);
    pull.start();
  }

  close(): void {
    this.#hub.events.off('published', this.#onPublished);
    this.#hub.events.off('missing', this.#onMissing);
    for (const p of [...this.#pushes]) p.stop('server shutting down');
    for (const p of [...this.#pulls.values()]) p.stop('server shutting down');
  }
}
