/**
 * Core's `timers` over Effect fibers: every wait a provider makes (the mint timeout, the
 * `'timer'` schedule, keyed sweeps and idle expiry) becomes a fiber that sleeps on Effect's
 * `Clock`, so `TestClock.adjust` fires it. Clearing a timer interrupts its fiber.
 */

import type { Timers } from '@sluice/core';
import { Effect, type Fiber } from 'effect';

/** Forks an Effect that needs `R` in the layer's scope (a `FiberSet` runtime). */
export type Runner<R = never> = <A, E>(effect: Effect.Effect<A, E, R>) => Fiber.Fiber<A, E>;

/**
 * Timers whose handles are fibers forked by `run`. A handle has no `ref`/`unref`: the
 * fibers live in the layer's scope, which ends them when it closes, so no timer can keep a
 * process alive past the layer.
 */
export function fiberTimers(run: Runner): Timers {
  return {
    setTimeout(callback: () => void, delayMs: number): unknown {
      return run(Effect.andThen(Effect.sleep(delayMs), Effect.sync(callback)));
    },
    clearTimeout(handle: unknown): void {
      (handle as Fiber.Fiber<void>).interruptUnsafe();
    },
  };
}
