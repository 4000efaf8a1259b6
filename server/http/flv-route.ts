// HTTP-FLV: `GET /APP/KEY.flv` answers one endless chunked FLV response per
// viewer. The response is a hub Sink; each tag's shared Buffer is written as is.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { attachViewer, type Refusal } from '../delivery/attach-viewer.js';
import type { PlayRequest, ViewerRouteOptions } from '../delivery/play-request.js';
import { BrowserFeed } from '../hub/browser-feed.js';
import type { MediaTag } from '../hub/media-tag.js';
import type { EndReason, Sink } from '../hub/subscriber.js';
import { flvFileHeader } from '../media/flv.js';

/** One HTTP/1.1 chunk holding `data`: made once per tag and shared by every HTTP-FLV viewer. */
export function httpChunkOf(data: Buffer): Buffer {
  const size = Buffer.from(`${data.length.toString(16)}\r\n`, 'latin1');
  const out = Buffer.allocUnsafe(size.length + data.length + 2);
  size.copy(out, 0);
  data.copy(out, size.length);
  out[out.length - 2] = 0x0d;
  out[out.length - 1] = 0x0a;
  return out;
}

export class HttpFlvSink implements Sink {
  readonly protocol: 'http' | 'internal';
  readonly #res: ServerResponse;
  /**
   * Once the chunked response has started, tags go straight to the socket as
   * pre-framed shared chunks: one write per tag, no per-viewer framing work.
   * ServerResponse still owns the headers and writes the final 0-chunk on end().
   */
  #raw: Socket | null = null;
  /** null: the untouched stream (`?untouched=1`) */
  readonly #feed: BrowserFeed | null;

  constructor(res: ServerResponse, browser = true, protocol: 'http' | 'internal' = 'http') {
    this.#res = res;
    this.protocol = protocol;
    this.#feed = browser ? new BrowserFeed() : null;
  }

  get bufferedBytes(): number {
    // The socket's count is a field read; ServerResponse.writableLength walks its buffers (hot path).
    return this.#res.socket?.writableLength ?? this.#res.writableLength;
  }

  begin(hasAudio: boolean, hasVideo: boolean): void {
    // The 200 and FLV headers are written here or right after a successful subscribe, never before
    // it, so that a viewer refused by max-viewers-per-stream can still get a 503.
    if (!this.#res.headersSent) this.#res.writeHead(200, FLV_HEADERS);
    this.#res.write(flvFileHeader(hasAudio, hasVideo));
    // HTTP/1.0 clients get a close-delimited body instead of chunks: keep ServerResponse framing for them.
    const chunked = (this.#res as unknown as { chunkedEncoding?: boolean }).chunkedEncoding === true;
    this.#raw = chunked ? this.#res.socket : null;
  }

  write(tag: MediaTag): void {
    if (this.#feed !== null) this.#feed.deliver(tag, this);
    else this.send(tag);
  }

  send(tag: MediaTag): void {
    const raw = this.#raw;
    if (raw !== null) raw.write((tag.httpChunk ??= httpChunkOf(tag.flv)));
    else this.#res.write(tag.flv);
  }

  cork(): void {
    this.#res.socket?.cork();
  }

  uncork(): void {
    this.#res.socket?.uncork();
  }

  end(reason: EndReason): void {
    if (reason === 'closed') return;
    // A stuck viewer's unsent bytes are dropped at once rather than flushed.
    if (reason === 'slow') this.#res.destroy();
    else this.#res.end();
  }
}

export const FLV_HEADERS: Record<string, string> = {
  'Content-Type': 'video/x-flv',
  'Cache-Control': 'no-cache, no-store',
  // nginx: do not buffer this response.
  'X-Accel-Buffering': 'no',
};

/** Handles GET/HEAD for a parsed stream path. CORS and OPTIONS are handled by the app. */
export async function serveHttpFlv(
  req: IncomingMessage,
  res: ServerResponse,
  play: PlayRequest,
  opts: ViewerRouteOptions & { linkSink?: (res: ServerResponse, browser: boolean) => Sink },
): Promise<void> {
  const text = (status: number, body: string): void => {
    res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8' }).end(`${body}\n`);
  };
  await attachViewer(opts, play, opts.clientAddress(req), {
    protocol: 'http',
    get open() {
      return res.socket !== null && !res.socket.destroyed;
    },
    refuse: (refusal, message) => text(HTTP_STATUS[refusal], refusal === 'forbidden' ? `Forbidden: ${message}` : message),
    beforeSubscribe() {
      if (opts.hub.ensure(play.name) === undefined) {
        text(404, `Stream ${play.name} is not live.`);
        return false;
      }
      if (req.method !== 'HEAD') return true;
      res.writeHead(200, FLV_HEADERS).end();
      return false;
    },
    sink: (browser) => opts.linkSink?.(res, browser) ?? new HttpFlvSink(res, browser, opts.internal === true ? 'internal' : 'http'),
    accepted() {
      if (res.headersSent) return;
      // A viewer waiting for the first keyframe learns at once that the stream exists.
      res.writeHead(200, FLV_HEADERS);
      res.flushHeaders();
    },
    onClose: (listener) => res.on('close', listener),
  });
}

const HTTP_STATUS: Record<Refusal, number> = { forbidden: 403, 'bad-request': 400, 'not-found': 404, unavailable: 503 };
