// This process's part in a cluster (a node, or a worker of one): it claims a
// stream in the registry before a publish is accepted, keeps its claims alive
// while the publish lasts, opens one internal pull per stream that a local
// viewer asks for and another process owns, and serves the internal link.
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { parsePlayPath } from '../delivery/play-request.js';
import { serveHttpFlv } from '../http/flv-route.js';
import { rewindSpanMs } from '../http/stream-info.js';
import { RtmptTunnel } from '../rtmpt/tunnel.js';
import type { Hub } from '../hub/hub.js';
import type { Logger } from '../log.js';
import { InternalPull } from './internal-pull.js';
import { AnchoredLinkSink } from './link-anchor.js';
import { checkInternal, CLUSTER_REWIND_HEADER } from './link-auth.js';
import type { ClusterView, StreamLocation, StreamRegistry } from './registry.js';

export interface ClusterNodeOptions {
  hub: Hub;
  registry: StreamRegistry;
  secret: string;
  /** this process's name for logs and the owner's view of its pulls */
  peer: string;
  log: Logger;
  takeover: boolean;
  /** an internal upstream silent this long is dropped */
  timeoutMs: number;
  /** an internal pull stops this long after its last viewer */
  pullIdleMs: number;
  /** how long a pull keeps looking for its stream (while the registry names an owner) before it ends its viewers */
  relocateForMs: number;
}

/** A claim that never became a publish (the publisher left during the handshake) is released after this. */
const UNUSED_CLAIM_MS = 3_000;

export class ClusterNode {
  readonly #o: ClusterNodeOptions;
  readonly #log: Logger;
  readonly #pulls = new Map<string, InternalPull>();
  /** claimed streams: when claimed, and whether a publish really used the claim */
  readonly #claimed = new Map<string, { at: number; published: boolean }>();
  #timer: NodeJS.Timeout;
  #ticking = false;
  /** set while an internal request is being routed, so it never starts a node-to-node pull (no chains, no loops) */
  #routingInternal = false;

  constructor(options: ClusterNodeOptions) {
    this.#o = options;
    this.#log = options.log.child({ component: 'cluster' });
    this.#timer = setInterval(() => void this.#tick(), 1_000);
    this.#timer.unref();
  }

  get registry(): StreamRegistry {
    return this.#o.registry;
  }

  get pulls(): ReadonlyMap<string, InternalPull> {
    return this.#pulls;
  }

  /** Before a publish is accepted: take the key cluster-wide. Resolves to a refusal reason, or null. */
  async claimForPublish(app: string, key: string): Promise<string | null> {
    const name = `${app}/${key}`;
    const r = await this.#o.registry.claim(name, this.#o.takeover);
    if (!r.ok) return `${name} is already being published on ${r.owner}`;
    if (r.degraded !== undefined) this.#log.warn({ stream: name, reason: r.degraded }, 'publish accepted without the cluster registry');
    this.#claimed.set(name, { at: Date.now(), published: false });
    return null;
  }

