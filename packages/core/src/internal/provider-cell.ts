/**
 * The provider's implementation: the thin effectful shell that owns the cached credential,
 * the single flight, the timers and the reporter calls. Every decision is delegated to the
 * pure policy (`decideServe`, `scheduleCredential`) and breaker (`askBox`). Used by
 * `createRefreshingProvider` (one cell) and `createKeyedProvider` (a cell per key).
 *
 * The cell is split by concept: its state (`cell-state.ts`), driving and landing its mints
 * (`cell-mint.ts`), its side of the breaker (`cell-breaker.ts`), the `'timer'` schedule
 * (`refresh-timer.ts`) and `invalidate()` (`invalidation.ts`). This file is the face callers
 * meet: the hot path, the slow path and the lifecycle.
 *
 * The shell's own contract, whatever callers, mints, hooks and clocks do:
 * - every operation runs between `hold()` and `release()`, so reporter hooks run only once
 *   the state is consistent, and may call back into the provider;
 * - the flight is registered before the mint runs, and its outcome is adopted
 *   asynchronously, so a synchronous mint behaves exactly like one returning a promise;
 * - a call never throws: every failure is a rejected promise;
 * - the clock is read through `CellState.read()`, which never throws; a reading that is not
 *   a finite number fails the call with `InvalidClockError` and is never compared with an
 *   expiry.
 */

import type {
  CallOptions,
  Mint,
  ProviderSnapshot,
  RefreshingProvider,
} from '../contracts/provider.js';
import type { Credential } from '../credential.js';
import type { ResolvedPolicy } from '../policy-options.js';
import { type CredentialSchedule, decideServe } from '../refresh-policy.js';
import type { MintReason } from '../reporter.js';
import { type BreakerBox, forget } from './breaker-box.js';
import { callSignal, isLiveCall } from './call-options.js';
import { admit, releaseProbe } from './cell-breaker.js';
import {
  mintAndJoin,
  noop,
  onTimer,
  reasonFor,
  refreshInBackground,
  startMint,
} from './cell-mint.js';
import { type CellOwner, CellState } from './cell-state.js';
import { hold, release } from './dispatch.js';
import { invalidateCell } from './invalidation.js';
import { buildSnapshot } from './snapshot.js';

export { type BreakerBox, createBreakerBox } from './breaker-box.js';
export type { CellOwner } from './cell-state.js';

/**
 * The provider's implementation. Exported for the keyed provider only; use
 * {@link createRefreshingProvider}.
 * @internal
 */
export class ProviderCell<T> implements RefreshingProvider<T> {
  readonly #cell: CellState<T>;

  constructor(
    policy: ResolvedPolicy,
    mint: Mint<T>,
    box: BreakerBox,
    key?: string,
    owner?: CellOwner,
  ) {
    const cell: CellState<T> = new CellState<T>(
      policy,
      mint,
      box,
      this,
      () => onTimer(cell),
      key,
      owner,
    );
    this.#cell = cell;
  }

