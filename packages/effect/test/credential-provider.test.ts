import { InvalidOptionError, type Reporter } from '@sluice/core';
import { Cause, Clock, Duration, Effect, Exit, Fiber, Option, Random, Scope } from 'effect';
import { describe, expect, it } from 'vitest';
import {
  BreakerOpen,
  type CredentialProviderOptions,
  InvalidClock,
  InvalidCredential,
  MintFailed,
  MintTimeout,
  makeCredentialProvider,
  ProviderClosed,
} from '../src/index.js';
import {
  advance,
  exitOf,
  flush,
  HOUR,
  MINUTE,
  manualMint,
  now,
  recordingReporter,
  runTest,
  START,
  start,
  until,
} from './support/harness.js';

type Options = Partial<CredentialProviderOptions<string, Error, never>>;

/** A provider (in the test's scope) whose first mint returned `value` living `lifetimeMs`. */
function started(options: Options = {}, lifetimeMs = HOUR, value = 'token-1') {
  return Effect.gen(function* () {
    const m = manualMint<string, Error>();
    const building = yield* Effect.forkChild(
      makeCredentialProvider<string, Error>({ mint: m.mint, jitter: 0, ...options }),
    );
    yield* until(() => m.calls.length === 1, 'the first mint');
    yield* m.succeed(value, lifetimeMs);
    const provider = yield* Fiber.join(building);
    return { provider, ...m };
  });
}

/** The failure of an exit, or a test failure when it is not one. */
function failureOf<A, E>(exit: Exit.Exit<A, E>): E {
  if (Exit.isSuccess(exit)) throw new Error('expected a failure, got a success');
  const error = Cause.findErrorOption(exit.cause);
  if (Option.isNone(error))
    throw new Error(`expected a typed failure: ${Cause.pretty(exit.cause)}`);
  return error.value;
}

describe('1. serving a valid credential', () => {
  it('serves the cached credential without minting while it is fresh', () =>
    runTest(
      Effect.gen(function* () {
        const { provider, calls } = yield* started();
        for (let i = 0; i < 100; i++) expect(yield* provider.get).toBe('token-1');
        yield* advance(0.79 * HOUR);
        expect(yield* provider.get).toBe('token-1');
        expect(calls).toHaveLength(1);
      }),
    ));

  it('past the due point serves the cached credential and starts ONE background refresh the caller does not wait for', () =>
    runTest(
      Effect.gen(function* () {
        const m = yield* started();
        yield* advance(0.8 * HOUR);
        const served = yield* Effect.all(
          Array.from({ length: 50 }, () => m.provider.get),
          { concurrency: 'unbounded' },
        );
        expect(new Set(served)).toEqual(new Set(['token-1']));
        expect(m.calls).toHaveLength(2);
        expect(m.last().context.reason).toBe('proactive');
        expect(Option.getOrUndefined(m.last().context.previous)?.value).toBe('token-1');
        yield* m.succeed('token-2');
        expect(yield* m.provider.get).toBe('token-2');
        expect(m.calls).toHaveLength(2);
      }),
    ));
});

describe('2. the due point (on Effect Clock, jitter from Effect Random)', () => {
  it('is issuedAt + lifetime x (refreshAt - jitter x sample), the sample drawn once per credential from Random', () =>
    runTest(
      Effect.gen(function* () {
        let draws = 0;
        const random = {
          nextDoubleUnsafe: () => {
            draws += 1;
            return 0.5;
          },
          nextIntUnsafe: () => 0,
        };
        const { provider, calls } = yield* started({ jitter: 0.1 }).pipe(
          Effect.provideService(Random.Random, random),
        );
        expect((yield* provider.snapshot).refreshDueAt).toBe(START + 0.75 * HOUR);
        yield* advance(0.75 * HOUR - 1);
        yield* provider.get;
        expect(calls).toHaveLength(1);
        yield* advance(1);
        yield* provider.get;
        expect(calls).toHaveLength(2);
        expect(draws).toBe(1);
      }),
    ));

  it('is never later than refreshFloor before expiry', () =>
    runTest(
      Effect.gen(function* () {
        const { provider } = yield* started({ refreshFloor: '30 seconds' }, 100_000);
        expect((yield* provider.snapshot).refreshDueAt).toBe(START + 70_000);
      }),
    ));

  it('never refreshes a credential without expiry', () =>
    runTest(
      Effect.gen(function* () {
        let mints = 0;
        const provider = yield* makeCredentialProvider({
          mint: () =>
            Effect.sync(() => {
              mints++;
              return { value: 'forever' };
            }),
        });
        yield* advance(10 * 365 * 24 * HOUR);
        expect(yield* provider.get).toBe('forever');
        expect(mints).toBe(1);
        expect(yield* provider.snapshot).toMatchObject({
          expiresAt: null,
          refreshDueAt: null,
          status: 'fresh',
        });
      }),
    ));
});

