// HLS over HTTP: `GET /APP/KEY/index.m3u8` (LL-HLS media playlist, blocking reload) and, under the
// muxer's epoch, `init.mp4`, `segN.m4s` and `partN.I.m4s`, all answered from memory. Everything
// under an epoch is immutable, so caches may keep it; live playlists are not cached (blocking
// reload answers briefly, per full query). Access is asked as for HTTP-FLV, with the same query.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { PlayRequest } from '../delivery/play-request.js';
import { decodeStreamName } from '../names.js';
import type { HlsMuxer } from './muxer.js';
import { advancePartLimit, carriedQuery, parseReloadDirective, renderPlaylist, targetDurationS, tooFarAhead } from './playlist.js';
import type { HlsService } from './service.js';

export type HlsResource =
  | { kind: 'playlist' }
  | { kind: 'init'; epoch: string }
  | { kind: 'segment'; epoch: string; msn: number }
  | { kind: 'part'; epoch: string; msn: number; index: number };

export interface HlsRequest extends PlayRequest {
  resource: HlsResource;
}

const HLS_PATH = /^\/([^/]+)\/([^/]+)\/(?:(index\.m3u8)|([0-9a-f]{8})\/(?:(init\.mp4)|seg(\d{1,9})\.m4s|part(\d{1,9})\.(\d{1,4})\.m4s))$/;

/** Parse an HLS URL; null when it is not one. */
export function parseHlsPath(url: string): HlsRequest | null {
  const q = url.indexOf('?');
  const m = HLS_PATH.exec(q < 0 ? url : url.slice(0, q));
  const names = m === null ? null : decodeStreamName(m[1]!, m[2]!);
  if (m === null || names === null) return null;
  const { app, key } = names;
  const epoch = m[4]!;
  const resource: HlsResource =
    m[3] !== undefined ? { kind: 'playlist' }
    : m[5] !== undefined ? { kind: 'init', epoch }
    : m[6] !== undefined ? { kind: 'segment', epoch, msn: Number(m[6]) }
    : { kind: 'part', epoch, msn: Number(m[7]), index: Number(m[8]) };
  return { app, key, name: `${app}/${key}`, query: new URLSearchParams(q < 0 ? '' : url.slice(q + 1)), resource };
}

export interface HlsRouteOptions {
  service: HlsService;
  clientAddress: (req: IncomingMessage) => string;
  access?: (req: PlayRequest, address: string, protocol: 'hls') => Promise<string | null> | string | null;
}

const PLAYLIST_TYPE = 'application/vnd.apple.mpegurl';
const IMMUTABLE = 'public, max-age=31536000, immutable';
/**
 * A blocking-reload answer holds at least the part asked for, whenever it is read, so caches may
 * share it. Long enough that it does not expire while late clients still ask for that part: an
 * expired entry is refetched by every concurrent request (nginx's cache lock covers new entries only).
 */
const BLOCKING_PLAYLIST_CACHE = 'public, max-age=30';

function fail(res: ServerResponse, status: number, message: string): void {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' }).end(`${message}\n`);
}

/**
 * Access is asked once per session, as HTTP-FLV asks once per connection: an allowed client keeps
 * its answer while it keeps requesting (each request extends it), so the on-play webhook is not
 * asked once per part. A refusal is remembered briefly.
 */
const ACCESS_ALLOWED_IDLE_MS = 15_000;
const ACCESS_DENIED_MS = 5000;
const ACCESS_CACHE_MAX = 10_000;

export function createHlsHandler(opts: HlsRouteOptions) {
  const decisions = new Map<string, { denied: string | null; until: number }>();
  // A session's first requests often come together (playlist, init, part): they share one question.
  const asking = new Map<string, Promise<string | null>>();
  const allowed = async (play: HlsRequest, address: string): Promise<string | null> => {
    if (opts.access === undefined) return null;
    const key = `${address}\n${play.name}\n${carriedQuery(play.query)}`;
    const now = Date.now();
    const hit = decisions.get(key);
    if (hit !== undefined && hit.until > now) {
      if (hit.denied === null) hit.until = now + ACCESS_ALLOWED_IDLE_MS;
      return hit.denied;
    }
    const pending = asking.get(key);
    if (pending !== undefined) return pending;
    const question = (async () => opts.access!(play, address, 'hls'))();
    asking.set(key, question);
    try {
      const denied = await question;
      if (decisions.size >= ACCESS_CACHE_MAX) decisions.clear();
      decisions.set(key, { denied, until: Date.now() + (denied === null ? ACCESS_ALLOWED_IDLE_MS : ACCESS_DENIED_MS) });
      return denied;
    } finally {
      asking.delete(key);
    }
  };

  return async function serveHls(req: IncomingMessage, res: ServerResponse, play: HlsRequest): Promise<void> {
    const address = opts.clientAddress(req);
    const denied = await allowed(play, address);
    if (denied !== null) return fail(res, 403, `Forbidden: ${denied}`);
    const r = opts.service.acquire(play.name);
    if (!r.ok) return fail(res, r.status, r.status === 404 ? `Stream ${play.name} is not live.` : r.detail);
    const muxer = r.muxer;
    if (muxer.unsupported !== null) return fail(res, 415, `This stream cannot be served over HLS: ${muxer.unsupported}.`);
    const gone = new AbortController();
    res.once('close', () => gone.abort());
    const timeoutMs = () => 3 * 1000 * targetDurationOf(muxer);

    const body = await bodyFor(play, muxer, timeoutMs, res, gone.signal);
    if (body === null || gone.signal.aborted) return;
    opts.service.touch(play.name, address, req.headers['user-agent'] ?? '', body.bytes);
    res.writeHead(200, { ...body.headers, 'Content-Length': String(body.bytes) });
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    // A segment is its parts back to back: written as they are, never joined into a copy.
    for (let i = 0; i < body.chunks.length - 1; i++) res.write(body.chunks[i]);
    res.end(body.chunks[body.chunks.length - 1]);
  };
}

