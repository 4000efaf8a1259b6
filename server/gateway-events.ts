// The events a gateway tells its embedder, as plain data: who published or
// stopped publishing which stream, and which viewer started or stopped
// watching it. Built from the hub's events; recordings and a cluster's
// internal links are not viewers here.
import type { Hub } from './hub/hub.js';
import type { LiveStream, PublisherInfo } from './hub/live-stream.js';
import type { EndReason, Protocol } from './hub/subscriber.js';
import { TypedEmitter } from './typed-emitter.js';

export interface StreamRef {
  app: string;
  key: string;
  /** `APP/KEY` */
  name: string;
}

export interface PublishEvent extends StreamRef {
  publisher: { id: string; address: string; protocol: PublisherInfo['protocol'] };
}

export interface PlayEvent extends StreamRef {
  protocol: Exclude<Protocol, 'record' | 'internal'>;
  /** the viewer's address (proxy-aware for HTTP and WS) */
  address: string;
}

export interface StopEvent extends PlayEvent {
  reason: EndReason;
  detail: string;
  /** bytes sent to this viewer */
  bytes: number;
}

export interface GatewayEvents {
  publish: [event: PublishEvent];
  unpublish: [event: PublishEvent];
  play: [event: PlayEvent];
  stop: [event: StopEvent];
}

const ref = (s: LiveStream): StreamRef => ({ app: s.app, key: s.key, name: s.name });
const publishEvent = (s: LiveStream, p: PublisherInfo): PublishEvent => ({
  ...ref(s),
  publisher: { id: p.id, address: p.address, protocol: p.protocol },
});

/** An emitter fed by the hub's events. Payloads are built only when someone listens. */
export function gatewayEventsOf(hub: Hub): TypedEmitter<GatewayEvents> {
  const events = new TypedEmitter<GatewayEvents>();
  hub.events.on('published', (s) => {
    if (s.publisher !== null && events.listenerCount('publish') > 0) events.emit('publish', publishEvent(s, s.publisher));
  });
  hub.events.on('unpublished', (s, p) => {
    if (events.listenerCount('unpublish') > 0) events.emit('unpublish', publishEvent(s, p));
  });
  hub.events.on('play', (v) => {
    if (v.protocol === 'record' || v.protocol === 'internal' || events.listenerCount('play') === 0) return;
    events.emit('play', { ...ref(v.stream), protocol: v.protocol, address: v.address });
  });
  hub.events.on('stop', (v) => {
    if (v.protocol === 'record' || v.protocol === 'internal' || events.listenerCount('stop') === 0) return;
    events.emit('stop', { ...ref(v.stream), protocol: v.protocol, address: v.address, reason: v.reason, detail: v.detail, bytes: v.bytes });
  });
  return events;
}
