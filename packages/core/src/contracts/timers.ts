/**
 * The timer functions Sluice schedules every wait with, as callers may inject them, and the
 * largest delay a timer honours. Shared by the policy options and `internal/timers.ts`.
 */

/**
 * The timer functions Sluice schedules every wait with (mint timeouts, the `'timer'`
 * schedule, keyed sweeps and idle expiry, poll waits). Inject them to drive Sluice from
 * another scheduler: Effect's `Clock` (see `@sluice/effect`), a test scheduler, a runtime
 * without global timers. A handle may have `ref()` / `unref()` (as Node's do); Sluice calls
 * them when present, so a background timer never keeps the process alive while a timer a
 * caller waits on does.
 */
export interface Timers {
  /** Calls `callback` once after `delayMs` milliseconds; returns a handle for `clearTimeout`. */
  setTimeout(callback: () => void, delayMs: number): unknown;
  /** Cancels a timer; called at most once per handle, never with a handle already fired. */
  clearTimeout(handle: unknown): void;
}

/** The largest delay `setTimeout` honours; a longer one fires at once in most runtimes. @internal */
export const MAX_TIMER_MS = 2_147_483_647;
