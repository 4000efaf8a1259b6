// Shared by the HLS end-to-end tests: a hub sink that records the FLV tags a stream carries (to
// byte-check the fMP4 against), and small playlist readers.
import type { MediaTag } from '../../server/hub/media-tag.js';
import type { Sink } from '../../server/hub/subscriber.js';
import type { SegmenterOptions } from '../../server/hls/segmenter.js';
import { defaultOptions } from '../../server/options.js';

export class TagRecorder implements Sink {
  // 'record' keeps it out of the viewer counts, like a recording.
  readonly protocol = 'record' as const;
  readonly bufferedBytes = 0;
  readonly tags: MediaTag[] = [];
  begin(): void {}
  write(tag: MediaTag): void {
    if (this.tags.length < 50_000) this.tags.push(tag);
  }
  end(): void {}
}

export interface PlaylistPart {
  msn: number;
  index: number;
  uri: string;
  duration: number;
  independent: boolean;
}

export interface ParsedPlaylist {
  lines: string[];
  tags: Map<string, string[]>;
  epoch: string;
  mediaSequence: number;
  parts: PlaylistPart[];
  segments: { msn: number; uri: string; duration: number }[];
  hint: { msn: number; index: number; uri: string } | null;
}

export function attrs(value: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of value.matchAll(/([A-Z0-9-]+)=("[^"]*"|[^,]*)/g)) out[m[1]!] = m[2]!.replace(/^"|"$/g, '');
  return out;
}

export function parsePlaylist(text: string): ParsedPlaylist {
  const lines = text.split('\n').filter((l) => l !== '');
  const tags = new Map<string, string[]>();
  const parts: PlaylistPart[] = [];
  const segments: ParsedPlaylist['segments'] = [];
  let hint: ParsedPlaylist['hint'] = null;
  let pendingInf: number | null = null;
  for (const line of lines) {
    if (line.startsWith('#')) {
      const colon = line.indexOf(':');
      const name = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + 1);
      tags.set(name, [...(tags.get(name) ?? []), value]);
      if (name === '#EXT-X-PART') {
        const a = attrs(value);
        const m = /part(\d+)\.(\d+)\.m4s/.exec(a['URI']!)!;
        parts.push({ msn: Number(m[1]), index: Number(m[2]), uri: a['URI']!, duration: Number(a['DURATION']), independent: a['INDEPENDENT'] === 'YES' });
      } else if (name === '#EXTINF') pendingInf = Number(value.replace(/,.*$/, ''));
      else if (name === '#EXT-X-PRELOAD-HINT') {
        const a = attrs(value);
        const m = /part(\d+)\.(\d+)\.m4s/.exec(a['URI']!)!;
        hint = { msn: Number(m[1]), index: Number(m[2]), uri: a['URI']! };
      }
    } else if (pendingInf !== null) {
      segments.push({ msn: Number(/seg(\d+)\.m4s/.exec(line)![1]), uri: line, duration: pendingInf });
      pendingInf = null;
    }
  }
  const map = attrs(tags.get('#EXT-X-MAP')?.[0] ?? '');
  return {
    lines,
    tags,
    epoch: /^([0-9a-f]{8})\//.exec(map['URI'] ?? '')?.[1] ?? '',
    mediaSequence: Number(tags.get('#EXT-X-MEDIA-SEQUENCE')?.[0]),
    parts,
    segments,
    hint,
  };
}

/** The segmenter options a default config gives, with a test's own changes. */
export function segmenterOptions(changes: Partial<SegmenterOptions> = {}): SegmenterOptions {
  return { ...defaultOptions().hls.segmenter, ...changes };
}