  get(options?: CallOptions): Promise<T> {
    return this.getAt(this.#cell.read(), options);
  }

  /** As {@link get}, with the clock already read (finite) by the caller: a keyed provider. @internal */
  getAt(now: number, options: CallOptions | undefined): Promise<T> {
    const cell = this.#cell;
    if (now < cell.fastUntil && now >= cell.issuedAt) {
      if (options === undefined || isLiveCall(options)) return cell.valuePromise as Promise<T>;
    }
    return this.#slowPath(now, options, false) as Promise<T>;
  }

  getCredential(options?: CallOptions): Promise<Credential<T>> {
    return this.getCredentialAt(this.#cell.read(), options);
  }

  /** As {@link getCredential}, with the clock already read by the caller. @internal */
  getCredentialAt(now: number, options: CallOptions | undefined): Promise<Credential<T>> {
    const cell = this.#cell;
    if (now < cell.fastUntil && now >= cell.issuedAt) {
      if (options === undefined || isLiveCall(options)) {
        return cell.credentialPromise as Promise<Credential<T>>;
      }
    }
    return this.#slowPath(now, options, true) as Promise<Credential<T>>;
  }

  peek(): Credential<T> | undefined {
    const cell = this.#cell;
    const credential = cell.credential;
    if (credential === undefined) return undefined;
    const now = cell.read();
    cell.clock.fault = undefined;
    // NaN compares false: a clock that cannot be read never vouches for a credential.
    return now < (cell.schedule as CredentialSchedule).expiresAt ? credential : undefined;
  }

  invalidate(rejected?: T | Credential<T>): boolean {
    return invalidateCell(this.#cell, rejected);
  }

  refresh(options?: CallOptions): Promise<Credential<T>> {
    return this.#refreshAs('forced', options);
  }

  snapshot(): ProviderSnapshot {
    const cell = this.#cell;
    const now = cell.read();
    if (!Number.isFinite(now)) cell.clock.fault = undefined;
    return buildSnapshot(
      {
        name: cell.policy.name,
        closed: cell.closed,
        schedule: cell.schedule,
        mintInFlight: cell.flight.inFlight,
        waiters: cell.flight.waiters,
        box: cell.box,
        breaker: cell.policy.breaker,
      },
      now,
    );
  }

  close(): void {
    const cell = this.#cell;
    if (cell.closed) return;
    hold();
    try {
      cell.closed = true;
      releaseProbe(cell);
      forget(cell.box, this);
      cell.timer.close();
      cell.previous = undefined;
      cell.clearCache();
      cell.flight.abort(cell.closedError());
      cell.flightPromise = undefined;
      cell.flightValue = undefined;
    } finally {
      release();
    }
  }

  declare [Symbol.dispose]: () => void;

  toJSON(): ProviderSnapshot {
    return this.snapshot();
  }

  /**
   * Starts a background mint when the credential is due or expired, the breaker admits it and
   * none is in flight; returns the mint's settled promise (never rejecting), else undefined.
   * Used by keyed sweeps, with a finite `now`. @internal
   */
  refreshIfDue(now: number): Promise<unknown> | undefined {
    const cell = this.#cell;
    hold();
    try {
      if (!this.wantsRefresh(now)) return undefined;
      if (admit(cell, now) !== undefined) return undefined;
      const reason = reasonFor(cell, decideServe(cell.schedule, now));
      return startMint(cell, reason, now).then(noop, noop);
    } catch {
      return undefined;
    } finally {
      release();
    }
  }

  /** Whether a sweep should refresh this credential now (due or expired, none in flight). @internal */
  wantsRefresh(now: number): boolean {
    const cell = this.#cell;
    if (cell.closed || cell.flight.inFlight) return false;
    const decision = decideServe(cell.schedule, now);
    return decision === 'due' || decision === 'expired';
  }

  /** Seeds the cache with the eager first mint. @internal */
  start(): Promise<Credential<T>> {
    return this.#refreshAs('initial', undefined);
  }

  /** Mints for `reason` (or joins the mint in flight) and waits for it. */
  #refreshAs(reason: MintReason, options: CallOptions | undefined): Promise<Credential<T>> {
    const cell = this.#cell;
    hold();
    try {
      if (cell.closed) return Promise.reject(cell.closedError());
      const signal = callSignal(options);
      if (signal?.aborted) return Promise.reject(signal.reason);
      const now = cell.read();
      if (!Number.isFinite(now)) return Promise.reject(cell.clockError(now));
      return mintAndJoin(cell, reason, now, true, signal) as Promise<Credential<T>>;
    } catch (error) {
      return Promise.reject(error);
    } finally {
      release();
    }
  }

  #slowPath(
    now: number,
    options: CallOptions | undefined,
    whole: boolean,
  ): Promise<T | Credential<T>> {
    const cell = this.#cell;
    hold();
    try {
      if (cell.closed) return Promise.reject(cell.closedError());
      const signal = callSignal(options);
      if (signal?.aborted) return Promise.reject(signal.reason);
      if (!Number.isFinite(now)) return Promise.reject(cell.clockError(now));
      const decision = decideServe(cell.schedule, now);
      if (decision === 'due' || decision === 'fresh') {
        // Read before anything runs: a background mint cannot clear what this caller gets.
        const cached = (whole ? cell.credentialPromise : cell.valuePromise) as Promise<
          T | Credential<T>
        >;
        if (decision === 'due') refreshInBackground(cell, now);
        return cached;
      }
      return mintAndJoin(cell, reasonFor(cell, decision), now, whole, signal);
    } catch (error) {
      return Promise.reject(error);
    } finally {
      release();
    }
  }
}

// `using provider = ...` where the runtime has explicit resource management; defined here
// rather than as a class member so runtimes without `Symbol.dispose` still load the class.
Object.defineProperty(
  ProviderCell.prototype,
  (Symbol as { dispose?: symbol }).dispose ?? Symbol.for('Symbol.dispose'),
  {
    value(this: ProviderCell<unknown>) {
      this.close();
    },
  },
);

// Node's util.inspect shows the snapshot, never the credential.
Object.defineProperty(ProviderCell.prototype, Symbol.for('nodejs.util.inspect.custom'), {
  value(this: ProviderCell<unknown>) {
    return { RefreshingProvider: this.snapshot() };
  },
});
