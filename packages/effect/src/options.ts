/**
 * Options of the Effect providers: core's refresh policy with durations as Effect
 * `Duration.Input`s, and an Effect mint. The clock, the jitter source and the timers are not
 * options: they are Effect's `Clock` and `Random` services and the layer's fibers.
 */

import type { Credential, MintReason, Reporter } from '@sluice/core';
import type { Duration, Effect, Option } from 'effect';

/** What an Effect mint receives. Cancellation is interruption: there is no signal. */
export interface EffectMintContext<T> {
  /** Why this mint runs. */
  readonly reason: MintReason;
  /** The credential this mint replaces (possibly expired or invalidated), if any. */
  readonly previous: Option.Option<Credential<T>>;
}

/**
 * Obtains a new credential. Runs on its own fiber in the layer's scope with the layer's
 * services (so its requirements `R` come from the layer), shared by every caller that waits.
 * It is interrupted when it times out (`mintTimeout`) or the layer is torn down, never when a
 * waiting fiber is interrupted.
 *
 * @typeParam T - the credential's value.
 * @typeParam E - the mint's typed error; callers see it as `MintFailed<E>`.
 * @typeParam R - the services the mint needs.
 */
export type EffectMint<T, E, R> = (
  context: EffectMintContext<T>,
) => Effect.Effect<Credential<T>, E, R>;

/** The circuit breaker around the mint. */
export interface BreakerPolicy {
  /**
   * Consecutive failed mints that open the breaker; an integer from 1 to 1 000 000.
   * @default 5
   */
  readonly failureThreshold?: number;
  /**
   * How long an open breaker refuses mints before it admits one probe; whole milliseconds,
   * at most 2 147 483 647 ms.
   * @default '60 seconds'
   */
  readonly cooldown?: Duration.Input;
  /**
   * The longest an issuer's retry hint may hold the breaker open: a mint failure whose error
   * carries a finite `retryAfterMs > 0` (an HTTP 429 or 503 with `Retry-After`, as
   * `@sluice/oauth`'s errors do) opens the breaker at once for `min(hint, maxRetryAfter)`.
   * `0` ignores hints. Whole milliseconds, at most 2 147 483 647 ms.
   * @default '5 minutes'
   */
  readonly maxRetryAfter?: Duration.Input;
}

/**
 * The refresh policy (see core's `docs/options.md`), with every duration an Effect
 * `Duration.Input` (`'30 seconds'`, `Duration.minutes(5)`, or a number of milliseconds).
 * Durations must be whole milliseconds from the stated minimum to 2 147 483 647 ms;
 * anything else dies with `InvalidOptionError` naming the option.
 */
export interface CredentialPolicyOptions {
  /**
   * Fraction of a credential's lifetime after which a proactive refresh is due, in (0, 1].
   * @default 0.8
   */
  readonly refreshAt?: number;
  /**
   * Largest fraction of the lifetime the due point is pulled earlier, sampled once per
   * credential from Effect's `Random`; in [0, refreshAt].
   * @default 0.1 (or `refreshAt`, if that is smaller)
   */
  readonly jitter?: number;
  /**
   * A refresh is due no later than this long before expiry; from 0.
   * @default '30 seconds'
   */
  readonly refreshFloor?: Duration.Input;
  /**
   * Refresh-loop guard: when a mint returns a credential due at once or whose expiry did not
   * advance, the next proactive refresh waits at least this long; from 0.
   * @default '5 seconds'
   */
  readonly minRefreshInterval?: Duration.Input;
  /**
   * A mint still running after this long fails for every waiter with `MintTimeout` and its
   * fiber is interrupted. Measured on Effect's `Clock`, so `TestClock.adjust` drives it;
   * from 1 ms.
   * @default '30 seconds'
   */
  readonly mintTimeout?: Duration.Input;
  /** The circuit breaker. @default { failureThreshold: 5, cooldown: '60 seconds' } */
  readonly breaker?: BreakerPolicy;
  /**
   * `'on-access'` refreshes when a caller finds the credential due; `'timer'` also keeps an
   * idle provider fresh with a fiber that sleeps until the due point.
   * @default 'on-access'
   */
  readonly schedule?: 'on-access' | 'timer';
  /** Telemetry hooks (`@sluice/opentelemetry`, `@sluice/prometheus`, your own). @default none */
  readonly reporter?: Reporter;
  /** Shown in errors, snapshots and reporter events. @default 'sluice' */
  readonly name?: string;
}

/** Options of `makeCredentialProvider` and `credentialProviderLayer`. */
export interface CredentialProviderOptions<T, E, R> extends CredentialPolicyOptions {
  /** Obtains a new credential. Required. */
  readonly mint: EffectMint<T, E, R>;
  /**
   * Skip the first mint while the layer is built: the first `get` mints instead (reason
   * `'initial'`). Without it, a layer whose first mint fails fails to build.
   * @default false
   */
  readonly lazy?: boolean;
}