describe('3. waiting for a mint (single-flight)', () => {
  it('all concurrent fibers on an expired credential join ONE mint and get its value', () =>
    runTest(
      Effect.gen(function* () {
        const m = yield* started();
        yield* advance(HOUR);
        const waiters = yield* Effect.forkChild(
          Effect.all(
            Array.from({ length: 1000 }, () => m.provider.get),
            { concurrency: 'unbounded' },
          ),
        );
        yield* until(() => m.calls.length === 2, 'the second mint');
        expect(m.last().context.reason).toBe('expired');
        yield* m.succeed('token-2');
        expect(new Set(yield* Fiber.join(waiters))).toEqual(new Set(['token-2']));
        expect(m.calls).toHaveLength(2);
      }),
    ));

  it('every waiter of a failed mint fails with the SAME MintFailed carrying the cause and its code, and nobody retries', () =>
    runTest(
      Effect.gen(function* () {
        const m = yield* started();
        yield* advance(HOUR);
        const waiters = yield* Effect.forEach(Array.from({ length: 100 }), () =>
          start(Effect.exit(m.provider.get)),
        );
        const failure = Object.assign(new Error('issuer down'), { code: 'ECONNREFUSED' });
        yield* m.fail(failure);
        const exits = yield* Effect.forEach(waiters, Fiber.join);
        const first = failureOf(exits[0] as Exit.Exit<string, unknown>);
        expect(first).toBeInstanceOf(MintFailed);
        expect(first).toMatchObject({ _tag: 'MintFailed', cause: failure, code: 'ECONNREFUSED' });
        expect(exits.every((exit) => failureOf(exit) === first)).toBe(true);
        yield* advance(10_000);
        expect(m.calls).toHaveLength(2);
      }),
    ));

  it('a fiber arriving after a failed mint starts the next cohort with one new mint', () =>
    runTest(
      Effect.gen(function* () {
        const m = yield* started();
        yield* advance(HOUR);
        const first = yield* start(Effect.exit(m.provider.get));
        yield* m.fail(new Error('once'));
        expect(Exit.isFailure(yield* Fiber.join(first))).toBe(true);
        const second = yield* start(
          Effect.all([m.provider.get, m.provider.get], { concurrency: 'unbounded' }),
        );
        expect(m.calls).toHaveLength(3);
        yield* m.succeed('token-3');
        expect(yield* Fiber.join(second)).toEqual(['token-3', 'token-3']);
      }),
    ));

  it('an invalidated credential is awaited from a mint with reason "invalidated"', () =>
    runTest(
      Effect.gen(function* () {
        const m = yield* started();
        expect(yield* m.provider.invalidate()).toBe(true);
        expect(Option.isNone(yield* m.provider.peek)).toBe(true);
        const waiting = yield* start(m.provider.get);
        expect(m.calls).toHaveLength(2);
        expect(m.last().context.reason).toBe('invalidated');
        yield* m.succeed('token-2');
        expect(yield* Fiber.join(waiting)).toBe('token-2');
      }),
    ));

  it('a lazy provider mints on first use with reason "initial"; the layer never mints', () =>
    runTest(
      Effect.gen(function* () {
        const m = manualMint<string, Error>();
        const provider = yield* makeCredentialProvider({ mint: m.mint, lazy: true });
        expect(m.calls).toHaveLength(0);
        const both = yield* start(
          Effect.all([provider.get, provider.getCredential], { concurrency: 'unbounded' }),
        );
        expect(m.calls).toHaveLength(1);
        expect(m.last().context.reason).toBe('initial');
        expect(Option.isNone(m.last().context.previous)).toBe(true);
        yield* m.succeed('token-1');
        const [value, credential] = yield* Fiber.join(both);
        expect(value).toBe('token-1');
        expect(credential).toEqual({ value: 'token-1', expiresAt: START + HOUR });
      }),
    ));

  it('a late 401 burst for a replaced token causes no second mint', () =>
    runTest(
      Effect.gen(function* () {
        const m = yield* started();
        const stale = yield* m.provider.getCredential;
        expect(yield* m.provider.invalidate(stale)).toBe(true);
        const next = yield* start(m.provider.get);
        yield* m.succeed('token-2');
        expect(yield* Fiber.join(next)).toBe('token-2');
        let dropped = 0;
        for (let i = 0; i < 1000; i++) {
          if (yield* m.provider.invalidate(i % 2 === 0 ? 'token-1' : stale)) dropped++;
        }
        expect(dropped).toBe(0);
        expect(yield* m.provider.get).toBe('token-2');
        expect(m.calls).toHaveLength(2);
      }),
    ));

  it('refresh forces a mint and joins the one already in flight', () =>
    runTest(
      Effect.gen(function* () {
        const m = yield* started();
        const a = yield* start(m.provider.refresh);
        const b = yield* start(m.provider.refresh);
        expect(m.calls).toHaveLength(2);
        expect(m.last().context.reason).toBe('forced');
        yield* m.succeed('token-2');
        const [first, second] = [yield* Fiber.join(a), yield* Fiber.join(b)];
        expect(first.value).toBe('token-2');
        expect(second).toBe(first);
      }),
    ));
});

