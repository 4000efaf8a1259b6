// /api/streams for a gateway of several processes (workers, or nodes): each
// process describes the streams it holds, its own viewers only; the merge
// counts each stream once, takes the publisher's figures from the owner, and
// adds up the viewers of every process. Internal links are never viewers.
import type { Hub } from '../hub/hub.js';
import { VIEWER_PROTOCOLS } from '../hub/subscriber.js';
import { detail, summarize, type StreamSummary, type ViewerSummary } from '../http/stream-info.js';

/** One process's view of one stream. */
export type LocalStreamView = StreamSummary & {
  /** the worker id (workers) or the node's URL (nodes) */
  worker: number | string;
  /** this process holds the publisher; false: a copy pulled from the owner */
  owner: boolean;
  clients?: ViewerSummary[];
};

export interface ProcessShare {
  worker: number | string;
  viewers: number;
  owner: boolean;
  /** internal links this process serves for the stream (copies elsewhere pull from it) */
  internalLinks: number;
}

export type MergedStream = StreamSummary & { workers: ProcessShare[]; clients?: ViewerSummary[] };

/** This process's streams, optionally with their viewers (the detail endpoint). */
export function localStreamViews(hub: Hub, worker: number | string, name?: string): LocalStreamView[] {
  const out: LocalStreamView[] = [];
  for (const st of hub.streams.values()) {
    if (name !== undefined && st.name !== name) continue;
    const view = name === undefined ? summarize(hub, st) : detail(hub, st);
    out.push({ ...view, worker, owner: st.publisher !== null && !st.fedByInternalLink });
  }
  return out;
}

/** One entry per stream name, sorted by name. */
export function mergeStreams(perProcess: LocalStreamView[][]): MergedStream[] {
  const byName = new Map<string, MergedStream>();
  for (const list of perProcess) {
    for (const s of list) {
      const share: ProcessShare = { worker: s.worker, viewers: s.viewers.total, owner: s.owner, internalLinks: s.internalLinks };
      const { worker: _w, owner: _o, ...summary } = s;
      const prev = byName.get(s.name);
      if (prev === undefined) {
        byName.set(s.name, {
          ...summary,
          viewers: { ...s.viewers },
          ...(s.clients !== undefined ? { clients: [...s.clients] } : {}),
          workers: [share],
        });
        continue;
      }
      prev.workers.push(share);
      for (const k of VIEWER_PROTOCOLS) prev.viewers[k] += s.viewers[k];
      prev.viewers.total += s.viewers.total;
      prev.bitrateOut += s.bitrateOut;
      prev.droppedTags += s.droppedTags;
      prev.slowDisconnects += s.slowDisconnects;
      prev.internalLinks += s.internalLinks;
      if (s.clients !== undefined) (prev.clients ??= []).push(...s.clients);
      // What the publisher sends and since when is known where it publishes.
      if (s.owner) {
        Object.assign(prev, {
          state: s.state, publisher: s.publisher, bitrateIn: s.bitrateIn, uptime: s.uptime, relays: s.relays,
          rewindSeconds: s.rewindSeconds, video: s.video, audio: s.audio,
        });
      }
    }
  }
  return [...byName.values()].sort((a, b) => a.name.localeCompare(b.name));
}
