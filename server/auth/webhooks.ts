// Webhooks: the operator's service is asked before media flows (on-publish,
// on-play) and told when sessions end (on-done). A non-2xx answer, a timeout
// or an unreachable hook refuses: failing closed is the safe default.
import type { Logger } from '../log.js';

export interface HookEvent {
  action: 'publish' | 'play' | 'done';
  app: string;
  key: string;
  stream: string;
  clientIp: string;
  protocol: string;
  query: Record<string, string>;
  /** for done: what ended (publish or play) and why */
  ended?: 'publish' | 'play';
  reason?: string;
  bytes?: number;
}

export async function callHook(url: string, event: HookEvent, timeoutMs: number): Promise<string | null> {
  const ctrl = new AbortController();
  const timer = setTimeout(() => ctrl.abort(), timeoutMs);
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(event),
      signal: ctrl.signal,
      // A 3xx is a non-2xx answer and refuses: followed, a hook redirecting (e.g. an auth proxy
      // sending to a login page that answers 200) would allow the publish or play.
      redirect: 'manual',
    });
    // The body is not needed; drain it so the connection can be reused.
    await res.arrayBuffer().catch(() => undefined);
    return res.ok ? null : `webhook answered ${res.status}`;
  } catch (err) {
    return ctrl.signal.aborted ? `webhook timed out after ${timeoutMs} ms` : `webhook failed: ${(err as Error).message}`;
  } finally {
    clearTimeout(timer);
  }
}

/** Fire-and-forget notification; failures are logged, never retried forever. */
export function notifyHook(url: string, event: HookEvent, timeoutMs: number, log: Logger): void {
  callHook(url, event, timeoutMs).then(
    (err) => {
      if (err !== null) log.warn({ hook: 'on-done', stream: event.stream, err }, 'on-done webhook failed');
    },
    () => undefined,
  );
}
