/**
 * Timers through the global `setTimeout`/`clearTimeout` looked up at the moment they are
 * used, never captured at import, so a user's fake timers control every wait Sluice makes.
 */

/** An opaque timer handle. */
export type TimerHandle = unknown;

/** Schedules `fn` after `delayMs`; unref'd where the runtime supports it. */
export function startTimer(fn: () => void, delayMs: number, unref = true): TimerHandle {
  const handle = globalThis.setTimeout(fn, Math.max(0, delayMs));
  if (unref) (handle as { unref?: () => void } | null)?.unref?.();
  return handle;
}

/** Cancels a timer started with {@link startTimer}; `undefined` is ignored. */
export function stopTimer(handle: TimerHandle | undefined): void {
  if (handle !== undefined) globalThis.clearTimeout(handle);
}
