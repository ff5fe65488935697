/**
 * The provider's implementation: the thin effectful shell that owns the cached credential,
 * the single flight, the timers and the reporter calls. Every decision is delegated to the
 * pure policy (`decideServe`, `scheduleCredential`) and breaker (`askBox`). Used by
 * `createRefreshingProvider` (one cell) and `createKeyedProvider` (a cell per key).
 *
 * The shell's own contract, whatever callers, mints, hooks and clocks do:
 * - every operation runs between `hold()` and `release()`, so reporter hooks run only once
 *   the state is consistent, and may call back into the provider;
 * - the flight is registered before the mint runs, and its outcome is adopted
 *   asynchronously, so a synchronous mint behaves exactly like one returning a promise;
 * - a call never throws: every failure is a rejected promise;
 * - the clock is read through `#read()`, which never throws; a reading that is not a finite
 *   number fails the call with `InvalidClockError` and is never compared with an expiry.
 */

import {
  type BreakerState,
  breakerRetryAfterMs,
  recordFailure,
  recordSuccess,
} from '../circuit-breaker.js';
import { type Credential, checkMintedCredential, isSameCredential } from '../credential.js';
import {
  BreakerOpenError,
  type InvalidClockError,
  MintedCredentialExpiredError,
  MintTimeoutError,
  ProviderClosedError,
} from '../errors.js';
import type { ResolvedPolicy } from '../policy-options.js';
import {
  type CredentialSchedule,
  decideServe,
  type ServeDecision,
  scheduleCredential,
} from '../refresh-policy.js';
import type {
  CallOptions,
  Mint,
  ProviderSnapshot,
  RefreshingProvider,
} from '../refreshing-provider.js';
import { errorCode, type MintReason } from '../reporter.js';
import { SingleFlight } from '../single-flight.js';
import {
  askBox,
  type BreakerBox,
  forget,
  noteAdmission,
  noteFailure,
  noteRefusal,
  noteSuccess,
} from './breaker-box.js';
import { callSignal, isLiveCall } from './call-options.js';
import { CellEvents } from './cell-events.js';
import { type ClockFaults, clockError, readClock } from './clock.js';
import { hold, release } from './dispatch.js';
import { sample } from './random-sample.js';
import { buildSnapshot } from './snapshot.js';
import { startTimer, stopTimer, type TimerHandle } from './timers.js';

export { type BreakerBox, createBreakerBox } from './breaker-box.js';

const NEVER = Number.NEGATIVE_INFINITY;
/**
 * The least delay of the `'timer'` schedule, in milliseconds: a refresh timer never fires
 * sooner than this after it was set, so short-lived credentials (or `minRefreshIntervalMs:
 * 0`) cannot make an idle provider mint in a tight loop, and a refused timer never spins.
 */
const TIMER_MIN_DELAY_MS = 1_000;
const valueOfCredential = <T>(credential: Credential<T>): T => credential.value;

/** What the cell tells its owner (a keyed provider). @internal */
export interface CellOwner {
  /** The cell's mint gained its first waiter (`true`) or lost its last one (`false`). */
  onBusyChange(busy: boolean): void;
}

/**
 * The provider's implementation. Exported for the keyed provider only; use
 * {@link createRefreshingProvider}.
 * @internal
 */
export class ProviderCell<T> implements RefreshingProvider<T> {
  readonly #policy: ResolvedPolicy;
  readonly #mint: Mint<T>;
  readonly #box: BreakerBox;
  readonly #events: CellEvents;
  readonly #flight: SingleFlight<Credential<T>>;

  // The hot path reads only these: serve #valuePromise while issuedAt <= now < fastUntil.
  #fastUntil = NEVER;
  #issuedAt = 0;
  #valuePromise: Promise<T> | undefined;
  #credentialPromise: Promise<Credential<T>> | undefined;

  #credential: Credential<T> | undefined;
  #schedule: CredentialSchedule | undefined;
  #previous: Credential<T> | undefined;
  #invalidated = false;
  /** Why the cached credential was minted (the invalidation guard reads it). */
  #installedReason: MintReason | undefined;
  #closed = false;
  #timer: TimerHandle | undefined;
  /** The running flight's promise and the value promise derived from it, once per flight. */
  #flightPromise: Promise<Credential<T>> | undefined;
  #flightValue: Promise<T> | undefined;
  readonly #clock: ClockFaults = { fault: undefined };
  /** The InvalidClockError of a credential that landed while the clock was unreadable. */
  #landingClockError: InvalidClockError | undefined;

