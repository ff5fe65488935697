/**
 * One credential kept fresh, as an Effect service: a scoped constructor and a `Layer` whose
 * scope is the provider's lifetime. A thin shell over core's `createRefreshingProvider`.
 */

import {
  type Credential,
  checkKnownKeys,
  createRefreshingProvider,
  InvalidOptionError,
  type ProviderSnapshot,
  type RefreshingProvider,
} from '@sluice/core';
import { Clock, type Context, Effect, FiberSet, Layer, Option, Random, type Scope } from 'effect';
import type { CredentialError } from './errors.js';
import { runEffectMint } from './internal/effect-mint.js';
import { fiberTimers } from './internal/fiber-timers.js';
import { checkObject, corePolicy, POLICY_KEYS } from './internal/policy.js';
import { served } from './internal/serve.js';
import { fromCall } from './internal/translate.js';
import type { CredentialProviderOptions } from './options.js';

/**
 * A credential kept fresh: the shape of the service a {@link credentialProviderLayer}
 * provides. Every member is an Effect; declare your own service key for it.
 *
 * @typeParam T - the credential's value (an access token string, say).
 * @typeParam E - the mint's typed error.
 * @example
 * ```ts
 * class BillingToken extends Context.Service<BillingToken, CredentialProvider<string, HttpError>>()(
 *   'app/BillingToken',
 * ) {}
 * ```
 */
export interface CredentialProvider<T, E = never> {
  /**
   * The credential's value. Served from the cache while valid (a due one is served AND
   * refreshed in the background); an expired or missing one is awaited from ONE mint shared
   * by every fiber that waits. Interrupting a waiting fiber ends only its own wait, never
   * the mint.
   */
  readonly get: Effect.Effect<T, CredentialError<E>>;
  /** As {@link CredentialProvider.get}, with the whole credential (value and `expiresAt`). */
  readonly getCredential: Effect.Effect<Credential<T>, CredentialError<E>>;
  /** The cached credential if it has not expired; never mints. */
  readonly peek: Effect.Effect<Option.Option<Credential<T>>>;
  /**
   * Drops the cached credential (after a 401, say) so the next `get` mints. With `rejected`
   * (the value or credential the server refused), does nothing unless the cache still holds
   * that one, so late 401s for a credential already replaced cause no mint. Succeeds with
   * whether the credential was dropped.
   */
  invalidate(rejected?: T | Credential<T>): Effect.Effect<boolean>;
  /** Mints now (reason `'forced'`), or joins the mint in flight. */
  readonly refresh: Effect.Effect<Credential<T>, CredentialError<E>>;
  /** Diagnostics (status, due point, breaker, last error); never the credential. */
  readonly snapshot: Effect.Effect<ProviderSnapshot>;
}

/**
 * Builds a {@link CredentialProvider} that lives in the current `Scope`: closing the scope
 * closes the provider, interrupts the mint in flight (its waiters fail with
 * `ProviderClosed`) and ends every timer fiber. Effect's `Clock` is the provider's clock and
 * schedules its timers, and Effect's `Random` draws its jitter, so under `TestClock` time
 * moves only with `TestClock.adjust`.
 *
 * The mint runs on a fiber with the services of the scope it was built in, so its
 * requirements `R` become this Effect's. Unless `lazy`, the first mint runs here and its
 * failure fails this Effect.
 *
 * Invalid options die with core's `InvalidOptionError` (code `SLUICE_INVALID_OPTION`) naming
 * the option.
 *
 * @example
 * ```ts
 * const program = Effect.gen(function* () {
 *   const tokens = yield* makeCredentialProvider({
 *     mint: () => fetchToken.pipe(Effect.map((t) => credentialFromExpiresIn(t.access_token, t.expires_in))),
 *   });
 *   return yield* tokens.get;
 * }).pipe(Effect.scoped);
 * ```
 */
