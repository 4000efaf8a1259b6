// The HTTP side on express: the JSON API, HTTP-FLV, the demo page from web/
// and mpegts.js from the project's own dependencies.
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { Hub } from '../hub/hub.js';
import { parsePlayPath, serveHttpFlv, type FlvRouteOptions } from './flv-route.js';
import { summarize } from './stream-info.js';

export interface HttpAppOptions extends FlvRouteOptions {
  hub: Hub;
  rtmpPort: number;
  /** allowed CORS origins; ['*'] allows any */
  corsOrigins: string[];
}

const here = path.dirname(fileURLToPath(import.meta.url));
/** web/ sits at the project root, two levels up from server/http (or dist/server/http). */
export const WEB_ROOT = path.resolve(here, here.includes(`${path.sep}dist${path.sep}`) ? '../../../web' : '../../web');
const require = createRequire(import.meta.url);
export const MPEGTS_DIST = path.dirname(require.resolve('mpegts.js/dist/mpegts.js'));

function cors(origins: string[]) {
  const any = origins.includes('*');
  return (req: Request, res: Response, next: NextFunction): void => {
    const origin = req.headers.origin;
    if (any) res.setHeader('Access-Control-Allow-Origin', '*');
    else if (origin !== undefined && origins.includes(origin)) {
      res.setHeader('Access-Control-Allow-Origin', origin);
      res.setHeader('Vary', 'Origin');
    }
    res.setHeader('Access-Control-Allow-Methods', 'GET, HEAD, OPTIONS');
    res.setHeader('Access-Control-Allow-Headers', 'Range, Authorization, Content-Type');
    res.setHeader('Access-Control-Expose-Headers', 'Content-Length, Content-Range');
    if (req.method === 'OPTIONS') {
      res.setHeader('Access-Control-Max-Age', '600');
      res.status(204).end();
      return;
    }
    next();
  };
}

export function createHttpApp(opts: HttpAppOptions): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use(cors(opts.corsOrigins));

  app.get('/api/health', (_req, res) => {
    res.json({ status: 'ok', streams: opts.hub.streams.size });
  });

  app.get('/api/streams', (_req, res) => {
    const streams = [...opts.hub.streams.values()].map((s) => summarize(opts.hub, s));
    res.json({ streams, rtmpPort: opts.rtmpPort });
  });

  app.get('/api/streams/:app/:key', (req, res) => {
    const stream = opts.hub.get(`${req.params.app}/${req.params.key}`);
    if (stream === undefined) {
      res.status(404).json({ error: 'not-found', message: `no live stream ${req.params.app}/${req.params.key}` });
      return;
    }
    res.json(summarize(opts.hub, stream));
  });

  app.use((req, res, next) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return next();
    const play = parsePlayPath(req.originalUrl);
    if (play === null) return next();
    serveHttpFlv(req, res, play, opts).catch(next);
  });

  app.use('/vendor', express.static(MPEGTS_DIST, { maxAge: '1h' }));
  app.use(express.static(WEB_ROOT, { index: 'index.html', maxAge: 0 }));

  app.use((req, res) => {
    res.status(404).type('text/plain').send(`Not found: ${req.path}\n`);
  });
  return app;
}
