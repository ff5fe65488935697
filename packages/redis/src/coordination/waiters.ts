/**
 * Followers waiting for another instance's mint. A wait ends on the first of: a change
 * notification for its credential, a resync (reconnect), its poll timer, the coordinator's
 * close, or the caller's signal (which rejects with `signal.reason`). Every listener and timer
 * is removed when the wait ends.
 */

import type { TimerSet } from './timer-set.js';

/** How a wait ended (an abort rejects instead). */
export type WakeReason = 'notification' | 'poll' | 'lease' | 'resync' | 'closed';

type Waker = (reason: WakeReason) => void;

/** The waiting followers of one coordinator, by credential reference. */
export class Waiters {
  readonly #byRef = new Map<string, Set<Waker>>();
  readonly #timers: TimerSet;
  #closed = false;

  constructor(timers: TimerSet) {
    this.#timers = timers;
  }

  /** Followers waiting now. */
  get size(): number {
    let total = 0;
    for (const set of this.#byRef.values()) total += set.size;
    return total;
  }

  /**
   * Waits for a change of `ref` or `pollMs` milliseconds, whichever comes first; the timer
   * wakes with `timerReason` (`poll`, or `lease` when it was set for the lease's lapse).
   */
  wait(
    ref: string,
    pollMs: number,
    signal: AbortSignal,
    timerReason: 'poll' | 'lease' = 'poll',
  ): Promise<WakeReason> {
    if (this.#closed) return Promise.resolve('closed');
    if (signal.aborted) return Promise.reject(signal.reason);
    return new Promise<WakeReason>((resolve, reject) => {
      let set = this.#byRef.get(ref);
      if (set === undefined) {
        set = new Set();
        this.#byRef.set(ref, set);
      }
      const wakers = set;
      const end = (): void => {
        this.#timers.clear(timer);
        signal.removeEventListener('abort', onAbort);
        wakers.delete(waker);
        if (wakers.size === 0 && this.#byRef.get(ref) === wakers) this.#byRef.delete(ref);
      };
      const waker: Waker = (reason) => {
        end();
        resolve(reason);
      };
      const onAbort = (): void => {
        end();
        reject(signal.reason);
      };
      const timer = this.#timers.start(() => waker(timerReason), pollMs);
      signal.addEventListener('abort', onAbort, { once: true });
      wakers.add(waker);
    });
  }

  /** Wakes the followers of `ref`. */
  notify(ref: string): void {
    const set = this.#byRef.get(ref);
    if (set === undefined) return;
    for (const waker of [...set]) waker('notification');
  }

  /** Wakes every follower to re-read (notifications may have been lost). */
  resync(): void {
    this.#wakeAll('resync');
  }

  /** Wakes every follower with `closed`; later waits resolve `closed` at once. */
  close(): void {
    this.#closed = true;
    this.#wakeAll('closed');
  }

  #wakeAll(reason: WakeReason): void {
    for (const set of [...this.#byRef.values()]) for (const waker of [...set]) waker(reason);
  }
}
