// The LL-HLS media playlist (draft-pantos-hls-rfc8216bis-16 §4.4, with the Low-Latency tags of
// §4.4.3.7 PART-INF, §4.4.3.8 SERVER-CONTROL, §4.4.4.9 PART, §4.4.5.3 PRELOAD-HINT) and the
// blocking-reload query (§6.2.5.2 _HLS_msn/_HLS_part). Clients without LL-HLS ignore the part tags
// and play the EXTINF segments as ordinary HLS. A codec change starts a new period: its segments
// follow an EXT-X-DISCONTINUITY (§4.4.4.3) and name their own init segment with EXT-X-MAP (§4.4.4.5),
// and EXT-X-DISCONTINUITY-SEQUENCE (§4.4.3.3) counts the discontinuities that have scrolled off.
// Pure: it renders what the segmenter holds.
import type { Segment } from './segmenter.js';

export interface PlaylistView {
  /** the current period's path component (segments carry their own): everything under one is immutable */
  epoch: string;
  segments: readonly Segment[];
  partTargetMs: number;
  targetDurationS: number;
  wallAtZero: number;
  /** the query carried into every URI ('' or '?a=b'), e.g. a signed URL's exp and sig */
  query: string;
}

/** EXT-X-MAP in a media playlist without I-FRAMES-ONLY needs protocol version 6 (§7). */
export const PLAYLIST_VERSION = 6;

export function targetDurationS(partTargetMs: number, segmentMinMs: number, maxSegmentMs: number): number {
  // §4.4.3.1: each EXTINF rounded to the nearest integer must not exceed it.
  return Math.max(1, Math.ceil(segmentMinMs / 1000), Math.round(maxSegmentMs / 1000), Math.ceil(partTargetMs / 1000));
}

/** §6.2.5.2: a part that is this many parts ahead of the last one is refused at once. */
export function advancePartLimit(partTargetMs: number): number {
  return partTargetMs < 1000 ? Math.floor(3000 / partTargetMs) : 3;
}

const seconds = (ms: number): string => (ms / 1000).toFixed(3);

export function renderPlaylist(v: PlaylistView): string {
  const q = v.query;
  const lines = [
    '#EXTM3U',
    `#EXT-X-VERSION:${PLAYLIST_VERSION}`,
    `#EXT-X-TARGETDURATION:${v.targetDurationS}`,
    // PART-HOLD-BACK must be at least twice, and should be three times, the part target.
    `#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=${seconds(3 * v.partTargetMs)}`,
    `#EXT-X-PART-INF:PART-TARGET=${seconds(v.partTargetMs)}`,
    `#EXT-X-MEDIA-SEQUENCE:${v.segments[0]?.msn ?? 0}`,
  ];
  const listed = v.segments.filter((seg) => seg.complete || seg.parts.length > 0);
  const firstDiscontinuity = listed[0]?.discontinuity ?? 0;
  if (firstDiscontinuity > 0) lines.push(`#EXT-X-DISCONTINUITY-SEQUENCE:${firstDiscontinuity}`);
  if (listed.length === 0) lines.push(`#EXT-X-MAP:URI="${v.epoch}/init.mp4${q}"`);
  const last = v.segments[v.segments.length - 1];
  const edgeMs = last === undefined ? 0 : last.startMs + last.durationMs;
  let prev: Segment | null = null;
  for (const seg of listed) {
    if (prev !== null && seg.discontinuity !== prev.discontinuity) lines.push('#EXT-X-DISCONTINUITY');
    if (prev === null || seg.epoch !== prev.epoch) lines.push(`#EXT-X-MAP:URI="${seg.epoch}/init.mp4${q}"`);
    prev = seg;
    lines.push(`#EXT-X-PROGRAM-DATE-TIME:${new Date(v.wallAtZero + seg.startMs).toISOString()}`);
    // §4.4.4.9: parts more than three target durations from the end should be left out.
    if (edgeMs - (seg.startMs + seg.durationMs) <= 3 * v.targetDurationS * 1000 || !seg.complete) {
      for (const p of seg.parts) {
        lines.push(`#EXT-X-PART:DURATION=${seconds(p.durationMs)},URI="${seg.epoch}/part${p.msn}.${p.index}.m4s${q}"${p.independent ? ',INDEPENDENT=YES' : ''}`);
      }
    }
    if (seg.complete) lines.push(`#EXTINF:${seconds(seg.durationMs)},`, `${seg.epoch}/seg${seg.msn}.m4s${q}`);
  }
  const hint = nextPart(v.segments);
  lines.push(`#EXT-X-PRELOAD-HINT:TYPE=PART,URI="${v.epoch}/part${hint.msn}.${hint.index}.m4s${q}"`);
  return `${lines.join('\n')}\n`;
}

