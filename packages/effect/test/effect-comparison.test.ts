/**
 * The claims docs/effect.md makes about Effect's own caching primitives, checked against
 * effect 4.1's actual behaviour, each beside what @sluice/effect does in the same situation.
 */

import { Deferred, Effect, Exit, Fiber, Option, Resource, Schedule, Scope } from 'effect';
import { describe, expect, it } from 'vitest';
import { MintFailed, makeCredentialProvider } from '../src/index.js';
import {
  advance,
  exitOf,
  flush,
  HOUR,
  MINUTE,
  manualMint,
  now,
  runTest,
  SECOND,
  START,
  start,
} from './support/harness.js';

/** A mint that takes `latencyMs` on Effect's clock and counts its runs and interruptions. */
function slowIssuer(latencyMs: number, lifetimeMs = HOUR) {
  const stats = { started: 0, completed: 0, interrupted: 0 };
  const mint = Effect.gen(function* () {
    stats.started++;
    yield* Effect.sleep(latencyMs);
    stats.completed++;
    const at = yield* now;
    return { value: `token-${stats.completed}`, expiresAt: at + lifetimeMs };
  }).pipe(
    Effect.onInterrupt(() =>
      Effect.sync(() => {
        stats.interrupted++;
      }),
    ),
  );
  return { stats, mint };
}

describe('Effect.cachedInvalidateWithTTL', () => {
  it('interrupts the shared work once every waiting fiber has been interrupted; Sluice lets the mint finish and caches it', () =>
    runTest(
      Effect.gen(function* () {
        const effect = slowIssuer(10 * SECOND);
        const [cached] = yield* Effect.cachedInvalidateWithTTL(effect.mint, '1 hour');
        const cachedWaiters = yield* Effect.forEach([1, 2, 3], () => start(cached));
        yield* Fiber.interruptAll(cachedWaiters);
        yield* flush();
        expect(effect.stats).toEqual({ started: 1, completed: 0, interrupted: 1 });

        const sluice = slowIssuer(10 * SECOND);
        const provider = yield* makeCredentialProvider({ mint: () => sluice.mint, lazy: true });
        const sluiceWaiters = yield* Effect.forEach([1, 2, 3], () => start(provider.get));
        yield* Fiber.interruptAll(sluiceWaiters);
        yield* advance(10 * SECOND);
        yield* flush();
        expect(sluice.stats).toEqual({ started: 1, completed: 1, interrupted: 0 });
        expect(Option.isSome(yield* provider.peek)).toBe(true);
      }),
    ));

  it('with callers that time out before a slow issuer answers, never completes a mint; Sluice completes the first one', () =>
    runTest(
      Effect.gen(function* () {
        // The issuer needs 3 s; every caller gives up after 2 s and the next one comes 1 s later.
        const callers = 5;
        const run = <A, E>(get: Effect.Effect<A, E>) =>
          Effect.gen(function* () {
            const outcomes: Array<'value' | 'timeout'> = [];
            for (let i = 0; i < callers; i++) {
              const fiber = yield* start(
                get.pipe(
                  Effect.timeoutOption('2 seconds'),
                  Effect.map((value) => (Option.isSome(value) ? 'value' : 'timeout')),
                ),
              );
              yield* advance(2 * SECOND);
              outcomes.push(yield* Fiber.join(fiber).pipe(Effect.orDie));
              yield* advance(1 * SECOND);
            }
            return outcomes;
          });

        const effect = slowIssuer(3 * SECOND);
        const [cached] = yield* Effect.cachedInvalidateWithTTL(effect.mint, '1 hour');
        expect(yield* run(cached)).toEqual(Array(callers).fill('timeout'));
        expect(effect.stats).toEqual({ started: callers, completed: 0, interrupted: callers });

        const sluice = slowIssuer(3 * SECOND);
        const provider = yield* makeCredentialProvider({ mint: () => sluice.mint, lazy: true });
        expect(yield* run(provider.get)).toEqual(['timeout', ...Array(callers - 1).fill('value')]);
        expect(sluice.stats).toEqual({ started: 1, completed: 1, interrupted: 0 });
      }),
    ));

  it('drops the value at the TTL, so a failing issuer fails callers while the credential is still valid; Sluice keeps serving it', () =>
    runTest(
      Effect.gen(function* () {
        // Both refresh one minute before expiry; from then on, the issuer is down.
        let issuerUp = true;
        const issue = Effect.gen(function* () {
          if (!issuerUp) return yield* Effect.fail(new Error('issuer down'));
          const at = yield* now;
          return { value: 'token-1', expiresAt: at + HOUR };
        });
        const [cached] = yield* Effect.cachedInvalidateWithTTL(
          issue,
          (exit: Exit.Exit<{ expiresAt: number }, Error>) =>
            Exit.isSuccess(exit) ? exit.value.expiresAt - MINUTE - START : 0,
        );
        const provider = yield* makeCredentialProvider({
          mint: () => issue,
          refreshAt: (HOUR - MINUTE) / HOUR,
          jitter: 0,
        });
        expect((yield* cached).value).toBe('token-1');
        issuerUp = false;
        yield* advance(HOUR - MINUTE); // due, one minute of validity left
        const cachedExit = yield* Effect.exit(cached);
        expect(Exit.isFailure(cachedExit)).toBe(true);
        expect(yield* provider.get).toBe('token-1');
        yield* advance(MINUTE - 1); // the last millisecond of validity
        expect(yield* provider.get).toBe('token-1');
        // Once it has expired Sluice never serves it: the caller gets the mint's failure.
        yield* advance(1);
        const expiredExit = yield* Effect.exit(provider.get);
        expect(Exit.isFailure(expiredExit) && Exit.findErrorOption(expiredExit)).toEqual(
          Option.some(expect.any(MintFailed)),
        );
      }),
    ));
});

