// A worker of `--workers N` lives only as long as its primary. When the IPC link
// to the primary closes (it exited, crashed or was killed), nothing restarts or
// coordinates this worker any more and the public ports, which the primary
// holds, take no new connections: the worker stops as on SIGTERM, so its viewers
// get a clean end and its recordings are finished, within the caller's bound.
import cluster from 'node:cluster';

/** In a cluster worker: call `stop` once the primary has gone. No-op in any other process. */
export function stopWhenPrimaryGoes(stop: () => void): void {
  const worker = cluster.worker;
  if (worker === undefined) return;
  worker.once('disconnect', () => {
    // Node exits a worker at once on a disconnect it did not expect unless exitedAfterDisconnect is
    // true (documented on Worker.process); this exit is deliberate, and the caller bounds it.
    worker.exitedAfterDisconnect = true;
    stop();
  });
}
