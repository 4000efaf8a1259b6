// One internal pull: this process's own copy of a stream that another worker
// or node owns. It fetches the owner's HTTP-FLV over the internal link and
// republishes every tag into the local hub, where all local viewers share it.
// When the upstream ends it asks the registry again (the publisher may have
// moved) before it lets the local viewers go.
import http from 'node:http';
import type { Hub } from '../hub/hub.js';
import type { LiveStream, PublisherInfo } from '../hub/live-stream.js';
import type { Logger } from '../log.js';
import { FlvDemuxer } from '../media/flv.js';
import { ingestMessage } from '../rtmp/ingest.js';
import { CLUSTER_PULL_PREFIX } from './internal-copy.js';
import { TagType } from '../hub/media-tag.js';
import { LinkAnchor, readArrivalAnchor } from './link-anchor.js';
import { RemoteRewind } from './remote-rewind.js';
import { CLUSTER_PEER_HEADER, CLUSTER_REWIND_HEADER, CLUSTER_SECRET_HEADER } from './link-auth.js';

export interface InternalPullOptions {
  hub: Hub;
  log: Logger;
  secret: string;
  /** this process's name, sent to the owner */
  peer: string;
  /** where the stream is now, asked again when the upstream ends; null: nowhere */
  relocate: (name: string) => Promise<string | null>;
  /** an upstream silent this long is dropped */
  timeoutMs: number;
  /** the pull stops this long after its last local viewer left */
  idleMs: number;
  /** how long the upstream may stay gone (while the registry still names an owner) before viewers are ended */
  relocateForMs: number;
  onStopped: (pull: InternalPull) => void;
}

const RETRY_MS = 500;

export class InternalPull {
  readonly publisher: PublisherInfo;
  readonly startedAt = Date.now();
  #stream: LiveStream | null = null;
  #req: http.ClientRequest | null = null;
  #stopped = false;
  #timers = new Set<NodeJS.Timeout>();
  #lostSince = 0;
  #emptySince = 0;
  #lastData = 0;
  #connections = 0;
  #ownerRewind: { ms: number; at: number } | null = null;
  readonly #anchor = new LinkAnchor();
  bytesIn = 0;

  constructor(
    readonly app: string,
    readonly key: string,
    public url: string,
    readonly opts: InternalPullOptions,
  ) {
    const pull = this;
    this.publisher = {
      id: `${CLUSTER_PULL_PREFIX}${app}/${key}`,
      address: new URL(url).host,
      protocol: 'relay',
      internal: true,
      kick(reason: string) {
        pull.stop(reason);
      },
      // This copy starts at the pull: a viewer behind live gets a link of its own to the owner's window.
      rewind(viewer, rewindMs) {
        return new RemoteRewind(viewer, rewindMs, { url: pull.url, secret: opts.secret, peer: opts.peer, timeoutMs: opts.timeoutMs });
      },
      // The owner received the frames first: its arrival line, on this copy's timeline.
      arrivalAnchor() {
        const s = pull.#stream;
        const owner = s === null || s.arrivals.receivedAt === 0 ? null : pull.#anchor.at(s.arrivals.timestamp);
        // No frame reached the owner after it reached this copy: an owner whose clock runs ahead is held to the copy's line.
        return owner === null ? null : { timestamp: owner.timestamp, receivedAt: Math.min(owner.receivedAt, s!.arrivals.receivedAt) };
      },
      // The owner's window when the link opened, grown since at real time up to the configured length.
      rewindSpanMs() {
        const ownerMs = pull.#ownerRewind;
        if (ownerMs === null) return 0;
        return Math.min(opts.hub.options.rewind?.windowMs ?? 0, ownerMs.ms + (Date.now() - ownerMs.at));
      },
    };
  }

  get name(): string {
    return `${this.app}/${this.key}`;
  }

  /** Publishes the local stream at once (so the viewer who asked waits for it) and connects. */
  start(): boolean {
    const r = this.opts.hub.publish(this.app, this.key, this.publisher);
    if (!r.ok) {
      this.opts.log.warn({ stream: this.name, reason: r.detail }, 'internal pull cannot publish locally');
      this.opts.onStopped(this);
      return false;
    }
    this.#stream = r.stream;
    this.#every(1_000, () => this.#watch());
    this.#connect();
    return true;
  }

