/**
 * Every timer the coordinator starts goes through one {@link TimerSet}, so `close()` can clear
 * whatever is still pending. Timers use the injected `Timers` or the global functions looked
 * up at each use, and are unref'd where the runtime supports it (a coordinator never keeps a
 * process alive by itself).
 */

import type { Timers } from '@sluice/core';

/** The largest delay `setTimeout` honours. */
const MAX_TIMER_MS = 2_147_483_647;

/** A set of live timers that can all be cleared at once. */
export class TimerSet {
  readonly #timers: Timers | undefined;
  readonly #live = new Set<unknown>();

  constructor(timers: Timers | undefined) {
    this.#timers = timers;
  }

  /** Calls `fn` after `delayMs` (clamped to [0, 2^31-1]); returns a handle for {@link clear}. */
  start(fn: () => void, delayMs: number): unknown {
    const delay = delayMs > 0 ? Math.min(delayMs, MAX_TIMER_MS) : 0;
    let handle: unknown;
    const fire = (): void => {
      this.#live.delete(handle);
      fn();
    };
    const timers = this.#timers;
    handle =
      timers === undefined ? globalThis.setTimeout(fire, delay) : timers.setTimeout(fire, delay);
    unref(handle);
    this.#live.add(handle);
    return handle;
  }

  /** Cancels a timer started here; a handle already fired or cleared is ignored. */
  clear(handle: unknown): void {
    if (handle === undefined || !this.#live.delete(handle)) return;
    const timers = this.#timers;
    if (timers === undefined) globalThis.clearTimeout(handle as ReturnType<typeof setTimeout>);
    else timers.clearTimeout(handle);
  }

  /** Timers still pending. */
  get size(): number {
    return this.#live.size;
  }

  /** Cancels every pending timer. */
  clearAll(): void {
    for (const handle of [...this.#live]) this.clear(handle);
  }
}

function unref(handle: unknown): void {
  if (typeof handle !== 'object' || handle === null) return;
  try {
    const method = (handle as { unref?: unknown }).unref;
    if (typeof method === 'function') method.call(handle);
  } catch {
    // a handle that cannot be unref'd still fires
  }
}
