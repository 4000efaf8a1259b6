// The HTTP side on express: the JSON API, HTTP-FLV, the demo page from web/
// and mpegts.js from the project's own dependencies.
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { timingSafeEqual, createHash } from 'node:crypto';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { Hub } from '../hub/hub.js';
import type { Recorder } from '../record/recorder.js';
import type { GatewayMetrics } from '../metrics.js';
import { parsePlayPath, type ViewerRouteOptions } from '../delivery/play-request.js';
import { serveHttpFlv } from './flv-route.js';
import { createRecordingsRouter } from './recordings-route.js';
import { createHlsHandler, parseHlsPath } from '../hls/route.js';
import type { HlsService } from '../hls/service.js';
import { createTextRouter } from './text-route.js';
import { createRtmptRoute, type RtmptRouteOptions } from './rtmpt-route.js';
import { detail, summarize } from './stream-info.js';
import { timeRoute } from './time-route.js';
import type { ClusterHooks } from '../cluster/setup.js';
import { isClusterCopy } from '../cluster/internal-copy.js';

export interface HttpAppOptions extends ViewerRouteOptions {
  hub: Hub;
  /** the RTMP port the API reports (known once the listener is up) */
  rtmpPort: () => number;
  /** allowed CORS origins; ['*'] allows any */
  corsOrigins: string[];
  /** bearer token for /api (except health) and /metrics; empty: open */
  apiToken: string;
  metrics: GatewayMetrics;
  /** recording API and downloads; absent: no recording routes */
  recorder?: Recorder;
  /** workers or nodes: /api/cluster, and the whole gateway's streams, metrics and kicks */
  cluster?: ClusterHooks;
  /** HLS muxers and sessions */
  hls: HlsService;
  /** RTMPT tunnel on this port; absent: off */
  rtmpt?: RtmptRouteOptions;
  /**
   * Mounted into someone else's app: CORS only on the gateway's own API and
   * stream paths, and requests the gateway does not serve go on to the next
   * handler instead of getting a 404.
   */
  mounted?: boolean;
}

/** The paths whose answers other origins may read: API, metrics, streams (FLV, HLS), recordings. */
const CROSS_ORIGIN_PATH = /^\/(?:api(?:\/|$)|metrics$|recordings\/)|\.(?:flv|m3u8|m4s|mp4)$/;

