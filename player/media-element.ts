// Reading the video element's buffer and a monotonic clock.

/** The end of the last buffered range (0 when nothing is buffered). */
export function bufferedEnd(video: HTMLMediaElement): number {
  const b = video.buffered;
  return b && b.length ? b.end(b.length - 1) : 0;
}

/** Seconds buffered ahead of the playhead. */
export function bufferedAhead(video: HTMLMediaElement): number {
  const b = video.buffered;
  if (!b || !b.length) return 0;
  return Math.max(0, b.end(b.length - 1) - video.currentTime);
}

/**
 * Seek to `margin` seconds before the end of the buffer when the playhead is further behind (or
 * before the buffer); true if it seeked.
 */
export function seekToLiveEdge(video: HTMLMediaElement, margin: number): boolean {
  const b = video.buffered;
  if (!b || !b.length) return false;
  const end = b.end(b.length - 1);
  const start = b.start(b.length - 1);
  if (end - video.currentTime <= margin + 0.15 && video.currentTime >= start) return false;
  try {
    video.currentTime = Math.max(start, end - margin);
    return true;
  } catch {
    return false; // seeking can throw while the media source is closing; the next call tries again
  }
}

/** Milliseconds from a monotonic clock where there is one. */
export function now(): number {
  return typeof performance !== 'undefined' && typeof performance.now === 'function' ? performance.now() : Date.now();
}

export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
