// The RTMPT tunnel wired to the RTMP listener: every tunnel session is an RtmpSession attached
// with protocol 'rtmpt' (same handshake, limits, access control, metrics and logs), and a timer
// closes sessions the client stopped polling.
import type { Logger } from '../log.js';
import type { RtmpServer } from '../rtmp/server.js';
import { RtmptTunnel, type TunnelLimits } from './tunnel.js';

export interface RtmptOptions extends TunnelLimits {
  /** a request body not fully received after this long gets 408 (slow trickle) */
  bodyTimeoutMs: number;
  /** the worker's mark on its session ids (empty: one process) */
  idPrefix?: string;
}

export interface RtmptService {
  tunnel: RtmptTunnel;
  bodyTimeoutMs: number;
  close(): void;
}

export function startRtmpt(rtmp: RtmpServer, options: RtmptOptions, log: Logger): RtmptService {
  const tunnel = new RtmptTunnel(
    options,
    (transport) => {
      const attached = rtmp.attach(transport, 'rtmpt');
      return attached === null ? null : { endpoint: attached.session, detach: attached.detach };
    },
    { onSessionEnded: (id, address, reason) => log.debug({ tunnel: id.slice(0, 8), address, reason }, 'rtmpt tunnel closed') },
    { idPrefix: options.idPrefix ?? '' },
  );
  const sweep = setInterval(() => tunnel.sweep(Date.now()), Math.min(1_000, options.idleTimeoutMs));
  sweep.unref();
  return {
    tunnel,
    bodyTimeoutMs: options.bodyTimeoutMs,
    close() {
      clearInterval(sweep);
      tunnel.close('server shutting down');
    },
  };
}
