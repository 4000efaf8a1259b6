// Who owns which stream, across the workers of one machine or the nodes of a
// cluster. One interface, two backends: Redis between nodes, the primary
// process (over cluster IPC) between workers. Claims are atomic in the
// backend; lookups read a local snapshot so a viewer's request is answered
// without waiting on the network.

export type ClaimResult = { ok: true; degraded?: string } | { ok: false; owner: string };

/** Where a stream this process does not hold can be pulled from. */
export interface StreamLocation {
  /** base URL of the owner's internal link; the pull asks `${url}/APP/KEY.flv` */
  url: string;
  /** the owner is another worker of this machine (not another node) */
  sameNode: boolean;
}

export interface RegistryHealth {
  backend: 'redis' | 'workers';
  /** the backend answers; false while Redis (or the primary) is unreachable */
  connected: boolean;
  /** since when it has been unreachable (ISO time), when it is */
  downSince?: string;
  lastError?: string;
}

export interface ClusterNodeView {
  id: string;
  url: string;
  streams: string[];
  pulls: string[];
  /** viewers it serves (internal links to other workers or nodes are not viewers) */
  viewers: number;
  /** ms since this node last said it is alive */
  seenMsAgo: number;
  /** workers: the worker's process id */
  pid?: number;
}

export interface ClusterView {
  self: string;
  health: RegistryHealth;
  nodes: ClusterNodeView[];
  streams: { name: string; owner: string }[];
}

export interface StreamRegistry {
  readonly health: RegistryHealth;
  /** Take `name` for this process, atomically; `takeover` overwrites another owner (who then loses it). */
  claim(name: string, takeover: boolean): Promise<ClaimResult>;
  /**
   * Keep this process's claims alive and say which streams it publishes and pulls and how many
   * viewers it serves (heartbeat). Resolves to the names another owner has taken over.
   */
  refresh(owned: readonly string[], pulls: readonly string[], viewers: number): Promise<string[]>;
  release(name: string): Promise<void>;
  /** From the last snapshot: who else holds `name`. */
  locate(name: string): StreamLocation | null;
  /** Ask the backend now (an upstream ended: the publisher may have moved). */
  relocate(name: string): Promise<StreamLocation | null>;
  view(): Promise<ClusterView>;
  close(): Promise<void>;
}
