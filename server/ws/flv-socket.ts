// WS-FLV: `ws://HOST/APP/KEY.flv` upgrades on the HTTP port and carries the
// same FLV byte stream as HTTP-FLV: one binary message per write batch (server/hub/write-batch.ts),
// or per tag outside one (a join, a timed-text cue). mpegts.js takes any split of the byte stream.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { attachViewer, type Refusal } from '../delivery/attach-viewer.js';
import { parsePlayPath, type PlayRequest, type ViewerRouteOptions } from '../delivery/play-request.js';
import { BrowserFeed } from '../hub/browser-feed.js';
import type { MediaTag } from '../hub/media-tag.js';
import type { EndReason, Sink } from '../hub/subscriber.js';
import { flvFileHeader } from '../media/flv.js';
import { MESSAGE_END, wsFrameHeads } from './frame-head.js';

/** Close codes in the application range (4000–4999), mirroring HTTP statuses. */
export const WS_CLOSE = {
  NotFound: 4404,
  Forbidden: 4403,
  Unavailable: 4503,
  BadRequest: 4400,
} as const;

const WS_REFUSAL: Record<Refusal, number> = {
  forbidden: WS_CLOSE.Forbidden,
  'bad-request': WS_CLOSE.BadRequest,
  'not-found': WS_CLOSE.NotFound,
  unavailable: WS_CLOSE.Unavailable,
};

export class WsFlvSink implements Sink {
  readonly protocol = 'ws' as const;
  readonly #ws: WebSocket;
  /**
   * Tags go to the socket as a shared frame header (made once per tag) and the tag's own shared
   * Buffer: no per-viewer framing, no copy. Control frames (close, pong) still go through the ws
   * package, on the same socket, between whole frames.
   */
  readonly #socket: Duplex | null;
  /** null: the untouched stream (`?untouched=1`) */
  readonly #feed: BrowserFeed | null;
  /**
   * Inside a write batch (corked), the tags written make up one message, as fragments, ended at
   * uncork: the browser gets one message per batch, as an HTTP-FLV viewer gets one chunk of bytes,
   * instead of one per tag (each message costs the page an event and a pass through mpegts.js).
   */
  #corked = false;
  /** a fragmented message is open: its final fragment is still to be written */
  #open = false;

  constructor(ws: WebSocket, browser = true) {
    this.#ws = ws;
    this.#feed = browser ? new BrowserFeed() : null;
    this.#socket = (ws as unknown as { _socket: Duplex | null })._socket;
  }

  get bufferedBytes(): number {
    return this.#socket?.writableLength ?? this.#ws.bufferedAmount;
  }

  begin(hasAudio: boolean, hasVideo: boolean): void {
    this.#frame(flvFileHeader(hasAudio, hasVideo), null);
  }

  write(tag: MediaTag): void {
    if (this.#feed !== null) this.#feed.deliver(tag, this);
    else this.send(tag);
  }

  send(tag: MediaTag): void {
    this.#frame(tag.flv, tag);
  }

  /** Hot path. `tag`, when given, keeps the frame headers of `data` (its FLV bytes) for every viewer. */
  #frame(data: Buffer, tag: MediaTag | null): void {
    if (this.#ws.readyState !== 1) return;
    const socket = this.#socket;
    if (socket === null) {
      this.#ws.send(data);
      return;
    }
    const heads = tag === null ? wsFrameHeads(data.length) : (tag.wsHeads ??= wsFrameHeads(data.length));
    if (this.#corked) {
      socket.write(this.#open ? heads.more : heads.first);
      this.#open = true;
      socket.write(data);
    } else {
      // One writev for header and payload.
      socket.cork();
      socket.write(heads.whole);
      socket.write(data);
      socket.uncork();
    }
  }

  cork(): void {
    this.#corked = true;
    this.#socket?.cork();
  }

  uncork(): void {
    this.#corked = false;
    this.#endMessage();
    this.#socket?.uncork();
  }

  #endMessage(): void {
    if (!this.#open) return;
    this.#open = false;
    // After a close frame (the peer's close answered mid-batch) nothing more may be sent.
    if (this.#ws.readyState === 1) this.#socket?.write(MESSAGE_END);
  }

  end(reason: EndReason, detail: string): void {
    if (reason === 'closed') return;
    if (reason === 'slow') {
      this.#ws.terminate();
      return;
    }
    // The close frame goes after a whole message, not inside one.
    this.#endMessage();
    this.#ws.close(reason === 'unpublished' ? 1000 : 1001, truncateReason(detail));
  }
}

/** A close reason must fit in a control frame (123 bytes of UTF-8). */
function truncateReason(s: string): string {
  return Buffer.byteLength(s) <= 123 ? s : s.slice(0, 100);
}

export class WsFlvServer {
  readonly #wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: 64 * 1024 });
  readonly #opts: ViewerRouteOptions;

  constructor(opts: ViewerRouteOptions) {
    this.#opts = opts;
  }

  /** For the HTTP server's 'upgrade' event. Returns false if the path is not a stream. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean {
    const play = parsePlayPath(req.url ?? '/');
    if (play === null) return false;
    this.#wss.handleUpgrade(req, socket, head, (ws) => void this.#accept(ws, req, play));
    return true;
  }

  async #accept(ws: WebSocket, req: IncomingMessage, play: PlayRequest): Promise<void> {
    ws.on('error', () => ws.terminate());
    await attachViewer(this.#opts, play, this.#opts.clientAddress(req), {
      protocol: 'ws',
      get open() {
        return ws.readyState === ws.OPEN;
      },
      refuse: (refusal, message) => ws.close(WS_REFUSAL[refusal], truncateReason(refusal === 'forbidden' ? `forbidden: ${message}` : message)),
      sink: (browser) => new WsFlvSink(ws, browser),
      onClose: (listener) => ws.on('close', listener),
    });
  }

  get viewers(): number {
    return this.#wss.clients.size;
  }

  close(): void {
    for (const ws of this.#wss.clients) ws.terminate();
    this.#wss.close();
  }
}
