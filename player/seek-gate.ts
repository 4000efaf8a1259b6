// WebKit on GStreamer (WebKitGTK and WPE: Linux browsers, smart TVs, set-top boxes) can freeze its
// page for good when the playhead is moved before the media pipeline has decoded a first frame:
// the seek waits on a pipeline pad that only the now-blocked main thread could free. Stacks taken
// from such frozen pages all showed that wait. mpegts.js moves the playhead at start (its startup
// stall jumper), and so does the player's latency chase; on those engines, seeks made before the
// first decoded frame are held and the latest one goes through at that frame, if it still points
// ahead. An engine that decodes nothing from where the playhead is gets it after HOLD_LIMIT_MS.

/** How often the element is checked for a decoded frame while a seek is held. */
const CHECK_MS = 100;
/** After this long without a decoded frame a held seek goes through anyway. */
export const HOLD_LIMIT_MS = 4_000;

/** WebKit whose media runs on GStreamer: WebKit on Linux that is not Chromium or Android. */
export function holdsEarlySeeks(userAgent: string): boolean {
  return /AppleWebKit/.test(userAgent) && /(X11|Linux|WPE)/.test(userAgent) && !/(Chrome|Chromium|Android)/.test(userAgent);
}

function decodedFrames(video: HTMLVideoElement): number {
  return typeof video.getVideoPlaybackQuality === 'function' ? video.getVideoPlaybackQuality().totalVideoFrames : 0;
}

/**
 * Holds `currentTime` writes on one element until it decodes a frame. The element's own property
 * is shadowed while the gate is open and restored when it lifts or closes.
 */
export class SeekGate {
  readonly #video: HTMLVideoElement;
  readonly #read: () => number;
  readonly #restore: () => void;
  #held: number | null = null;
  #timer: ReturnType<typeof setInterval> | null = null;
  #heldSince = 0;
  #lifted = false;

  constructor(video: HTMLVideoElement) {
    this.#video = video;
    const own = Object.getOwnPropertyDescriptor(video, 'currentTime');
    if (own && 'value' in own) {
      // a plain object standing in for an element
      const value = Number(own.value);
      this.#read = () => value;
      this.#restore = () => Object.defineProperty(video, 'currentTime', { ...own, value });
    } else {
      let proto: object | null = Object.getPrototypeOf(video) as object | null;
      let inherited: PropertyDescriptor | undefined;
      while (proto && !(inherited = Object.getOwnPropertyDescriptor(proto, 'currentTime'))) proto = Object.getPrototypeOf(proto) as object | null;
      const d = inherited;
      if (!d?.get) throw new Error('the element has no currentTime accessor');
      this.#read = () => d.get!.call(video) as number;
      this.#restore = () => delete (video as { currentTime?: number }).currentTime;
    }
    Object.defineProperty(video, 'currentTime', {
      configurable: true,
      enumerable: true,
      get: () => this.#read(),
      set: (t: number) => this.#set(t),
    });
  }

  /** Whether a seek waits for the first frame. */
  get holding(): boolean {
    return this.#held !== null;
  }

  #set(t: number): void {
    if (decodedFrames(this.#video) > 0) {
      this.#lift();
      this.#video.currentTime = t;
      return;
    }
    this.#held = t;
    if (this.#timer) return;
    this.#heldSince = Date.now();
    this.#timer = setInterval(() => this.#check(), CHECK_MS);
  }

  #check(): void {
    if (decodedFrames(this.#video) > 0 || Date.now() - this.#heldSince >= HOLD_LIMIT_MS) this.#lift();
  }

  /** The first frame is there (or the wait is over): the element is itself again, the held seek goes through if still ahead. */
  #lift(): void {
    if (this.#lifted) return;
    const held = this.#held;
    this.close();
    try {
      if (held !== null && held > this.#video.currentTime) this.#video.currentTime = held;
    } catch {
      // seeking can throw while the media source is closing; the next live check seeks again
    }
  }

  /** Drop any held seek and give the element back its own currentTime. Idempotent. */
  close(): void {
    if (this.#lifted) return;
    this.#lifted = true;
    this.#held = null;
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    this.#restore();
  }
}
