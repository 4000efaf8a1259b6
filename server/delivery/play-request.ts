// What a viewer asks for over HTTP or WebSocket: `/APP/KEY.flv?query`, and how
// far behind live (`?rewind=SECONDS`). Shared by every delivery protocol.
import type { IncomingMessage } from 'node:http';
import type { SessionEndedListener } from '../events.js';
import type { Hub } from '../hub/hub.js';
import type { Logger } from '../log.js';
import { decodeStreamName } from '../names.js';

export interface PlayRequest {
  app: string;
  key: string;
  name: string;
  query: URLSearchParams;
}

/** What the viewer routes (HTTP-FLV, WS-FLV, HLS) need from the gateway. */
export interface ViewerRouteOptions {
  hub: Hub;
  log: Logger;
  /** resolves the viewer's address (proxy-aware) */
  clientAddress: (req: IncomingMessage) => string;
  /** null allows; a string refuses with that reason */
  access?: (req: PlayRequest, address: string, protocol: 'http' | 'ws' | 'hls') => Promise<string | null> | string | null;
  onEnded?: SessionEndedListener;
  /** the requests are a cluster's internal links (other workers or nodes copying a stream), not viewers */
  internal?: boolean;
}

const FLV_PATH = /^\/([^/]+)\/([^/]+)\.flv$/;

/** Parse `/APP/KEY.flv?query` from a request URL; null when it is not a stream path. */
export function parsePlayPath(url: string): PlayRequest | null {
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  const m = FLV_PATH.exec(path);
  const names = m === null ? null : decodeStreamName(m[1]!, m[2]!);
  if (names === null) return null;
  const { app, key } = names;
  return { app, key, name: `${app}/${key}`, query: new URLSearchParams(q < 0 ? '' : url.slice(q + 1)) };
}

/** `?rewind=SECONDS`: join that far behind live. null when the value is not a number of seconds. */
export function parseRewindMs(query: URLSearchParams): number | null {
  const raw = query.get('rewind');
  if (raw === null || raw === '') return 0;
  if (!/^\d{1,6}(\.\d{1,3})?$/.test(raw)) return null;
  return Math.round(Number(raw) * 1000);
}
