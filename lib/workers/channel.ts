// Keeping the process alive exactly while a worker has work: a worker thread and its MessagePort
// are unref'd when idle (an idle worker must not stop a script from exiting) and ref'd while any
// request is in flight or the worker is being closed (a script that awaits the answer, with nothing
// else on its event loop, must not exit with the promise unsettled: exit code 13).

/** Anything with ref()/unref(): a Worker, a MessagePort, a timer. */
export interface Refable {
  ref(): void;
  unref(): void;
}

/**
 * A count of reasons to keep some handles alive: ref'd while the count is above zero, unref'd at
 * zero. Each hold() must be matched by one release(); hold without release (closing) keeps them
 * ref'd for good.
 */
export class KeepAlive {
  readonly #handles: readonly Refable[];
  #holds = 0;

  constructor(handles: readonly Refable[]) {
    this.#handles = handles;
    for (const h of handles) h.unref();
  }

  /** Reasons held now (requests in flight, plus one while closing). */
  get holds(): number {
    return this.#holds;
  }

  /** One more reason to stay alive. */
  hold(): void {
    if (this.#holds++ === 0) for (const h of this.#handles) h.ref();
  }

  /** One reason fewer; at zero the handles no longer keep the process alive. */
  release(): void {
    if (this.#holds <= 0) throw new Error('KeepAlive: release() without hold()');
    if (--this.#holds === 0) for (const h of this.#handles) h.unref();
  }
}

/** Requests sent to a worker and not yet answered, each a promise settled by its id. */
export class PendingRequests<T> {
  readonly #pending = new Map<number, { resolve(v: T): void; reject(e: Error): void }>();
  readonly #alive: KeepAlive;
  readonly #whenIdle: (() => void)[] = [];
  #nextId = 1;

  /** `alive` is held once per request in flight. */
  constructor(alive: KeepAlive) {
    this.#alive = alive;
  }

  /** Requests in flight. */
  get size(): number {
    return this.#pending.size;
  }

  /** A new request: its id (to send) and the promise its answer settles. */
  open(): { id: number; answer: Promise<T> } {
    const id = this.#nextId++;
    const answer = new Promise<T>((resolve, reject) => this.#pending.set(id, { resolve, reject }));
    this.#alive.hold();
    return { id, answer };
  }

  /** Settle request `id` (ignored when it is no longer pending). */
  settle(id: number, result: { value: T } | { error: Error }): void {
    const p = this.#pending.get(id);
    if (!p) return;
    this.#pending.delete(id);
    if ('error' in result) p.reject(result.error);
    else p.resolve(result.value);
    this.#alive.release();
    if (this.#pending.size === 0) for (const f of this.#whenIdle.splice(0)) f();
  }

  /** Reject every request in flight with `e`. */
  rejectAll(e: Error): void {
    for (const id of [...this.#pending.keys()]) this.settle(id, { error: e });
  }

  /** Resolves when no request is in flight. */
  idle(): Promise<void> {
    if (this.#pending.size === 0) return Promise.resolve();
    return new Promise<void>((res) => this.#whenIdle.push(res));
  }
}
