/**
 * Telemetry hooks of the fleet coordinator. Every hook is optional; an event is built only
 * when its hook exists; a hook that throws or rejects is ignored. Events never carry a
 * credential value, a ciphertext or a lease token.
 */

import type { MintReason } from '@sluice/core';
import type { DecryptError } from './errors.js';

/** Fields common to every event about one credential. */
export interface FleetEventBase {
  /** The name given to `wrap` / `wrapKeyed`. */
  readonly name: string;
  /** The key's string form, for a keyed credential. */
  readonly key?: string;
}

/** The credential came from the store: another instance minted it; no upstream mint here. */
export interface AdoptedEvent extends FleetEventBase {
  /** Why the provider wanted a mint. */
  readonly reason: MintReason;
  /** How long this call waited for another instance's mint, in milliseconds (0: none). */
  readonly waitedMs: number;
}

/** This instance took the lease and mints for the fleet. */
export interface LeasedEvent extends FleetEventBase {
  /** Why the provider wanted a mint. */
  readonly reason: MintReason;
}

/**
 * The leader's compare-and-set: `stored` (the fleet now holds it), `refused` (the store holds a
 * credential that expires no earlier; the leader adopted it when it could) or `expired`.
 */
export interface StoredEvent extends FleetEventBase {
  /** What the compare-and-set did. */
  readonly outcome: 'stored' | 'refused' | 'expired';
}

/** A caller got the fleet's recorded failure instead of calling the issuer. */
export interface RelayedFailureEvent extends FleetEventBase {
  /** The failed mint's code (`SLUICE_FLEET_RELAYED_FAILURE` when it had none). */
  readonly code: string;
  /** Milliseconds until the failure window ends. */
  readonly retryAfterMs: number;
  /** Consecutive failures the fleet has recorded. */
  readonly failures: number;
}

/** This instance's own failed mint was recorded for the fleet. */
export interface FailureRecordedEvent extends FleetEventBase {
  /** Consecutive failures the fleet has recorded, this one included. */
  readonly failures: number;
  /** Milliseconds until an instance tries again. */
  readonly retryAfterMs: number;
  /** Whether two instances have seen the failure, so every instance honours the window. */
  readonly confirmed: boolean;
}

/** Why a mint ran without coordination. */
export type FallbackReason =
  /** The store is unreachable, failing, timing out, or its breaker is open. */
  | 'store-unavailable'
  /** Another instance's lease outlived the follower's wait (half the provider's `mintTimeoutMs`, or `leaseMs + mintTimeoutMs`). */
  | 'wait-exceeded'
  /** The coordinator was closed. */
  | 'closed'
  /** The provider's clock (`now`) returned something that is not a finite number. */
  | 'invalid-clock';

/** A mint ran on the plain local policy (this process's single flight only). */
export interface FallbackEvent extends FleetEventBase {
  /** Why there was no coordination. */
  readonly reason: FallbackReason;
  /** What went wrong with the store, for `store-unavailable`. */
  readonly error?: unknown;
}

/** The state of the coordinator's view of the store. */
export type StoreState = 'available' | 'unavailable' | 'probing';

/** The store breaker changed state. */
export interface StoreStateChangeEvent {
  /** The state before. */
  readonly from: StoreState;
  /** The state now. */
  readonly to: StoreState;
  /** The failure that opened it, when `to` is `unavailable`. */
  readonly error?: unknown;
}

/** A stored value could not be read; it was treated as a miss. */
export interface DecryptFailedEvent extends FleetEventBase {
  /** What could not be read, and why (never the value). */
  readonly error: DecryptError;
}

/** A waiting follower woke up to re-read the store. */
export interface WokenEvent extends FleetEventBase {
  /**
   * `notification` (pub/sub), `poll` (the backstop timer), `resync` (after a reconnect) or
   * `lease` (the lease it waited on lapsed: its holder stopped renewing it, or crashed).
   */
  readonly by: 'notification' | 'poll' | 'resync' | 'lease';
}

/** A leader's lease was found held by someone else (or gone) while it was still minting. */
export type LeaseLostEvent = FleetEventBase;

/** A store operation failed or timed out (the store breaker counts these). */
export interface StoreErrorEvent {
  /** The operation: `loadOrLease`, `store`, `fail`, `renew`, `release`, `time`, `encode`, `subscribe`. */
  readonly operation: string;
  /** What it failed with. */
  readonly error: unknown;
}

/** The coordinator's telemetry hooks; every method is optional. */
export interface FleetReporter {
  /** A credential was adopted from the store instead of minted here. */
  onAdopted?(event: AdoptedEvent): void;
  /** This instance took the lease and mints for the fleet. */
  onLeased?(event: LeasedEvent): void;
  /** The leader's compare-and-set answered. */
  onStored?(event: StoredEvent): void;
  /** A caller got the fleet's recorded failure instead of calling the issuer. */
  onRelayedFailure?(event: RelayedFailureEvent): void;
  /** This instance's failed mint was recorded for the fleet. */
  onFailureRecorded?(event: FailureRecordedEvent): void;
  /** A mint ran on the local policy only. */
  onFallback?(event: FallbackEvent): void;
  /** The store breaker changed state. */
  onStoreStateChange?(event: StoreStateChangeEvent): void;
  /** A store operation failed or timed out. */
  onStoreError?(event: StoreErrorEvent): void;
  /** A stored value could not be read and was treated as a miss. */
  onDecryptFailed?(event: DecryptFailedEvent): void;
  /** A waiting follower woke up to re-read the store. */
  onWoken?(event: WokenEvent): void;
  /** A leader found its lease gone while its mint still ran. */
  onLeaseLost?(event: LeaseLostEvent): void;
}

/** Every hook a {@link FleetReporter} may have. */
export const FLEET_REPORTER_HOOKS = Object.freeze([
  'onAdopted',
  'onLeased',
  'onStored',
  'onRelayedFailure',
  'onFailureRecorded',
  'onFallback',
  'onStoreStateChange',
  'onStoreError',
  'onDecryptFailed',
  'onWoken',
  'onLeaseLost',
] as const);

/** A hook's event type. */
type EventOf<H extends keyof FleetReporter> = Parameters<NonNullable<FleetReporter[H]>>[0];

/** The hooks read once, each isolated: a throwing or rejecting hook never escapes. */
export type SafeReporter = {
  readonly [H in keyof FleetReporter]?: (event: EventOf<H>) => void;
};

const noop = (): void => {};

/** Reads each hook of `reporter` once and wraps it so it can never throw. */
export function safeReporter(reporter: FleetReporter | undefined): SafeReporter {
  const safe: Record<string, (event: unknown) => void> = {};
  if (reporter === undefined) return safe;
  for (const hook of FLEET_REPORTER_HOOKS) {
    const fn = reporter[hook] as ((event: unknown) => unknown) | undefined;
    if (typeof fn !== 'function') continue;
    safe[hook] = (event) => {
      try {
        const result = fn.call(reporter, event);
        if (result !== null && (typeof result === 'object' || typeof result === 'function')) {
          new Promise((resolve) => resolve(result)).then(noop, noop);
        }
      } catch {
        // telemetry never changes what callers get
      }
    };
  }
  return safe;
}
