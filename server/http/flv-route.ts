// HTTP-FLV: `GET /APP/KEY.flv` answers one endless chunked FLV response per
// viewer. The response is a hub Sink; each tag's shared Buffer is written as is.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { BrowserFeed, wantsUntouched } from '../hub/browser-feed.js';
import type { Hub } from '../hub/hub.js';
import type { MediaTag } from '../hub/media-tag.js';
import type { EndReason, Sink } from '../hub/subscriber.js';
import type { SessionEndedListener } from '../events.js';
import type { Logger } from '../log.js';
import { flvFileHeader } from '../media/flv.js';
import { isSafeName } from '../rtmp/commands.js';

export interface PlayRequest {
  app: string;
  key: string;
  name: string;
  query: URLSearchParams;
}

const FLV_PATH = /^\/([^/]+)\/([^/]+)\.flv$/;

/** Parse `/APP/KEY.flv?query` from a request URL; null when it is not a stream path. */
export function parsePlayPath(url: string): PlayRequest | null {
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  const m = FLV_PATH.exec(path);
  if (m === null) return null;
  let app: string;
  let key: string;
  try {
    app = decodeURIComponent(m[1]!);
    key = decodeURIComponent(m[2]!);
  } catch {
    return null;
  }
  if (!isSafeName(app) || !isSafeName(key)) return null;
  return { app, key, name: `${app}/${key}`, query: new URLSearchParams(q < 0 ? '' : url.slice(q + 1)) };
}

/** `?rewind=SECONDS`: join that far behind live. null when the value is not a number of seconds. */
export function parseRewindMs(query: URLSearchParams): number | null {
  const raw = query.get('rewind');
  if (raw === null || raw === '') return 0;
  if (!/^\d{1,6}(\.\d{1,3})?$/.test(raw)) return null;
  return Math.round(Number(raw) * 1000);
}

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
  readonly protocol = 'http' as const;
  readonly #res: ServerResponse;
  /**
   * Once the chunked response has started, tags go straight to the socket as
   * pre-framed shared chunks: one write per tag, no per-viewer framing work.
   * ServerResponse still owns the headers and writes the final 0-chunk on end().
   */
  #raw: Socket | null = null;
  /** null: the untouched stream (`?untouched=1`) */
  readonly #feed: BrowserFeed | null;

  constructor(res: ServerResponse, browser = true) {
    this.#res = res;
    this.#feed = browser ? new BrowserFeed() : null;
  }

  get bufferedBytes(): number {
    // The socket's count is a field read; ServerResponse.writableLength walks its buffers (hot path).
    return this.#res.socket?.writableLength ?? this.#res.writableLength;
  }

  begin(hasAudio: boolean, hasVideo: boolean): void {
    // Fix (reliability): the 200 and FLV headers are written here or right after a successful subscribe,
    // no longer before it, so that a viewer refused by max-viewers-per-stream can still get a 503.
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

export interface FlvRouteOptions {
  hub: Hub;
  log: Logger;
  /** resolves the viewer's address (proxy-aware) */
  clientAddress: (req: IncomingMessage) => string;
  /** null allows; a string refuses with 403 and that reason */
  access?: (req: PlayRequest, address: string, protocol: 'http' | 'ws' | 'hls') => Promise<string | null> | string | null;
  onEnded?: SessionEndedListener;
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
  opts: FlvRouteOptions,
): Promise<void> {
  const address = opts.clientAddress(req);
  if (opts.access !== undefined) {
    const denied = await opts.access(play, address, 'http');
    if (denied !== null) {
      res.writeHead(403, { 'Content-Type': 'text/plain; charset=utf-8' }).end(`Forbidden: ${denied}\n`);
      return;
    }
  }
  const rewindMs = parseRewindMs(play.query);
  if (rewindMs === null) {
    res.writeHead(400, { 'Content-Type': 'text/plain; charset=utf-8' }).end('rewind must be a number of seconds\n');
    return;
  }
  const stream = opts.hub.ensure(play.name);
  if (stream === undefined) {
    res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end(`Stream ${play.name} is not live.\n`);
    return;
  }
  if (req.method === 'HEAD') {
    res.writeHead(200, FLV_HEADERS).end();
    return;
  }
  // Fix (reliability): a viewer over max-viewers-per-stream used to get "200 OK" with FLV headers and then
  // a reset connection; it now gets a 503 with the reason (a 404 if the stream ended in between).
  const r = opts.hub.subscribe(play.name, new HttpFlvSink(res, !wantsUntouched(play.query)), rewindMs, address);
  if (!r.ok) {
    res.writeHead(r.reason === 'not-found' ? 404 : 503, { 'Content-Type': 'text/plain; charset=utf-8' }).end(`${r.detail}\n`);
    return;
  }
  if (!res.headersSent) {
    // A viewer waiting for the first keyframe learns at once that the stream exists.
    res.writeHead(200, FLV_HEADERS);
    res.flushHeaders();
  }
  const sub = r.subscriber;
  opts.log.info({ stream: play.name, address, protocol: 'http' }, 'viewer joined');
  res.on('close', () => {
    const reason = sub.endDetail ?? 'viewer left';
    sub.close('closed', 'viewer left');
    opts.log.info({ stream: play.name, address, protocol: 'http', bytes: sub.bytesSent, reason }, 'viewer left');
    opts.onEnded?.({ kind: 'play', app: play.app, key: play.key, protocol: 'http', address, reason, bytes: sub.bytesSent });
  });
}
