// A rewind viewer on a worker or node that holds only a copy of the stream.
// The copy keeps no history (it starts at the pull), so this viewer gets an
// internal link of its own to the owner with `?rewind=`: the owner's rewind
// window and pacing serve it, and its tags are handed to the viewer's sink
// here. Live viewers never take this path: they share the one copy.
import http from 'node:http';
import type { RewindFeed } from '../hub/live-stream.js';
import { MediaTag, TagType } from '../hub/media-tag.js';
import type { Subscriber } from '../hub/subscriber.js';
import { classifyAudio, classifyVideo } from '../hub/track-info.js';
import { FlvDemuxer } from '../media/flv.js';
import { CLUSTER_PEER_HEADER, CLUSTER_SECRET_HEADER } from './link-auth.js';

export interface RemoteRewindOptions {
  /** the owner's internal URL of the stream (`…/APP/KEY.flv`) */
  url: string;
  secret: string;
  peer: string;
  /** an upstream silent this long is dropped */
  timeoutMs: number;
}

/** A tag from the owner with what the slow-viewer policy needs to know: keyframe, never-dropped config. */
function tagOf(type: number, timestamp: number, body: Buffer): MediaTag | null {
  if (type === TagType.Video) {
    const v = classifyVideo(body);
    const config = v.config !== undefined || v.trackConfig !== undefined;
    return new MediaTag(TagType.Video, timestamp, body, v.keyframe && !config, config);
  }
  if (type === TagType.Audio) {
    const a = classifyAudio(body);
    return new MediaTag(TagType.Audio, timestamp, body, false, a.config !== undefined || a.trackConfig !== undefined);
  }
  // Metadata and the owner's other script tags are small and never dropped.
  if (type === TagType.Script) return new MediaTag(TagType.Script, timestamp, body, false, true);
  return null;
}

export class RemoteRewind implements RewindFeed {
  readonly #sub: Subscriber;
  readonly #req: http.ClientRequest;
  #timer: NodeJS.Timeout;
  #lastData = Date.now();
  #done = false;

  constructor(sub: Subscriber, rewindMs: number, o: RemoteRewindOptions) {
    this.#sub = sub;
    const seconds = (rewindMs / 1000).toFixed(3).replace(/\.?0+$/, '');
    const req = http.get(`${o.url}?rewind=${seconds}&untouched=1`, {
      headers: { [CLUSTER_SECRET_HEADER]: o.secret, [CLUSTER_PEER_HEADER]: o.peer },
    });
    this.#req = req;
    this.#timer = setInterval(() => {
      if (Date.now() - this.#lastData > o.timeoutMs) this.#end('the owner went silent');
    }, 1_000);
    this.#timer.unref();
    req.on('response', (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        this.#end(`the owner answered ${res.statusCode}`);
        return;
      }
      const demux = new FlvDemuxer();
      res.on('data', (chunk: Buffer) => {
        this.#lastData = Date.now();
        let tags;
        try {
          tags = demux.push(chunk);
        } catch (err) {
          this.#end(`bad FLV from the owner: ${(err as Error).message}`);
          return;
        }
        if (!sub.started && demux.header !== null) {
          sub.started = true;
          sub.sink.begin(demux.header.hasAudio, demux.header.hasVideo);
        }
        for (const t of tags) {
          const tag = tagOf(t.type, t.timestamp, t.payload);
          if (tag === null) continue;
          sub.deliver(tag);
          if (sub.closed) return;
        }
      });
      res.on('end', () => this.#end('the owner ended the stream'));
      res.on('close', () => this.#end('the owner closed the link'));
    });
    req.on('error', (err) => this.#end(err.message));
  }

  /** The link ended first: so does the viewer (it reconnects, as after any end of the stream). */
  #end(why: string): void {
    if (this.#done) return;
    this.stop();
    this.#sub.close('unpublished', `rewind link to the owner ended: ${why}`);
  }

  /** The viewer left (or the copy ended): close the link. */
  stop(): void {
    if (this.#done) return;
    this.#done = true;
    clearInterval(this.#timer);
    this.#req.destroy();
  }
}
