/**
 * Telemetry hooks. A {@link Reporter} has only optional methods; Sluice builds an event only
 * when somebody listens, and a reporter that throws never changes what callers get.
 * Events never carry a credential value.
 */

import type { BreakerStateName } from './circuit-breaker.js';

/** Why a mint was started. */
export type MintReason = 'initial' | 'proactive' | 'expired' | 'invalidated' | 'forced';

/** Fields common to every reporter event. */
export interface ReporterEventBase {
  /** The provider's `name` option. */
  readonly name: string;
  /** The key, for keyed providers (a hostname, a tenant). Absent for a single provider. */
  readonly key?: string;
}

/** A mint started. */
export interface RefreshStartEvent extends ReporterEventBase {
  /** Why the mint runs. */
  readonly reason: MintReason;
}

/** A mint succeeded and its credential was installed. */
export interface RefreshSuccessEvent extends RefreshStartEvent {
  /** How long the mint took, in milliseconds on the provider's clock. */
  readonly durationMs: number;
  /** The new credential's remaining lifetime in seconds; `undefined` if it never expires. */
  readonly remainingLifetimeSeconds: number | undefined;
}

/** A mint failed (it threw, timed out or returned an invalid credential). */
export interface RefreshFailureEvent extends RefreshStartEvent {
  /** How long the mint took, in milliseconds on the provider's clock. */
  readonly durationMs: number;
  /** The mint's error, unchanged. */
  readonly error: unknown;
  /** `error.code` when it has a string one (Sluice codes, Node system errors). */
  readonly code: string | undefined;
  /**
   * The remaining lifetime, in seconds, of the credential STILL cached (negative once it has
   * expired; `undefined` when none is cached or it never expires): during an outage this
   * gauge decays towards and past zero.
   */
  readonly cachedRemainingLifetimeSeconds: number | undefined;
}

/** The mint breaker changed state. */
export interface BreakerStateChangeEvent extends ReporterEventBase {
  /** The state it left. */
  readonly from: BreakerStateName;
  /** The state it entered. */
  readonly to: BreakerStateName;
  /** Consecutive failures at the change. */
  readonly failures: number;
  /** Milliseconds until a probe is admitted (0 unless `to` is `open`). */
  readonly retryAfterMs: number;
}

/** A mint settled; `waiters` callers had been waiting on it and all got its outcome. */
export interface CoalescedEvent extends ReporterEventBase {
  /** Why the mint ran. */
  readonly reason: MintReason;
  /** Callers that waited on this one mint (0 for a background refresh nobody awaited). */
  readonly waiters: number;
  /** Whether the mint succeeded. */
  readonly ok: boolean;
}

/**
 * `invalidate()` was refused by the invalidation guard: the cached credential was itself
 * minted because of an invalidation less than `minRefreshIntervalMs` ago, so a resource
 * server that rejects every token cannot make the provider mint on every request.
 */
export interface InvalidateRefusedEvent extends ReporterEventBase {
  /** How long ago the cached credential was installed, in milliseconds. */
  readonly credentialAgeMs: number;
  /** Milliseconds until an invalidation of this credential is accepted. */
  readonly retryAfterMs: number;
}

/**
 * A caller was refused with `BreakerOpenError` (`SLUICE_BREAKER_OPEN`): it needed a mint (no
 * valid credential was cached) and the breaker is open. Reported once per refused caller,
 * never for a background refresh the breaker skips (nobody is refused then). Fail-fast
 * refusals cost the issuer nothing, so they are invisible in the refresh metrics: count
 * these to see how many callers an outage turned away.
 */
export interface BreakerRefusedEvent extends ReporterEventBase {
  /** Milliseconds until the breaker admits a probe: the refused caller's `retryAfterMs`. */
  readonly retryAfterMs: number;
}

/** Why a keyed provider dropped a key. */
export type KeyDropReason = 'lru' | 'idle' | 'deleted';

/**
 * A keyed provider dropped a key: least recently used past `maxKeys` (`'lru'`), unused for
 * `idleTtlMs` (`'idle'`), or `delete(key)` (`'deleted'`). Not reported for `close()`.
 * Metric backends use it to remove the key's series.
 */
export interface KeyDroppedEvent extends ReporterEventBase {
  /** The dropped key's string form. */
  readonly key: string;
  /** Why it was dropped. */
  readonly reason: KeyDropReason;
}

/**
 * Telemetry hooks; every method is optional. Hooks run after the provider's state is
 * consistent, never in the middle of a call, so a hook may call back into the provider
 * (`get`, `refresh`, `invalidate`, `close`, ...). A hook that throws, or returns a promise
 * that rejects, is ignored: telemetry never changes what callers get. See
 * {@link combineReporters}.
 */
