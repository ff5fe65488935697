/**
 * Test support for @sluice/effect: run a scoped Effect under `TestClock` starting at a fixed
 * non-zero time, a mint the test settles by hand, and waits that poll a condition between
 * scheduler turns (never real time).
 */

import type { Credential, Reporter } from '@sluice/core';
import { Deferred, Effect, type Exit, Fiber, Layer, type Scope } from 'effect';
import { TestClock } from 'effect/testing';
import type { EffectMintContext } from '../../src/index.js';

export const START = 1_700_000_000_000;
export const SECOND = 1_000;
export const MINUTE = 60 * SECOND;
export const HOUR = 60 * MINUTE;

/**
 * Runs a scoped test program under a fresh `TestClock` set to {@link START}. The scope closes
 * when the program ends, so every provider built in it is torn down.
 */
export function runTest<A, E>(program: Effect.Effect<A, E, Scope.Scope>): Promise<A> {
  return Effect.runPromise(
    Effect.andThen(TestClock.setTime(START), program).pipe(
      Effect.scoped,
      Effect.provide(Layer.fresh(TestClock.layer())),
    ),
  );
}

/** The current time on Effect's clock (the `TestClock` in tests). */
export const now = Effect.clockWith((clock) => clock.currentTimeMillis);

/** Moves the `TestClock` forward, firing every sleep (timer fiber) due by then. */
export const advance = (ms: number) => TestClock.adjust(ms);

/**
 * Lets work that is neither a fiber nor a timer (core's promise chains) finish: yields to
 * the scheduler until `condition` holds, failing the test after 200 turns.
 */
export function until(condition: () => boolean, what = 'condition'): Effect.Effect<void> {
  return Effect.gen(function* () {
    for (let turn = 0; turn < 200; turn++) {
      if (condition()) return;
      yield* Effect.yieldNow;
    }
    return yield* Effect.die(new Error(`timed out waiting for ${what}`));
  });
}

/** Yields to the scheduler `turns` times (promise chains settle in between). */
export function flush(turns = 10): Effect.Effect<void> {
  return Effect.gen(function* () {
    for (let turn = 0; turn < turns; turn++) yield* Effect.yieldNow;
  });
}

/** Forks `effect` and waits until it is suspended (its wait registered with the provider). */
export function start<A, E>(effect: Effect.Effect<A, E>) {
  return Effect.gen(function* () {
    const fiber = yield* Effect.forkChild(effect);
    yield* flush(2);
    return fiber;
  });
}

/** The exit of a fiber, once it ends. */
export const exitOf = <A, E>(fiber: Fiber.Fiber<A, E>): Effect.Effect<Exit.Exit<A, E>> =>
  Fiber.await(fiber);

/** One call of a {@link manualMint}. */
export interface MintCall<T, E> {
  readonly context: EffectMintContext<T>;
  readonly key: string | undefined;
  readonly deferred: Deferred.Deferred<Credential<T>, E>;
  /** Set when the mint's fiber was interrupted. */
  interrupted: boolean;
  /** Set when the mint's fiber ended, whatever the outcome (its finalizer ran). */
  finalized: boolean;
}

/** A mint whose every call waits on a `Deferred` the test settles. */
export function manualMint<T = string, E = Error>() {
  const calls: MintCall<T, E>[] = [];
  const mintFor = (key: string | undefined, context: EffectMintContext<T>) =>
    Effect.suspend(() => {
      const call: MintCall<T, E> = {
        context,
        key,
        deferred: Deferred.makeUnsafe<Credential<T>, E>(),
        interrupted: false,
        finalized: false,
      };
      calls.push(call);
      return Deferred.await(call.deferred).pipe(
        Effect.onInterrupt(() =>
          Effect.sync(() => {
            call.interrupted = true;
          }),
        ),
        Effect.ensuring(
          Effect.sync(() => {
            call.finalized = true;
          }),
        ),
      );
    });
  const last = (): MintCall<T, E> => {
    const call = calls.at(-1);
    if (call === undefined) throw new Error('no mint call yet');
    return call;
  };
  return {
    calls,
    last,
    mint: (context: EffectMintContext<T>) => mintFor(undefined, context),
    keyedMint: (key: string, context: EffectMintContext<T>) => mintFor(key, context),
    /** Settles the last mint with `value`, living `lifetimeMs` from now on the Effect clock. */
    succeed: (value: T, lifetimeMs = HOUR, call = last()) =>
      Effect.flatMap(now, (at) =>
        Deferred.succeed(call.deferred, { value, expiresAt: at + lifetimeMs }),
      ).pipe(Effect.andThen(flush())),
    /** Fails the last mint with `error`. */
    fail: (error: E, call = last()) =>
      Deferred.fail(call.deferred, error).pipe(Effect.andThen(flush())),
  };
}

/** A reporter that records every event as [hook, event]. */
export function recordingReporter() {
  const events: Array<[string, Record<string, unknown>]> = [];
  const record =
    (hook: string) =>
    (event: object): void => {
      events.push([hook, { ...event }]);
    };
  const reporter: Reporter = {
    onRefreshStart: record('start'),
    onRefreshSuccess: record('success'),
    onRefreshFailure: record('failure'),
    onBreakerStateChange: record('breaker'),
    onCoalesced: record('coalesced'),
    onKeyDropped: record('keyDropped'),
  };
  return {
    reporter,
    events,
    of: (hook: string) => events.filter(([h]) => h === hook).map(([, e]) => e),
  };
}
