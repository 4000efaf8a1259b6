// A check run only if its cause lasts: started by an event, cancelled by the one that undoes it, so
// a condition that comes and goes faster than the delay never shows (a 'waiting' of every
// live-edge seek, for one).
export class DelayedCheck {
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(readonly delayMs: number, readonly check: () => void) {}

  /** (Re)starts the delay; the check runs once it passes without cancel(). */
  start(): void {
    this.cancel();
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.check();
    }, this.delayMs);
  }

  cancel(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
