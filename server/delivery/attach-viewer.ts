// One way in for an HTTP-FLV or WS-FLV viewer: access check, rewind, subscribe,
// the join and leave log lines and the on-done report. The protocol supplies
// only how to refuse, its sink, and when its connection closes.
import { wantsUntouched } from '../hub/browser-feed.js';
import type { Sink, Subscriber } from '../hub/subscriber.js';
import { parseRewindMs, type PlayRequest, type ViewerRouteOptions } from './play-request.js';

/** Why a viewer is turned away; each protocol maps it to its own answer (HTTP status, WS close code). */
export type Refusal = 'forbidden' | 'bad-request' | 'not-found' | 'unavailable';

export interface ViewerChannel {
  readonly protocol: 'http' | 'ws';
  /** false once the viewer has gone (a WebSocket may close while the access check runs) */
  readonly open: boolean;
  refuse(refusal: Refusal, message: string): void;
  /** Called after the checks, before subscribing; false when it has answered by itself (HTTP HEAD, not live). */
  beforeSubscribe?(): boolean;
  /** the protocol's sink; `browser` false for `?untouched=1` */
  sink(browser: boolean): Sink;
  /** subscribed: e.g. send the response headers at once */
  accepted?(): void;
  onClose(listener: () => void): void;
}

export async function attachViewer(
  opts: ViewerRouteOptions,
  play: PlayRequest,
  address: string,
  channel: ViewerChannel,
): Promise<Subscriber | null> {
  const { protocol } = channel;
  if (opts.access !== undefined) {
    const denied = await opts.access(play, address, protocol);
    if (denied !== null) {
      channel.refuse('forbidden', denied);
      return null;
    }
  }
  if (!channel.open) return null;
  const rewindMs = parseRewindMs(play.query);
  if (rewindMs === null) {
    channel.refuse('bad-request', 'rewind must be a number of seconds');
    return null;
  }
  if (channel.beforeSubscribe !== undefined && !channel.beforeSubscribe()) return null;
  // A viewer over max-viewers-per-stream is refused with the reason, never accepted and then reset.
  const r = opts.hub.subscribe(play.name, channel.sink(!wantsUntouched(play.query)), rewindMs, address);
  if (!r.ok) {
    channel.refuse(r.reason === 'not-found' ? 'not-found' : 'unavailable', r.detail);
    return null;
  }
  channel.accepted?.();
  const sub = r.subscriber;
  opts.log.info({ stream: play.name, address, protocol }, 'viewer joined');
  channel.onClose(() => {
    const reason = sub.endDetail ?? 'viewer left';
    sub.close('closed', 'viewer left');
    opts.log.info({ stream: play.name, address, protocol, bytes: sub.bytesSent, reason }, 'viewer left');
    // An internal link is not a viewer: on-done reports the real viewer on the node it reached.
    if (opts.internal !== true) opts.onEnded?.({ kind: 'play', app: play.app, key: play.key, protocol, address, reason, bytes: sub.bytesSent });
  });
  return sub;
}