describe('4. interruption and the mint timeout (on TestClock)', () => {
  it('interrupting a waiting fiber ends only its own wait; the mint and the other waiters go on', () =>
    runTest(
      Effect.gen(function* () {
        const m = yield* started();
        yield* advance(HOUR);
        const quitter = yield* start(m.provider.get);
        const others = yield* Effect.forEach(Array.from({ length: 99 }), () =>
          start(m.provider.get),
        );
        expect((yield* m.provider.snapshot).waiters).toBe(100);
        yield* Fiber.interrupt(quitter);
        expect(Exit.hasInterrupts(yield* exitOf(quitter))).toBe(true);
        yield* flush();
        expect(m.last().interrupted).toBe(false);
        // The interruption reached core: the fiber no longer counts as a waiter.
        expect((yield* m.provider.snapshot).waiters).toBe(99);
        yield* m.succeed('token-2');
        const values = yield* Effect.forEach(others, Fiber.join);
        expect(new Set(values)).toEqual(new Set(['token-2']));
        expect(m.calls).toHaveLength(2);
      }),
    ));

  it('when EVERY waiting fiber is interrupted the shared mint still completes and its credential is cached', () =>
    runTest(
      Effect.gen(function* () {
        const m = yield* started();
        yield* advance(HOUR);
        const waiters = yield* Effect.forEach(Array.from({ length: 10 }), () =>
          start(m.provider.get),
        );
        yield* Fiber.interruptAll(waiters);
        yield* flush();
        expect(m.last().interrupted).toBe(false);
        expect((yield* m.provider.snapshot).mintInFlight).toBe(true);
        yield* m.succeed('token-2');
        expect(Option.getOrUndefined(yield* m.provider.peek)?.value).toBe('token-2');
        expect(yield* m.provider.get).toBe('token-2');
        expect(m.calls).toHaveLength(2);
      }),
    ));

  it('an already interrupted caller gets nothing and starts no mint', () =>
    runTest(
      Effect.gen(function* () {
        const m = yield* started();
        yield* advance(HOUR);
        const fiber = yield* Effect.forkChild(m.provider.get, { startImmediately: false });
        yield* Fiber.interrupt(fiber);
        expect(Exit.hasInterrupts(yield* exitOf(fiber))).toBe(true);
        expect(m.calls).toHaveLength(1);
      }),
    ));

  it('TestClock drives the mint timeout: at mintTimeout every waiter fails with the same MintTimeout and the mint is interrupted', () =>
    runTest(
      Effect.gen(function* () {
        const { reporter, of } = recordingReporter();
        // An hour-long timeout: were it a real setTimeout, this test could never finish.
        const m = yield* started({ mintTimeout: '1 hour', reporter });
        yield* advance(HOUR);
        const waiters = yield* Effect.forEach(Array.from({ length: 10 }), () =>
          start(Effect.exit(m.provider.get)),
        );
        yield* advance(HOUR - 1);
        expect(waiters.every((fiber) => fiber.pollUnsafe() === undefined)).toBe(true);
        expect(m.last().interrupted).toBe(false);
        yield* advance(1);
        const exits = yield* Effect.forEach(waiters, Fiber.join);
        const error = failureOf(exits[0] as Exit.Exit<string, unknown>);
        expect(error).toBeInstanceOf(MintTimeout);
        expect(error).toMatchObject({ _tag: 'MintTimeout', code: 'SLUICE_MINT_TIMEOUT' });
        expect(Duration.toMillis((error as MintTimeout).timeout)).toBe(HOUR);
        expect(exits.every((exit) => failureOf(exit) === error)).toBe(true);
        yield* until(() => m.last().interrupted, 'the mint to be interrupted');
        expect(m.last().finalized).toBe(true);
        expect((yield* m.provider.snapshot).breaker.failures).toBe(1);
        expect(of('failure')).toHaveLength(1);
      }),
    ));

  it('a mint that completes after its timeout never overwrites the credential installed since', () =>
    runTest(
      Effect.gen(function* () {
        const m = yield* started({ mintTimeout: '5 seconds' });
        yield* advance(HOUR);
        const first = yield* start(Effect.exit(m.provider.get));
        const timedOut = m.last();
        yield* advance(5_000);
        expect(failureOf(yield* Fiber.join(first))).toBeInstanceOf(MintTimeout);
        const second = yield* start(m.provider.get);
        yield* m.succeed('newer');
        expect(yield* Fiber.join(second)).toBe('newer');
        // The timed-out mint was interrupted, so even settling its deferred changes nothing.
        yield* m.succeed('late', 2 * HOUR, timedOut);
        expect(yield* m.provider.get).toBe('newer');
      }),
    ));
});

