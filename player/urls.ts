// Stream, API and recording URLs. Every URL is resolved against a base (the gateway's root,
// by default the folder the classic script was loaded from), so the player works behind any
// path prefix.

export type Proto = 'ws' | 'http';
export type QueryParams = Record<string, string | number | boolean | null | undefined>;

export function ensureSlash(base: string): string {
  return base.endsWith('/') ? base : base + '/';
}

/** The base as an absolute URL with a trailing slash. */
export function resolveBase(base: string): string {
  return ensureSlash(new URL(base, location.href).href);
}

/** "/live/cam1.flv/" -> "live/cam1" */
export function normalizeStream(stream: unknown): string {
  return String(stream ?? '').trim().replace(/^\/+|\/+$/g, '').replace(/\.flv$/i, '');
}

/** Every spelling people use for the two protocols; null for anything else. */
export function normalizeProto(proto: unknown): Proto | null {
  const p = String(proto ?? '').toLowerCase().replace(/[^a-z]/g, '');
  if (p === 'http' || p === 'httpflv' || p === 'https' || p === 'flv') return 'http';
  if (p === 'ws' || p === 'wsflv' || p === 'wss' || p === 'websocket') return 'ws';
  return null;
}

/**
 * A rewind offset in whole seconds (0 = live). Accepts numbers and strings; anything that is not
 * a finite number >= 1 gives 0. Capped at 999999 (the server's limit).
 */
export function normalizeRewind(value: unknown): number {
  if (value == null || value === '') return 0;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 1) return 0;
  return Math.min(999999, Math.floor(n));
}

function setParams(u: URL, params: QueryParams | undefined): void {
  for (const [k, v] of Object.entries(params ?? {})) {
    if (v != null && v !== '') u.searchParams.set(k, String(v));
  }
}

/** The play URLs of a stream "APP/KEY" (each path segment encoded). */
export function buildUrls(stream: string, base: string, params?: QueryParams): { http: string; ws: string } {
  const path = normalizeStream(stream).split('/').map(encodeURIComponent).join('/') + '.flv';
  const u = new URL(path, resolveBase(base));
  setParams(u, params);
  const http = u.href;
  u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
  return { http, ws: u.href };
}

export function apiUrl(base: string): string {
  return new URL('api/streams', resolveBase(base)).href;
}

export function recordingsApiUrl(base: string): string {
  return new URL('api/recordings', resolveBase(base)).href;
}

// ---------------------------------------------------------------------------
// Recordings: files the gateway's recorder writes, APP/KEY/YYYYMMDD-HHMMSS[-N].flv
// ---------------------------------------------------------------------------
const SAFE_SEGMENT = '[A-Za-z0-9_-][A-Za-z0-9_.-]{0,127}';
const RECORDING_RE = new RegExp(`^(${SAFE_SEGMENT})/(${SAFE_SEGMENT})/(\\d{8}-\\d{6}(?:-\\d{1,4})?\\.flv)$`);

export interface RecordingName {
  app: string;
  key: string;
  file: string;
  /** APP/KEY/FILE.flv */
  name: string;
  /** APP/KEY */
  stream: string;
  /** from the file name (UTC), null when the date is impossible */
  startedAt: Date | null;
}

/** Validate a recording name; null when it is not one the gateway could have written. */
export function parseRecording(name: unknown): RecordingName | null {
  const m = RECORDING_RE.exec(String(name ?? '').trim());
  if (!m) return null;
  const [, app = '', key = '', file = ''] = m;
  if (app.includes('..') || key.includes('..')) return null;
  const d = /^(\d{4})(\d{2})(\d{2})-(\d{2})(\d{2})(\d{2})/.exec(file);
  const at = d ? new Date(Date.UTC(+d[1]!, +d[2]! - 1, +d[3]!, +d[4]!, +d[5]!, +d[6]!)) : null;
  return {
    app, key, file,
    name: `${app}/${key}/${file}`,
    stream: `${app}/${key}`,
    startedAt: at && !Number.isNaN(at.getTime()) ? at : null,
  };
}

/** The URL of a recording file; null when the name is not a valid recording name. */
export function recordingUrl(name: string, base: string, params?: QueryParams, download?: boolean): string | null {
  const rec = parseRecording(name);
  if (!rec) return null;
  const u = new URL('recordings/' + [rec.app, rec.key, rec.file].map(encodeURIComponent).join('/'), resolveBase(base));
  setParams(u, params);
  // `?download` (no value) makes the server answer with Content-Disposition: attachment.
  return download ? u.href + (u.search ? '&' : '?') + 'download' : u.href;
}

/** The LL-HLS playlist URL of a stream "APP/KEY", with the page's query (e.g. signed links) carried. */
export function hlsUrl(stream: string, base: string, params?: QueryParams): string {
  const path = normalizeStream(stream).split('/').map(encodeURIComponent).join('/') + '/index.m3u8';
  const u = new URL(path, resolveBase(base));
  setParams(u, params);
  return u.href;
}
