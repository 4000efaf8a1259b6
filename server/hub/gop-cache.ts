// The tags since the last video keyframe, so a new viewer starts on a keyframe
// at once instead of waiting for the next one. Bounded in bytes and duration:
// a stream whose GOP outgrows either is simply not cached until the next keyframe.
import type { MediaTag } from './media-tag.js';

export interface GopCacheLimits {
  maxBytes: number;
  maxDurationMs: number;
}

export class GopCache {
  readonly limits: GopCacheLimits;
  #tags: MediaTag[] = [];
  #bytes = 0;
  /** false after an overflow until the next keyframe */
  #open = false;

  constructor(limits: GopCacheLimits) {
    this.limits = limits;
  }

  /** Offer a live audio/video coded frame (not metadata or sequence headers). */
  add(tag: MediaTag): void {
    if (tag.keyframe) {
      this.clear();
      this.#open = true;
    }
    if (!this.#open) return;
    const first = this.#tags[0];
    if (
      this.#bytes + tag.flv.length > this.limits.maxBytes ||
      (first !== undefined && tag.timestamp - first.timestamp > this.limits.maxDurationMs)
    ) {
      this.clear();
      return;
    }
    this.#tags.push(tag);
    this.#bytes += tag.flv.length;
  }

  /** Drop everything (e.g. a new sequence header makes cached frames undecodable). */
  clear(): void {
    this.#tags = [];
    this.#bytes = 0;
    this.#open = false;
  }

  get tags(): readonly MediaTag[] {
    return this.#tags;
  }

  get bytes(): number {
    return this.#bytes;
  }

  /** Timestamp of the cached keyframe, or null when nothing is cached. */
  get startTimestamp(): number | null {
    return this.#tags[0]?.timestamp ?? null;
  }
}