describe('5. failed background refreshes', () => {
  it('never surface while the cached credential is valid; reported, counted, retried on the next due access', () =>
    runTest(
      Effect.gen(function* () {
        const { reporter, of } = recordingReporter();
        const m = yield* started({ reporter });
        yield* advance(0.8 * HOUR);
        expect(yield* m.provider.get).toBe('token-1');
        const failure = new Error('503');
        yield* m.fail(failure);
        const event = of('failure')[0] ?? {};
        expect(event).toMatchObject({
          reason: 'proactive',
          cachedRemainingLifetimeSeconds: 0.2 * 3600,
        });
        expect(event.error).toBeInstanceOf(MintFailed);
        expect((event.error as MintFailed<Error>).cause).toBe(failure);
        expect((yield* m.provider.snapshot).breaker).toMatchObject({
          state: 'closed',
          failures: 1,
        });
        expect(yield* m.provider.get).toBe('token-1');
        expect(m.calls).toHaveLength(3);
        expect(m.last().context.reason).toBe('proactive');
      }),
    ));
});

describe('6. the circuit breaker (cooldowns on TestClock)', () => {
  const openBreaker = (options: Options = {}) =>
    Effect.gen(function* () {
      const rec = recordingReporter();
      const env = yield* started({
        breaker: { failureThreshold: 3, cooldown: '1 minute' },
        reporter: rec.reporter,
        ...options,
      });
      yield* advance(0.8 * HOUR);
      const failures: Error[] = [];
      for (let i = 0; i < 3; i++) {
        expect(yield* env.provider.get).toBe('token-1');
        const failure = new Error(`failure ${i + 1}`);
        failures.push(failure);
        yield* env.fail(failure);
      }
      return { ...env, ...rec, failures };
    });

  it('opens at failureThreshold; a valid credential is still served and no mint is attempted', () =>
    runTest(
      Effect.gen(function* () {
        const { provider, calls, of } = yield* openBreaker();
        expect((yield* provider.snapshot).breaker.state).toBe('open');
        expect(of('breaker')).toEqual([
          expect.objectContaining({
            from: 'closed',
            to: 'open',
            failures: 3,
            retryAfterMs: MINUTE,
          }),
        ]);
        for (let i = 0; i < 100; i++) expect(yield* provider.get).toBe('token-1');
        expect(calls).toHaveLength(4);
      }),
    ));

  it('fails at once with BreakerOpen (retryAfter as a Duration, the last MintFailed as cause) once the credential has expired', () =>
    runTest(
      Effect.gen(function* () {
        const { provider, calls, failures } = yield* openBreaker({
          breaker: { failureThreshold: 3, cooldown: '1 hour' },
        });
        yield* advance(0.2 * HOUR);
        const error = failureOf(yield* Effect.exit(provider.get));
        expect(error).toBeInstanceOf(BreakerOpen);
        const open = error as BreakerOpen;
        expect(open.code).toBe('SLUICE_BREAKER_OPEN');
        expect(Duration.toMillis(open.retryAfter)).toBe(0.8 * HOUR);
        expect(open.cause).toBeInstanceOf(MintFailed);
        expect((open.cause as MintFailed<Error>).cause).toBe(failures[2]);
        expect(calls).toHaveLength(4);
        const recovered = yield* provider.get.pipe(
          Effect.catchTag('BreakerOpen', (e) =>
            Effect.succeed(`retry in ${Duration.toMillis(e.retryAfter)}`),
          ),
        );
        expect(recovered).toBe(`retry in ${0.8 * HOUR}`);
      }),
    ));

  it('after the cooldown admits ONE half-open probe that fibers join; success closes it', () =>
    runTest(
      Effect.gen(function* () {
        const { provider, calls, of, succeed } = yield* openBreaker();
        yield* advance(0.2 * HOUR);
        const waiters = yield* Effect.forEach(Array.from({ length: 20 }), () =>
          start(provider.get),
        );
        expect(calls).toHaveLength(5);
        expect((yield* provider.snapshot).breaker.state).toBe('half-open');
        yield* succeed('token-2');
        expect(new Set(yield* Effect.forEach(waiters, Fiber.join))).toEqual(new Set(['token-2']));
        expect((yield* provider.snapshot).breaker).toEqual({
          state: 'closed',
          failures: 0,
          retryAfterMs: 0,
        });
        expect(of('breaker').map((e) => `${e.from}>${e.to}`)).toEqual([
          'closed>open',
          'open>half-open',
          'half-open>closed',
        ]);
      }),
    ));

  it('a failed probe re-opens the breaker for a fresh cooldown, measured on TestClock', () =>
    runTest(
      Effect.gen(function* () {
        const { provider, calls, fail, succeed } = yield* openBreaker();
        yield* advance(0.2 * HOUR);
        const probe = yield* start(Effect.exit(provider.get));
        yield* fail(new Error('still down'));
        expect(failureOf(yield* Fiber.join(probe))).toBeInstanceOf(MintFailed);
        expect((yield* provider.snapshot).breaker).toMatchObject({
          state: 'open',
          retryAfterMs: MINUTE,
        });
        yield* advance(MINUTE - 1);
        expect(failureOf(yield* Effect.exit(provider.get))).toBeInstanceOf(BreakerOpen);
        expect(calls).toHaveLength(5);
        yield* advance(1);
        const next = yield* start(provider.get);
        expect(calls).toHaveLength(6);
        yield* succeed('token-3');
        expect(yield* Fiber.join(next)).toBe('token-3');
      }),
    ));
});