export function makeCredentialProvider<T, E = never, R = never>(
  options: CredentialProviderOptions<T, E, R>,
): Effect.Effect<CredentialProvider<T, E>, CredentialError<E>, R | Scope.Scope> {
  return Effect.gen(function* () {
    const { mint, lazy, policy } = yield* Effect.sync(() => checkOptions(options));
    const name = typeof policy.name === 'string' ? policy.name : 'sluice';
    // Created before the provider, so released after it: its finalizer interrupts whatever
    // fiber is left (a mint finishing its own finalizers) and waits for it.
    const run = yield* FiberSet.makeRuntime<R>();
    const clock = yield* Clock.Clock;
    const random = yield* Random.Random;
    const provider = yield* Effect.acquireRelease(
      Effect.promise(() =>
        createRefreshingProvider<T>({
          ...policy,
          // The first mint runs below as an interruptible Effect, not inside the factory.
          lazy: true,
          now: () => clock.currentTimeMillisUnsafe(),
          random: () => random.nextDoubleUnsafe(),
          timers: fiberTimers(run),
          mint: (context) => runEffectMint(mint, context, run, name),
        }),
      ),
      (provider) => Effect.sync(() => provider.close()),
    );
    const service = wrapProvider<T, E>(provider);
    if (!lazy) yield* service.getCredential;
    return service;
  });
}

/**
 * A `Layer` that provides `service` with a {@link CredentialProvider} built by
 * {@link makeCredentialProvider}: the provider lives in the layer's scope and is closed when
 * the layer is released. The layer fails to build when the first mint fails (unless `lazy`),
 * and requires what the mint requires.
 *
 * @example
 * ```ts
 * class BillingToken extends Context.Service<BillingToken, CredentialProvider<string, HttpError>>()(
 *   'app/BillingToken',
 * ) {}
 * const BillingTokenLive = credentialProviderLayer(BillingToken, {
 *   name: 'billing-api',
 *   mint: () => fetchBillingToken, // Effect<Credential<string>, HttpError, HttpClient>
 *   mintTimeout: '10 seconds',
 * });
 * const program = BillingToken.use((tokens) => tokens.get).pipe(Effect.provide(BillingTokenLive));
 * ```
 */
export function credentialProviderLayer<I, T, E = never, R = never>(
  service: Context.Key<I, CredentialProvider<T, E>>,
  options: CredentialProviderOptions<T, E, R>,
): Layer.Layer<I, CredentialError<E>, R> {
  return Layer.effect(service, makeCredentialProvider(options));
}

function checkOptions<T, E, R>(options: CredentialProviderOptions<T, E, R>) {
  checkObject(options, 'options', 'an object { mint, ... }');
  checkKnownKeys(options, [...POLICY_KEYS, 'mint', 'lazy'], '');
  const { mint, lazy } = options;
  if (typeof mint !== 'function') {
    throw new InvalidOptionError('mint', 'a function (context) => Effect<Credential>', mint);
  }
  if (lazy !== undefined && typeof lazy !== 'boolean') {
    throw new InvalidOptionError('lazy', 'a boolean', lazy);
  }
  return { mint, lazy: lazy === true, policy: corePolicy(options) };
}

function wrapProvider<T, E>(provider: RefreshingProvider<T>): CredentialProvider<T, E> {
  const peek = () => provider.peek();
  const touch = () => provider.get();
  return {
    get: served<T, T, CredentialError<E>>(
      peek,
      touch,
      (credential) => credential.value,
      (signal) => provider.get({ signal }),
    ),
    getCredential: served<T, Credential<T>, CredentialError<E>>(
      peek,
      touch,
      (credential) => credential,
      (signal) => provider.getCredential({ signal }),
    ),
    peek: Effect.sync(() => Option.fromUndefinedOr(provider.peek())),
    invalidate: (rejected) => Effect.sync(() => provider.invalidate(rejected)),
    refresh: fromCall<Credential<T>, CredentialError<E>>((signal) => provider.refresh({ signal })),
    snapshot: Effect.sync(() => provider.snapshot()),
  };
}
