/**
 * The one interface every contender of the comparison is driven through, so each scenario
 * runs the same workload against every library. One adapter per file in `contenders/`.
 */

/** What the issuer returns: a token value and its expiry (epoch ms). */
export interface Token {
  readonly value: string;
  readonly expiresAt: number;
}

/** What an adapter is created with. */
export interface ContenderOptions {
  /**
   * Obtains a new token from the issuer. Honours `signal` where the library passes one (a real
   * HTTP client would abort its request).
   */
  readonly mint: (signal?: AbortSignal) => Promise<Token>;
  /**
   * The nominal token lifetime in milliseconds. Adapters whose library has a fixed refresh
   * window (the SDKs' 2 or 5 minutes) cap it at 20% of this, the same lead Sluice's default
   * `refreshAt: 0.8` gives; with a 2-minute token an uncapped 5-minute window would treat
   * every token as expired on arrival.
   */
  readonly lifetimeMs: number;
  /**
   * The clock (epoch ms), for libraries that take one. Absent: the library's default clock
   * (`Date.now`, or fake timers installed over the globals in the simulated scenarios).
   */
  readonly now?: () => number;
  /** A seeded jitter source in [0, 1), for libraries that take one. */
  readonly random?: () => number;
}

/** A running contender. */
export interface Contender {
  /**
   * The library's own call, returned as is (no wrapper `async` or `.then` on the hot path);
   * `signal` ends this caller's wait where the library allows it. {@link valueOf} reads the
   * token value from what it resolves to.
   */
  get(signal?: AbortSignal): Promise<unknown>;
  /**
   * The token value in what `get` resolved to (a string, a credential, `{ token }`...);
   * `undefined` when the library resolved to nothing (lru-cache after a swallowed failure).
   */
  valueOf(result: unknown): string | undefined;
  /**
   * Reacts to a 401 for `token` the way the library offers (drop the cache, force a refresh,
   * or, where the library can, ignore a token that was already replaced).
   */
  invalidate(token?: string): void;
  close(): void;
}

/** How a contender reads time, which decides how the simulated scenarios drive it. */
export type ClockSource = 'injected' | 'globals';

/** A contender's adapter. */
export interface ContenderAdapter {
  /** Stable id used in the JSON and the charts. */
  readonly id: string;
  /** Short label for tables. */
  readonly label: string;
  /** `injected`: takes `now` (Sluice, Effect's Clock service...); `globals`: reads Date/timers. */
  readonly clock: ClockSource;
  /** Honours a per-caller `AbortSignal`. */
  readonly signals: boolean;
  /** Can ignore a 401 for an already replaced token (token-aware invalidation). */
  readonly tokenAwareInvalidate: boolean;
  /** Can run in the simulated-time scenarios; otherwise `notSimulated` says why. */
  readonly notSimulated?: string;
  create(options: ContenderOptions): Contender | Promise<Contender>;
}

/** The refresh window an SDK uses, capped at 20% of the token lifetime (see `lifetimeMs`). */
export function cappedWindowMs(sdkWindowMs: number, lifetimeMs: number): number {
  return Math.min(sdkWindowMs, Math.floor(lifetimeMs * 0.2));
}
