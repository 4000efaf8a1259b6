// Recording API and downloads:
//   POST   /api/streams/:app/:key/record   start (201 + info; 404 not live; 409 already recording)
//   GET    /api/streams/:app/:key/record   the running recording (200) or 404
//   DELETE /api/streams/:app/:key/record   stop (200 + final info, once the files are closed)
//   GET    /api/recordings                 { recordings: [...] }, newest first
//   DELETE /api/recordings/:app/:key/:file delete a finished file (204; 409 while recording)
//   GET    /recordings/:app/:key/:file     the file, with Range support (video/x-flv)
// Anything else under /recordings is a 404, so a crafted path never reaches another handler.
import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import type { Recorder } from '../record/recorder.js';
import { parseRecordingName } from '../record/recordings.js';
import { isSafeName } from '../names.js';

export interface RecordingsRouteOptions {
  recorder: Recorder;
  /** in front of every /api route here (the app's bearer-token check) */
  apiAuth?: RequestHandler;
  /**
   * For downloads: null allows, a string refuses with 403 and that reason (e.g. the signed-URL
   * play check of stream APP/KEY). Without it downloads are open, like live HTTP-FLV without signing.
   */
  fileAccess?: (req: Request, app: string, key: string) => Promise<string | null> | string | null;
}

const pass: RequestHandler = (_req, _res, next) => next();

function notFound(res: Response, message: string): void {
  res.status(404).json({ error: 'not-found', message });
}

function param(req: Request, name: string): string {
  return String(req.params[name] ?? '');
}

export function createRecordingsRouter(opts: RecordingsRouteOptions): express.Router {
  const { recorder } = opts;
  const auth = opts.apiAuth ?? pass;
  const router = express.Router();

  const streamName = (req: Request, res: Response): string | null => {
    const app = param(req, 'app');
    const key = param(req, 'key');
    if (!isSafeName(app) || !isSafeName(key)) {
      notFound(res, `no live stream ${app}/${key}`);
      return null;
    }
    return `${app}/${key}`;
  };

  router.post('/api/streams/:app/:key/record', auth, async (req, res) => {
    const name = streamName(req, res);
    if (name === null) return;
    const r = recorder.start(name, 'api');
    if (!r.ok) {
      const status = r.reason === 'not-found' ? 404 : r.reason === 'busy' ? 409 : 503;
      const body: Record<string, unknown> = { error: r.reason, message: r.detail };
      if (r.reason === 'busy') body['recording'] = recorder.get(name)?.info();
      res.status(status).json(body);
      return;
    }
    // Answer once the first file exists, so the answer can name it.
    const file = await r.recording.opened;
    if (file === null) {
      const info = await r.recording.done;
      res.status(500).json({ error: 'record-failed', message: info.error ?? 'the recording file could not be created', recording: info });
      return;
    }
    res.status(201).json(r.recording.info());
  });

  router.get('/api/streams/:app/:key/record', auth, (req, res) => {
    const name = streamName(req, res);
    if (name === null) return;
    const rec = recorder.get(name);
    if (rec === undefined) return notFound(res, `${name} is not being recorded`);
    res.json(rec.info());
  });

  router.delete('/api/streams/:app/:key/record', auth, async (req, res) => {
    const name = streamName(req, res);
    if (name === null) return;
    const done = recorder.stop(name, 'stopped through the API');
    if (done === null) return notFound(res, `${name} is not being recorded`);
    res.json(await done);
  });

  router.get('/api/recordings', auth, async (_req, res) => {
    res.json({ recordings: await recorder.list() });
  });

  router.delete('/api/recordings/:app/:key/:file', auth, async (req, res) => {
    const rec = parseRecordingName(param(req, 'app'), param(req, 'key'), param(req, 'file'));
    if (rec === null) return notFound(res, 'no such recording');
    const r = await recorder.remove(rec);
    if (r === 'busy') {
      res.status(409).json({ error: 'busy', message: `${rec.name} is still being recorded` });
      return;
    }
    if (r === 'not-found') return notFound(res, `no recording ${rec.name}`);
    res.status(204).end();
  });

  const sendRecording = async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    const rec = parseRecordingName(param(req, 'app'), param(req, 'key'), param(req, 'file'));
    if (rec === null) return next();
    if (opts.fileAccess !== undefined) {
      const denied = await opts.fileAccess(req, rec.app, rec.key);
      if (denied !== null) {
        res.status(403).type('text/plain').send(`Forbidden: ${denied}\n`);
        return;
      }
    }
    const file = await recorder.locate(rec);
    if (file === null) return next();
    if (req.query['download'] !== undefined) res.attachment(rec.file);
    // A file being written grows; each response is a consistent snapshot of its size at the time.
    const growing = recorder.isOpen(rec.name);
    await new Promise<void>((resolve) => {
      res.sendFile(
        file.relative,
        {
          root: file.root,
          dotfiles: 'deny',
          acceptRanges: true,
          lastModified: !growing,
          etag: !growing,
          headers: { 'Content-Type': 'video/x-flv', 'Cache-Control': growing ? 'no-cache, no-store' : 'no-cache' },
        },
        (err?: Error) => {
          // A client that goes away mid-download is not an error worth reporting.
          if (err !== undefined && !res.headersSent) {
            const status = (err as Error & { status?: number }).status;
            if (status === 416) res.status(416).end();
            else res.status(404).type('text/plain').send('Not found\n');
          }
          resolve();
        },
      );
    });
  };

  router.get('/recordings/:app/:key/:file', sendRecording);
  router.use('/recordings', (_req, res) => {
    res.status(404).type('text/plain').send('Not found\n');
  });
  return router;
}