export interface Reporter {
  /** A mint started. */
  onRefreshStart?(event: RefreshStartEvent): void;
  /** A mint succeeded and its credential was installed. */
  onRefreshSuccess?(event: RefreshSuccessEvent): void;
  /** A mint failed: it threw, timed out or returned an invalid or expired credential. */
  onRefreshFailure?(event: RefreshFailureEvent): void;
  /** The breaker moved between `closed`, `open` and `half-open`. */
  onBreakerStateChange?(event: BreakerStateChangeEvent): void;
  /** A mint settled; reported after its success or failure, before the waiters resume. */
  onCoalesced?(event: CoalescedEvent): void;
  /** The invalidation guard refused an `invalidate()`. */
  onInvalidateRefused?(event: InvalidateRefusedEvent): void;
  /** A keyed provider dropped a key. */
  onKeyDropped?(event: KeyDroppedEvent): void;
  /** A caller was refused with `BreakerOpenError` because the breaker is open. */
  onBreakerRefused?(event: BreakerRefusedEvent): void;
}

/** The name of a reporter hook. */
export type ReporterHook = keyof Reporter;

/** Every hook a {@link Reporter} may have, in a stable order. */
export const REPORTER_HOOKS: readonly ReporterHook[] = Object.freeze([
  'onRefreshStart',
  'onRefreshSuccess',
  'onRefreshFailure',
  'onBreakerStateChange',
  'onCoalesced',
  'onInvalidateRefused',
  'onKeyDropped',
  'onBreakerRefused',
] as const);

/**
 * One reporter that forwards every event to each of `reporters` in order. A hook is present
 * on the result only when at least one reporter has it, so absent hooks stay free.
 * Each reporter is isolated: one that throws does not stop the others.
 *
 * @example
 * ```ts
 * const reporter = combineReporters(prometheusReporter, consoleReporter);
 * ```
 */
export function combineReporters(...reporters: ReadonlyArray<Reporter | undefined>): Reporter {
  const present = reporters.filter((r): r is Reporter => r !== undefined);
  const combined: Record<string, (event: never) => void> = {};
  for (const hook of REPORTER_HOOKS) {
    // Each hook function is read once, here: replacing a method later changes nothing.
    const calls: Array<(event: never) => unknown> = [];
    for (const reporter of present) {
      const fn = reporter[hook] as ((event: never) => unknown) | undefined;
      if (typeof fn === 'function') calls.push((event) => fn.call(reporter, event));
    }
    if (calls.length === 0) continue;
    combined[hook] = (event: never) => {
      for (const call of calls) {
        try {
          ignoreRejection(call(event));
        } catch {
          // A reporter must never change what callers get; its failure is its own business.
        }
      }
    };
  }
  return combined as Reporter;
}

/**
 * The `code` of an error when it is a string (Sluice codes, Node system errors such as
 * `ECONNRESET`), else `undefined`. Safe on any thrown value.
 */
export function errorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  try {
    const code = (error as { code?: unknown }).code;
    return typeof code === 'string' ? code : undefined;
  } catch {
    return undefined; // a hostile getter
  }
}

/** The {@link errorType} of an error with neither a usable `code` nor a usable `name`. */
export const OTHER_ERROR_TYPE = '_OTHER';

const ERROR_TYPE_TOKEN = /^[A-Za-z][A-Za-z0-9_.-]{0,63}$/;

/**
 * A low-cardinality type for a thrown value, for metric labels and attributes such as
 * `error_type` / `error.type`: its `code` (`SLUICE_MINT_TIMEOUT`, `ECONNRESET`, ...) when that
 * is a short identifier, else its `name` (`TypeError`, a custom class name) when that is one,
 * else {@link OTHER_ERROR_TYPE}. Never the message: messages carry URLs, ids and numbers,
 * which would make every failure its own series. Safe on any thrown value.
 *
 * @param code - the error's code when already known (a reporter event's `code`); read from
 *   `error` otherwise.
 * @example
 * ```ts
 * onRefreshFailure: (event) => failures.inc({ error_type: errorType(event.error, event.code) }),
 * ```
 */
export function errorType(error: unknown, code: string | undefined = errorCode(error)): string {
  if (code !== undefined && ERROR_TYPE_TOKEN.test(code)) return code;
  if ((typeof error === 'object' && error !== null) || typeof error === 'function') {
    try {
      const name = (error as { name?: unknown }).name;
      if (typeof name === 'string' && ERROR_TYPE_TOKEN.test(name)) return name;
    } catch {
      // A hostile getter: fall through.
    }
  }
  return OTHER_ERROR_TYPE;
}

const noop = (): void => {};

/**
 * Marks whatever a hook returned as handled when it is a promise or a thenable, so an async
 * hook that rejects is never an unhandled rejection. Never throws, even for a thenable whose
 * `then` getter throws.
 * @internal
 */
export function ignoreRejection(result: unknown): void {
  if (result === undefined || result === null) return;
  if (typeof result !== 'object' && typeof result !== 'function') return;
  try {
    // Adopting it in a native promise reads `then` safely (a throwing getter rejects).
    new Promise<unknown>((resolve) => resolve(result)).then(undefined, noop);
  } catch {
    // Nothing a hook returns may escape.
  }
}
