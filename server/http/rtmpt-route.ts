// HTTP side of RTMPT (see rtmpt/tunnel.ts): reads each POST body within a size and time bound,
// hands it to the tunnel and writes the tunnel's reply. Requests that are not tunnel paths pass on.
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { WriteBatch } from '../hub/write-batch.js';
import { RtmptTunnel, type TunnelReply } from '../rtmpt/tunnel.js';

export interface RtmptRouteOptions {
  tunnel: RtmptTunnel;
  bodyTimeoutMs: number;
  clientAddress: (req: Request) => string;
  /** the gateway's write batching */
  writeBatch: WriteBatch;
}

type BodyResult = { ok: true; body: Buffer } | { ok: false; status: number; message: string };

function readBody(req: Request, limit: number, timeoutMs: number): Promise<BodyResult> {
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (declared > limit) return Promise.resolve({ ok: false, status: 413, message: `request body over ${limit} bytes` });
  return new Promise((resolve) => {
    const parts: Buffer[] = [];
    let size = 0;
    const finish = (r: BodyResult): void => {
      clearTimeout(timer);
      req.off('data', onData);
      resolve(r);
    };
    const timer = setTimeout(
      () => finish({ ok: false, status: 408, message: `request body not received within ${timeoutMs} ms` }),
      timeoutMs,
    );
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) finish({ ok: false, status: 413, message: `request body over ${limit} bytes` });
      else parts.push(chunk);
    };
    req.on('data', onData);
    req.once('end', () => finish({ ok: true, body: parts.length === 1 ? parts[0]! : Buffer.concat(parts) }));
    req.once('error', () => finish({ ok: false, status: 400, message: 'request body aborted' }));
  });
}

export function createRtmptRoute(opts: RtmptRouteOptions): RequestHandler {
  const { tunnel } = opts;
  return (req: Request, res: Response, next: NextFunction): void => {
    if (RtmptTunnel.parsePath(req.path) === null) return next();
    res.setHeader('Cache-Control', 'no-cache');
    if (req.method !== 'POST') {
      res.setHeader('Allow', 'POST');
      res.status(405).type('text/plain').send('RTMPT requests are POSTs\n');
      return;
    }
    readBody(req, tunnel.limits.maxBodyBytes, opts.bodyTimeoutMs).then((r) => {
      if (!r.ok) {
        // The rest of the body is never read: this connection cannot carry another request.
        res.setHeader('Connection', 'close');
        res.status(r.status).type('text/plain').send(`${r.message}\n`);
        res.once('finish', () => req.socket.destroy());
        return;
      }
      // A publisher's /send fans out as one batch, like one socket read of plain RTMP.
      let reply!: TunnelReply;
      opts.writeBatch.run(() => {
        reply = tunnel.handle(req.path, r.body, opts.clientAddress(req), Date.now());
      });
      res.status(reply.status);
      res.setHeader('Content-Type', reply.contentType);
      res.setHeader('Content-Length', reply.body.length);
      res.end(reply.body);
    }).catch(next);
  };
}
