// What an RTMP session needs from the outside: a transport to write to, the
// hub, an access policy and listeners for metrics and webhooks. The listener
// (server.ts) provides these; tests provide fakes.
import type { AmfLimits } from '../amf/types.js';
import type { SessionEndedListener } from '../events.js';
import type { Hub } from '../hub/hub.js';
import type { Logger } from '../log.js';

export interface Transport {
  readonly remoteAddress: string;
  /** bytes written but not yet handed to the kernel */
  readonly bufferedBytes: number;
  write(buf: Buffer): void;
  cork?(): void;
  uncork?(): void;
  /** close the connection; the session has already logged why */
  close(): void;
}

export type AccessAction = 'publish' | 'play';
export interface AccessRequest {
  action: AccessAction;
  app: string;
  key: string;
  query: URLSearchParams;
  address: string;
  protocol: string;
}
/** Decides whether a publish or play may go ahead; `null` allows, a string refuses with that reason. */
export type AccessCheck = (req: AccessRequest) => Promise<string | null> | string | null;

export interface SessionOptions {
  hub: Hub;
  log: Logger;
  access?: AccessCheck;
  onEnded?: SessionEndedListener;
  /** AMF decoding bounds for commands and data messages */
  amfLimits?: AmfLimits;
  /** told when a limit refuses something (for metrics) */
  onLimit?: (reason: string) => void;
  /** told the error code when bad input closes the session (for metrics) */
  onProtocolError?: (code: string) => void;
  /** the window we ask the peer to acknowledge (default WINDOW_ACK_SIZE) */
  windowAckSize?: number;
  /** largest message accepted (default: the chunk reader's) */
  maxMessageBytes?: number;
  /**
   * How the peer reached us (default 'rtmp'): RTMP over TLS is 'rtmps' for the API's publisher,
   * and the HTTP tunnel is 'rtmpt' everywhere (access checks, metrics, webhooks, logs).
   */
  protocol?: 'rtmp' | 'rtmps' | 'rtmpt';
  /** answer RTMPE handshakes (default true) */
  rtmpe?: boolean;
}

/** The acknowledgement window asked of peers: what common servers ask, so encoders behave as they do there. */
export const WINDOW_ACK_SIZE = 2_500_000;

/** A name or URL as logged: without its query, which may carry a signature. */
export function withoutQuery(s: string): string {
  const q = s.indexOf('?');
  return q < 0 ? s : `${s.slice(0, q)}?…`;
}
