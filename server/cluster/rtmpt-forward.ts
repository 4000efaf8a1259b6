// RTMPT with --workers N: a tunnel session lives in the worker that answered its
// /open, but each later POST may come on a new TCP connection, which the
// primary hands to any worker. Session ids start with the owning worker's mark
// (`w3-...`); a worker that receives a request for another worker's session
// sends it on over that worker's internal link (with the cluster secret) and
// streams the answer back. Nothing is buffered here: the owner reads the body
// within its own size and time bounds.
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { Logger } from '../log.js';
import { RtmptTunnel } from '../rtmpt/tunnel.js';
import { CLUSTER_PEER_HEADER, CLUSTER_SECRET_HEADER } from './link-auth.js';

export function rtmptIdPrefix(workerId: number): string {
  return `w${workerId}-`;
}

export interface RtmptForwardOptions {
  /** this worker's cluster id */
  self: number;
  /** a live worker's internal base URL */
  workerUrl: (id: number) => string | undefined;
  secret: string;
  peer: string;
  log: Logger;
  onForwarded: () => void;
}

/** answer headers worth passing back; hop-by-hop ones are the link's own */
const PASSED_BACK = ['content-type', 'content-length', 'cache-control', 'allow'];

export class RtmptForwarder {
  readonly #o: RtmptForwardOptions;
  readonly #agent = new http.Agent({ keepAlive: true, maxFreeSockets: 16 });

  constructor(options: RtmptForwardOptions) {
    this.#o = options;
  }

  /** Takes the request when it belongs to another worker's tunnel session; false: serve it here. */
  route(req: IncomingMessage, res: ServerResponse): boolean {
    if (req.method !== 'POST') return false;
    const path = (req.url ?? '/').split('?')[0]!;
    const parsed = RtmptTunnel.parsePath(path);
    if (parsed === null || parsed === 'ident' || parsed.command === 'open') return false;
    const mark = /^w(\d{1,9})-/.exec(parsed.id);
    if (mark === null || Number(mark[1]) === this.#o.self) return false;
    // An unknown worker (gone, or a made-up id): the local tunnel answers "unknown session".
    const base = this.#o.workerUrl(Number(mark[1]));
    if (base === undefined) return false;
    this.#o.onForwarded();
    this.#forward(req, res, `${base}${req.url ?? path}`);
    return true;
  }

  #forward(req: IncomingMessage, res: ServerResponse, url: string): void {
    const headers: http.OutgoingHttpHeaders = {
      'content-type': req.headers['content-type'] ?? 'application/x-fcs',
      [CLUSTER_SECRET_HEADER]: this.#o.secret,
      [CLUSTER_PEER_HEADER]: this.#o.peer,
    };
    if (req.headers['content-length'] !== undefined) headers['content-length'] = req.headers['content-length'];
    const up = http.request(url, { method: 'POST', agent: this.#agent, headers });
    up.on('response', (answer) => {
      const out: http.OutgoingHttpHeaders = {};
      for (const h of PASSED_BACK) if (answer.headers[h] !== undefined) out[h] = answer.headers[h];
      // The owner stopped reading the body (too large, too slow): this connection cannot carry another request either.
      if (answer.headers.connection === 'close') {
        out['connection'] = 'close';
        res.once('finish', () => req.socket.destroy());
      }
      res.writeHead(answer.statusCode ?? 502, out);
      answer.pipe(res);
    });
    up.on('error', (err) => {
      this.#o.log.debug({ url, err: err.message }, 'rtmpt request could not reach the worker holding its session');
      if (!res.headersSent) {
        res.writeHead(502, { 'content-type': 'text/plain; charset=utf-8', connection: 'close' }).end('the worker holding this RTMPT session is gone\n');
      } else res.destroy();
    });
    req.on('aborted', () => up.destroy());
    req.pipe(up);
  }

  close(): void {
    this.#agent.destroy();
  }
}