describe('7. invalid minted credentials', () => {
  it.each([
    ['no value', { expiresAt: START + HOUR }],
    ['NaN expiresAt', { value: 'x', expiresAt: Number.NaN }],
    ['a string expiresAt', { value: 'x', expiresAt: '1700000000000' }],
    ['not an object', 'just-a-token'],
  ])('%s fails the layer with InvalidCredential (SLUICE_INVALID_CREDENTIAL)', (_label, minted) =>
    runTest(
      Effect.gen(function* () {
        const exit = yield* Effect.exit(
          makeCredentialProvider({ mint: () => Effect.succeed(minted as never) }),
        );
        const error = failureOf(exit);
        expect(error).toBeInstanceOf(InvalidCredential);
        expect(error).toMatchObject({ code: 'SLUICE_INVALID_CREDENTIAL' });
        expect(String((error as InvalidCredential).message)).not.toContain('just-a-token');
      }),
    ),
  );

  it('an already expired credential fails with InvalidCredential (SLUICE_MINTED_CREDENTIAL_EXPIRED)', () =>
    runTest(
      Effect.gen(function* () {
        const exit = yield* Effect.exit(
          makeCredentialProvider({
            mint: () => Effect.map(now, (at) => ({ value: 'x', expiresAt: at - 1 })),
          }),
        );
        expect(failureOf(exit)).toMatchObject({
          _tag: 'InvalidCredential',
          code: 'SLUICE_MINTED_CREDENTIAL_EXPIRED',
        });
      }),
    ));

  it('a credential expiring 1 ms ahead on the Effect clock is accepted', () =>
    runTest(
      Effect.gen(function* () {
        const provider = yield* makeCredentialProvider({
          mint: () => Effect.map(now, (at) => ({ value: 'x', expiresAt: at + 1 })),
        });
        expect(Option.getOrUndefined(yield* provider.peek)?.value).toBe('x');
      }),
    ));
});

