/**
 * Waiting on shared work with a caller's own signal: the caller's abort ends only its own
 * wait, never the work, and the listener is always removed when the wait ends. Every signal
 * gets one `abort` listener however many waits share it (`internal/signal-waiters.ts`).
 */

import { register, unregister } from './internal/signal-waiters.js';

/**
 * Waits for shared work with the caller's own signal: settles with `promise`, or rejects with
 * `signal.reason` when the signal aborts first. The abort ends only this wait, never the work
 * behind `promise`. Without a signal, returns `promise` itself. Any number of waiters may
 * share one signal: it gets one listener, removed when the last of them settles.
 *
 * @example
 * ```ts
 * const value = await raceSignal(sharedLookup, request.signal);
 * ```
 */
export function raceSignal<T>(
  promise: PromiseLike<T>,
  signal: AbortSignal | undefined,
): Promise<T> {
  if (signal === undefined) return adopt(promise);
  if (signal.aborted) {
    // The caller stops waiting, but `promise` still settles: its rejection is handled here,
    // so an abort never leaves an unhandled rejection behind (a stream read, say).
    adopt(promise).then(undefined, ignore);
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    register(signal, reject);
    adopt(promise).then(
      (value) => {
        unregister(signal, reject);
        resolve(value);
      },
      (error: unknown) => {
        unregister(signal, reject);
        reject(error);
      },
    );
  });
}

function ignore(): void {}

/** `value` as a native promise; a thenable whose `then` misbehaves becomes a rejection. */
function adopt<T>(value: PromiseLike<T>): Promise<T> {
  try {
    return Promise.resolve(value);
  } catch (error) {
    return Promise.reject(error); // a promise whose `constructor` getter throws
  }
}
