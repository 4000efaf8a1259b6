// Typed events with any number of listeners (mediasoup's shape): an event map
// such as `{ published: [stream: LiveStream]; limit: [reason: string] }` names
// every event and its arguments, so emitters and listeners are checked by the
// compiler and a second component adds a listener instead of replacing one.

export type Listener<Args extends unknown[]> = (...args: Args) => void;

/** `Events` maps each event name to the tuple of its arguments. */
export class TypedEmitter<Events extends { [K in keyof Events]: unknown[] }> {
  // Each list is replaced, never mutated, so an emit in progress is not
  // disturbed by a listener that adds or removes listeners.
  #listeners: { [K in keyof Events]?: readonly Listener<Events[K]>[] } = {};

  on<K extends keyof Events>(event: K, listener: Listener<Events[K]>): this {
    this.#listeners[event] = [...(this.#listeners[event] ?? []), listener];
    return this;
  }

  /** Listen for the next emit only. */
  once<K extends keyof Events>(event: K, listener: Listener<Events[K]>): this {
    const wrapper: Listener<Events[K]> = (...args) => {
      this.off(event, wrapper);
      listener(...args);
    };
    return this.on(event, wrapper);
  }

  off<K extends keyof Events>(event: K, listener: Listener<Events[K]>): this {
    const list = this.#listeners[event];
    if (list === undefined) return this;
    const i = list.indexOf(listener);
    if (i >= 0) this.#listeners[event] = [...list.slice(0, i), ...list.slice(i + 1)];
    return this;
  }

  /** The listeners of an event, in the order they were added (a snapshot). */
  listeners<K extends keyof Events>(event: K): readonly Listener<Events[K]>[] {
    return this.#listeners[event] ?? [];
  }

  listenerCount(event: keyof Events): number {
    return this.#listeners[event]?.length ?? 0;
  }

  /** Call every listener in order. A listener that throws stops the emit, as with Node's EventEmitter. */
  emit<K extends keyof Events>(event: K, ...args: Events[K]): void {
    const list = this.#listeners[event];
    if (list === undefined) return;
    for (const listener of list) listener(...args);
  }

  removeAllListeners(event?: keyof Events): this {
    if (event === undefined) this.#listeners = {};
    else delete this.#listeners[event];
    return this;
  }
}
