// Stand-ins for what the player touches in a browser: a video element, mpegts.js, document,
// MediaSource, location and fetch. Each records what the player did to it and lets a test play
// the browser's part (fire 'playing', reject play(), report a MediaError…).
import { vi } from 'vitest';
import type { MpegtsConfig, MpegtsLib, MpegtsMediaDataSource, MpegtsPlayer } from '../../player/mpegts-api.js';

export class FakeTimeRanges {
  constructor(public ranges: [number, number][] = []) {}
  get length(): number {
    return this.ranges.length;
  }
  start(i: number): number {
    return this.ranges[i]![0];
  }
  end(i: number): number {
    return this.ranges[i]![1];
  }
}

/** The stubbed URL.createObjectURL's registry, shared by every fake element. */
const fakeObjectUrls = new Map<string, unknown>();

type PlayBehaviour = (video: FakeVideo) => Promise<void>;

export class FakeVideo extends EventTarget {
  paused = true;
  muted = false;
  ended = false;
  currentTime = 0;
  playbackRate = 1;
  readyState = 0;
  videoWidth = 0;
  videoHeight = 0;
  duration = NaN;
  volume = 1;
  autoplay = false;
  playsInline = false;
  controls = false;
  disableRemotePlayback = false;
  error: { code: number; message: string } | null = null;
  srcObject: unknown = null;
  src = '';
  /** What the stubbed URL.createObjectURL handed out (a MediaSource's blob: URL -> the source). */
  objectUrls = fakeObjectUrls;
  buffered = new FakeTimeRanges();
  attributes = new Map<string, string>();
  quality = { totalVideoFrames: 0, droppedVideoFrames: 0 };
  playCalls = 0;
  /** What play() does; by default it starts playing and fires 'playing' like a browser. */
  onPlay: PlayBehaviour = async (v) => v.startPlaying();

  setAttribute(name: string, value: string): void {
    this.attributes.set(name, value);
  }

  play(): Promise<void> {
    this.playCalls++;
    return this.onPlay(this);
  }

  /** A pause from outside the player (the engine, or a test). */
  pause(): void {
    if (this.paused) return;
    this.paused = true;
    this.fire('pause');
  }

  /** Like a browser: paused flips now, 'playing' is fired from a later task. */
  startPlaying(): void {
    const was = this.paused;
    this.paused = false;
    if (was) queueMicrotask(() => this.fire('playing'));
  }

  getVideoPlaybackQuality(): { totalVideoFrames: number; droppedVideoFrames: number } {
    return { ...this.quality };
  }

  fire(type: string): void {
    this.dispatchEvent(new Event(type));
  }

  asElement(): HTMLVideoElement {
    return this as unknown as HTMLVideoElement;
  }
}

export function notAllowed(): Error {
  const e = new Error('play() failed because the user did not interact with the document first');
  e.name = 'NotAllowedError';
  return e;
}

export class FakeMpegtsPlayer implements MpegtsPlayer {
  listeners = new Map<string, ((...args: never[]) => void)[]>();
  attached: unknown = null;
  loaded = false;
  destroyed = false;
  paused = false;
  /** The element detached the MediaSource (a media error): its SourceBuffers are gone. */
  mediaSourceClosed = false;
  /**
   * Segments appended to removed SourceBuffers. The real library throws InvalidStateError for
   * each, from its loader's promise chain, where the page sees an unhandled rejection.
   */
  deadAppends = 0;

  constructor(readonly source: MpegtsMediaDataSource, readonly config: MpegtsConfig) {}

  on(event: string, listener: (...args: never[]) => void): void {
    this.listeners.set(event, [...(this.listeners.get(event) ?? []), listener]);
  }
  /** 'updateend' events its SourceBuffer listener handled, and those that came after destroy(). */
  updateEnds = 0;
  lateUpdateEnds = 0;

