// One mpegts.js connection bound to a video element: what the live and the recording player
// share. It prepares the element (inline, autoplay, and what Apple's ManagedMediaSource needs),
// delivers mpegts.js events one microtask later and only while the connection is current, and
// tears everything down in an order that tolerates half-torn-down players.
import { mseClass, onlyManagedMediaSource } from './codecs.js';
import { holdsEarlySeeks, SeekGate } from './seek-gate.js';
import type {
  MpegtsConfig, MpegtsErrorInfo, MpegtsFeatures, MpegtsLib, MpegtsMediaDataSource, MpegtsMediaInfo, MpegtsPlayer,
  MpegtsStatistics,
} from './mpegts-api.js';

export interface ConnectionHandlers {
  error(type: string, detail: string, info: MpegtsErrorInfo): void;
  /** the HTTP response ended or the WebSocket closed */
  ended?(): void;
  mediaInfo?(info: MpegtsMediaInfo): void;
  statistics?(info: MpegtsStatistics): void;
  /** FLV script data tags (e.g. the gateway's timeline cue) */
  scriptData?(data: unknown): void;
}

const featureCache = new WeakMap<MpegtsLib, MpegtsFeatures | null>();

/** mpegts.js's feature list (cached per library; null when it cannot tell). */
export function libraryFeatures(lib: MpegtsLib): MpegtsFeatures | null {
  if (!featureCache.has(lib)) {
    let f: MpegtsFeatures | null = null;
    try {
      f = lib.getFeatureList();
    } catch {
      f = null;
    }
    featureCache.set(lib, f);
  }
  return featureCache.get(lib) ?? null;
}

/** No Media Source Extensions, or none that take H.264: nothing can play here. */
export function msePlaybackMissing(lib: MpegtsLib): boolean {
  const features = libraryFeatures(lib);
  return !mseClass() || (!!features && !features.msePlayback);
}

/** mpegts.js for one player: loaded on first use, then kept. */
export class LibrarySlot {
  #lib: MpegtsLib | null = null;

  constructor(private readonly load: () => Promise<MpegtsLib>) {}

  /** The library when loaded; else null, and it starts loading (then `ready` or `failed` runs). */
  get(ready: () => void, failed: (err: unknown) => void): MpegtsLib | null {
    if (this.#lib) return this.#lib;
    this.load().then((lib) => {
      this.#lib = lib;
      ready();
    }, failed);
    return null;
  }
}

/**
 * Inline muted-capable autoplay, as phones need. Where only ManagedMediaSource exists (iPhone),
 * the media source opens only with remote playback (AirPlay) disabled.
 */
export function prepareElement(video: HTMLVideoElement): void {
  video.playsInline = true;
  video.setAttribute('playsinline', '');
  video.autoplay = true;
  if (onlyManagedMediaSource()) video.disableRemotePlayback = true;
}

/**
 * Settings every connection gets whatever the caller passed, on the iPhone path (ManagedMediaSource):
 * no MSE worker; and no cleanup of old media by mpegts.js, since a managed source evicts what it
 * no longer needs by itself, and mpegts.js's cleanup check reads SourceBuffer.buffered before every
 * append, which throws once the engine has closed the source (a decode error does that): in the
 * loader's promise chain, where nothing catches it. Without that check an append into a closed
 * source fails inside appendBuffer, which mpegts.js catches and reports as a media error.
 */
export function engineConfig(config: MpegtsConfig): MpegtsConfig {
  return onlyManagedMediaSource()
    ? { ...config, enableWorker: false, enableWorkerForMSE: false, autoCleanupSourceBuffer: false }
    : config;
}

/** What the guard needs of a (Managed)MediaSource; the DOM types do not name ManagedMediaSource. */
interface GuardedSource {
  addSourceBuffer(mime: string): EventTarget;
}

/**
 * The object `attach` hands to URL.createObjectURL, if any. The hook lives only for that synchronous
 * call and is removed before anything else runs.
 */
function sourceMadeDuring(attach: () => void): unknown {
  const urls = typeof URL === 'function' ? URL : null;
  const create = urls?.createObjectURL;
  if (!urls || typeof create !== 'function') {
    attach();
    return null;
  }
  let made: unknown = null;
  urls.createObjectURL = (obj: Blob | MediaSource) => {
    made ??= obj;
    return create.call(urls, obj);
  };
  try {
    attach();
  } finally {
    urls.createObjectURL = create;
  }
  return made;
}

export class Connection {
  #player: MpegtsPlayer | null;
  #listening = true;
  #seekGate: SeekGate | null = null;

