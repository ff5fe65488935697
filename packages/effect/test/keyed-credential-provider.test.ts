import { InvalidOptionError } from '@sluice/core';
import { Cause, Duration, Effect, Exit, Fiber, Option, Scope } from 'effect';
import { describe, expect, it } from 'vitest';
import {
  BreakerOpen,
  type KeyedCredentialProviderOptions,
  MintFailed,
  MintTimeout,
  makeKeyedCredentialProvider,
  ProviderClosed,
} from '../src/index.js';
import {
  advance,
  flush,
  HOUR,
  MINUTE,
  manualMint,
  recordingReporter,
  runTest,
  START,
  start,
  until,
} from './support/harness.js';

type Options = Partial<KeyedCredentialProviderOptions<string, string, Error, never>>;

function keyed(options: Options = {}) {
  return Effect.gen(function* () {
    const m = manualMint<string, Error>();
    const provider = yield* makeKeyedCredentialProvider<string, string, Error>({
      mint: m.keyedMint,
      jitter: 0,
      ...options,
    });
    return { provider, ...m };
  });
}

function failureOf<A, E>(exit: Exit.Exit<A, E>): E {
  if (Exit.isSuccess(exit)) throw new Error('expected a failure, got a success');
  return Option.getOrThrow(Cause.findErrorOption(exit.cause));
}

