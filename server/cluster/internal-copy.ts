// A stream this process only copies from its owner (another worker or node).
// Per-stream work that must run once in the whole gateway (recording, push
// relays) skips such copies: it runs on the owner.
import type { LiveStream, PublisherInfo } from '../hub/live-stream.js';

export const CLUSTER_PULL_PREFIX = 'cluster-pull:';

export function isClusterPull(publisher: PublisherInfo | null | undefined): boolean {
  return publisher?.id.startsWith(CLUSTER_PULL_PREFIX) === true;
}

export function isClusterCopy(stream: LiveStream): boolean {
  return isClusterPull(stream.publisher);
}
