// WS-FLV: `ws://HOST/APP/KEY.flv` upgrades on the HTTP port and carries the
// same FLV byte stream as HTTP-FLV, one tag per binary message.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { attachViewer, type Refusal } from '../delivery/attach-viewer.js';
import { parsePlayPath, type PlayRequest, type ViewerRouteOptions } from '../delivery/play-request.js';
import { BrowserFeed } from '../hub/browser-feed.js';
import type { MediaTag } from '../hub/media-tag.js';
import type { EndReason, Sink } from '../hub/subscriber.js';
import { flvFileHeader } from '../media/flv.js';

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

/** One unmasked binary WebSocket frame (RFC 6455 §5.2) holding `data`, shared by every WS-FLV viewer. */
export function wsFrameOf(data: Buffer): Buffer {
  const n = data.length;
  const head = n < 126 ? 2 : n < 65536 ? 4 : 10;
  const out = Buffer.allocUnsafe(head + n);
  out[0] = 0x82; // FIN, binary
  if (n < 126) {
    out[1] = n;
  } else if (n < 65536) {
    out[1] = 126;
    out.writeUInt16BE(n, 2);
  } else {
    out[1] = 127;
    out.writeUInt32BE(Math.floor(n / 2 ** 32), 2);
    out.writeUInt32BE(n >>> 0, 6);
  }
  data.copy(out, head);
  return out;
}

export class WsFlvSink implements Sink {
  readonly protocol = 'ws' as const;
  readonly #ws: WebSocket;
  /**
   * Tags go to the socket as pre-built frames shared by every viewer: one write
   * per tag, no per-viewer framing. Control frames (close, pong) still go
   * through the ws package, on the same socket, between whole frames.
   */
  readonly #socket: Duplex | null;
  /** null: the untouched stream (`?untouched=1`) */
  readonly #feed: BrowserFeed | null;

  constructor(ws: WebSocket, browser = true) {
    this.#ws = ws;
    this.#feed = browser ? new BrowserFeed() : null;
    this.#socket = (ws as unknown as { _socket: Duplex | null })._socket;
  }

  get bufferedBytes(): number {
    return this.#socket?.writableLength ?? this.#ws.bufferedAmount;
  }

  begin(hasAudio: boolean, hasVideo: boolean): void {
    this.#ws.send(flvFileHeader(hasAudio, hasVideo));
  }

  write(tag: MediaTag): void {
    if (this.#feed !== null) this.#feed.deliver(tag, this);
    else this.send(tag);
  }

  send(tag: MediaTag): void {
    if (this.#ws.readyState !== 1) return;
    const socket = this.#socket;
    if (socket !== null) socket.write((tag.wsFrame ??= wsFrameOf(tag.flv)));
    else this.#ws.send(tag.flv);
  }

  cork(): void {
    this.#socket?.cork();
  }

  uncork(): void {
    this.#socket?.uncork();
  }

  end(reason: EndReason, detail: string): void {
    if (reason === 'closed') return;
    if (reason === 'slow') this.#ws.terminate();
    else this.#ws.close(reason === 'unpublished' ? 1000 : 1001, truncateReason(detail));
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
