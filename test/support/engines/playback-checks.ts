// Engine-neutral checks that a page really plays: sampled from outside the
// player, straight from the <video> element, so a page that says "Playing"
// over a frozen picture fails.
import type { EnginePage } from './types.js';

/** What one look at a page returns. */
export interface PlaybackSample {
  /** ms since the watch started (test clock) */
  at: number;
  state: string | null;
  statusState: string | null;
  proto: string | null;
  hasAudio: boolean | null;
  paused: boolean;
  currentTime: number;
  /** totalVideoFrames as the engine reports it (WebKit resets it on seeks and rate changes) */
  rawFrames: number;
  /** frames presented (requestVideoFrameCallback) since the first sample, or null without it */
  presented: number | null;
  /** grows with every new picture: totalVideoFrames summed across resets, plus `presented` */
  frames: number;
  videoWidth: number;
  muted: boolean;
  playbackRate: number;
  bufferedAhead: number;
}

const SAMPLE = `(function () {
  var v = document.querySelector('video');
  var p = window.__player;
  var s = p && typeof p.stats === 'function' ? p.stats() : null;
  var st = document.querySelector('[data-testid="status"]');
  var q = v && typeof v.getVideoPlaybackQuality === 'function' ? v.getVideoPlaybackQuality() : null;
  var b = v ? v.buffered : null;
  // Count presented frames with requestVideoFrameCallback where the engine has it:
  // WebKit resets totalVideoFrames on every seek and rate change, which the
  // player's live catch-up does every few seconds.
  if (v && !v.__presentedFrames && typeof v.requestVideoFrameCallback === 'function') {
    var counter = v.__presentedFrames = { n: 0 };
    var onFrame = function () { counter.n++; v.requestVideoFrameCallback(onFrame); };
    v.requestVideoFrameCallback(onFrame);
  }
  return {
    presented: v && v.__presentedFrames ? v.__presentedFrames.n : null,
    state: s ? s.state : null,
    statusState: st ? st.getAttribute('data-state') : null,
    proto: s ? s.proto : null,
    hasAudio: s && s.hasAudio != null ? !!s.hasAudio : null,
    paused: v ? v.paused : true,
    currentTime: v ? v.currentTime : 0,
    rawFrames: q ? q.totalVideoFrames : (v && v.webkitDecodedFrameCount) || 0,
    videoWidth: v ? v.videoWidth : 0,
    muted: v ? v.muted : false,
    playbackRate: v ? v.playbackRate : 0,
    bufferedAhead: b && b.length ? b.end(b.length - 1) - v.currentTime : 0
  };
})()`;

/** Samples one page, adding up frame counts across the engine's resets. */
export class PlaybackWatcher {
  readonly samples: PlaybackSample[] = [];
  private frames = 0;
  private lastRaw: number | null = null;
  private readonly t0 = Date.now();

  constructor(readonly page: EnginePage, readonly label: string) {}

  async sample(): Promise<PlaybackSample> {
    const s = await this.page.evaluate<Omit<PlaybackSample, 'at' | 'frames'>>(SAMPLE);
    if (this.lastRaw !== null) this.frames += s.rawFrames >= this.lastRaw ? s.rawFrames - this.lastRaw : s.rawFrames;
    this.lastRaw = s.rawFrames;
    // Either counter moving means new pictures; their sum only grows.
    const full: PlaybackSample = { ...s, at: Date.now() - this.t0, frames: this.frames + (s.presented ?? 0) };
    this.samples.push(full);
    if (this.samples.length > 400) this.samples.splice(0, 100);
    return full;
  }

  /** Wait until the page says playing and shows decoded pictures. */
  async waitPlaying(timeoutMs = 30_000): Promise<PlaybackSample> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const s = await this.sample();
      if (s.state === 'playing' && !s.paused && s.rawFrames > 0 && s.videoWidth > 0) return s;
      if (Date.now() > deadline) throw new Error(`${this.label}: not playing after ${timeoutMs} ms: ${await this.describe()}`);
      await sleep(200);
    }
  }

  /**
   * Sample every second for `seconds`; in every `windowSeconds` stretch the
   * picture (frames) and the clock (currentTime) must both have moved on.
   */
  async expectPlaysFor(seconds: number, windowSeconds = 10): Promise<void> {
    const start = Date.now();
    let windowStart = await this.sample();
    let windowEndsAt = start + windowSeconds * 1000;
    while (Date.now() - start < seconds * 1000) {
      await sleep(1000);
      const s = await this.sample();
      if (Date.now() >= windowEndsAt) {
        if (!(s.frames > windowStart.frames && s.currentTime > windowStart.currentTime)) {
          throw new Error(`${this.label}: playback froze between ${(windowStart.at / 1000).toFixed(1)} s and ` +
            `${(s.at / 1000).toFixed(1)} s (frames ${windowStart.frames} -> ${s.frames}, currentTime ` +
            `${windowStart.currentTime.toFixed(2)} -> ${s.currentTime.toFixed(2)}): ${await this.describe()}`);
        }
        windowStart = s;
        windowEndsAt = Date.now() + windowSeconds * 1000;
      }
    }
  }

  /** The last samples, page errors and console lines, for a failure message. */
  async describe(): Promise<string> {
    const [errors, lines] = await Promise.all([
      this.page.errors().catch((e: Error) => [`(could not read: ${e.message})`]),
      this.page.consoleLines().catch(() => []),
    ]);
    return JSON.stringify({ last: this.samples.slice(-6), pageErrors: errors, console: lines.slice(-8) });
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
