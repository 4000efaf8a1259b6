// What one live connection asks of mpegts.js: whether this browser and library can play the
// protocol at all, and the media source and config for the stream URL (live, low latency, and
// when joining behind live, no catching up).
import { libraryFeatures, msePlaybackMissing } from './connection.js';
import { LOW_LATENCY_CONFIG } from './live-types.js';
import type { MpegtsConfig, MpegtsLib, MpegtsMediaDataSource } from './mpegts-api.js';

/** Why this browser cannot play live FLV over `proto` with `lib`, or null when it can. */
export function liveFlvUnsupported(lib: MpegtsLib, proto: 'ws' | 'http'): string | null {
  if (msePlaybackMissing(lib)) return 'This browser cannot play live FLV: it has no Media Source Extensions with H.264 support.';
  const features = libraryFeatures(lib);
  if (proto === 'http' && features && !features.networkStreamIO) {
    return 'This browser cannot stream HTTP-FLV (no streaming fetch). Use WS-FLV instead.';
  }
  return null;
}

export interface LiveSourceRequest {
  url: string;
  /** seconds behind live asked for (0: live) */
  rewind: number;
  /** the page's own mpegts.js config, over the low-latency defaults */
  config?: MpegtsConfig | undefined;
  hasAudio?: boolean | undefined;
  hasVideo?: boolean | undefined;
}

/** The mpegts.js media source and config of one connection. */
export function liveSource(r: LiveSourceRequest): { source: MpegtsMediaDataSource; config: MpegtsConfig } {
  const config: MpegtsConfig = { ...LOW_LATENCY_CONFIG, ...r.config };
  if (r.rewind > 0) {
    // Behind live on purpose: the server feeds at real-time pace from the rewind window, so
    // never chase (that would jump to the end of the buffer, then starve) and never speed up.
    config.liveBufferLatencyChasing = false;
    config.liveBufferLatencyChasingOnPaused = false;
    config.liveSync = false;
  }
  const source: MpegtsMediaDataSource = { type: 'flv', isLive: true, url: r.url, cors: true, withCredentials: false,
    ...(typeof r.hasAudio === 'boolean' ? { hasAudio: r.hasAudio } : {}),
    ...(typeof r.hasVideo === 'boolean' ? { hasVideo: r.hasVideo } : {}) };
  return { source, config };
}