describe('8. the refresh-loop guard', () => {
  it('when the issuer keeps returning the same credential inside the floor window, refreshes at most every minRefreshInterval', () =>
    runTest(
      Effect.gen(function* () {
        let mints = 0;
        const expiresAt = START + 100_000; // due at 70 s (30 s floor)
        const provider = yield* makeCredentialProvider({
          mint: () =>
            Effect.sync(() => {
              mints++;
              return { value: 'same', expiresAt };
            }),
          jitter: 0,
          minRefreshInterval: '5 seconds',
        });
        yield* advance(70_000);
        for (let t = 70_000; t < 99_900; t += 100) {
          expect(yield* provider.get).toBe('same');
          yield* advance(100);
        }
        expect(mints - 1).toBeGreaterThanOrEqual(5);
        expect(mints - 1).toBeLessThanOrEqual(6);
      }),
    ));

  it('a credential shorter-lived than the floor is not refreshed again before minRefreshInterval', () =>
    runTest(
      Effect.gen(function* () {
        let mints = 0;
        const provider = yield* makeCredentialProvider({
          mint: () =>
            Effect.map(now, (at) => {
              mints++;
              return { value: `t${mints}`, expiresAt: at + 10_000 };
            }),
        });
        yield* provider.get;
        yield* advance(4_999);
        yield* provider.get;
        expect(mints).toBe(1);
        yield* advance(1);
        yield* provider.get;
        yield* flush();
        expect(mints).toBe(2);
      }),
    ));
});

describe('9. hygiene: timers, reporters, defects', () => {
  it("schedule 'timer' refreshes an idle provider when TestClock reaches the due point, with no caller", () =>
    runTest(
      Effect.gen(function* () {
        const m = yield* started({ schedule: 'timer' });
        yield* advance(0.8 * HOUR - 1);
        expect(m.calls).toHaveLength(1);
        yield* advance(1);
        yield* until(() => m.calls.length === 2, 'the timer refresh');
        expect(m.last().context.reason).toBe('proactive');
        yield* m.succeed('token-2');
        expect(Option.getOrUndefined(yield* m.provider.peek)?.value).toBe('token-2');
      }),
    ));

  it('a reporter that throws in every hook never changes what fibers get', () =>
    runTest(
      Effect.gen(function* () {
        const boom = () => {
          throw new Error('reporter bug');
        };
        const reporter: Reporter = {
          onRefreshStart: boom,
          onRefreshSuccess: boom,
          onRefreshFailure: boom,
          onBreakerStateChange: boom,
          onCoalesced: boom,
        };
        const m = yield* started({ reporter, breaker: { failureThreshold: 1, cooldown: 1000 } });
        yield* advance(HOUR);
        const failing = yield* start(Effect.exit(m.provider.get));
        yield* m.fail(new Error('down'));
        expect(failureOf(yield* Fiber.join(failing))).toBeInstanceOf(MintFailed);
        yield* advance(1000);
        const probe = yield* start(m.provider.get);
        yield* m.succeed('token-2');
        expect(yield* Fiber.join(probe)).toBe('token-2');
      }),
    ));

  it('a reporter hook that calls back into the provider sees a consistent state', () =>
    runTest(
      Effect.gen(function* () {
        const seen: Array<string | undefined> = [];
        let provider: { peek: Effect.Effect<Option.Option<{ value: string }>> } | undefined;
        const reporter: Reporter = {
          onRefreshSuccess: () => {
            if (provider !== undefined) {
              seen.push(Option.getOrUndefined(Effect.runSync(provider.peek))?.value);
            }
          },
        };
        const m = yield* started({ reporter });
        provider = m.provider;
        yield* advance(HOUR);
        const waiting = yield* start(m.provider.get);
        yield* m.succeed('token-2');
        expect(yield* Fiber.join(waiting)).toBe('token-2');
        expect(seen).toEqual(['token-2']);
      }),
    ));

  it('a mint that dies makes every waiter die with the same defect, and counts as a failure', () =>
    runTest(
      Effect.gen(function* () {
        let attempt = 0;
        const defect = new Error('bug in the mint');
        const provider = yield* makeCredentialProvider({
          lazy: true,
          mint: () =>
            Effect.suspend(() =>
              ++attempt === 1 ? Effect.die(defect) : Effect.succeed({ value: 'ok' }),
            ),
        });
        const exits = yield* Effect.all([Effect.exit(provider.get), Effect.exit(provider.get)], {
          concurrency: 'unbounded',
        });
        for (const exit of exits) {
          expect(Exit.isFailure(exit) && Cause.squash(exit.cause)).toBe(defect);
        }
        expect((yield* provider.snapshot).breaker.failures).toBe(1);
        expect(yield* provider.get).toBe('ok');
      }),
    ));

  it('a mint function that throws instead of returning an Effect is a defect for its waiters', () =>
    runTest(
      Effect.gen(function* () {
        const bug = new TypeError('not an effect');
        const provider = yield* makeCredentialProvider<string>({
          lazy: true,
          mint: () => {
            throw bug;
          },
        });
        const exit = yield* Effect.exit(provider.get);
        expect(Exit.isFailure(exit) && Cause.squash(exit.cause)).toBe(bug);
      }),
    ));
});

