// `GET /api/time[?stream=APP/KEY]`: the gateway's wall clock, for the player's
// clock offset (NTP-style, from the round trip), and with `stream` the anchor
// that ties the stream's timeline to that clock: the newest audio/video
// message's timestamp and when the gateway received it, on the line through the
// least delayed recent message (hub/arrival-clock.ts). Together they give the
// true latency of a presented frame (docs/web-player.md). Open like
// /api/health: it tells no more than whether a named stream is live.
import type { Request, Response } from 'express';
import type { Hub } from '../hub/hub.js';

export interface TimeAnswer {
  /** the gateway's Date.now() when it answered */
  now: number;
  stream?: { name: string; timestamp: number; receivedAt: number } | null;
}

export function timeRoute(hub: Hub) {
  return (req: Request, res: Response): void => {
    const answer: TimeAnswer = { now: Date.now() };
    const name = req.query['stream'];
    if (typeof name === 'string') {
      const s = hub.get(name);
      // A cluster copy answers with its owner's receipt, mapped onto the copy's timeline.
      const anchor = s?.arrivalAnchor() ?? null;
      answer.stream = s === undefined || anchor === null ? null : { name: s.name, ...anchor };
    }
    res.setHeader('Cache-Control', 'no-store');
    res.json(answer);
  };
}
