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
  readonly from: BreakerStateName;
  readonly to: BreakerStateName;
  /** Consecutive failures at the change. */
  readonly failures: number;
  /** Milliseconds until a probe is admitted (0 unless `to` is `open`). */
  readonly retryAfterMs: number;
}

/** A mint settled; `waiters` callers had been waiting on it and all got its outcome. */
export interface CoalescedEvent extends ReporterEventBase {
  readonly reason: MintReason;
  /** Callers that waited on this one mint (0 for a background refresh nobody awaited). */
  readonly waiters: number;
  /** Whether the mint succeeded. */
  readonly ok: boolean;
}

/** Telemetry hooks; every method is optional. See {@link combineReporters}. */
export interface Reporter {
  onRefreshStart?(event: RefreshStartEvent): void;
  onRefreshSuccess?(event: RefreshSuccessEvent): void;
  onRefreshFailure?(event: RefreshFailureEvent): void;
  onBreakerStateChange?(event: BreakerStateChangeEvent): void;
  onCoalesced?(event: CoalescedEvent): void;
}

type Hook = keyof Reporter;
const HOOKS: readonly Hook[] = [
  'onRefreshStart',
  'onRefreshSuccess',
  'onRefreshFailure',
  'onBreakerStateChange',
  'onCoalesced',
];

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
  for (const hook of HOOKS) {
    // Each hook function is read once, here: replacing a method later changes nothing.
    const calls: Array<(event: never) => void> = [];
    for (const reporter of present) {
      const fn = reporter[hook] as ((event: never) => void) | undefined;
      if (typeof fn === 'function') calls.push((event) => fn.call(reporter, event));
    }
    if (calls.length === 0) continue;
    combined[hook] = (event: never) => {
      for (const call of calls) {
        try {
          call(event);
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
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}
