// Session lifecycle events that outlive the protocol that produced them:
// the on-done webhook and the metrics listen; the delivery layers report.
export interface SessionEnded {
  kind: 'publish' | 'play';
  app: string;
  key: string;
  protocol: 'rtmp' | 'rtmpt' | 'http' | 'ws' | 'hls';
  address: string;
  reason: string;
  bytes: number;
}

export type SessionEndedListener = (e: SessionEnded) => void;
