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

/** Milliseconds from a monotonic clock where there is one. */
export function now(): number {
  return typeof performance !== 'undefined' && typeof performance.now === 'function' ? performance.now() : Date.now();
}

export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
