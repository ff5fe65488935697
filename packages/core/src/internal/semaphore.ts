/**
 * A counting semaphore: at most `limit` tasks run at once; the rest wait in FIFO order.
 * Small enough to keep @sluice/core free of runtime dependencies.
 */
export class Semaphore {
  readonly #limit: number;
  #running = 0;
  readonly #queue: Array<() => void> = [];

  constructor(limit: number) {
    this.#limit = limit;
  }

  /** Tasks running now. */
  get running(): number {
    return this.#running;
  }

  /** Runs `task` when a slot is free; the slot is released however the task ends. */
  async run<R>(task: () => Promise<R>): Promise<R> {
    if (this.#running >= this.#limit) {
      await new Promise<void>((resolve) => this.#queue.push(resolve));
    } else {
      this.#running += 1;
    }
    try {
      return await task();
    } finally {
      const next = this.#queue.shift();
      if (next === undefined) this.#running -= 1;
      else next(); // hand the slot straight to the next task
    }
  }
}
