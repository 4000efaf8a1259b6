// WS-FLV: `ws://HOST/APP/KEY.flv` upgrades on the HTTP port and carries the
// same FLV byte stream as HTTP-FLV, one tag per binary message.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { parsePlayPath, parseRewindMs, type FlvRouteOptions } from '../http/flv-route.js';
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

export class WsFlvSink implements Sink {
  readonly protocol = 'ws' as const;
  readonly #ws: WebSocket;

  constructor(ws: WebSocket) {
    this.#ws = ws;
  }

  get bufferedBytes(): number {
    return this.#ws.bufferedAmount;
  }

  begin(hasAudio: boolean, hasVideo: boolean): void {
    this.#ws.send(flvFileHeader(hasAudio, hasVideo));
  }

  write(tag: MediaTag): void {
    this.#ws.send(tag.flv);
  }

  // The ws package writes each frame to the underlying socket; corking that socket merges them.
  cork(): void {
    (this.#ws as unknown as { _socket: Duplex | null })._socket?.cork();
  }

  uncork(): void {
    (this.#ws as unknown as { _socket: Duplex | null })._socket?.uncork();
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
  readonly #opts: FlvRouteOptions;

  constructor(opts: FlvRouteOptions) {
    this.#opts = opts;
  }

  /** For the HTTP server's 'upgrade' event. Returns false if the path is not a stream. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean {
    const play = parsePlayPath(req.url ?? '/');
    if (play === null) return false;
    this.#wss.handleUpgrade(req, socket, head, (ws) => void this.#accept(ws, req, play));
    return true;
  }

  async #accept(ws: WebSocket, req: IncomingMessage, play: NonNullable<ReturnType<typeof parsePlayPath>>): Promise<void> {
    const { hub, log } = this.#opts;
    const address = this.#opts.clientAddress(req);
    ws.on('error', () => ws.terminate());
    if (this.#opts.access !== undefined) {
      const denied = await this.#opts.access(play, address, 'ws');
      if (denied !== null) {
        ws.close(WS_CLOSE.Forbidden, truncateReason(`forbidden: ${denied}`));
        return;
      }
    }
    if (ws.readyState !== ws.OPEN) return;
    const rewindMs = parseRewindMs(play.query);
    if (rewindMs === null) {
      ws.close(WS_CLOSE.BadRequest, 'rewind must be a number of seconds');
      return;
    }
    const r = hub.subscribe(play.name, new WsFlvSink(ws), rewindMs);
    if (!r.ok) {
      ws.close(r.reason === 'not-found' ? WS_CLOSE.NotFound : WS_CLOSE.Unavailable, truncateReason(r.detail));
      return;
    }
    const sub = r.subscriber;
    sub.address = address;
    log.info({ stream: play.name, address, protocol: 'ws' }, 'viewer joined');
    ws.on('close', () => {
      const reason = sub.endDetail ?? 'viewer left';
      sub.close('closed', 'viewer left');
      log.info({ stream: play.name, address, protocol: 'ws', bytes: sub.bytesSent, reason }, 'viewer left');
      this.#opts.onEnded?.({ kind: 'play', app: play.app, key: play.key, protocol: 'ws', address, reason, bytes: sub.bytesSent });
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
