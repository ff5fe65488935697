/**
 * Properties over generated runs: whatever the mints do (succeed, fail with a typed error,
 * die, throw instead of returning an Effect, return an invalid or already expired credential,
 * hang past the timeout; synchronously or later), however fibers arrive, get interrupted and
 * invalidate, and however time moves on the TestClock, every fiber ends, with a value that
 * had not expired, a documented tagged error, the mint's own defect, or its interruption;
 * no mint outlives the layer; and the option and error translations never throw anything
 * but `InvalidOptionError`.
 */

import { InvalidOptionError } from '@sluice/core';
import { Cause, Deferred, Duration, Effect, Exit, Fiber, Option, Scope } from 'effect';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  BreakerOpen,
  InvalidCredential,
  MintFailed,
  MintTimeout,
  makeCredentialProvider,
  ProviderClosed,
} from '../src/index.js';
import { durationMs } from '../src/internal/policy.js';
import { translate } from '../src/internal/translate.js';
import { advance, flush, now, runTest } from './support/harness.js';

const RUNS = Number(process.env.SLUICE_MODEL_RUNS ?? 60);

type Outcome = 'ok' | 'fail' | 'die' | 'throw' | 'invalid' | 'expired' | 'hang';

type Step =
  | { readonly kind: 'callers'; readonly count: number; readonly interrupt: number }
  | { readonly kind: 'settle'; readonly outcome: Outcome }
  | { readonly kind: 'advance'; readonly ms: number }
  | { readonly kind: 'invalidate' }
  | { readonly kind: 'refresh' };

const outcome = fc.constantFrom<Outcome>(
  'ok',
  'ok',
  'fail',
  'die',
  'throw',
  'invalid',
  'expired',
  'hang',
);
const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({
    kind: fc.constant('callers' as const),
    count: fc.integer({ min: 1, max: 4 }),
    interrupt: fc.integer({ min: 0, max: 4 }),
  }),
  fc.record({ kind: fc.constant('settle' as const), outcome }),
  fc.record({
    kind: fc.constant('advance' as const),
    ms: fc.oneof(fc.integer({ min: 0, max: 2_000 }), fc.integer({ min: 0, max: 120_000 })),
  }),
  fc.constant({ kind: 'invalidate' as const }),
  fc.constant({ kind: 'refresh' as const }),
);

class IssuerDown {
  readonly _tag = 'IssuerDown';
}
const defect = new Error('mint bug');

