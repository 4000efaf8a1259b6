// Which protocol and engine a page plays a live stream with (issue 14, "the page chooses"). Pure:
// the browser's capabilities in, the choice out; detectCapabilities reads them from the page.
// - 'auto': WS-FLV through mpegts.js wherever Media Source Extensions (or Safari's
//   ManagedMediaSource) exist; the browser's own HLS (video.src = …/index.m3u8) where neither does.
// - 'hls': hls.js where MSE exists (loaded on demand from vendor/hls.js), the browser's own HLS otherwise.
// - 'ws' / 'http': mpegts.js, as always (the player says so when MSE is missing).

export type RequestedProto = 'auto' | 'ws' | 'http' | 'hls';

export interface PlaybackCapabilities {
  /** window.MediaSource with H.264 */
  mse: boolean;
  /** window.ManagedMediaSource (Safari 17+, iOS 17.1+) */
  managedMediaSource: boolean;
  /** video.canPlayType('application/vnd.apple.mpegurl') is not '' */
  nativeHls: boolean;
}

export type ProtocolChoice =
  | { proto: 'ws' | 'http'; engine: 'mpegts.js' }
  | { proto: 'hls'; engine: 'hls.js' | 'native' }
  | { proto: null; reason: string };

export const CANNOT_PLAY = 'This browser cannot play live video: it has neither Media Source Extensions nor native HLS.';

export function chooseProtocol(requested: RequestedProto, caps: PlaybackCapabilities): ProtocolChoice {
  const mse = caps.mse || caps.managedMediaSource;
  if (requested === 'ws' || requested === 'http') return { proto: requested, engine: 'mpegts.js' };
  if (requested === 'hls') {
    if (mse) return { proto: 'hls', engine: 'hls.js' };
    return caps.nativeHls ? { proto: 'hls', engine: 'native' } : { proto: null, reason: CANNOT_PLAY };
  }
  if (mse) return { proto: 'ws', engine: 'mpegts.js' };
  return caps.nativeHls ? { proto: 'hls', engine: 'native' } : { proto: null, reason: CANNOT_PLAY };
}

/** 'auto' and 'hls' spellings on top of normalizeProto's ws/http; null for anything else. */
export function normalizeRequestedProto(proto: unknown, normalizeFlv: (p: unknown) => 'ws' | 'http' | null): RequestedProto | null {
  const p = String(proto ?? '').toLowerCase().replace(/[^a-z0-9]/g, '');
  if (p === 'auto') return 'auto';
  if (p === 'hls' || p === 'llhls' || p === 'm3u8') return 'hls';
  return normalizeFlv(proto);
}

/** The capabilities of this page, read from its globals and a video element. */
export function detectCapabilities(win: Partial<Window> & Record<string, unknown>, video: Pick<HTMLVideoElement, 'canPlayType'>): PlaybackCapabilities {
  const ms = win['MediaSource'] as { isTypeSupported?: (t: string) => boolean } | undefined;
  const mms = win['ManagedMediaSource'] as { isTypeSupported?: (t: string) => boolean } | undefined;
  const h264 = 'video/mp4; codecs="avc1.42E01E"';
  const supports = (m: typeof ms): boolean => !!m && typeof m.isTypeSupported === 'function' && m.isTypeSupported(h264);
  let nativeHls = false;
  try {
    nativeHls = video.canPlayType('application/vnd.apple.mpegurl') !== '';
  } catch {
    // a detached or odd element: no native HLS
  }
  return { mse: supports(ms), managedMediaSource: supports(mms), nativeHls };
}