describe('a hostile Clock', () => {
  it.each([
    ['returns NaN', () => Number.NaN],
    [
      'throws',
      () => {
        throw new Error('clock broke');
      },
    ],
  ])(
    'a Clock that %s makes get fail with InvalidClock, never serve the cached credential',
    (_label, read) =>
      runTest(
        Effect.gen(function* () {
          const testClock = yield* Clock.Clock;
          let broken = false;
          const hostile: Clock.Clock = {
            ...testClock,
            currentTimeMillisUnsafe: () => (broken ? read() : testClock.currentTimeMillisUnsafe()),
          };
          const m = yield* started().pipe(Effect.provideService(Clock.Clock, hostile));
          expect(yield* m.provider.get).toBe('token-1');
          broken = true;
          const error = failureOf(yield* Effect.exit(m.provider.get));
          expect(error).toBeInstanceOf(InvalidClock);
          expect(error).toMatchObject({ code: 'SLUICE_INVALID_CLOCK' });
          broken = false;
          expect(yield* m.provider.get).toBe('token-1');
        }),
      ),
  );
});

describe('layer teardown', () => {
  it('closing the scope interrupts the mint in flight, waits for its finalizers and fails its waiters with ProviderClosed', () =>
    runTest(
      Effect.gen(function* () {
        const m = manualMint<string, Error>();
        const inner = yield* Scope.make();
        const provider = yield* makeCredentialProvider({ mint: m.mint, lazy: true }).pipe(
          Scope.provide(inner),
        );
        const waiter = yield* start(Effect.exit(provider.get));
        expect(m.calls).toHaveLength(1);
        yield* Scope.close(inner, Exit.void);
        // The close waited for the mint fiber: its finalizer has already run.
        expect(m.last().interrupted).toBe(true);
        expect(m.last().finalized).toBe(true);
        const error = failureOf(yield* Fiber.join(waiter));
        expect(error).toBeInstanceOf(ProviderClosed);
        expect(error).toMatchObject({ code: 'SLUICE_PROVIDER_CLOSED' });
        expect(failureOf(yield* Effect.exit(provider.get))).toBeInstanceOf(ProviderClosed);
        expect((yield* provider.snapshot).status).toBe('closed');
      }),
    ));

  it('leaves no timer fiber behind: after teardown TestClock can pass the due point and the mint timeout and nothing runs', () =>
    runTest(
      Effect.gen(function* () {
        const { reporter, events } = recordingReporter();
        const m = manualMint<string, Error>();
        const scope = yield* Scope.make();
        const building = yield* Effect.forkChild(
          makeCredentialProvider({
            mint: m.mint,
            jitter: 0,
            schedule: 'timer',
            reporter,
            mintTimeout: '10 seconds',
          }).pipe(Scope.provide(scope)),
        );
        yield* until(() => m.calls.length === 1, 'the first mint');
        yield* m.succeed('token-1');
        const provider = yield* Fiber.join(building);
        yield* advance(0.8 * HOUR); // the timer refresh starts, its mint timeout is armed
        yield* until(() => m.calls.length === 2, 'the timer refresh');
        const recorded = events.length;
        yield* Scope.close(scope, Exit.void);
        yield* advance(2 * HOUR);
        yield* flush();
        expect(m.calls).toHaveLength(2);
        expect(events).toHaveLength(recorded);
        expect((yield* provider.snapshot).status).toBe('closed');
      }),
    ));

  it('interrupting the layer build while the first mint runs interrupts that mint', () =>
    runTest(
      Effect.gen(function* () {
        const m = manualMint<string, Error>();
        const building = yield* Effect.forkChild(
          Effect.scoped(makeCredentialProvider({ mint: m.mint })),
        );
        yield* until(() => m.calls.length === 1);
        yield* Fiber.interrupt(building);
        expect(m.last().interrupted).toBe(true);
      }),
    ));
});

