// What a viewer gets before its first frame: the metadata, then every sequence header (the plain
// ones and one per multitrack track), stamped with the viewer's start time. Built once per start
// time and shared by every viewer that joins there, until a header changes.
import type { MediaTag } from './media-tag.js';

export class JoinSequence {
  /** multitrack sequence headers, one per track ("video1", "audio0", ...) */
  readonly #tracks = new Map<string, MediaTag>();
  #tags: MediaTag[] | null = null;
  #at = 0;

  /** A header changed (or the stream restarted): the next join builds the sequence again. */
  invalidate(): void {
    this.#tags = null;
  }

  /** Keep a multitrack sequence header; true when it replaces a different one of a video track. */
  setTrack(track: string, tag: MediaTag): boolean {
    const old = this.#tracks.get(track);
    this.#tracks.set(track, tag);
    this.#tags = null;
    return track.startsWith('video') && old !== undefined && !old.body.equals(tag.body);
  }

  tagsAt(at: number, metadata: MediaTag | null, video: MediaTag | null, audio: MediaTag | null): MediaTag[] {
    if (this.#tags !== null && this.#at === at) return this.#tags;
    // Metadata stays at 0: players (ffmpeg's FLV reader among them) treat onMetaData at a later
    // time as a data track of its own.
    const tags: MediaTag[] = metadata === null ? [] : [metadata];
    for (const tag of [video, audio, ...this.#tracks.values()]) {
      if (tag !== null) tags.push(tag.timestamp === at ? tag : tag.withTimestamp(at));
    }
    this.#tags = tags;
    this.#at = at;
    return tags;
  }
}
