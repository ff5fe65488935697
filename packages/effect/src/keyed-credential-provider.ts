/**
 * A credential per key (a token per tenant or audience), as an Effect service: a scoped
 * constructor and a `Layer` whose scope is the keyed provider's lifetime. A thin shell over
 * core's `createKeyedProvider`.
 */

import {
  type Credential,
  checkKnownKeys,
  createKeyedProvider,
  InvalidOptionError,
  type KeyedProvider,
  type KeyedSnapshot,
} from '@sluice/core';
import {
  Clock,
  type Context,
  type Duration,
  Effect,
  FiberSet,
  Layer,
  Option,
  Random,
  type Scope,
} from 'effect';
import type { KeyedCredentialError } from './errors.js';
import { runEffectMint } from './internal/effect-mint.js';
import { fiberTimers } from './internal/fiber-timers.js';
import { checkObject, corePolicy, durationMs, POLICY_KEYS } from './internal/policy.js';
import { served } from './internal/serve.js';
import { fromCall } from './internal/translate.js';
import type { CredentialPolicyOptions, EffectMintContext } from './options.js';

/** The background sweep of a keyed provider: refreshes due and expired keys. */
export interface SweepPolicy {
  /** Time between sweeps, before jitter; whole milliseconds from 1. Required. */
  readonly interval: Duration.Input;
  /**
   * Each interval is spread by up to ±this fraction, in [0, 1), drawn from Effect's `Random`.
   * @default 0.1
   */
  readonly jitter?: number;
  /**
   * Most mints one sweep runs at once; an integer from 1 to 10 000.
   * @default 25
   */
  readonly concurrency?: number;
}

/** Options of {@link makeKeyedCredentialProvider} and {@link keyedCredentialProviderLayer}. */
export interface KeyedCredentialProviderOptions<K, T, E, R> extends CredentialPolicyOptions {
  /** Obtains a new credential for `key`. Runs on its own fiber, shared per key. Required. */
  readonly mint: (key: K, context: EffectMintContext<T>) => Effect.Effect<Credential<T>, E, R>;
  /**
   * Turns a key into the string it is cached under; two keys with the same string share one
   * credential. A key it cannot turn into a string is a defect (`InvalidOptionError`).
   * @default keys must be strings
   */
  readonly keyOf?: (key: K) => string;
  /**
   * Most keys cached at once; past it the least recently used is dropped (its mint
   * interrupted, its waiters fail with `ProviderClosed`); from 1 to 100 000 000.
   * @default 10000
   */
  readonly maxKeys?: number;
  /**
   * A key not used for this long is dropped; whole milliseconds from 1.
   * @default none (only `maxKeys` bounds the cache)
   */
  readonly idleTtl?: Duration.Input;
  /**
   * `'per-key'`: a breaker per key; `'shared'`: one for the whole issuer.
   * @default 'per-key'
   */
  readonly breakerScope?: 'per-key' | 'shared';
  /** Refresh due and expired keys in the background, on fibers in the layer's scope. @default none */
  readonly sweep?: SweepPolicy;
}

/**
 * Credentials per key, each kept fresh by the whole refresh policy: the shape of the service
 * a {@link keyedCredentialProviderLayer} provides.
 *
 * @typeParam K - the key (a tenant id, an audience URL, an object with `keyOf`).
 * @typeParam T - the credential's value.
 * @typeParam E - the mint's typed error.
 * @example
 * ```ts
 * class TenantTokens extends Context.Service<TenantTokens, KeyedCredentialProvider<string, string, HttpError>>()(
 *   'app/TenantTokens',
 * ) {}
 * ```
 */