describe('Resource.auto', () => {
  it('keeps serving its last value after that credential has expired (it knows no expiry); Sluice never serves an expired credential', () =>
    runTest(
      Effect.gen(function* () {
        let issuerUp = true;
        const issue = Effect.gen(function* () {
          if (!issuerUp) return yield* Effect.fail(new Error('issuer down'));
          const at = yield* now;
          return { value: 'token-1', expiresAt: at + HOUR };
        });
        const resource = yield* Resource.auto(issue, Schedule.spaced('50 minutes'));
        const provider = yield* makeCredentialProvider({ mint: () => issue });
        issuerUp = false;
        yield* advance(2 * HOUR);
        const served = yield* Resource.get(resource);
        expect(served.value).toBe('token-1');
        expect(served.expiresAt).toBeLessThan(yield* now);
        expect(Exit.isFailure(yield* Effect.exit(provider.get))).toBe(true);
        expect(Option.isNone(yield* provider.peek)).toBe(true);
      }),
    ));

  it('after a failed first acquire keeps failing until the next scheduled refresh; a Sluice caller mints again at once', () =>
    runTest(
      Effect.gen(function* () {
        let acquires = 0;
        const issue = Effect.suspend(() => {
          acquires++;
          return acquires === 1
            ? Effect.fail(new Error('first attempt fails'))
            : Effect.map(now, (at) => ({ value: `token-${acquires}`, expiresAt: at + HOUR }));
        });
        const resource = yield* Resource.auto(issue, Schedule.spaced('10 minutes'));
        for (let i = 0; i < 3; i++)
          expect(Exit.isFailure(yield* Effect.exit(Resource.get(resource)))).toBe(true);
        expect(acquires).toBe(1);

        let mints = 0;
        const provider = yield* makeCredentialProvider({
          lazy: true,
          mint: () =>
            Effect.suspend(() => {
              mints++;
              return mints === 1
                ? Effect.fail(new Error('first attempt fails'))
                : Effect.map(now, (at) => ({ value: `token-${mints}`, expiresAt: at + HOUR }));
            }),
        });
        expect(Exit.isFailure(yield* Effect.exit(provider.get))).toBe(true);
        expect(yield* provider.get).toBe('token-2');
      }),
    ));

  it('cannot interrupt a refresh in flight: closing its scope waits for a hanging issuer; tearing down a Sluice layer interrupts the mint', () =>
    runTest(
      Effect.gen(function* () {
        let acquires = 0;
        const hang = yield* Deferred.make<{ value: string }>();
        const issue = Effect.suspend(() =>
          ++acquires === 1 ? Effect.succeed({ value: 'token-1' }) : Deferred.await(hang),
        );
        const resourceScope = yield* Scope.make();
        yield* Resource.auto(issue, Schedule.spaced('1 minute')).pipe(Scope.provide(resourceScope));
        yield* advance(MINUTE); // the refresh starts and hangs
        const closingResource = yield* start(Scope.close(resourceScope, Exit.void));
        yield* advance(HOUR);
        yield* flush(20);
        expect(closingResource.pollUnsafe()).toBeUndefined();

        const m = manualMint<string, Error>();
        const providerScope = yield* Scope.make();
        const provider = yield* makeCredentialProvider({ mint: m.mint, lazy: true }).pipe(
          Scope.provide(providerScope),
        );
        yield* start(Effect.exit(provider.get));
        yield* Scope.close(providerScope, Exit.void);
        expect(m.last().interrupted).toBe(true);

        // Let the Resource's refresh finish so its scope can close and the test end.
        yield* Deferred.succeed(hang, { value: 'token-2' });
        expect(Exit.isSuccess(yield* exitOf(closingResource))).toBe(true);
      }),
    ));
});
