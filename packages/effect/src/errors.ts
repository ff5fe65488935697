/**
 * The tagged errors a credential provider's Effects fail with. Each carries a stable `code`
 * (core's `SLUICE_*` code, or for {@link MintFailed} the mint error's own code), so
 * `Effect.catchTag` and `code` both work. Programming mistakes (a bad option, a key `keyOf`
 * cannot turn into a string) are defects, not errors: they die with core's
 * `InvalidOptionError`.
 */

import type { SluiceError } from '@sluice/core';
import { Data, type Duration } from 'effect';

/**
 * The mint failed with its own typed error `E`. Every fiber that waited on that one mint gets
 * the SAME `MintFailed` instance; the breaker counts it as one failure.
 *
 * A mint that dies (a defect) is not a `MintFailed`: every waiter dies with the same defect.
 *
 * @typeParam E - the mint's error type.
 * @example
 * ```ts
 * const token = BillingToken.use((tokens) => tokens.get).pipe(
 *   Effect.catchTag('MintFailed', (failed) => Effect.fail(new Unavailable({ cause: failed.cause }))),
 * );
 * ```
 */
export class MintFailed<E = unknown> extends Data.TaggedError('MintFailed')<{
  /** What the mint failed with, unchanged. */
  readonly cause: E;
  /** `cause.code` when it is a string (`ECONNRESET`, an issuer's code), else `undefined`. */
  readonly code: string | undefined;
  /** For people: the provider's name and the cause's message. */
  readonly message: string;
  /**
   * The issuer's retry hint, in milliseconds: `cause.retryAfterMs` when it is a finite
   * number > 0 (an HTTP 429 or 503 with `Retry-After`). Core's breaker stays open that long
   * (up to `breaker.maxRetryAfter`) before it lets a probe through.
   */
  readonly retryAfterMs?: number | undefined;
}> {}

/**
 * The mint did not settle within `mintTimeout` (measured on Effect's `Clock`, so `TestClock`
 * drives it). The mint's fiber was interrupted; every waiter gets the same instance.
 *
 * @example
 * ```ts
 * tokens.get.pipe(Effect.catchTag('MintTimeout', (e) => Effect.logWarning(`slow issuer: ${Duration.format(e.timeout)}`)));
 * ```
 */
export class MintTimeout extends Data.TaggedError('MintTimeout')<{
  /** Always `'SLUICE_MINT_TIMEOUT'`. */
  readonly code: 'SLUICE_MINT_TIMEOUT';
  /** The timeout that elapsed. */
  readonly timeout: Duration.Duration;
  /** For people. */
  readonly message: string;
}> {}

/**
 * The mint succeeded but returned something that is not a usable credential: not an object,
 * no `value`, an `expiresAt` that is not a finite number of epoch milliseconds
 * (`SLUICE_INVALID_CREDENTIAL`), or one that had already expired
 * (`SLUICE_MINTED_CREDENTIAL_EXPIRED`). The message never contains the value.
 *
 * @example
 * ```ts
 * tokens.get.pipe(Effect.catchTag('InvalidCredential', (e) => Effect.logError(e.code)));
 * ```
 */
export class InvalidCredential extends Data.TaggedError('InvalidCredential')<{
  /** Which check failed. */
  readonly code: 'SLUICE_INVALID_CREDENTIAL' | 'SLUICE_MINTED_CREDENTIAL_EXPIRED';
  /** Core's error, with the details (`expiresAt`, `now`). */
  readonly cause: SluiceError;
  /** For people. */
  readonly message: string;
}> {}

/**
 * No valid credential is cached and the circuit breaker is open after repeated mint failures,
 * so no mint was attempted. `retryAfter` says when the breaker admits its next probe.
 *
 * @example
 * ```ts
 * tokens.get.pipe(
 *   Effect.catchTag('BreakerOpen', (e) => Effect.sleep(e.retryAfter).pipe(Effect.andThen(tokens.get))),
 * );
 * ```
 */
export class BreakerOpen extends Data.TaggedError('BreakerOpen')<{
  /** Always `'SLUICE_BREAKER_OPEN'`. */
  readonly code: 'SLUICE_BREAKER_OPEN';
  /** How long until the breaker admits a half-open probe (zero while another key probes). */
  readonly retryAfter: Duration.Duration;
  /**
   * The last mint failure: a {@link MintFailed}, {@link MintTimeout} or
   * {@link InvalidCredential}, or the defect of a mint that died.
   */
  readonly cause: unknown;
  /** For people. */
  readonly message: string;
}> {}

/**
 * The provider was closed: its layer's scope was released (or, for a keyed provider, the key
 * was dropped while this fiber waited on its mint). Nothing more is served or minted.
 *
 * @example
 * ```ts
 * tokens.get.pipe(Effect.catchTag('ProviderClosed', () => Effect.interrupt));
 * ```
 */
export class ProviderClosed extends Data.TaggedError('ProviderClosed')<{
  /** Always `'SLUICE_PROVIDER_CLOSED'`. */
  readonly code: 'SLUICE_PROVIDER_CLOSED';
  /** For people. */
  readonly message: string;
}> {}

/**
 * Effect's `Clock` returned something other than a finite number of epoch milliseconds (a
 * custom `Clock` that returns `NaN`, say), so the provider cannot tell whether a credential
 * is still valid and serves none.
 *
 * @example
 * ```ts
 * tokens.get.pipe(Effect.catchTag('InvalidClock', (e) => Effect.die(e)));
 * ```
 */
export class InvalidClock extends Data.TaggedError('InvalidClock')<{
  /** Always `'SLUICE_INVALID_CLOCK'`. */
  readonly code: 'SLUICE_INVALID_CLOCK';
  /** Core's error; its own `cause` is what the clock threw, if it threw. */
  readonly cause: SluiceError;
  /** For people. */
  readonly message: string;
}> {}

/**
 * A keyed provider holds `maxKeys` keys and callers wait on the mint of every one of them, so
 * a new key cannot be added without failing those callers. Retry later or raise `maxKeys`.
 *
 * @example
 * ```ts
 * tenants.get(tenant).pipe(Effect.retry({ while: (e) => e._tag === 'KeysBusy', times: 3 }));
 * ```
 */
export class KeysBusy extends Data.TaggedError('KeysBusy')<{
  /** Always `'SLUICE_KEYS_BUSY'`. */
  readonly code: 'SLUICE_KEYS_BUSY';
  /** The `maxKeys` option that was reached. */
  readonly maxKeys: number;
  /** For people. */
  readonly message: string;
}> {}

/**
 * Everything `get`, `getCredential` and `refresh` of a `CredentialProvider` can fail
 * with, for a mint whose error type is `E`.
 */
export type CredentialError<E> =
  | MintFailed<E>
  | MintTimeout
  | InvalidCredential
  | BreakerOpen
  | ProviderClosed
  | InvalidClock;

/** Everything the calls of a `KeyedCredentialProvider` can fail with. */
export type KeyedCredentialError<E> = CredentialError<E> | KeysBusy;