interface Body {
  headers: Record<string, string>;
  chunks: Buffer[];
  bytes: number;
}

function targetDurationOf(m: HlsMuxer): number {
  const s = m.segmenter;
  return s === null ? Math.max(1, Math.ceil(m.segmenterOptions.segmentMinMs / 1000)) : targetDurationS(s.options.partTargetMs, s.options.segmentMinMs, s.maxSegmentMs);
}

function media(chunks: Buffer[], type: string): Body {
  return { headers: { 'Content-Type': type, 'Cache-Control': IMMUTABLE }, chunks, bytes: chunks.reduce((n, c) => n + c.length, 0) };
}

async function bodyFor(play: HlsRequest, muxer: HlsMuxer, timeoutMs: () => number, res: ServerResponse, signal: AbortSignal): Promise<Body | null> {
  const r = play.resource;
  if (r.kind === 'playlist') {
    const d = parseReloadDirective(play.query);
    if (!d.ok) return fail(res, 400, d.detail), null;
    const s = muxer.segmenter;
    if (d.msn !== null && s !== null && tooFarAhead(s.segments, d.msn, d.part, s.options.partTargetMs)) {
      return fail(res, 400, `_HLS_msn=${d.msn}${d.part === null ? '' : ` _HLS_part=${d.part}`} is too far ahead of the playlist`), null;
    }
    // Without a directive, the first playlist waits for one whole segment, so that a client without
    // LL-HLS (which ignores parts) has something to play.
    // Until then the target duration is not known, so that wait may last up to a forced segment cut.
    const firstWait = muxer.segmenter?.segments.some((x) => x.complete) === true ? timeoutMs() : Math.max(timeoutMs(), (muxer.segmenter?.options.segmentMaxMs ?? 10_000) + 1000);
    const ready = await muxer.waitForPart(d.msn ?? 0, d.part, d.msn === null ? firstWait : timeoutMs(), signal);
    if (!ready || muxer.segmenter === null) return unavailable(res, muxer), null;
    if (muxer.unsupported !== null) return fail(res, 415, `This stream cannot be served over HLS: ${muxer.unsupported}.`), null;
    const seg = muxer.segmenter;
    const text = renderPlaylist({
      epoch: muxer.epoch,
      segments: seg.segments,
      partTargetMs: seg.options.partTargetMs,
      targetDurationS: targetDurationOf(muxer),
      wallAtZero: seg.wallAtZero ?? Date.now(),
      query: carriedQuery(play.query),
    });
    const buf = Buffer.from(text, 'utf8');
    return {
      headers: { 'Content-Type': PLAYLIST_TYPE, 'Cache-Control': d.msn === null ? 'no-cache' : BLOCKING_PLAYLIST_CACHE },
      chunks: [buf],
      bytes: buf.length,
    };
  }
  if (!muxer.knows(r.epoch)) return fail(res, 404, 'No such HLS resource (the stream was restarted).'), null;
  if (r.kind === 'init') {
    const init = muxer.initFor(r.epoch);
    return init === undefined ? (fail(res, 404, 'No init segment yet.'), null) : media([init], 'video/mp4');
  }
  const s = muxer.segmenter;
  if (s === null) return fail(res, 404, 'No such HLS resource.'), null;
  const next = s.openSegment?.msn ?? (s.segments[s.segments.length - 1]?.msn ?? -1) + 1;
  if (r.kind === 'segment') {
    // The open segment may be asked for early (a client that saw its parts): wait for its end.
    if (r.msn > next) return fail(res, 404, 'No such segment.'), null;
    if (s.segment(r.msn)?.complete !== true && !(await muxer.waitForPart(r.msn, null, timeoutMs(), signal))) return unavailable(res, muxer), null;
    const seg = s.segment(r.msn);
    if (seg === undefined || !seg.complete || seg.epoch !== r.epoch) return fail(res, 404, 'No such segment.'), null;
    return media(seg.parts.map((p) => p.data), 'video/mp4');
  }
  // A part: the preload hint names the next one before it exists; that request waits for it.
  if (r.msn > next + 1 || (r.msn === next && r.index > (s.openSegment?.parts.length ?? 0) + advancePartLimit(s.options.partTargetMs))) {
    return fail(res, 404, 'No such part.'), null;
  }
  const have = s.segment(r.msn)?.parts[r.index];
  if (have === undefined && !(await muxer.waitForPart(r.msn, r.index, timeoutMs(), signal))) return unavailable(res, muxer), null;
  const inSegment = s.segment(r.msn);
  const part = inSegment?.epoch === r.epoch ? inSegment.parts[r.index] : undefined;
  if (part === undefined) return fail(res, 404, 'No such part (its segment ended before it).'), null;
  return media([part.data], 'video/mp4');
}

function unavailable(res: ServerResponse, muxer: HlsMuxer): void {
  if (res.writableEnded || res.destroyed) return;
  if (muxer.ended) fail(res, 404, 'The stream ended.');
  else fail(res, 503, 'The requested part is not available yet; try again.');
}