export interface KeyedCredentialProvider<K, T, E = never> {
  /** As `CredentialProvider.get`, for `key`; the key's provider is created on first use. */
  get(key: K): Effect.Effect<T, KeyedCredentialError<E>>;
  /** As `CredentialProvider.getCredential`, for `key`. */
  getCredential(key: K): Effect.Effect<Credential<T>, KeyedCredentialError<E>>;
  /** The key's credential if cached and not expired; never mints. */
  peek(key: K): Effect.Effect<Option.Option<Credential<T>>>;
  /** As `CredentialProvider.invalidate`, for `key`. */
  invalidate(key: K, rejected?: T | Credential<T>): Effect.Effect<boolean>;
  /** As `CredentialProvider.refresh`, for `key`. */
  refresh(key: K): Effect.Effect<Credential<T>, KeyedCredentialError<E>>;
  /** Drops `key`, interrupting its mint; succeeds with whether it was cached. */
  delete(key: K): Effect.Effect<boolean>;
  /** Diagnostics of `key`, or `None` when it is not cached. */
  snapshot(key: K): Effect.Effect<Option.Option<KeyedSnapshot>>;
  /** Diagnostics of every cached key, least recently used first. */
  readonly snapshots: Effect.Effect<ReadonlyArray<KeyedSnapshot>>;
  /** The string forms of the cached keys, least recently used first. */
  readonly keys: Effect.Effect<ReadonlyArray<string>>;
  /** How many keys are cached. */
  readonly size: Effect.Effect<number>;
}

/**
 * Builds a {@link KeyedCredentialProvider} that lives in the current `Scope`: closing the
 * scope closes every key (interrupting their mints), stops the sweep and ends every timer
 * fiber. As {@link makeCredentialProvider}, Effect's `Clock`, `Random` and fibers are the
 * provider's clock, jitter and timers; each mint runs with the scope's services. Keys are
 * minted on first use, so building never mints and never fails; invalid options die with
 * `InvalidOptionError` naming the option.
 *
 * @example
 * ```ts
 * const program = Effect.gen(function* () {
 *   const tenants = yield* makeKeyedCredentialProvider({
 *     mint: (tenant: string) => fetchTenantToken(tenant),
 *     maxKeys: 1_000,
 *     idleTtl: '1 hour',
 *   });
 *   return yield* tenants.get('acme');
 * }).pipe(Effect.scoped);
 * ```
 */
export function makeKeyedCredentialProvider<K, T, E = never, R = never>(
  options: KeyedCredentialProviderOptions<K, T, E, R>,
): Effect.Effect<KeyedCredentialProvider<K, T, E>, never, R | Scope.Scope> {
  return Effect.gen(function* () {
    const checked = yield* Effect.sync(() => checkOptions(options));
    const { mint, policy, sweep } = checked;
    const name = typeof policy.name === 'string' ? policy.name : 'sluice';
    const run = yield* FiberSet.makeRuntime<R>();
    const clock = yield* Clock.Clock;
    const random = yield* Random.Random;
    const provider = yield* Effect.acquireRelease(
      Effect.sync(() =>
        createKeyedProvider<K, T>({
          ...policy,
          ...checked.keyed,
          now: () => clock.currentTimeMillisUnsafe(),
          random: () => random.nextDoubleUnsafe(),
          timers: fiberTimers(run),
          mint: (key, context) => runEffectMint((c) => mint(key, c), context, run, name),
        }),
      ),
      (provider) => Effect.sync(() => provider.close()),
    );
    if (sweep !== undefined) provider.startSweep(sweep);
    return wrapKeyed<K, T, E>(provider);
  });
}

/**
 * A `Layer` that provides `service` with a {@link KeyedCredentialProvider} built by
 * {@link makeKeyedCredentialProvider}, living in the layer's scope. It never fails to build
 * (keys mint on first use) and requires what the mint requires.
 *
 * @example
 * ```ts
 * const TenantTokensLive = keyedCredentialProviderLayer(TenantTokens, {
 *   name: 'tenant-tokens',
 *   mint: (tenant) => fetchTenantToken(tenant),
 *   sweep: { interval: '1 minute' },
 * });
 * const token = TenantTokens.use((tokens) => tokens.get('acme')).pipe(Effect.provide(TenantTokensLive));
 * ```
 */