  attachMediaElement(el: HTMLMediaElement): void {
    this.attached = el;
    // Like mpegts.js: the element holds a ManagedMediaSource itself, a MediaSource by its object URL.
    const g = globalThis as { MediaSource?: unknown; ManagedMediaSource?: unknown };
    const video: unknown = el;
    if (!(video instanceof FakeVideo)) return;
    const source = { addSourceBuffer: (_mime: string) => new EventTarget() };
    if (!g.MediaSource && g.ManagedMediaSource) video.srcObject = source;
    else video.src = URL.createObjectURL(source as unknown as MediaSource);
  }
  /**
   * mpegts.js adding a SourceBuffer through the element's source object and listening to it; after
   * destroy() its handler reads freed queues (the real one throws a TypeError into the page).
   */
  addSourceBuffer(): EventTarget {
    const video = this.attached as FakeVideo;
    const source = (video.srcObject ?? video.objectUrls.get(video.src)) as { addSourceBuffer(mime: string): EventTarget };
    const buffer = source.addSourceBuffer('video/mp4;codecs="avc1.64001f"');
    buffer.addEventListener('updateend', () => (this.destroyed ? this.lateUpdateEnds++ : this.updateEnds++));
    return buffer;
  }
  /** Detaching empties the element, which leaves it paused (without a 'pause' event). */
  detachMediaElement(): void {
    if (this.attached instanceof FakeVideo) this.attached.paused = true;
    this.attached = null;
  }
  load(): void {
    this.loaded = true;
  }
  unload(): void {
    this.loaded = false;
  }
  pause(): void {
    this.paused = true;
  }
  destroy(): void {
    this.destroyed = true;
  }
  /** A media segment arrives from the network: appended while loaded, dropped once unloaded. */
  segmentArrives(): void {
    if (this.loaded && !this.destroyed && this.mediaSourceClosed) this.deadAppends++;
  }

  /** What mpegts.js would emit; the player handles it one microtask later. */
  emit(event: string, ...args: unknown[]): void {
    for (const l of this.listeners.get(event) ?? []) (l as (...a: unknown[]) => void)(...args);
  }
}

export class FakeMpegts implements MpegtsLib {
  players: FakeMpegtsPlayer[] = [];
  features = { msePlayback: true, networkStreamIO: true };
  readonly Events = { ERROR: 'error', LOADING_COMPLETE: 'loading_complete', MEDIA_INFO: 'media_info', STATISTICS_INFO: 'statistics_info' };
  readonly ErrorDetails = {
    NETWORK_STATUS_CODE_INVALID: 'HttpStatusCodeInvalid',
    MEDIA_MSE_ERROR: 'MediaMSEError',
    MEDIA_FORMAT_UNSUPPORTED: 'MediaFormatUnsupported',
    MEDIA_CODEC_UNSUPPORTED: 'MediaCodecUnsupported',
  };

  createPlayer(source: MpegtsMediaDataSource, config: MpegtsConfig = {}): FakeMpegtsPlayer {
    const p = new FakeMpegtsPlayer(source, config);
    this.players.push(p);
    return p;
  }
  getFeatureList() {
    return this.features;
  }
  get last(): FakeMpegtsPlayer {
    const p = this.players.at(-1);
    if (!p) throw new Error('no mpegts.js player was created');
    return p;
  }
}

export interface BrowserStubs {
  document: EventTarget & { hidden: boolean };
  /** MIME types MediaSource.isTypeSupported accepts (all by default) */
  supported: (mime: string) => boolean;
  /** names api/streams lists (null: the API fails) */
  listed: string[] | null;
  fetchCalls: string[];
}

/**
 * Browser globals for one test: document, MediaSource (or only ManagedMediaSource), location and
 * fetch. Fake timers include performance.now, which the player's clocks read.
 */
export function stubBrowser(opts: { managedOnly?: boolean } = {}): BrowserStubs {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date', 'performance'] });
  const stubs: BrowserStubs = {
    document: Object.assign(new EventTarget(), { hidden: false }),
    supported: () => true,
    listed: ['live/cam1'],
    fetchCalls: [],
  };
  const mediaSource = class {
    static isTypeSupported(mime: string): boolean {
      return stubs.supported(mime);
    }
  };
  const RealUrl = URL;
  vi.stubGlobal('URL', class extends RealUrl {
    static override createObjectURL(obj: unknown): string {
      const url = `blob:fake/${fakeObjectUrls.size + 1}`;
      fakeObjectUrls.set(url, obj);
      return url;
    }
  });
  vi.stubGlobal('document', stubs.document);
  vi.stubGlobal('location', { href: 'http://gw.test/' });
  if (opts.managedOnly) {
    vi.stubGlobal('MediaSource', undefined);
    vi.stubGlobal('ManagedMediaSource', mediaSource);
  } else {
    vi.stubGlobal('MediaSource', mediaSource);
  }
  vi.stubGlobal('fetch', async (url: string) => {
    stubs.fetchCalls.push(String(url));
    if (stubs.listed === null) return { ok: false, status: 503, json: async () => null };
    return { ok: true, status: 200, json: async () => ({ streams: stubs.listed!.map((name) => ({ name })) }) };
  });
  return stubs;
}

export function restoreBrowser(): void {
  vi.useRealTimers();
  vi.unstubAllGlobals();
}
