/**
 * The state of one provider cell, shared by the modules that drive it: the cached
 * credential and its schedule (with the fields the hot path reads), the single flight, the
 * breaker box, the refresh timer and the clock. The `ProviderCell` holds it in a private
 * field, so nothing of it (the credential least of all) is reachable from the provider.
 */

import type { Mint } from '../contracts/provider.js';
import type { Credential } from '../credential.js';
import { type InvalidClockError, ProviderClosedError } from '../errors.js';
import type { ResolvedPolicy } from '../policy-options.js';
import type { CredentialSchedule } from '../refresh-policy.js';
import type { MintReason } from '../reporter.js';
import { SingleFlight } from '../single-flight.js';
import type { BreakerBox } from './breaker-box.js';
import { CellEvents } from './cell-events.js';
import { type ClockFaults, clockError, readClock } from './clock.js';
import { RefreshTimer } from './refresh-timer.js';

const NEVER = Number.NEGATIVE_INFINITY;

/** What the cell tells its owner (a keyed provider). @internal */
export interface CellOwner {
  /** The cell's mint gained its first waiter (`true`) or lost its last one (`false`). */
  onBusyChange(busy: boolean): void;
}

/** @internal */
export class CellState<T> {
  readonly policy: ResolvedPolicy;
  readonly mint: Mint<T>;
  readonly box: BreakerBox;
  /** The provider this state belongs to: its identity in a (possibly shared) breaker box. */
  readonly who: object;
  readonly events: CellEvents;
  readonly flight: SingleFlight<Credential<T>>;
  readonly timer: RefreshTimer;

  // The hot path reads only these: serve valuePromise while issuedAt <= now < fastUntil.
  fastUntil = NEVER;
  issuedAt = 0;
  valuePromise: Promise<T> | undefined;
  credentialPromise: Promise<Credential<T>> | undefined;

  credential: Credential<T> | undefined;
  schedule: CredentialSchedule | undefined;
  previous: Credential<T> | undefined;
  invalidated = false;
  /** Why the cached credential was minted (the invalidation guard reads it). */
  installedReason: MintReason | undefined;
  closed = false;
  /** The running flight's promise and the value promise derived from it, once per flight. */
  flightPromise: Promise<Credential<T>> | undefined;
  flightValue: Promise<T> | undefined;
  readonly clock: ClockFaults = { fault: undefined };
  /** The InvalidClockError of a credential that landed while the clock was unreadable. */
  landingClockError: InvalidClockError | undefined;

  constructor(
    policy: ResolvedPolicy,
    mint: Mint<T>,
    box: BreakerBox,
    who: object,
    wake: () => void,
    key: string | undefined,
    owner: CellOwner | undefined,
  ) {
    this.policy = policy;
    this.mint = mint;
    this.box = box;
    this.who = who;
    this.events = new CellEvents(policy.reporter, policy.name, key);
    this.flight = new SingleFlight<Credential<T>>(
      owner === undefined ? undefined : (busy) => owner.onBusyChange(busy),
    );
    this.timer = new RefreshTimer(policy.schedule === 'timer', policy.timers, wake);
  }

  /** Reads the clock; never throws (NaN when it cannot be read). */
  read(): number {
    return readClock(this.policy.now, this.clock);
  }

  /** The error for a clock reading that is not a finite number. */
  clockError(reading: number): InvalidClockError {
    return clockError(reading, this.clock, this.policy.name);
  }

  closedError(): ProviderClosedError {
    return new ProviderClosedError({ name: this.policy.name });
  }

  /** Caches `credential` minted for `reason`, with its `schedule`. */
  install(credential: Credential<T>, schedule: CredentialSchedule, reason: MintReason): void {
    this.credential = credential;
    this.schedule = schedule;
    this.previous = undefined;
    this.invalidated = false;
    this.installedReason = reason;
    this.issuedAt = schedule.issuedAt;
    this.fastUntil = Math.min(schedule.dueAt, schedule.expiresAt);
    this.valuePromise = Promise.resolve(credential.value);
    this.credentialPromise = Promise.resolve(credential);
  }

  /** Drops the cached credential (not `previous`). */
  clearCache(): void {
    this.credential = undefined;
    this.schedule = undefined;
    this.fastUntil = NEVER;
    this.valuePromise = undefined;
    this.credentialPromise = undefined;
  }
}