  constructor(
    policy: ResolvedPolicy,
    mint: Mint<T>,
    box: BreakerBox,
    key?: string,
    owner?: CellOwner,
  ) {
    this.#policy = policy;
    this.#mint = mint;
    this.#box = box;
    this.#events = new CellEvents(policy.reporter, policy.name, key);
    this.#flight = new SingleFlight<Credential<T>>(
      owner === undefined ? undefined : (busy) => owner.onBusyChange(busy),
    );
  }

  get(options?: CallOptions): Promise<T> {
    return this.getAt(this.#read(), options);
  }

  /** As {@link get}, with the clock already read (finite) by the caller: a keyed provider. @internal */
  getAt(now: number, options: CallOptions | undefined): Promise<T> {
    if (now < this.#fastUntil && now >= this.#issuedAt) {
      if (options === undefined || isLiveCall(options)) return this.#valuePromise as Promise<T>;
    }
    return this.#slowPath(now, options, false) as Promise<T>;
  }

  getCredential(options?: CallOptions): Promise<Credential<T>> {
    return this.getCredentialAt(this.#read(), options);
  }

  /** As {@link getCredential}, with the clock already read by the caller. @internal */
  getCredentialAt(now: number, options: CallOptions | undefined): Promise<Credential<T>> {
    if (now < this.#fastUntil && now >= this.#issuedAt) {
      if (options === undefined || isLiveCall(options)) {
        return this.#credentialPromise as Promise<Credential<T>>;
      }
    }
    return this.#slowPath(now, options, true) as Promise<Credential<T>>;
  }

  peek(): Credential<T> | undefined {
    const credential = this.#credential;
    if (credential === undefined) return undefined;
    const now = this.#read();
    this.#clock.fault = undefined;
    // NaN compares false: a clock that cannot be read never vouches for a credential.
    return now < (this.#schedule as CredentialSchedule).expiresAt ? credential : undefined;
  }

  invalidate(rejected?: T | Credential<T>): boolean {
    hold();
    try {
      const credential = this.#credential;
      if (this.#closed || credential === undefined) return false;
      if (rejected !== undefined && !isSameCredential(credential, rejected)) return false;
      if (this.#refusesInvalidation()) return false;
      this.#previous = credential;
      this.#invalidated = true;
      this.#clearCache();
      return true;
    } catch {
      return false; // a hostile `rejected` (a throwing getter) matches nothing
    } finally {
      release();
    }
  }

  refresh(options?: CallOptions): Promise<Credential<T>> {
    return this.#refreshAs('forced', options);
  }

  snapshot(): ProviderSnapshot {
    const now = this.#read();
    if (!Number.isFinite(now)) this.#clock.fault = undefined;
    return buildSnapshot(
      {
        name: this.#policy.name,
        closed: this.#closed,
        schedule: this.#schedule,
        mintInFlight: this.#flight.inFlight,
        waiters: this.#flight.waiters,
        box: this.#box,
        breaker: this.#policy.breaker,
      },
      now,
    );
  }

  close(): void {
    if (this.#closed) return;
    hold();
    try {
      this.#closed = true;
      this.#releaseProbe();
      forget(this.#box, this);
      stopTimer(this.#policy.timers, this.#timer);
      this.#timer = undefined;
      this.#previous = undefined;
      this.#clearCache();
      this.#flight.abort(this.#closedError());
      this.#flightPromise = undefined;
      this.#flightValue = undefined;
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
    hold();
    try {
      if (!this.wantsRefresh(now)) return undefined;
      if (this.#admit(now) !== undefined) return undefined;
      return this.#startMint(this.#reasonFor(decideServe(this.#schedule, now)), now).then(
        noop,
        noop,
      );
    } catch {
      return undefined;
    } finally {
      release();
    }
  }

  /** Whether a sweep should refresh this credential now (due or expired, none in flight). @internal */
  wantsRefresh(now: number): boolean {
    if (this.#closed || this.#flight.inFlight) return false;
    const decision = decideServe(this.#schedule, now);
    return decision === 'due' || decision === 'expired';
  }

  /** Seeds the cache with the eager first mint. @internal */
  start(): Promise<Credential<T>> {
    return this.#refreshAs('initial', undefined);
  }

  // ---------------------------------------------------------------- internals

  /** Mints for `reason` (or joins the mint in flight) and waits for it. */
  #refreshAs(reason: MintReason, options: CallOptions | undefined): Promise<Credential<T>> {
    hold();
    try {
      if (this.#closed) return Promise.reject(this.#closedError());
      const signal = callSignal(options);
      if (signal?.aborted) return Promise.reject(signal.reason);
      const now = this.#read();
      if (!Number.isFinite(now)) return Promise.reject(this.#clockError(now));
      return this.#mintAndJoin(reason, now, true, signal) as Promise<Credential<T>>;
    } catch (error) {
      return Promise.reject(error);
    } finally {
      release();
    }
  }

  /** Reads the clock; never throws (NaN when it cannot be read). */
  #read(): number {
    return readClock(this.#policy.now, this.#clock);
  }

  /** The error for a clock reading that is not a finite number. */
  #clockError(reading: number): InvalidClockError {
    return clockError(reading, this.#clock, this.#policy.name);
  }

  #closedError(): ProviderClosedError {
    return new ProviderClosedError({ name: this.#policy.name });
  }

  #slowPath(
    now: number,
    options: CallOptions | undefined,
    whole: boolean,
  ): Promise<T | Credential<T>> {
    hold();
    try {
      if (this.#closed) return Promise.reject(this.#closedError());
      const signal = callSignal(options);
      if (signal?.aborted) return Promise.reject(signal.reason);
      if (!Number.isFinite(now)) return Promise.reject(this.#clockError(now));
      const decision = decideServe(this.#schedule, now);
      if (decision === 'due' || decision === 'fresh') {
        // Read before anything runs: a background mint cannot clear what this caller gets.
        const cached = (whole ? this.#credentialPromise : this.#valuePromise) as Promise<
          T | Credential<T>
        >;
        if (decision === 'due') this.#refreshInBackground(now);
        return cached;
      }
      return this.#mintAndJoin(this.#reasonFor(decision), now, whole, signal);
    } catch (error) {
      return Promise.reject(error);
    } finally {
      release();
    }
  }

  /** Joins the mint in flight, or starts one if the breaker admits it, and waits for it. */
  #mintAndJoin(
    reason: MintReason,
    now: number,
    whole: boolean,
    signal: AbortSignal | undefined,
  ): Promise<T | Credential<T>> {
    let started: Promise<Credential<T>> | undefined;
    if (!this.#flight.inFlight) {
      const refusedForMs = this.#admit(now);
      if (refusedForMs !== undefined) {
        const refused = this.#breakerOpenError(refusedForMs);
        this.#events.breakerRefused(refused.retryAfterMs);
        return Promise.reject(refused);
      }
      started = this.#startMint(reason, now);
    }
    const joined = this.#join(whole, signal);
    if (joined !== undefined) return joined;
    // The flight already ended: the mint closed the provider while it ran. Its outcome stands.
    const ended = started ?? Promise.reject(this.#closedError());
    return whole ? ended : ended.then(valueOfCredential);
  }

  #join(whole: boolean, signal: AbortSignal | undefined): Promise<T | Credential<T>> | undefined {
    if (signal !== undefined) {
      return whole
        ? this.#flight.joinWith(signal)
        : this.#flight.joinWith(signal, valueOfCredential);
    }
    const shared = this.#flight.join();
    if (shared === undefined || whole) return shared;
    // The value promise is derived once per flight, so a cohort shares one derived promise.
    if (this.#flightPromise !== shared) {
      this.#flightPromise = shared;
      this.#flightValue = shared.then(valueOfCredential);
      this.#flightValue.catch(noop);
    }
    return this.#flightValue;
  }

  /** Why a mint started for a credential in state `decision` runs. */
  #reasonFor(decision: ServeDecision): MintReason {
    if (decision === 'due' || decision === 'fresh') return 'proactive';
    if (decision === 'expired') return 'expired';
    return this.#invalidated ? 'invalidated' : 'initial';
  }

  #refreshInBackground(now: number): void {
    if (this.#flight.inFlight) return;
    if (this.#admit(now) !== undefined) return;
    this.#startMint('proactive', now);
  }

  /**
   * Asks the breaker; commits its next state. Returns undefined when admitted, else the
   * milliseconds until a probe is admitted (no error is built: background refreshes ask on
   * every due access while the breaker is open).
   */
  #admit(now: number): number | undefined {
    const box = this.#box;
    const admission = askBox(box, this, now, this.#policy.breaker);
    this.#setBreaker(admission.next, now);
    if (admission.admitted) {
      noteAdmission(box, this, admission.probe);
      return undefined;
    }
    noteRefusal(box, this);
    return admission.retryAfterMs;
  }

  /** The error a caller gets when the breaker refuses a mint it must wait for. */
  #breakerOpenError(retryAfterMs: number): BreakerOpenError {
    return new BreakerOpenError(retryAfterMs, {
      cause: this.#box.lastError,
      name: this.#policy.name,
    });
  }

  /**
   * Gives up this provider's half-open probe (it is closing, or its outcome said nothing
   * about the issuer): the breaker goes back to open with its cooldown already elapsed, so
   * the next caller anywhere probes at once.
   */
  #releaseProbe(): void {
    const box = this.#box;
    if (box.probe !== this) return;
    box.probe = undefined;
    if (box.state.state === 'half-open') {
      let now = this.#read();
      if (!Number.isFinite(now)) {
        this.#clock.fault = undefined;
        now = box.state.openedAt + this.#policy.breaker.cooldownMs;
      }
      const openedAt = now - this.#policy.breaker.cooldownMs;
      this.#setBreaker({ state: 'open', failures: box.state.failures, openedAt }, now);
    }
  }

  #startMint(reason: MintReason, startedAt: number): Promise<Credential<T>> {
    const policy = this.#policy;
    this.#events.started(reason);
    const previous = this.#credential ?? this.#previous;
    const mint = this.#mint;
    return this.#flight.start(
      (signal) => mint(previous === undefined ? { signal, reason } : { signal, reason, previous }),
      {
        onSuccess: (raw, waiters) => this.#onMinted(raw, reason, startedAt, waiters),
        onFailure: (error, waiters) => this.#onMintFailed(error, reason, startedAt, waiters),
      },
      {
        timeoutMs: policy.mintTimeoutMs,
        timeoutError: () => new MintTimeoutError(policy.mintTimeoutMs, { name: policy.name }),
        timers: policy.timers,
      },
    );
  }

  #onMinted(raw: unknown, reason: MintReason, startedAt: number, waiters: number): Credential<T> {
    this.#flightPromise = undefined;
    this.#flightValue = undefined;
    const policy = this.#policy;
    const credential = checkMintedCredential<T>(raw, policy.name);
    const now = this.#read();
    if (!Number.isFinite(now)) {
      this.#landingClockError = this.#clockError(now);
      throw this.#landingClockError;
    }
    if (credential.expiresAt !== undefined && credential.expiresAt <= now) {
      throw new MintedCredentialExpiredError(credential.expiresAt, now, { name: policy.name });
    }
    const previousExpiresAt = (this.#credential ?? this.#previous)?.expiresAt;
    const schedule = scheduleCredential(
      now,
      credential.expiresAt,
      previousExpiresAt,
      policy.timing,
      sample(policy.random),
      credential.refreshAfter,
    );
    this.#credential = credential;
    this.#schedule = schedule;
    this.#previous = undefined;
    this.#invalidated = false;
    this.#installedReason = reason;
    this.#issuedAt = schedule.issuedAt;
    this.#fastUntil = Math.min(schedule.dueAt, schedule.expiresAt);
    this.#valuePromise = Promise.resolve(credential.value);
    this.#credentialPromise = Promise.resolve(credential);
    noteSuccess(this.#box, this);
    this.#setBreaker(recordSuccess(this.#box.state), now);
    this.#arm(schedule.dueAt, now);

    this.#events.succeeded(reason, now - startedAt, seconds(schedule.expiresAt - now));
    this.#events.coalesced(reason, waiters, true);
    return credential;
  }

  #onMintFailed(error: unknown, reason: MintReason, startedAt: number, waiters: number): void {
    this.#flightPromise = undefined;
    this.#flightValue = undefined;
    if (this.#closed) return; // closing is not a mint failure
    const policy = this.#policy;
    const box = this.#box;
    const wasProbe = box.probe === this && box.state.state === 'half-open';
    // A credential that landed while the clock could not be read: the issuer answered, so the
    // breaker does not count it; the probe (if this was it) is handed back, as by close().
    const clockFailure = error !== undefined && error === this.#landingClockError;
    this.#landingClockError = undefined;
    let now = this.#read();
    const clockKnown = Number.isFinite(now);
    if (!clockKnown) {
      this.#clock.fault = undefined;
      now = startedAt; // the last reading known good: the failure is dated at the mint's start
    }
    box.lastError = error;
    box.lastErrorAt = now;
    box.hasError = true;
    if (clockFailure || !countsTowardsBreaker(error)) {
      // Not this provider's attempt at the issuer (a clock fault, or a failure the mint relays
      // from elsewhere): not counted, and its retry hint is the relaying coordinator's to
      // enforce; a probe is handed back, so the next caller probes at once.
      this.#releaseProbe();
    } else {
      noteFailure(box, this, wasProbe);
      // The issuer's own wait (Retry-After), when the error carries one, opens the breaker.
      const hintMs = retryHintMs(error);
      this.#setBreaker(recordFailure(box.state, now, policy.breaker, hintMs), now);
    }
    const retryAt =
      now +
      Math.max(
        policy.timing.minRefreshIntervalMs,
        breakerRetryAfterMs(box.state, now, policy.breaker),
      );
    this.#arm(retryAt, now);

    const cached = this.#credential === undefined ? undefined : this.#schedule?.expiresAt;
    this.#events.failed(
      reason,
      now - startedAt,
      error,
      errorCode(error),
      cached === undefined || !clockKnown ? undefined : seconds(cached - now),
    );
    this.#events.coalesced(reason, waiters, false);
  }

  #setBreaker(next: BreakerState, now: number): void {
    const box = this.#box;
    const before = box.state;
    if (before === next) return;
    box.state = next;
    if (before.state !== next.state) {
      this.#events.breakerChanged(
        before.state,
        next.state,
        next.failures,
        breakerRetryAfterMs(next, now, this.#policy.breaker),
      );
    }
  }

  /** With `schedule: 'timer'`, wakes the provider at `at` (epoch ms) to refresh. */
  #arm(at: number, now: number): void {
    if (this.#policy.schedule !== 'timer' || this.#closed) return;
    stopTimer(this.#policy.timers, this.#timer);
    this.#timer = undefined;
    if (!Number.isFinite(at)) return;
    this.#timer = startTimer(
      this.#policy.timers,
      () => this.#onTimer(),
      Math.max(at - now, TIMER_MIN_DELAY_MS),
    );
  }

  #onTimer(): void {
    this.#timer = undefined;
    hold();
    try {
      if (this.#closed || this.#flight.inFlight) return;
      const now = this.#read();
      if (!Number.isFinite(now)) {
        // Unknown time: look again later rather than guess.
        this.#clock.fault = undefined;
        this.#arm(TIMER_MIN_DELAY_MS, 0);
        return;
      }
      const decision = decideServe(this.#schedule, now);
      if (decision === 'fresh') {
        this.#arm((this.#schedule as CredentialSchedule).dueAt, now);
        return;
      }
      const refusedForMs = this.#admit(now);
      if (refusedForMs !== undefined) {
        // 0 means another key of a shared breaker is probing: wait, never spin.
        this.#arm(now + Math.max(refusedForMs, this.#policy.timing.minRefreshIntervalMs), now);
        return;
      }
      this.#startMint(this.#reasonFor(decision), now);
    } catch {
      // A timer callback never throws into the runtime.
    } finally {
      release();
    }
  }

  /**
   * The invalidation guard: a credential minted because of an invalidation cannot itself be
   * invalidated for `minRefreshIntervalMs`, so a server that rejects every token costs at
   * most one mint per interval. A clock that cannot be read does not refuse.
   */
  #refusesInvalidation(): boolean {
    const guardMs = this.#policy.timing.minRefreshIntervalMs;
    const schedule = this.#schedule;
    if (this.#installedReason !== 'invalidated' || guardMs === 0 || schedule === undefined) {
      return false;
    }
    const now = this.#read();
    this.#clock.fault = undefined;
    const ageMs = now - schedule.issuedAt;
    if (!(ageMs >= 0 && ageMs < guardMs)) return false;
    this.#events.invalidateRefused(ageMs, guardMs - ageMs);
    return true;
  }

  #clearCache(): void {
    this.#credential = undefined;
    this.#schedule = undefined;
    this.#fastUntil = NEVER;
    this.#valuePromise = undefined;
    this.#credentialPromise = undefined;
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

function noop(): void {}

/**
 * Whether a mint failure counts towards the breaker: every failure does, except an error
 * whose `countsTowardsBreaker` property is `false` (a failure the mint relays from elsewhere,
 * such as another instance's mint). A property that cannot be read counts.
 */
function countsTowardsBreaker(error: unknown): boolean {
  if ((typeof error !== 'object' && typeof error !== 'function') || error === null) return true;
  try {
    return (error as { countsTowardsBreaker?: unknown }).countsTowardsBreaker !== false;
  } catch {
    return true;
  }
}

/**
 * The retry hint a mint failure carries: its `retryAfterMs` (own or inherited) when that is a
 * finite number > 0, else undefined. A property that cannot be read gives no hint.
 */
function retryHintMs(error: unknown): number | undefined {
  if ((typeof error !== 'object' && typeof error !== 'function') || error === null) {
    return undefined;
  }
  try {
    const hint = (error as { retryAfterMs?: unknown }).retryAfterMs;
    return typeof hint === 'number' && Number.isFinite(hint) && hint > 0 ? hint : undefined;
  } catch {
    return undefined;
  }
}

function seconds(ms: number): number | undefined {
  return Number.isFinite(ms) ? ms / 1000 : undefined;
}
