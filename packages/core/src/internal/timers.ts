/**
 * Timers through the injected `Timers`, or the global `setTimeout`/`clearTimeout` looked up
 * at the moment they are used (never captured at import), so a user's fake timers or
 * scheduler control every wait Sluice makes.
 */

import { MAX_TIMER_MS, type Timers } from '../contracts/timers.js';

export { MAX_TIMER_MS } from '../contracts/timers.js';

/** An opaque timer handle. */
export type TimerHandle = unknown;

/**
 * Schedules `fn` after `delayMs` (clamped to [0, {@link MAX_TIMER_MS}]); unref'd where the
 * runtime supports it unless `unref` is false. A delay that is not a number runs as 0.
 */
export function startTimer(
  timers: Timers | undefined,
  fn: () => void,
  delayMs: number,
  unref = true,
): TimerHandle {
  const delay = delayMs > 0 ? Math.min(delayMs, MAX_TIMER_MS) : 0;
  const handle =
    timers === undefined ? globalThis.setTimeout(fn, delay) : timers.setTimeout(fn, delay);
  if (unref) setRef(handle, false);
  return handle;
}

/** Cancels a timer started with {@link startTimer}; `undefined` is ignored. */
export function stopTimer(timers: Timers | undefined, handle: TimerHandle | undefined): void {
  if (handle === undefined) return;
  if (timers === undefined) globalThis.clearTimeout(handle);
  else timers.clearTimeout(handle);
}

/**
 * Makes a timer keep the process alive (`ref`) or not (`unref`), where the handle supports
 * it (Node, Bun, Deno's numeric handles do not). Never throws.
 */
export function setRef(handle: TimerHandle, keepAlive: boolean): void {
  if (typeof handle !== 'object' || handle === null) return;
  try {
    const method = (handle as { ref?: unknown; unref?: unknown })[keepAlive ? 'ref' : 'unref'];
    if (typeof method === 'function') method.call(handle);
  } catch {
    // A handle that cannot be ref'd or unref'd still fires.
  }
}