/** Constant-time token check (hashing first makes the lengths equal). */
function tokenMatches(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

function requireToken(token: string) {
  return (req: Request, res: Response, next: NextFunction): void => {
    if (token === '') return next();
    const auth = req.headers.authorization ?? '';
    const m = /^Bearer\s+(.+)$/i.exec(auth);
    if (m !== null && tokenMatches(m[1]!.trim(), token)) return next();
    res.setHeader('WWW-Authenticate', 'Bearer');
    res.status(401).json({ error: 'unauthorized', message: 'a valid bearer token is required' });
  };
}

const here = path.dirname(fileURLToPath(import.meta.url));
/** web/ sits at the project root, two levels up from server/http (or dist/server/http). */
export const WEB_ROOT = path.resolve(here, here.includes(`${path.sep}dist${path.sep}`) ? '../../../web' : '../../web');
const require = createRequire(import.meta.url);
export const MPEGTS_DIST = path.dirname(require.resolve('mpegts.js/dist/mpegts.js'));
/** hls.js's full build, for pages that play LL-HLS where the browser has MSE (player/protocol-choice.ts). */
export const HLSJS_DIST = path.dirname(require.resolve('hls.js/dist/hls.js'));
const HLSJS_FILES = new Set(['/hls.js', '/hls.js.map']);

function cors(origins: string[]) {
  const any = origins.includes('*');
  return (req: Request, res: Response, next: NextFunction): void => {
    const origin = req.headers.origin;
    if (any) res.setHeader('Access-Control-Allow-Origin', '*');
    else {
      // With an origin list the answer depends on Origin whether or not it matched, so Vary: Origin
      // goes on every response; otherwise a shared cache could store the answer to a foreign (or
      // absent) Origin, without the allow header, and serve it to an allowed one.
      res.setHeader('Vary', 'Origin');
      if (origin !== undefined && origins.includes(origin)) res.setHeader('Access-Control-Allow-Origin', origin);
    }
    res.setHeader('Access-Control-Allow-Methods', 'GET, HEAD, DELETE, POST, OPTIONS');
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
  if (opts.rtmpt !== undefined) app.use(createRtmptRoute(opts.rtmpt));
  const corsHeaders = cors(opts.corsOrigins);
  app.use(opts.mounted === true ? (req, res, next) => (CROSS_ORIGIN_PATH.test(req.path) ? corsHeaders(req, res, next) : next()) : corsHeaders);

  app.get('/api/health', (_req, res) => {
    res.json({ status: 'ok', streams: opts.hub.streams.size, ...(opts.cluster !== undefined ? { cluster: opts.cluster.health() } : {}) });
  });

  app.get('/api/time', timeRoute(opts.hub));

  const auth = requireToken(opts.apiToken);
  app.get('/metrics', auth, async (_req, res) => {
    res.setHeader('Content-Type', opts.metrics.registry.contentType);
    res.send((await opts.cluster?.metrics()) ?? (await opts.metrics.registry.metrics()));
  });

  app.get('/api/streams', auth, async (_req, res) => {
    const streams = (await opts.cluster?.streams()) ?? [...opts.hub.streams.values()].map((s) => summarize(opts.hub, s));
    res.json({ streams, rtmpPort: opts.rtmpPort() });
  });

  if (opts.cluster !== undefined) {
    const cluster = opts.cluster;
    app.get('/api/cluster', auth, async (_req, res) => {
      res.json(await cluster.view());
    });
  }

  const findStream = (req: Request, res: Response) => {
    const name = `${String(req.params['app'])}/${String(req.params['key'])}`;
    const stream = opts.hub.get(name);
    if (stream === undefined) res.status(404).json({ error: 'not-found', message: `no live stream ${name}` });
    return stream;
  };

  app.get('/api/streams/:app/:key', auth, async (req, res) => {
    // Workers: the owner's figures with every worker's viewers.
    const merged = await opts.cluster?.stream(`${String(req.params['app'])}/${String(req.params['key'])}`);
    if (merged !== undefined && merged !== null) {
      res.json(merged);
      return;
    }
    const stream = findStream(req, res);
    if (stream !== undefined) res.json(detail(opts.hub, stream));
  });

  /** Kick the publisher; viewers are ended (or wait, with a grace period). */
  app.delete('/api/streams/:app/:key', auth, async (req, res) => {
    // Workers: the publisher may be on another worker, with only an internal copy here.
    const name = `${String(req.params['app'])}/${String(req.params['key'])}`;
    const local = opts.hub.get(name);
    const copyHere = local === undefined || isClusterCopy(local);
    if (opts.cluster !== undefined && copyHere && (await opts.cluster.kick(name))) {
      res.status(204).end();
      return;
    }
    const stream = findStream(req, res);
    if (stream === undefined) return;
    const publisher = stream.publisher;
    if (publisher !== null) {
      opts.log.info({ stream: stream.name, address: opts.clientAddress(req) }, 'publisher kicked through the API');
      publisher.kick('kicked through the API');
    } else {
      stream.end('kicked', 'stream removed through the API');
    }
    res.status(204).end();
  });

  app.use(createTextRouter({ hub: opts.hub, log: opts.log, apiAuth: auth, clientAddress: opts.clientAddress }));

  if (opts.recorder !== undefined) {
    const access = opts.access;
    app.use(
      createRecordingsRouter({
        recorder: opts.recorder,
        apiAuth: auth,
        // A recording is as open as its live stream: with signed play URLs (or on-play), a download is asked too.
        ...(access !== undefined
          ? {
              fileAccess: (req: Request, app: string, key: string) =>
                access(
                  { app, key, name: `${app}/${key}`, query: new URL(req.originalUrl, 'http://localhost').searchParams },
                  opts.clientAddress(req),
                  'http',
                ),
            }
          : {}),
      }),
    );
  }

  app.use('/api', auth);
  app.use('/api', (req, res) => {
    res.status(404).json({ error: 'not-found', message: `no API route ${req.method} ${req.originalUrl}` });
  });

  const serveHls = createHlsHandler({
    service: opts.hls,
    clientAddress: opts.clientAddress,
    ...(opts.access !== undefined ? { access: opts.access } : {}),
  });
  app.use((req, res, next) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return next();
    const hls = parseHlsPath(req.url);
    if (hls !== null) return void serveHls(req, res, hls).catch(next);
    next();
  });

  app.use((req, res, next) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return next();
    // req.url, not originalUrl: relative to where the app is mounted.
    const play = parsePlayPath(req.url);
    if (play === null) return next();
    serveHttpFlv(req, res, play, opts).catch(next);
  });

  app.use('/vendor', express.static(MPEGTS_DIST, { maxAge: '1h' }));
  // Only the build the player loads (not the package's demo files).
  const hlsjs = express.static(HLSJS_DIST, { maxAge: '1h', index: false });
  app.use('/vendor', (req, res, next) => (HLSJS_FILES.has(req.path) ? hlsjs(req, res, next) : next()));
  app.use(express.static(WEB_ROOT, { index: 'index.html', maxAge: 0 }));

  if (opts.mounted !== true) {
    app.use((req, res) => {
      res.status(404).type('text/plain').send(`Not found: ${req.path}\n`);
    });
  }
  return app;
}