export function keyedCredentialProviderLayer<I, K, T, E = never, R = never>(
  service: Context.Key<I, KeyedCredentialProvider<K, T, E>>,
  options: KeyedCredentialProviderOptions<K, T, E, R>,
): Layer.Layer<I, never, R> {
  return Layer.effect(service, makeKeyedCredentialProvider(options));
}

function checkOptions<K, T, E, R>(options: KeyedCredentialProviderOptions<K, T, E, R>) {
  checkObject(options, 'options', 'an object { mint, ... }');
  checkKnownKeys(
    options,
    [...POLICY_KEYS, 'mint', 'keyOf', 'maxKeys', 'idleTtl', 'breakerScope', 'sweep'],
    '',
  );
  const { mint, keyOf, maxKeys, breakerScope } = options;
  if (typeof mint !== 'function') {
    throw new InvalidOptionError('mint', 'a function (key, context) => Effect<Credential>', mint);
  }
  const idleTtlMs = durationMs(options.idleTtl, 'idleTtl', 1);
  const keyed = {
    ...(keyOf === undefined ? {} : { keyOf }),
    ...(maxKeys === undefined ? {} : { maxKeys }),
    ...(breakerScope === undefined ? {} : { breakerScope }),
    ...(idleTtlMs === undefined ? {} : { idleTtlMs }),
  };
  return { mint, keyed, policy: corePolicy(options), sweep: checkSweep(options.sweep) };
}

function checkSweep(sweep: SweepPolicy | undefined) {
  if (sweep === undefined) return undefined;
  checkObject(sweep, 'sweep', 'an object { interval, jitter?, concurrency? }');
  checkKnownKeys(sweep, ['interval', 'jitter', 'concurrency'], 'sweep');
  const intervalMs = durationMs(sweep.interval, 'sweep.interval', 1);
  if (intervalMs === undefined) {
    throw new InvalidOptionError('sweep.interval', 'a Duration (required)', sweep.interval);
  }
  const { jitter, concurrency } = sweep;
  if (jitter !== undefined && (typeof jitter !== 'number' || !(jitter >= 0 && jitter < 1))) {
    throw new InvalidOptionError('sweep.jitter', 'a number in [0, 1)', jitter);
  }
  if (
    concurrency !== undefined &&
    (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 10_000)
  ) {
    throw new InvalidOptionError('sweep.concurrency', 'an integer from 1 to 10000', concurrency);
  }
  return {
    intervalMs,
    ...(jitter === undefined ? {} : { jitter }),
    ...(concurrency === undefined ? {} : { concurrency }),
  };
}

function wrapKeyed<K, T, E>(provider: KeyedProvider<K, T>): KeyedCredentialProvider<K, T, E> {
  return {
    get: (key) =>
      served<T, T, KeyedCredentialError<E>>(
        () => provider.peek(key),
        () => provider.get(key),
        (credential) => credential.value,
        (signal) => provider.get(key, { signal }),
      ),
    getCredential: (key) =>
      served<T, Credential<T>, KeyedCredentialError<E>>(
        () => provider.peek(key),
        () => provider.get(key),
        (credential) => credential,
        (signal) => provider.getCredential(key, { signal }),
      ),
    peek: (key) => Effect.sync(() => Option.fromUndefinedOr(provider.peek(key))),
    invalidate: (key, rejected) => Effect.sync(() => provider.invalidate(key, rejected)),
    refresh: (key) =>
      fromCall<Credential<T>, KeyedCredentialError<E>>((signal) =>
        provider.refresh(key, { signal }),
      ),
    delete: (key) => Effect.sync(() => provider.delete(key)),
    snapshot: (key) => Effect.sync(() => Option.fromUndefinedOr(provider.snapshot(key))),
    snapshots: Effect.sync(() => provider.snapshots()),
    keys: Effect.sync(() => provider.keys()),
    size: Effect.sync(() => provider.size),
  };
}
