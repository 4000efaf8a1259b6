// The options a page passes to createPlayer, checked and completed: a wrong element or stream name
// is the page's mistake and throws at once; the tuning is LIVE_DEFAULTS with the page's overrides.
import { LIVE_DEFAULTS, type LivePlayerOptions, type LiveTuning, type PlayerEnvironment } from './live-types.js';
import { normalizeStream } from './urls.js';

export interface LiveSettings {
  options: LivePlayerOptions;
  tuning: LiveTuning;
  /** APP/KEY */
  stream: string;
  /** the gateway's base URL */
  base: string;
}

export function liveSettings(video: HTMLVideoElement, options: LivePlayerOptions, env: PlayerEnvironment): LiveSettings {
  if (!video || typeof video.play !== 'function') {
    throw new TypeError('LiveGateway.createPlayer: first argument must be a <video> element');
  }
  const o: LivePlayerOptions = options ?? ({} as LivePlayerOptions);
  const tuning: LiveTuning = { ...LIVE_DEFAULTS };
  for (const k of Object.keys(LIVE_DEFAULTS) as (keyof LiveTuning)[]) {
    if (o[k] !== undefined) (tuning as unknown as Record<string, unknown>)[k] = o[k];
  }
  const stream = normalizeStream(o.stream);
  if (!/^[^/]+\/[^/]+$/.test(stream)) {
    throw new TypeError('LiveGateway.createPlayer: options.stream must look like "APP/KEY"');
  }
  return { options: o, tuning, stream, base: o.base || env.defaultBase };
}
