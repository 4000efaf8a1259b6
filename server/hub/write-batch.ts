// Write batching. While one publisher read is processed, every viewer socket
// written to is corked, and all are uncorked at the end, so each viewer gets
// one writev per read instead of one write per tag. With a merge window the
// uncork waits that many milliseconds, trading latency for fewer syscalls.

/** What a sink must offer to take part: Node's cork/uncork on its socket. */
export interface Corkable {
  cork(): void;
  uncork(): void;
}

let depth = 0;
let mergeMs = 0;
let audioHoldMs = 0;
/** a video tag (or a config tag) was written in the batch being run */
let sawVideo = false;
let timer: NodeJS.Timeout | null = null;
const corked: Corkable[] = [];

/** Milliseconds to hold corked writes after a read (0: flush at the end of each read). */
export function setWriteMergeWindow(ms: number): void {
  mergeMs = ms;
}

/**
 * Batches that carry only audio wait up to this long for the next video
 * batch and go out with it. Audio is most writes but little data, so this
 * cuts syscalls per viewer by more than half without delaying video.
 */
export function setAudioHoldWindow(ms: number): void {
  audioHoldMs = ms;
}

/** Called by a subscriber writing a video or config tag inside a batch. */
export function noteVideo(): void {
  sawVideo = true;
}

/** Inside a publisher read. Writes outside one (a new viewer's join burst) go out at once. */
export function batching(): boolean {
  return depth > 0;
}

/** Called once per sink per batch by the subscriber that first writes to it. */
export function enlist(sink: Corkable): void {
  sink.cork();
  corked.push(sink);
}

function flush(): void {
  if (timer !== null) clearTimeout(timer);
  timer = null;
  // A sink uncorked here may be closed already; uncork on a closed socket is harmless.
  for (let i = 0; i < corked.length; i++) corked[i]!.uncork();
  corked.length = 0;
  batchId++;
}

/** Incremented whenever a batch is flushed, so subscribers know to enlist again. */
export let batchId = 0;

/** Run fn (which may fan tags out to many viewers) as one batch. */
export function runBatched(fn: () => void): void {
  depth++;
  try {
    fn();
  } finally {
    depth--;
    if (depth === 0) {
      const video = sawVideo;
      sawVideo = false;
      if (corked.length > 0) {
        if (mergeMs > 0) {
          timer ??= setTimeout(flush, mergeMs);
        } else if (!video && audioHoldMs > 0) {
          timer ??= setTimeout(flush, audioHoldMs);
        } else {
          flush();
        }
      }
    }
  }
}
