/** An abortable sleep through the injected or global timers, looked up at call time. */

import type { Timers } from '../contracts/timers.js';
import { startTimer, stopTimer, type TimerHandle } from './timers.js';

/**
 * Sleeps `delayMs`; rejects with `signal.reason` on abort (and removes its listener when the
 * sleep ends either way). The timer keeps the process alive: a caller is waiting on it.
 */
export function sleep(
  delayMs: number,
  signal: AbortSignal | undefined,
  timers: Timers | undefined,
): Promise<void> {
  if (signal?.aborted) return Promise.reject(signal.reason);
  return new Promise<void>((resolve, reject) => {
    let handle: TimerHandle | undefined;
    const onAbort = (): void => {
      stopTimer(timers, handle);
      reject(signal?.reason);
    };
    handle = startTimer(
      timers,
      () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      },
      delayMs,
      false,
    );
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