describe('keyed providers', () => {
  it('fibers on the same key share ONE mint that receives the key; different keys mint independently', () =>
    runTest(
      Effect.gen(function* () {
        const m = yield* keyed();
        const onA = yield* Effect.forEach(Array.from({ length: 50 }), () =>
          start(m.provider.get('a')),
        );
        const onB = yield* Effect.forEach(Array.from({ length: 50 }), () =>
          start(m.provider.get('b')),
        );
        expect(m.calls.map((call) => [call.key, call.context.reason])).toEqual([
          ['a', 'initial'],
          ['b', 'initial'],
        ]);
        yield* m.succeed('token-a', HOUR, m.calls[0]);
        yield* m.fail(new Error('b down'), m.calls[1]);
        expect(new Set(yield* Effect.forEach(onA, Fiber.join))).toEqual(new Set(['token-a']));
        const bExits = yield* Effect.forEach(onB, (fiber) => Fiber.await(fiber));
        expect(bExits.every((exit) => failureOf(exit) instanceof MintFailed)).toBe(true);
        expect(yield* m.provider.keys).toEqual(['a', 'b']);
        expect(yield* m.provider.size).toBe(2);
        expect(Option.getOrUndefined(yield* m.provider.snapshot('a'))).toMatchObject({
          key: 'a',
          status: 'fresh',
        });
        expect(Option.getOrUndefined(yield* m.provider.snapshot('b'))).toMatchObject({
          key: 'b',
          status: 'empty',
          lastError: expect.objectContaining({ message: expect.stringContaining('b down') }),
        });
        expect(Option.isNone(yield* m.provider.snapshot('c'))).toBe(true);
        expect((yield* m.provider.snapshots).map((s) => s.key)).toEqual(['a', 'b']);
      }),
    ));

  it("interrupting every fiber waiting on a key leaves that key's mint running", () =>
    runTest(
      Effect.gen(function* () {
        const m = yield* keyed();
        const waiters = yield* Effect.forEach([1, 2, 3], () => start(m.provider.get('a')));
        yield* Fiber.interruptAll(waiters);
        yield* flush();
        expect(m.last().interrupted).toBe(false);
        yield* m.succeed('token-a');
        expect(Option.getOrUndefined(yield* m.provider.peek('a'))?.value).toBe('token-a');
      }),
    ));

  it("a key's mint timeout runs on TestClock and fails only that key's waiters", () =>
    runTest(
      Effect.gen(function* () {
        const m = yield* keyed({ mintTimeout: '30 seconds' });
        const a = yield* start(Effect.exit(m.provider.get('a')));
        yield* advance(10_000);
        const b = yield* start(m.provider.get('b'));
        yield* advance(20_000);
        const error = failureOf(yield* Fiber.join(a));
        expect(error).toBeInstanceOf(MintTimeout);
        expect(Duration.toMillis((error as MintTimeout).timeout)).toBe(30_000);
        yield* until(() => m.calls[0]?.interrupted === true, "a's mint to be interrupted");
        expect(m.calls[1]?.interrupted).toBe(false);
        yield* m.succeed('token-b', HOUR, m.calls[1]);
        expect(yield* Fiber.join(b)).toBe('token-b');
      }),
    ));

  it('delete(key) interrupts the key mint; its waiters fail with ProviderClosed', () =>
    runTest(
      Effect.gen(function* () {
        const m = yield* keyed();
        const waiter = yield* start(Effect.exit(m.provider.get('a')));
        expect(yield* m.provider.delete('a')).toBe(true);
        expect(failureOf(yield* Fiber.join(waiter))).toBeInstanceOf(ProviderClosed);
        yield* until(() => m.last().interrupted, 'the mint to be interrupted');
        expect(yield* m.provider.delete('a')).toBe(false);
      }),
    ));

  it('maxKeys drops the least recently used key; idleTtl drops a key unused that long on TestClock; cache hits count as uses', () =>
    runTest(
      Effect.gen(function* () {
        const { reporter, of } = recordingReporter();
        const m = yield* keyed({ maxKeys: 2, idleTtl: '10 minutes', reporter });
        for (const key of ['a', 'b', 'a', 'c']) {
          const fiber = yield* start(m.provider.get(key));
          if (m.calls.length > 0 && m.last().key === key) yield* m.succeed(`token-${key}`);
          expect(yield* Fiber.join(fiber)).toBe(`token-${key}`);
        }
        expect(m.calls.map((call) => call.key)).toEqual(['a', 'b', 'c']);
        expect(yield* m.provider.keys).toEqual(['a', 'c']);
        expect(of('keyDropped')).toEqual([expect.objectContaining({ key: 'b', reason: 'lru' })]);
        yield* advance(5 * MINUTE);
        expect(yield* m.provider.get('c')).toBe('token-c'); // a cache hit counts as a use
        yield* advance(5 * MINUTE);
        expect(Option.isNone(yield* m.provider.peek('a'))).toBe(true);
        expect(yield* m.provider.keys).toEqual(['c']);
        expect(of('keyDropped').map((e) => `${e.key}:${e.reason}`)).toEqual(['b:lru', 'a:idle']);
      }),
    ));

  it("breakerScope 'shared': once one key opens the breaker, a new key fails fast with BreakerOpen", () =>
    runTest(
      Effect.gen(function* () {
        const m = yield* keyed({
          breakerScope: 'shared',
          breaker: { failureThreshold: 2, cooldown: '1 minute' },
        });
        for (const key of ['a', 'b']) {
          const fiber = yield* start(Effect.exit(m.provider.get(key)));
          yield* m.fail(new Error(`${key} down`));
          yield* Fiber.join(fiber);
        }
        const error = failureOf(yield* Effect.exit(m.provider.get('c')));
        expect(error).toBeInstanceOf(BreakerOpen);
        expect(Duration.toMillis((error as BreakerOpen).retryAfter)).toBe(MINUTE);
        expect(m.calls).toHaveLength(2);
      }),
    ));

  it('keyOf caches object keys under their string; a keyOf that returns no string is a defect', () =>
    runTest(
      Effect.gen(function* () {
        let mints = 0;
        const provider = yield* makeKeyedCredentialProvider({
          mint: (key: { tenant: string }) =>
            Effect.sync(() => {
              mints++;
              return { value: `token-${key.tenant}` };
            }),
          keyOf: (key) => key.tenant,
        });
        expect(yield* provider.get({ tenant: 'acme' })).toBe('token-acme');
        expect(yield* provider.get({ tenant: 'acme' })).toBe('token-acme');
        expect(mints).toBe(1);
        expect(yield* provider.keys).toEqual(['acme']);
        const bad = yield* Effect.exit(provider.get({ tenant: 42 as unknown as string }));
        const defect = Exit.isFailure(bad) ? Cause.squash(bad.cause) : undefined;
        expect(defect).toBeInstanceOf(InvalidOptionError);
        expect((defect as InvalidOptionError).option).toBe('keyOf(key)');
      }),
    ));

  it('closing the scope closes every key, interrupting their mints', () =>
    runTest(
      Effect.gen(function* () {
        const m = manualMint<string, Error>();
        const scope = yield* Scope.make();
        const provider = yield* makeKeyedCredentialProvider({ mint: m.keyedMint }).pipe(
          Scope.provide(scope),
        );
        const waiters = yield* Effect.forEach(['a', 'b'], (key) =>
          start(Effect.exit(provider.get(key))),
        );
        yield* Scope.close(scope, Exit.void);
        expect(m.calls.map((call) => call.interrupted && call.finalized)).toEqual([true, true]);
        for (const waiter of waiters) {
          expect(failureOf(yield* Fiber.join(waiter))).toBeInstanceOf(ProviderClosed);
        }
        expect(failureOf(yield* Effect.exit(provider.get('c')))).toBeInstanceOf(ProviderClosed);
        expect(yield* provider.size).toBe(0);
      }),
    ));

  it.each([
    ['idleTtl', { idleTtl: '0 millis' }],
    ['sweep', { sweep: 'every minute' }],
    ['sweep.interval', { sweep: {} }],
    ['sweep.jitter', { sweep: { interval: '1 minute', jitter: 1 } }],
    ['sweep.concurrency', { sweep: { interval: '1 minute', concurrency: 0 } }],
    ['maxKeys', { maxKeys: 0 }],
    ['mint', { mint: undefined }],
  ])('a bad %s dies with InvalidOptionError naming it', (option, bad) =>
    runTest(
      Effect.gen(function* () {
        const exit = yield* Effect.exit(
          makeKeyedCredentialProvider({
            mint: () => Effect.succeed({ value: 'x' }),
            ...(bad as object),
          } as KeyedCredentialProviderOptions<string, string, never, never>),
        );
        const defect = Exit.isFailure(exit) ? Cause.squash(exit.cause) : undefined;
        expect(defect).toBeInstanceOf(InvalidOptionError);
        expect((defect as InvalidOptionError).option).toBe(option);
      }),
    ),
  );

  it('uses the Effect clock: a key minted at START expires at START + its lifetime on TestClock', () =>
    runTest(
      Effect.gen(function* () {
        const m = yield* keyed();
        const first = yield* start(m.provider.getCredential('a'));
        yield* m.succeed('token-a', HOUR);
        expect((yield* Fiber.join(first)).expiresAt).toBe(START + HOUR);
        yield* advance(HOUR - 1);
        expect(Option.isSome(yield* m.provider.peek('a'))).toBe(true);
        yield* advance(1);
        expect(Option.isNone(yield* m.provider.peek('a'))).toBe(true);
      }),
    ));
});