  #every(ms: number, fn: () => void): void {
    const t = setInterval(fn, ms);
    t.unref();
    this.#timers.add(t);
  }

  #connect(): void {
    if (this.#stopped) return;
    const demux = new FlvDemuxer();
    const url = this.url;
    // Untouched: the copy holds the stream as published; its own viewers get their browser feed here.
    const req = http.get(`${url}?untouched=1`, { headers: { [CLUSTER_SECRET_HEADER]: this.opts.secret, [CLUSTER_PEER_HEADER]: this.opts.peer } });
    this.#req = req;
    this.#lastData = Date.now();
    let ended = false;
    const lost = (why: string): void => {
      if (ended) return;
      ended = true;
      if (this.#req === req) this.#req = null;
      req.destroy();
      this.#upstreamLost(why);
    };
    req.on('response', (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        lost(`owner answered ${res.statusCode}`);
        return;
      }
      const rewindMs = Number(res.headers[CLUSTER_REWIND_HEADER]);
      this.#ownerRewind = Number.isFinite(rewindMs) && rewindMs > 0 ? { ms: rewindMs, at: Date.now() } : null;
      // A new upstream (reconnect, or a new owner) starts its own timeline: rebase it onto ours.
      if (this.#connections++ > 0 && this.#stream !== null) this.#stream.attach(this.publisher);
      const writeBatch = this.opts.hub.writeBatch;
      const anchor = this.#anchor;
      anchor.reset();
      const ingest = (stream: LiveStream, chunk: Buffer): void => {
        for (const tag of demux.push(chunk)) {
          if (tag.type === TagType.Script) {
            const a = readArrivalAnchor(tag.payload);
            if (a !== null) {
              anchor.received(a);
              continue;
            }
          }
          const noted = stream.arrivals.noted;
          ingestMessage(stream, { csid: 0, streamId: 1, type: tag.type, timestamp: tag.timestamp, payload: tag.payload });
          // A frame on the copy's arrival line: where this link's timestamps sit on the copy's timeline.
          if (stream.arrivals.noted !== noted) anchor.mapped(tag.timestamp, stream.arrivals.timestamp);
        }
      };
      res.on('data', (chunk: Buffer) => {
        this.#lastData = Date.now();
        this.bytesIn += chunk.length;
        const stream = this.#stream;
        if (stream === null) return;
        try {
          // Like a publisher's read: the viewers' sockets are corked for it (and audio held for the next
          // video), so each viewer gets one write per batch, not one per tag.
          writeBatch.run(() => ingest(stream, chunk));
        } catch (err) {
          lost(`bad FLV from the owner: ${(err as Error).message}`);
          return;
        }
        if (this.#lostSince !== 0) {
          this.#lostSince = 0;
          this.opts.log.info({ stream: this.name, from: url }, 'internal pull resumed');
        }
      });
      res.on('end', () => lost('owner ended the stream'));
      res.on('error', (err) => lost(err.message));
      res.on('close', () => lost('owner closed the link'));
    });
    req.on('error', (err) => lost(err.message));
  }

  #upstreamLost(why: string): void {
    if (this.#stopped) return;
    if (this.#lostSince === 0) this.#lostSince = Date.now();
    this.opts.log.info({ stream: this.name, from: this.url, reason: why }, 'internal pull lost its upstream; looking the stream up again');
    this.opts.relocate(this.name).then(
      (url) => this.#retryOrEnd(url, why),
      () => this.#retryOrEnd(null, why),
    );
  }

  #retryOrEnd(url: string | null, why: string): void {
    if (this.#stopped) return;
    if (url === null || Date.now() - this.#lostSince > this.opts.relocateForMs) {
      this.stop(`stream ended upstream: ${why}`);
      return;
    }
    if (url !== this.url) this.opts.log.info({ stream: this.name, from: url }, 'internal pull follows the stream to its new owner');
    this.url = url;
    const t = setTimeout(() => {
      this.#timers.delete(t);
      this.#connect();
    }, RETRY_MS);
    t.unref();
    this.#timers.add(t);
  }

  /** Once a second: drop a silent upstream; stop once nobody has watched for idleMs. */
  #watch(): void {
    const now = Date.now();
    if (this.#req !== null && now - this.#lastData > this.opts.timeoutMs) this.#req.destroy(new Error('owner silent'));
    const s = this.#stream;
    const viewers = s === null ? 0 : s.subscribers.size + s.waiting.size + s.rewinders.size;
    if (viewers > 0) this.#emptySince = 0;
    else if (this.#emptySince === 0) this.#emptySince = now;
    else if (now - this.#emptySince >= this.opts.idleMs) this.stop('no viewers');
  }

  stop(reason: string): void {
    if (this.#stopped) return;
    this.#stopped = true;
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
    const req = this.#req;
    this.#req = null;
    req?.destroy();
    const stream = this.#stream;
    this.#stream = null;
    stream?.detach(this.publisher);
    this.opts.log.info({ stream: this.name, reason }, 'internal pull stopped');
    this.opts.onStopped(this);
  }
}