  /** The hub asks for a stream that is not live here: pull it from its owner, if another process has it. */
  streamMissing(app: string, key: string): void {
    const name = `${app}/${key}`;
    if (this.#pulls.has(name)) return;
    const at = this.#o.registry.locate(name);
    if (at === null) return;
    if (this.#routingInternal && !at.sameNode) return;
    this.#startPull(app, key, at);
  }

  #startPull(app: string, key: string, at: StreamLocation): void {
    const pull = new InternalPull(app, key, `${at.url.replace(/\/$/, '')}/${encodeURIComponent(app)}/${encodeURIComponent(key)}.flv`, {
      hub: this.#o.hub,
      log: this.#log,
      secret: this.#o.secret,
      peer: this.#o.peer,
      relocate: async (n) => {
        const next = await this.#o.registry.relocate(n);
        return next === null ? null : `${next.url.replace(/\/$/, '')}/${encodeURIComponent(app)}/${encodeURIComponent(key)}.flv`;
      },
      timeoutMs: this.#o.timeoutMs,
      idleMs: this.#o.pullIdleMs,
      relocateForMs: this.#o.relocateForMs,
      onStopped: (p) => {
        if (this.#pulls.get(p.name) === p) this.#pulls.delete(p.name);
      },
    });
    this.#pulls.set(pull.name, pull);
    this.#log.info({ stream: pull.name, from: pull.url }, 'internal pull started');
    pull.start();
  }

  /** Wraps the public HTTP handler: internal-link requests are answered here, everything else goes on. */
  wrap(app: RequestListener): RequestListener {
    return (req: IncomingMessage, res: ServerResponse) => {
      const check = checkInternal(req, this.#o.secret);
      if (!check.internal) {
        app(req, res);
        return;
      }
      if (!check.ok) {
        this.#log.warn({ address: req.socket.remoteAddress }, 'internal link refused: wrong cluster secret');
        res.writeHead(403, { 'Content-Type': 'text/plain; charset=utf-8' }).end('Forbidden: wrong cluster secret\n');
        return;
      }
      // Another worker sends on a request for an RTMPT session this one holds (cluster/rtmpt-forward.ts).
      if (req.method === 'POST' && RtmptTunnel.parsePath((req.url ?? '/').split('?')[0]!) !== null) {
        app(req, res);
        return;
      }
      const play = req.method === 'GET' ? parsePlayPath(req.url ?? '/') : null;
      if (play === null) {
        res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end('Not an internal stream path\n');
        return;
      }
      // A copy has no window of its own: it tells its viewers (and the page's rewind bar) the owner's.
      const held = this.#o.hub.get(play.name);
      if (held !== undefined) res.setHeader(CLUSTER_REWIND_HEADER, String(rewindSpanMs(held)));
      // The public checks ran on the node the viewer reached; the secret stands for them here.
      this.#routingInternal = true;
      try {
        void serveHttpFlv(req, res, play, {
          hub: this.#o.hub, log: this.#log, clientAddress: () => `cluster:${check.peer}`, internal: true,
          // A copy's pull carries the owner's arrival anchor; a rewind link (one viewer behind live) does not.
          ...(play.query.has('rewind') ? {} : {
            linkSink: (r: ServerResponse, browser: boolean) => new AnchoredLinkSink(r, browser, () => this.#o.hub.get(play.name)?.arrivalAnchor() ?? null),
          }),
        });
      } finally {
        this.#routingInternal = false;
      }
    };
  }

  /** Once a second: keep claims alive, release those that ended, kick publishers whose key was taken over. */
  async #tick(): Promise<void> {
    if (this.#ticking) return;
    this.#ticking = true;
    try {
      const owned: string[] = [];
      for (const stream of this.#o.hub.streams.values()) {
        const pub = stream.publisher;
        if (pub === null || this.#pulls.get(stream.name)?.publisher === pub) continue;
        owned.push(stream.name);
        this.#claimed.set(stream.name, { at: Date.now(), published: true });
      }
      const now = Date.now();
      for (const [name, claim] of this.#claimed) {
        if (!owned.includes(name) && (claim.published || now - claim.at > UNUSED_CLAIM_MS)) {
          this.#claimed.delete(name);
          await this.#o.registry.release(name);
        }
      }
      let viewers = 0;
      for (const stream of this.#o.hub.streams.values()) viewers += this.#o.hub.viewersByProtocol(stream).total;
      const lost = await this.#o.registry.refresh(owned, [...this.#pulls.keys()], viewers);
      for (const name of lost) {
        const pub = this.#o.hub.get(name)?.publisher;
        this.#claimed.delete(name);
        this.#log.warn({ stream: name }, 'another node took this stream over; its publisher here is disconnected');
        pub?.kick('taken over on another node');
      }
    } finally {
      this.#ticking = false;
    }
  }

  async view(): Promise<ClusterView & { localPulls: { stream: string; from: string; bytesIn: number }[] }> {
    const v = await this.#o.registry.view();
    const localPulls = [...this.#pulls.values()].map((p) => ({ stream: p.name, from: p.url, bytesIn: p.bytesIn }));
    return { ...v, localPulls };
  }

  async close(): Promise<void> {
    clearInterval(this.#timer);
    for (const p of [...this.#pulls.values()]) p.stop('server shutting down');
    await Promise.all([...this.#claimed.keys()].map((n) => this.#o.registry.release(n)));
    this.#claimed.clear();
    await this.#o.registry.close();
  }
}
