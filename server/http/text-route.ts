// POST /api/streams/APP/KEY/text: an operator's text cue, put on the stream's
// timeline as an onTextData script tag (see hub/text-cue.ts).
import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import type { Hub } from '../hub/hub.js';
import { parseTextCue, TEXT_CUE_LIMITS, textDataBody } from '../hub/text-cue.js';
import type { Logger } from '../log.js';

export interface TextRouteOptions {
  hub: Hub;
  log: Logger;
  apiAuth: RequestHandler;
  clientAddress: (req: Request) => string;
}

export function createTextRouter(opts: TextRouteOptions): express.Router {
  const router = express.Router();
  const json = express.json({ limit: TEXT_CUE_LIMITS.maxBodyBytes, strict: true });

  router.post('/api/streams/:app/:key/text', opts.apiAuth, json, (req: Request, res: Response) => {
    if (!req.is('application/json')) {
      res.status(415).json({ error: 'unsupported-media-type', message: 'send the cue as Content-Type: application/json' });
      return;
    }
    const parsed = parseTextCue(req.body);
    if (!parsed.ok) {
      res.status(400).json({ error: 'bad-request', message: parsed.message });
      return;
    }
    const name = `${String(req.params['app'])}/${String(req.params['key'])}`;
    const stream = opts.hub.get(name);
    if (stream === undefined) {
      res.status(404).json({ error: 'not-found', message: `no live stream ${name}` });
      return;
    }
    const timestamp = stream.injectData(textDataBody(parsed.cue));
    opts.log.info({ stream: name, address: opts.clientAddress(req), timestamp, chars: parsed.cue.text.length }, 'text cue added');
    res.status(201).json({ stream: name, timestamp, ...parsed.cue });
  });

  // body-parser's own errors (too large, not JSON) become the API's JSON error shape.
  router.use('/api/streams/:app/:key/text', (err: unknown, _req: Request, res: Response, next: NextFunction) => {
    const e = err as { type?: string; status?: number; message?: string };
    if (e.type === 'entity.too.large') {
      res.status(413).json({ error: 'too-large', message: `the cue body is larger than ${TEXT_CUE_LIMITS.maxBodyBytes} bytes` });
    } else if (e.type === 'entity.parse.failed') {
      res.status(400).json({ error: 'bad-request', message: `the body is not valid JSON: ${e.message ?? ''}`.trim() });
    } else if (typeof e.status === 'number' && e.status >= 400 && e.status < 500) {
      res.status(e.status).json({ error: 'bad-request', message: e.message ?? 'bad request' });
    } else next(err);
  });
  return router;
}
