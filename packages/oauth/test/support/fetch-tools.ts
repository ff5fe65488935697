/**
 * `fetch` wrappers for the createAuthFetch tests: a bound on concurrent requests (so a
 * thousand concurrent calls do not need two thousand sockets), and a gate that holds
 * answers until the test releases them (answers "in flight" while the token changes).
 */

import { Semaphore } from 'async-mutex';
import type { FetchFunction } from '../../src/auth-fetch.js';

/** `fetch` with at most `limit` requests on the wire at once. */
export function boundedFetch(limit: number): FetchFunction {
  const semaphore = new Semaphore(limit);
  return (input, init) => semaphore.runExclusive(() => fetch(input, init));
}

/** Holds every answer of `inner` until `release()`; `held()` counts the answers waiting. */
export function gatedFetch(inner: FetchFunction): {
  fetch: FetchFunction;
  held: () => number;
  release: () => void;
} {
  let open: () => void = () => {};
  const gate = new Promise<void>((resolve) => {
    open = resolve;
  });
  let held = 0;
  return {
    fetch: async (input, init) => {
      const response = await inner(input, init);
      held += 1;
      await gate;
      return response;
    },
    held: () => held,
    release: () => open(),
  };
}

/** Resolves once `condition()` holds, polling every 5 ms; fails after `timeoutMs`. */
export async function until(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
