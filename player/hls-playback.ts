// The HLS path of the live player (issue 14): the gateway's LL-HLS playlist played by hls.js
// (loaded on demand from vendor/hls.js) where MSE exists, or by the browser itself (Safari, iOS)
// where it does not. hls.js and the browser do their own retrying and live-edge keeping, so this is
// a thin shell that turns their events into the same status/stats the FLV path reports.
import { prepareElement, startPlayback } from './connection.js';
import type { LiveState } from './life-cycle.js';
import type { LivePlayer, LivePlayerOptions, LiveStats, LiveStatus } from './live-types.js';
import { bufferedAhead, errorText, now } from './media-element.js';
import { FrameMeter, mediaStats } from './media-stats.js';
import { loadGlobalScript } from './script-loader.js';
import { hlsUrl } from './urls.js';

/** The few parts of hls.js this file uses. */
interface HlsInstance {
  loadSource(url: string): void;
  attachMedia(video: HTMLMediaElement): void;
  on(event: string, listener: (event: string, data: { fatal?: boolean; type?: string; details?: string }) => void): void;
  startLoad(): void;
  recoverMediaError(): void;
  destroy(): void;
}
interface HlsLib {
  new (config: Record<string, unknown>): HlsInstance;
  isSupported(): boolean;
  Events: { ERROR: string };
  ErrorTypes: { NETWORK_ERROR: string; MEDIA_ERROR: string };
}

export interface HlsPlaybackSetup {
  stream: string;
  base: string;
  /** 'hls.js' or 'native'; null with the reason when this browser can play neither */
  engine: 'hls.js' | 'native' | null;
  reason?: string;
  autoMute: boolean;
}

export function createHlsPlayback(video: HTMLVideoElement, o: LivePlayerOptions, setup: HlsPlaybackSetup): LivePlayer {
  const { stream, base, engine } = setup;
  const url = hlsUrl(stream, base, o.params);
  const label = engine === 'native' ? 'LL-HLS, native' : 'LL-HLS, hls.js';
  const meter = new FrameMeter(video);
  let state: LiveState = 'idle';
  let message = '';
  let detail = '';
  let soundMuted = false;
  let hls: HlsInstance | null = null;
  prepareElement(video);

  function set(next: LiveState, msg: string, det = ''): void {
    if (state === 'destroyed') return;
    state = next;
    message = msg;
    detail = det;
    const st: LiveStatus = { state, message, stream, proto: 'hls', url };
    if (detail) st.detail = detail;
    if (soundMuted) st.soundMuted = true;
    o.onStatus?.(st);
  }

  const playingMessage = (): string =>
    `Playing ${stream} (${label})` + (soundMuted ? ' · the browser muted the sound: unmute to listen' : '');
  const listeners: [string, () => void][] = [
    ['playing', () => set('playing', playingMessage())],
    ['waiting', () => { if (state === 'playing') set('buffering', 'Buffering…'); }],
    ['error', () => { if (engine === 'native') set('error', 'The browser could not play the HLS stream.', video.error?.message ?? ''); }],
  ];
  for (const [type, fn] of listeners) video.addEventListener(type, fn);

  function tryPlay(): void {
    void startPlayback(video, setup.autoMute, () => { soundMuted = true; }).then((outcome) => {
      if (outcome === 'blocked') set('blocked', 'Autoplay was blocked — click to play.');
    });
  }

  function start(): void {
    meter.restart(now());
    if (engine === null) {
      set('unsupported', setup.reason ?? 'This browser cannot play live video.');
      return;
    }
    if (engine === 'native') {
      set('connecting', `Connecting to ${stream} (${label})…`);
      video.src = url;
      tryPlay();
      return;
    }
    set('loading', 'Loading player…');
    loadGlobalScript<HlsLib>(new URL('vendor/hls.js', base).href, 'Hls').then((Hls) => {
      if (state === 'destroyed') return;
      // lowLatencyMode follows the playlist's partial segments and preload hints (LL-HLS).
      const h = new Hls({ lowLatencyMode: true, liveSyncDurationCount: 2 });
      hls = h;
      h.on(Hls.Events.ERROR, (_e, data) => {
        if (!data.fatal || hls !== h) return;
        if (data.type === Hls.ErrorTypes.NETWORK_ERROR) {
          set('reconnecting', 'Connection lost — retrying…', data.details ?? '');
          h.startLoad();
        } else if (data.type === Hls.ErrorTypes.MEDIA_ERROR) {
          h.recoverMediaError();
        } else {
          set('error', 'Could not play the HLS stream.', data.details ?? '');
        }
      });
      set('connecting', `Connecting to ${stream} (${label})…`);
      h.loadSource(url);
      h.attachMedia(video);
      tryPlay();
    }, (err: unknown) => set('error', 'Could not load the player library (hls.js).', errorText(err)));
  }

  start();

  return {
    kind: 'live',
    destroy(): void {
      if (state === 'destroyed') return;
      for (const [type, fn] of listeners) video.removeEventListener(type, fn);
      hls?.destroy();
      hls = null;
      if (engine === 'native') {
        video.removeAttribute('src');
        video.load();
      }
      set('destroyed', 'Stopped');
    },
    stats(): LiveStats {
      const ahead = bufferedAhead(video);
      return {
        ...mediaStats(video, meter, null),
        state, message, detail, stream, proto: 'hls', url,
        bufferedAhead: ahead, latency: ahead, trueLatency: null, bitrate: 0, soundMuted,
        reconnects: 0, retryInMs: null, rewind: 0, behindLive: 0, timelinePosition: null,
      };
    },
    reconnect(): void {
      if (state === 'destroyed') return;
      hls?.destroy();
      hls = null;
      start();
    },
    // hls.js keeps to the live edge itself; rewinding is a WS/HTTP-FLV feature of the gateway.
    jumpToLive: () => false,
    setRewind(): void { /* not available over HLS */ },
    pause: () => video.pause(),
    play: () => tryPlay(),
    goLive(): void { /* always live */ },
    // text and cue points arrive only in FLV script data; nothing to listen to over HLS
    on: () => () => undefined,
    get rewind() { return 0; },
    get state() { return state; },
    get stream() { return stream; },
    get proto() { return 'hls' as const; },
    get url() { return url; },
    get video() { return video; },
  };
}