/** The part the segmenter will produce next (if the open segment is not cut first). */
export function nextPart(segments: readonly Segment[]): { msn: number; index: number } {
  const last = segments[segments.length - 1];
  if (last === undefined) return { msn: 0, index: 0 };
  return last.complete ? { msn: last.msn + 1, index: 0 } : { msn: last.msn, index: last.parts.length };
}

/** Has the playlist reached part (msn, part)? A later segment counts too (§6.2.5.2 "or later"). */
export function hasPart(segments: readonly Segment[], msn: number, part: number | null): boolean {
  const last = segments[segments.length - 1];
  if (last === undefined) return false;
  if (last.msn > msn) return true;
  if (last.msn < msn) return false;
  // Without _HLS_part the client asks for the whole segment.
  if (part === null) return last.complete;
  return last.parts.length > part;
}

export type ReloadDirective =
  | { ok: true; msn: number | null; part: number | null }
  | { ok: false; detail: string };

const UINT = /^\d{1,9}$/;

/**
 * Reads _HLS_msn / _HLS_part (and _HLS_skip, which this server does not offer and so ignores).
 * §6.2.5.2: _HLS_part without _HLS_msn is a client error, as is a value that is not a decimal integer.
 */
export function parseReloadDirective(query: URLSearchParams): ReloadDirective {
  const msnRaw = query.getAll('_HLS_msn');
  const partRaw = query.getAll('_HLS_part');
  if (msnRaw.length > 1 || partRaw.length > 1) return { ok: false, detail: '_HLS_msn and _HLS_part may appear once' };
  if (msnRaw.length === 0) {
    if (partRaw.length > 0) return { ok: false, detail: '_HLS_part needs _HLS_msn' };
    return { ok: true, msn: null, part: null };
  }
  if (!UINT.test(msnRaw[0]!)) return { ok: false, detail: '_HLS_msn must be a decimal integer' };
  if (partRaw.length > 0 && !UINT.test(partRaw[0]!)) return { ok: false, detail: '_HLS_part must be a decimal integer' };
  return { ok: true, msn: Number(msnRaw[0]), part: partRaw.length > 0 ? Number(partRaw[0]) : null };
}

/** §6.2.5.2: too far ahead of the playlist to wait for: refuse with 400 at once. */
export function tooFarAhead(segments: readonly Segment[], msn: number, part: number | null, partTargetMs: number): boolean {
  const next = nextPart(segments);
  const lastMsn = segments.length === 0 ? -1 : segments[segments.length - 1]!.msn;
  if (msn > lastMsn + 2) return true;
  if (part === null) return false;
  const limit = advancePartLimit(partTargetMs);
  if (msn === next.msn) return part > next.index + limit;
  // a later segment: its parts cannot outnumber the limit from here
  return part > limit;
}

/** The query of the playlist request without the delivery directives: carried into every URI. */
export function carriedQuery(query: URLSearchParams): string {
  const kept = new URLSearchParams();
  for (const [k, v] of query) if (!k.startsWith('_HLS_')) kept.append(k, v);
  const s = kept.toString();
  return s === '' ? '' : `?${s}`;
}
