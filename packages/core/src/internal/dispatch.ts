/**
 * Deferred delivery of reporter events: the mechanism that makes re-entrant hooks safe.
 *
 * Every provider operation (a call's slow path, `refresh`, `invalidate`, `close`, a mint
 * settling, a timer firing) runs between {@link hold} and {@link release}. Events it emits
 * are queued, and the queue is delivered when the outermost operation ends, after the
 * provider's state is consistent again. A hook may then call back into any provider: that
 * call's own events join the end of the queue and are delivered by the same loop, in the
 * order they happened. Nothing a hook does can interleave with a half-finished operation.
 *
 * One queue per copy of `@sluice/core` (module state), so events of several providers (a
 * keyed provider's cells, a shared breaker) keep one total order.
 */

import { ignoreRejection } from '../reporter.js';

type Hook = (event: never) => unknown;

/** Hooks and their events, interleaved: [hook, event, hook, event, ...]. */
const queue: unknown[] = [];
let depth = 0;
let draining = false;

/** Opens an operation: events emitted until the matching {@link release} are queued. */
export function hold(): void {
  depth += 1;
}

/** Closes an operation; the outermost one delivers the queued events. Never throws. */
export function release(): void {
  depth -= 1;
  if (depth === 0) drain();
}

/**
 * Delivers `event` to `hook` once no operation is open (at once if none is). The hook's
 * throw or rejected promise is ignored: telemetry never changes what callers get.
 */
export function emit<E>(hook: (event: E) => unknown, event: E): void {
  queue.push(hook, event);
  if (depth === 0) drain();
}

function drain(): void {
  if (draining) return; // a hook's own call back into a provider: the running loop delivers
  draining = true;
  try {
    // queue.length is re-read each turn: hooks may append while the loop runs.
    for (let i = 0; i < queue.length; i += 2) {
      const hook = queue[i] as Hook;
      const event = queue[i + 1] as never;
      queue[i] = undefined;
      queue[i + 1] = undefined;
      try {
        ignoreRejection(hook(event));
      } catch {
        // A reporter's failure is its own business.
      }
    }
  } finally {
    queue.length = 0;
    draining = false;
  }
}
