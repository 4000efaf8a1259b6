// The join: a new viewer gets the gateway's cached GOP (up to a GOP of video) at once. Played from
// its start, that burst is seconds of buffer, which mpegts.js's latency chaser then cuts with one
// to four seeks in the first two seconds (and in WebKit each seek flushes the decoder). Instead the
// player holds playback until the burst is in, then starts once, `target` seconds before the end of
// the buffer: the latency it will keep, with no seek and no speed-up afterwards.

export interface JoinView {
  /** the buffered range the burst went into, media seconds */
  start: number;
  end: number;
  /** media time of the gateway's newest frame right now (LatencyClock.liveEdgeMediaTime); null while unknown */
  liveEdge: number | null;
  /** milliseconds since the connection was started */
  waitedMs: number;
}

/** Frames the burst may still lack when it counts as complete (they arrive within a frame time). */
const EDGE_SLACK_S = 0.15;
/** Without a live edge (no clock or cue), or if it never fills up: start anyway after this long. */
export const JOIN_MAX_WAIT_MS = 1500;

/** Where to start playback, or null to keep waiting. */
export function joinPosition(v: JoinView, target: number): number | null {
  const complete = v.liveEdge !== null && v.end > 0 && v.end >= v.liveEdge - EDGE_SLACK_S;
  if (!complete && v.waitedMs < JOIN_MAX_WAIT_MS) return null;
  if (v.end <= v.start) return v.waitedMs >= JOIN_MAX_WAIT_MS ? v.start : null;
  return Math.max(v.start, v.end - target);
}
