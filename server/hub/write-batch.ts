// Write batching. While one publisher read is processed, every viewer socket
// written to is corked, and all are uncorked at the end, so each viewer gets
// one writev per read instead of one write per tag. With a merge window the
// uncork waits that many milliseconds, trading latency for fewer syscalls.
// One instance per gateway: two gateways in a process batch independently.

/** What a sink must offer to take part: Node's cork/uncork on its socket. */
export interface Corkable {
  cork(): void;
  uncork(): void;
}

export interface WriteBatchOptions {
  /** hold corked viewer writes this long after a publisher read (0: flush at its end) */
  mergeMs: number;
  /**
   * Batches that carry only audio wait up to this long for the next video
   * batch and go out with it (0: off). Audio is most writes but little data,
   * so this cuts syscalls per viewer by more than half without delaying video.
   */
  audioHoldMs: number;
}

export class WriteBatch {
  readonly options: WriteBatchOptions;
  #depth = 0;
  /** a video tag (or a config tag) was written in the batch being run */
  #sawVideo = false;
  #timer: NodeJS.Timeout | null = null;
  #corked: Corkable[] = [];
  #id = 0;

  constructor(options: WriteBatchOptions) {
    this.options = options;
  }

  /** Changes whenever a batch is flushed, so subscribers know to enlist again. */
  get id(): number {
    return this.#id;
  }

  /** Inside a publisher read. Writes outside one (a new viewer's join burst) go out at once. */
  get batching(): boolean {
    return this.#depth > 0;
  }

  /** Called by a subscriber writing a video or config tag inside a batch. */
  noteVideo(): void {
    this.#sawVideo = true;
  }

  /** Called once per sink per batch by the subscriber that first writes to it. */
  enlist(sink: Corkable): void {
    sink.cork();
    this.#corked.push(sink);
  }

  /** Run fn (which may fan tags out to many viewers) as one batch. */
  run(fn: () => void): void {
    this.#depth++;
    try {
      fn();
    } finally {
      this.#depth--;
      if (this.#depth === 0) this.#ended();
    }
  }

  #ended(): void {
    const video = this.#sawVideo;
    this.#sawVideo = false;
    if (this.#corked.length === 0) return;
    const { mergeMs, audioHoldMs } = this.options;
    if (mergeMs > 0) {
      this.#timer ??= setTimeout(this.#flush, mergeMs);
    } else if (!video && audioHoldMs > 0) {
      this.#timer ??= setTimeout(this.#flush, audioHoldMs);
    } else {
      this.#flush();
    }
  }

  // An arrow field, so the timer takes it without a new closure per batch.
  #flush = (): void => {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    const corked = this.#corked;
    // A sink uncorked here may be closed already; uncork on a closed socket is harmless.
    for (let i = 0; i < corked.length; i++) corked[i]!.uncork();
    corked.length = 0;
    this.#id++;
  };
}
