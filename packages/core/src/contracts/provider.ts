/**
 * The contract of a refreshing provider, shared by its face (`refreshing-provider.ts`,
 * `keyed-provider.ts`) and its implementation (`internal/`): what callers pass and get, what
 * the mint receives and returns, and the diagnostics. Types only.
 */

import type { BreakerStateName } from '../circuit-breaker.js';
import type { Credential } from '../credential.js';
import type { MintReason } from '../reporter.js';

/** Options of a single call: `get`, `getCredential`, `refresh`. */
export interface CallOptions {
  /**
   * Ends this caller's wait (rejecting with `signal.reason`); never aborts the shared mint.
   */
  signal?: AbortSignal;
}

/** What the mint receives. */
export interface MintContext<T> {
  /** Aborted when the mint times out (`mintTimeoutMs`) or the provider is closed. */
  readonly signal: AbortSignal;
  /** Why this mint runs. */
  readonly reason: MintReason;
  /** The credential this mint replaces (possibly expired or invalidated), if any. */
  readonly previous?: Credential<T>;
}

/**
 * Obtains a new credential from the issuer. May return the credential or a promise of it.
 *
 * Every failure counts towards the circuit breaker, except an error whose
 * `countsTowardsBreaker` property is `false`: a failure the mint did not cause but relays
 * (another instance's mint, shared by a fleet coordinator such as `@sluice/redis`). Such an
 * error still reaches every waiter and `onRefreshFailure` unchanged; only the breaker
 * ignores it, so the breaker counts the attempts this provider itself made.
 *
 * An error may carry a retry hint, the issuer's `Retry-After`: a `retryAfterMs` property (own
 * or inherited) that is a finite number > 0. The breaker then opens at once for
 * `min(retryAfterMs, breaker.maxRetryAfterMs)`: no mint until then, callers without a valid
 * credential get `BreakerOpenError` with the time left, a valid one is still served. The
 * hint of a relayed error (`countsTowardsBreaker: false`) is left to the coordinator that
 * relays it: it does not open this provider's breaker.
 */
export type Mint<T> = (context: MintContext<T>) => Promise<Credential<T>> | Credential<T>;

/** Plain, JSON-serialisable diagnostics of a provider. Never contains the credential. */
export interface ProviderSnapshot {
  /** The provider's `name` option. */
  readonly name: string;
  /** `empty`: nothing cached (not minted yet, or invalidated). */
  readonly status: 'empty' | 'fresh' | 'due' | 'expired' | 'closed';
  /** When the cached credential was installed (epoch ms), or `null`. */
  readonly issuedAt: number | null;
  /** When it expires (epoch ms); `null` when nothing is cached or it never expires. */
  readonly expiresAt: number | null;
  /** When its proactive refresh is due (epoch ms); `null` when never. */
  readonly refreshDueAt: number | null;
  /** Whether a mint is running now. */
  readonly mintInFlight: boolean;
  /** Callers waiting on the mint in flight. */
  readonly waiters: number;
  /** The circuit breaker around the mint. */
  readonly breaker: {
    /** `closed`, `open` or `half-open`. */
    readonly state: BreakerStateName;
    /** Consecutive failed mints. */
    readonly failures: number;
    /** Milliseconds until an open breaker admits a probe; 0 otherwise. */
    readonly retryAfterMs: number;
  };
  /** The last mint failure: its `code` (if it has one), message and time (epoch ms). */
  readonly lastError: {
    /** The error's string `code`, or `null` when it has none. */
    readonly code: string | null;
    /** The error's message. */
    readonly message: string;
    /** When the mint failed, in epoch milliseconds. */
    readonly at: number;
  } | null;
}

/** A cached credential kept fresh by the refresh policy. */
export interface RefreshingProvider<T> {
  /**
   * The credential's value. Served from the cache while valid (a due credential is served
   * AND refreshed in the background); an expired or missing one is awaited from one shared
   * mint. Always returns a promise: every failure below is a rejection, never a throw.
   * @throws {BreakerOpenError} `SLUICE_BREAKER_OPEN` when expired and the breaker is open.
   * @throws {ProviderClosedError} `SLUICE_PROVIDER_CLOSED` after `close()`.
   * @throws {InvalidClockError} `SLUICE_INVALID_CLOCK` when the clock cannot be read.
   * @throws {InvalidOptionError} `SLUICE_INVALID_OPTION` when `options` or its `signal` is bad.
   * @throws `signal.reason` when the caller's signal aborts.
   * @throws the mint's own error, unchanged, to every waiter of a failed mint.
   */
  get(options?: CallOptions): Promise<T>;
  /** As {@link get}, resolving the whole credential (value and `expiresAt`). */
  getCredential(options?: CallOptions): Promise<Credential<T>>;
  /** The cached credential if it has not expired; synchronous, no side effects. */
  peek(): Credential<T> | undefined;
  /**
   * Drops the cached credential (after a 401, say) so the next `get` mints. With `rejected`
   * (a value or a credential), does nothing unless the cache still holds that one, so late
   * 401s for an already replaced credential never cause another mint. A credential that was
   * itself minted because of an invalidation is kept for `minRefreshIntervalMs` (the
   * invalidation guard, reported through `onInvalidateRefused`): use `refresh()` to force a
   * new one regardless.
   * @returns whether the cached credential was dropped.
   */
  invalidate(rejected?: T | Credential<T>): boolean;
  /**
   * Mints now (reason `'forced'`), or joins the mint in flight.
   * @throws {BreakerOpenError} `SLUICE_BREAKER_OPEN` when the breaker is open.
   */
  refresh(options?: CallOptions): Promise<Credential<T>>;
  /** Diagnostics; never contains the credential value. */
  snapshot(): ProviderSnapshot;
  /**
   * Aborts the mint in flight (its waiters reject with `ProviderClosedError`), clears every
   * timer and drops the credential. Idempotent.
   */
  close(): void;
  /** Same as {@link close}. */
  [Symbol.dispose](): void;
}
