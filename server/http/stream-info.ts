// The JSON view of live streams that the API and the demo page share.
import type { Hub, ViewerCounts } from '../hub/hub.js';
import type { LiveStream } from '../hub/live-stream.js';

export interface StreamSummary {
  name: string;
  app: string;
  key: string;
  state: 'live' | 'idle';
  video: { codec: string; profile: string; level: number; width: number; height: number; fps: number } | null;
  audio: { codec: string; profile?: string; sampleRate: number; channels: number } | null;
  viewers: ViewerCounts;
  /** push relays forwarding the stream to other servers (not viewers) */
  relays: number;
  /** internal links: other workers or nodes of a cluster copying the stream from here (not viewers) */
  internalLinks: number;
  bitrateIn: number;
  bitrateOut: number;
  uptime: number;
  publisher: { address: string; protocol: string } | null;
  droppedTags: number;
  slowDisconnects: number;
  /** seconds a viewer can rewind (?rewind=SECONDS), 0 when rewind is off */
  rewindSeconds: number;
}

export interface ViewerSummary {
  protocol: string;
  address: string;
  /** seconds connected */
  duration: number;
  bytes: number;
  droppedTags: number;
}

export interface StreamDetail extends StreamSummary {
  clients: ViewerSummary[];
}

/** One stream with its viewers (the list endpoint leaves them out to stay small). */
export function detail(hub: Hub, s: LiveStream): StreamDetail {
  const now = Date.now();
  const clients: ViewerSummary[] = [];
  for (const set of [s.subscribers, s.waiting, s.rewinders]) {
    for (const sub of set) {
      clients.push({
        protocol: sub.sink.protocol,
        address: sub.address,
        duration: Math.round((now - sub.since) / 100) / 10,
        bytes: sub.bytesSent,
        droppedTags: sub.droppedTags,
      });
    }
  }
  return { ...summarize(hub, s), clients };
}

/** How far behind live a viewer can join (ms): this stream's window, or for a copy the owner's. */
export function rewindSpanMs(s: LiveStream): number {
  const remote = s.publisher?.rewindSpanMs;
  if (remote !== undefined) return remote();
  const r = s.rewind;
  const oldest = r === null ? undefined : r.at(r.oldest);
  return r === null || oldest === undefined ? 0 : Math.max(0, r.newestTimestamp - oldest.timestamp);
}

export function summarize(hub: Hub, s: LiveStream): StreamSummary {
  const rates = hub.rates(s);
  const metaFps = typeof s.metadataObject?.['framerate'] === 'number' ? (s.metadataObject['framerate'] as number) : 0;
  let droppedTags = s.droppedTags;
  for (const sub of s.subscribers) droppedTags += sub.droppedTags;
  return {
    name: s.name,
    app: s.app,
    key: s.key,
    state: s.state,
    video:
      s.video === null
        ? null
        : {
            codec: s.video.codec,
            profile: s.video.profile,
            level: s.video.level,
            width: s.video.width,
            height: s.video.height,
            fps: rates.fps || s.video.fps || metaFps,
          },
    audio:
      s.audio === null
        ? null
        : {
            codec: s.audio.codec,
            ...(s.audio.profile !== undefined ? { profile: s.audio.profile } : {}),
            sampleRate: s.audio.sampleRate,
            channels: s.audio.channels,
          },
    viewers: hub.viewersByProtocol(s),
    relays: hub.relayCount(s),
    internalLinks: hub.internalLinkCount(s),
    bitrateIn: rates.bitrateIn,
    bitrateOut: rates.bitrateOut,
    uptime: s.publisher !== null ? Math.round((Date.now() - s.publishedAt) / 100) / 10 : 0,
    publisher: s.publisher === null ? null : { address: s.publisher.address, protocol: s.publisher.protocol },
    droppedTags,
    slowDisconnects: s.slowDisconnects,
    rewindSeconds: Math.floor(rewindSpanMs(s) / 1000),
  };
}