describe('generated runs', () => {
  it(
    'every fiber ends with a valid value, a documented error, the mint defect or its interruption; no mint outlives the layer',
    () =>
      fc.assert(
        fc.asyncProperty(
          fc.array(step, { minLength: 1, maxLength: 25 }),
          fc.boolean(),
          fc.array(outcome, { minLength: 1, maxLength: 10 }),
          fc.integer({ min: 1_000, max: 120_000 }),
          (steps, synchronous, syncOutcomes, lifetimeMs) =>
            runTest(
              Effect.gen(function* () {
                const pending: Array<Deferred.Deferred<Outcome>> = [];
                const mints = { started: 0, ended: 0 };
                let syncIndex = 0;
                const produce = (what: Outcome) =>
                  Effect.gen(function* () {
                    const at = yield* now;
                    switch (what) {
                      case 'ok':
                        return { value: `token@${at}`, expiresAt: at + lifetimeMs };
                      case 'fail':
                        return yield* Effect.fail(new IssuerDown());
                      case 'die':
                      case 'throw':
                        return yield* Effect.die(defect);
                      case 'invalid':
                        return { expiresAt: at + lifetimeMs } as never;
                      case 'expired':
                        return { value: 'stale', expiresAt: at - 1 };
                      case 'hang':
                        return yield* Effect.never;
                    }
                  });
                const scope = yield* Scope.make();
                const provider = yield* makeCredentialProvider<string, IssuerDown>({
                  lazy: true,
                  mintTimeout: '30 seconds',
                  breaker: { failureThreshold: 3, cooldown: '10 seconds' },
                  minRefreshInterval: '1 second',
                  refreshFloor: '500 millis',
                  mint: () => {
                    if (synchronous) {
                      const what = syncOutcomes[syncIndex++ % syncOutcomes.length] as Outcome;
                      if (what === 'throw') throw defect;
                      mints.started++;
                      return produce(what).pipe(Effect.ensuring(Effect.sync(() => mints.ended++)));
                    }
                    mints.started++;
                    const deferred = Deferred.makeUnsafe<Outcome>();
                    pending.push(deferred);
                    return Deferred.await(deferred).pipe(
                      Effect.flatMap(produce),
                      Effect.ensuring(Effect.sync(() => mints.ended++)),
                    );
                  },
                }).pipe(Scope.provide(scope));

                const fibers: Array<Fiber.Fiber<{ value: string; at: number }, unknown>> = [];
                const timed = <E>(effect: Effect.Effect<{ value: string }, E>) =>
                  Effect.flatMap(effect, (credential) =>
                    Effect.map(now, (at) => ({ value: credential.value, at })),
                  );
                for (const s of steps) {
                  switch (s.kind) {
                    case 'callers': {
                      const started = [];
                      for (let i = 0; i < s.count; i++) {
                        started.push(yield* Effect.forkChild(timed(provider.getCredential)));
                      }
                      yield* flush(2);
                      for (const fiber of started.slice(0, s.interrupt)) {
                        yield* Fiber.interrupt(fiber);
                      }
                      fibers.push(...started);
                      break;
                    }
                    case 'settle': {
                      const deferred = pending.shift();
                      if (deferred !== undefined) yield* Deferred.succeed(deferred, s.outcome);
                      yield* flush();
                      break;
                    }
                    case 'advance':
                      yield* advance(s.ms);
                      yield* flush();
                      break;
                    case 'invalidate':
                      yield* provider.invalidate();
                      break;
                    case 'refresh':
                      fibers.push(yield* Effect.forkChild(timed(provider.refresh)));
                      yield* flush(2);
                      break;
                  }
                }
                yield* Scope.close(scope, Exit.void);
                expect(mints.ended).toBe(mints.started);

                for (const fiber of fibers) {
                  const exit = yield* Fiber.await(fiber);
                  if (Exit.isSuccess(exit)) {
                    // A value is never served past its expiry: 'token@<mintedAt>' lives lifetimeMs.
                    const mintedAt = Number(exit.value.value.slice('token@'.length));
                    expect(exit.value.at).toBeLessThan(mintedAt + lifetimeMs);
                    continue;
                  }
                  if (Cause.hasInterruptsOnly(exit.cause)) continue;
                  const error = Cause.findErrorOption(exit.cause);
                  if (Option.isSome(error)) {
                    const e = error.value;
                    const documented =
                      e instanceof MintFailed ||
                      e instanceof MintTimeout ||
                      e instanceof InvalidCredential ||
                      e instanceof BreakerOpen ||
                      e instanceof ProviderClosed;
                    expect(documented, String(e)).toBe(true);
                    if (e instanceof MintFailed) expect(e.cause).toBeInstanceOf(IssuerDown);
                    continue;
                  }
                  expect(Cause.squash(exit.cause)).toBe(defect);
                }
              }),
            ),
        ),
        { numRuns: RUNS },
      ),
    120_000,
  );
});

describe('translations', () => {
  const anything = fc.oneof(
    fc.anything(),
    fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, -1, 0.5, 2 ** 31, -0),
    fc.string(),
    fc.bigInt(),
    fc.integer({ min: 0, max: 2_147_483_647 }).map((ms) => Duration.millis(ms)),
    fc.constantFrom('5 seconds', '1.5 millis', 'forever', '2 hours', Duration.infinity),
  );

  it('a duration option is whole milliseconds in range, or an InvalidOptionError naming it', () =>
    fc.assert(
      fc.property(anything, fc.integer({ min: 0, max: 1 }), (input, min) => {
        let ms: number | undefined;
        try {
          ms = durationMs(input, 'opt', min);
        } catch (error) {
          expect(error).toBeInstanceOf(InvalidOptionError);
          expect((error as InvalidOptionError).option).toBe('opt');
          return;
        }
        if (input === undefined) expect(ms).toBeUndefined();
        else {
          expect(Number.isInteger(ms)).toBe(true);
          expect(ms).toBeGreaterThanOrEqual(min);
          expect(ms).toBeLessThanOrEqual(2_147_483_647);
        }
      }),
      { numRuns: 500 },
    ));

  it('any rejection translates to a tagged failure or a defect, the same every time, without throwing', () =>
    fc.assert(
      fc.property(anything, (rejection) => {
        const outcome = translate(rejection);
        expect('fail' in outcome || 'die' in outcome).toBe(true);
        if (typeof rejection === 'object' && rejection !== null) {
          expect(translate(rejection)).toBe(outcome);
        }
        if ('die' in outcome && typeof rejection !== 'object') expect(outcome.die).toBe(rejection);
      }),
      { numRuns: 500 },
    ));
});