describe('options', () => {
  it.each([
    ['mintTimeout', { mintTimeout: '0 millis' }],
    ['mintTimeout', { mintTimeout: Number.NaN }],
    ['refreshFloor', { refreshFloor: '1.5 millis' }],
    ['minRefreshInterval', { minRefreshInterval: -1 }],
    ['breaker.cooldown', { breaker: { cooldown: 'forever' } }],
    ['breaker', { breaker: null }],
    ['refreshAt', { refreshAt: 2 }],
    ['mint', { mint: 'not a function' }],
    ['lazy', { lazy: 'yes' }],
  ])('a bad %s dies with InvalidOptionError naming it', (option, bad) =>
    runTest(
      Effect.gen(function* () {
        const exit = yield* Effect.exit(
          makeCredentialProvider({
            mint: () => Effect.succeed({ value: 'x' }),
            ...(bad as object),
          } as CredentialProviderOptions<string, never, never>),
        );
        expect(Exit.isFailure(exit)).toBe(true);
        const defect = Exit.isFailure(exit) ? Cause.squash(exit.cause) : undefined;
        expect(defect).toBeInstanceOf(InvalidOptionError);
        expect((defect as InvalidOptionError).option).toBe(option);
      }),
    ),
  );

  it('durations accept Duration values, strings and milliseconds', () =>
    runTest(
      Effect.gen(function* () {
        const m = yield* started({
          refreshFloor: Duration.minutes(30),
          minRefreshInterval: 0,
          mintTimeout: '2 seconds',
        });
        expect((yield* m.provider.snapshot).refreshDueAt).toBe(START + 0.5 * HOUR);
        yield* advance(HOUR);
        const waiting = yield* start(Effect.exit(m.provider.get));
        yield* advance(2_000);
        expect(failureOf(yield* Fiber.join(waiting))).toBeInstanceOf(MintTimeout);
      }),
    ));
});

describe('6b. retry hints (issue 14: Retry-After, in Effect)', () => {
  /** A mint failure carrying an issuer's retry hint, as @sluice/oauth's errors do. */
  const hinted = (ms: number) => Object.assign(new Error('HTTP 429'), { retryAfterMs: ms });

  it("a failure with retryAfterMs opens the breaker at once: no mint until the issuer's time, MintFailed carries the hint", () =>
    runTest(
      Effect.gen(function* () {
        const env = yield* started({}, MINUTE);
        yield* advance(MINUTE); // expired: the next get mints and waits
        const first = yield* Effect.forkChild(Effect.exit(env.provider.get));
        yield* until(() => env.calls.length === 2, 'the second mint');
        yield* env.fail(hinted(120_000));
        const failed = failureOf(yield* Fiber.join(first));
        expect(failed).toBeInstanceOf(MintFailed);
        expect((failed as MintFailed<Error>).retryAfterMs).toBe(120_000);
        const refused = failureOf(yield* Effect.exit(env.provider.get));
        expect(refused).toBeInstanceOf(BreakerOpen);
        expect(Duration.toMillis((refused as BreakerOpen).retryAfter)).toBe(120_000);
        yield* advance(119_000);
        expect(failureOf(yield* Effect.exit(env.provider.get))).toBeInstanceOf(BreakerOpen);
        expect(env.calls).toHaveLength(2);
        yield* advance(1_000);
        const probe = yield* Effect.forkChild(env.provider.get);
        yield* until(() => env.calls.length === 3, 'the probe');
        yield* env.succeed('token-2');
        expect(yield* Fiber.join(probe)).toBe('token-2');
      }),
    ));

  it('breaker.maxRetryAfter caps the hint, and 0 ignores it', () =>
    runTest(
      Effect.gen(function* () {
        const capped = yield* started({ breaker: { maxRetryAfter: '30 seconds' } }, MINUTE);
        yield* advance(MINUTE);
        const a = yield* Effect.forkChild(Effect.exit(capped.provider.get));
        yield* until(() => capped.calls.length === 2, 'the second mint');
        yield* capped.fail(hinted(120_000));
        yield* Fiber.join(a);
        const refused = failureOf(yield* Effect.exit(capped.provider.get));
        expect(Duration.toMillis((refused as BreakerOpen).retryAfter)).toBe(30_000);

        const ignoring = yield* started({ breaker: { maxRetryAfter: 0 } }, MINUTE);
        yield* advance(MINUTE);
        const b = yield* Effect.forkChild(Effect.exit(ignoring.provider.get));
        yield* until(() => ignoring.calls.length === 2, 'the second mint');
        yield* ignoring.fail(hinted(120_000));
        yield* Fiber.join(b);
        const again = yield* Effect.forkChild(Effect.exit(ignoring.provider.get));
        yield* until(() => ignoring.calls.length === 3, 'a third mint: the hint was ignored');
        yield* ignoring.succeed('token-2');
        yield* Fiber.join(again);
      }),
    ));
});
