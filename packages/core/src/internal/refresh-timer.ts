/**
 * The `'timer'` schedule's one timer per provider cell: set for the due point after each
 * mint (or for the retry after a failure), never sooner than {@link TIMER_MIN_DELAY_MS}, and
 * unref'd so it never keeps a process alive. What happens when it fires is the cell's
 * business (`cell-mint.ts`, `onTimer`).
 */

import type { Timers } from '../contracts/timers.js';
import { startTimer, stopTimer, type TimerHandle } from './timers.js';

/**
 * The least delay of the `'timer'` schedule, in milliseconds: a refresh timer never fires
 * sooner than this after it was set, so short-lived credentials (or `minRefreshIntervalMs:
 * 0`) cannot make an idle provider mint in a tight loop, and a refused timer never spins.
 */
export const TIMER_MIN_DELAY_MS = 1_000;

/** @internal */
export class RefreshTimer {
  readonly #enabled: boolean;
  readonly #timers: Timers | undefined;
  readonly #fire: () => void;
  #handle: TimerHandle | undefined;
  #closed = false;

  /**
   * @param enabled - whether the schedule is `'timer'`; otherwise `arm` does nothing.
   * @param fire - called when the timer fires (after the handle is cleared).
   */
  constructor(enabled: boolean, timers: Timers | undefined, fire: () => void) {
    this.#enabled = enabled;
    this.#timers = timers;
    this.#fire = fire;
  }

  /** Wakes the cell at `at` (epoch ms), replacing any timer set before; `Infinity`: never. */
  arm(at: number, now: number): void {
    if (!this.#enabled || this.#closed) return;
    stopTimer(this.#timers, this.#handle);
    this.#handle = undefined;
    if (!Number.isFinite(at)) return;
    this.#handle = startTimer(
      this.#timers,
      () => {
        this.#handle = undefined;
        this.#fire();
      },
      Math.max(at - now, TIMER_MIN_DELAY_MS),
    );
  }

  /** Clears the timer for good: `arm` does nothing from now on. */
  close(): void {
    this.#closed = true;
    stopTimer(this.#timers, this.#handle);
    this.#handle = undefined;
  }
}