  /** Create the mpegts.js player (throws what mpegts.js throws) and wire its events. */
  constructor(readonly lib: MpegtsLib, readonly video: HTMLVideoElement, source: MpegtsMediaDataSource, config: MpegtsConfig, handlers: ConnectionHandlers) {
    const player = lib.createPlayer(source, engineConfig(config));
    this.#player = player;
    const E = lib.Events;
    player.on(E.ERROR, this.#later((type: string, detail: string, info?: MpegtsErrorInfo) => handlers.error(type, detail, info ?? {})));
    const { ended, mediaInfo, statistics } = handlers;
    if (ended) player.on(E.LOADING_COMPLETE, this.#later(() => ended()));
    if (mediaInfo) player.on(E.MEDIA_INFO, this.#later((mi?: MpegtsMediaInfo) => mediaInfo(mi ?? {})));
    if (statistics) player.on(E.STATISTICS_INFO, this.#later((si?: MpegtsStatistics) => statistics(si ?? {})));
    const { scriptData } = handlers;
    if (scriptData && E.SCRIPTDATA_ARRIVED) player.on(E.SCRIPTDATA_ARRIVED, this.#later((d?: unknown) => scriptData(d)));
  }

  /**
   * Handlers run in a microtask, since they may tear down the mpegts.js player, which must not
   * happen while it is still emitting; and not at all once the connection is quiet or closed.
   */
  #later<A extends unknown[]>(fn: (...args: A) => void): (...args: A) => void {
    return (...args: A) => {
      void Promise.resolve().then(() => {
        if (this.#listening) fn(...args);
      });
    };
  }

  /** Attach to the element and start loading; throws what mpegts.js throws. */
  start(): void {
    const p = this.#player;
    if (!p) return;
    if (holdsEarlySeeks(typeof navigator === 'undefined' ? '' : navigator.userAgent)) this.#seekGate = new SeekGate(this.video);
    // The media source mpegts.js makes: handed to URL.createObjectURL (MediaSource), or held by the
    // element (ManagedMediaSource).
    const made = sourceMadeDuring(() => p.attachMediaElement(this.video)) ?? this.video.srcObject;
    this.#guard(made as GuardedSource | null);
    p.load();
  }

  /**
   * A media source the engine closed (a decode error) keeps its buffers' listeners when mpegts.js
   * shuts down, and a buffer whose append the close aborted still fires 'updateend' afterwards:
   * mpegts.js's handler then reads its freed queues (TypeError in the page). A listener of ours,
   * added before mpegts.js's own to each buffer, stops those events once the connection is closed.
   */
  #guard(source: GuardedSource | null): void {
    if (!source || typeof source.addSourceBuffer !== 'function') return;
    const add = source.addSourceBuffer;
    source.addSourceBuffer = (mime: string) => {
      const buffer = add.call(source, mime);
      buffer.addEventListener('updateend', (e: Event) => {
        if (!this.#player) e.stopImmediatePropagation();
      });
      return buffer;
    };
  }

  /** Events from now on are not delivered (the connection is being replaced). */
  get listening(): boolean {
    return this.#listening;
  }

  /** Stop listening and pause, keeping the last picture on screen until close(). */
  quiet(): void {
    this.#listening = false;
    try {
      this.#player?.pause();
    } catch {
      // a half-torn-down mpegts.js player throws here; there is nothing left to pause
    }
  }

  /** Stop and free the mpegts.js player; each step may throw on a half-torn-down player. Idempotent. */
  close(): void {
    this.#listening = false;
    this.#seekGate?.close();
    this.#seekGate = null;
    const p = this.#player;
    this.#player = null;
    if (!p) return;
    const steps = [() => p.pause(), () => p.unload(), () => p.detachMediaElement(), () => p.destroy()];
    for (const step of steps) {
      try {
        step();
      } catch {
        // keep going: the remaining steps still free what they can
      }
    }
  }
}

export type PlayOutcome = 'played' | 'muted' | 'blocked' | 'interrupted';

function errorName(err: unknown): string {
  return err && typeof err === 'object' && 'name' in err ? String((err as { name: unknown }).name) : '';
}

/**
 * play(), and when the browser refuses sound without a gesture (NotAllowedError), mute and play
 * again. `onMute` runs just before the element is muted, so the player can tell the viewer before
 * the 'playing' event arrives. 'interrupted' is any other rejection (AbortError: a new load
 * replaced this one), which needs nothing.
 */
export async function startPlayback(video: HTMLVideoElement, autoMute: boolean, onMute: () => void): Promise<PlayOutcome> {
  try {
    await video.play();
    return 'played';
  } catch (err) {
    if (errorName(err) !== 'NotAllowedError') return 'interrupted';
    if (!autoMute || video.muted) return 'blocked';
  }
  onMute();
  video.muted = true;
  try {
    await video.play();
    return 'muted';
  } catch (err) {
    return errorName(err) === 'NotAllowedError' ? 'blocked' : 'interrupted';
  }
}
