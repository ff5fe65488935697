/**
 * `effect` 4 `Effect.cachedInvalidateWithTTL` run through `Effect.runPromise`:
 * - the mint is `Effect.tryPromise`, which hands the fiber's abort signal to the mint;
 * - TTL from the `Exit`, as the docs show for "caching successes while retrying failures":
 *   a success lives until `expiresAt - skew` (60 s, capped at 20% of the lifetime, as the
 *   hand-written cache), a failure is not cached (TTL 0);
 * - `now` is given to Effect through its own `Clock` service (`Effect.runPromiseWith` with a
 *   `Clock` whose `currentTimeMillisUnsafe` is the injected clock), which is what
 *   `cachedInvalidateWithTTL` reads. Effect is never driven by JS fake timers: its fibers
 *   run on its own scheduler (real `setImmediate`); only the issuer's latency, outside
 *   Effect, is simulated;
 * - a per-caller `signal` goes to `runPromise`, which interrupts only that caller's fiber (the
 *   shared run is interrupted once every waiter has left);
 * - invalidation runs the returned `invalidate` effect.
 * No refresh ahead: after the TTL the next caller waits for the mint.
 */

import { Clock, Context, Effect, Exit } from 'effect';
import { type ContenderAdapter, cappedWindowMs, type Token } from '../contender.js';

const SKEW_MS = 60_000;

function injectedClock(now: () => number): Clock.Clock {
  const nanos = (): bigint => BigInt(Math.round(now() * 1_000_000));
  return {
    currentTimeMillisUnsafe: now,
    currentTimeMillis: Effect.sync(now),
    currentTimeNanosUnsafe: nanos,
    currentTimeNanos: Effect.sync(nanos),
    monotonicTimeNanosUnsafe: nanos,
    monotonicTimeNanos: Effect.sync(nanos),
    sleep: () => Effect.die(new Error('the comparison never sleeps inside Effect')),
  };
}

export const effectCached: ContenderAdapter = {
  id: 'effect',
  label: 'Effect cachedInvalidateWithTTL',
  clock: 'injected',
  signals: true,
  tokenAwareInvalidate: false,
  create({ mint, now, lifetimeMs }) {
    const skewMs = cappedWindowMs(SKEW_MS, lifetimeMs);
    const clock = now ?? Date.now;
    const mintEffect = Effect.tryPromise({
      try: (signal) => mint(signal),
      catch: (error) => error,
    });
    const [cached, invalidate] = Effect.runSync(
      Effect.cachedInvalidateWithTTL(mintEffect, (exit) =>
        Exit.isSuccess(exit) ? Math.max(0, exit.value.expiresAt - skewMs - clock()) : 0,
      ),
    );
    const run =
      now === undefined
        ? Effect.runPromise
        : Effect.runPromiseWith(Context.make(Clock.Clock, injectedClock(now)));
    return {
      get: (signal) => (signal === undefined ? run(cached) : run(cached, { signal })),
      valueOf: (result) => (result as Token).value,
      invalidate: () => {
        Effect.runSync(invalidate);
      },
      close: () => {
        Effect.runSync(invalidate);
      },
    };
  },
};
