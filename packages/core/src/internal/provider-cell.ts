/**
 * The provider's implementation: the thin effectful shell that owns the cached credential,
 * the single flight, the timers and the reporter calls. Every decision is delegated to the
 * pure policy (`decideServe`, `scheduleCredential`) and breaker (`admitMint`). Used by
 * `createRefreshingProvider` (one cell) and `createKeyedProvider` (a cell per key).
 */

import {
  admitMint,
  type BreakerState,
  breakerRetryAfterMs,
  CLOSED_BREAKER,
  recordFailure,
  recordSuccess,
} from '../circuit-breaker.js';
import { type Credential, checkMintedCredential } from '../credential.js';
import {
  BreakerOpenError,
  MintedCredentialExpiredError,
  MintTimeoutError,
  ProviderClosedError,
} from '../errors.js';
import type { ResolvedPolicy } from '../policy-options.js';
import { raceSignal } from '../race-signal.js';
import { type CredentialSchedule, decideServe, scheduleCredential } from '../refresh-policy.js';
import type {
  CallOptions,
  Mint,
  ProviderSnapshot,
  RefreshingProvider,
} from '../refreshing-provider.js';
import { errorCode, type MintReason } from '../reporter.js';
import { SingleFlight } from '../single-flight.js';
import { startTimer, stopTimer, type TimerHandle } from './timers.js';

/**
 * The breaker state a provider reads and writes. Several providers may share one box (a
 * keyed provider with one breaker for the whole issuer).
 * @internal
 */
export interface BreakerBox {
  state: BreakerState;
  lastError: unknown;
  lastErrorAt: number;
  hasError: boolean;
  /** The provider running the half-open probe, so a shared breaker admits only one. */
  probe: object | undefined;
}

/** @internal */
export function createBreakerBox(): BreakerBox {
  return {
    state: CLOSED_BREAKER,
    lastError: undefined,
    lastErrorAt: 0,
    hasError: false,
    probe: undefined,
  };
}

const NEVER = Number.NEGATIVE_INFINITY;
const MAX_TIMER_MS = 2_147_483_647;
/** The least delay before a refresh timer refused by the breaker fires again. */
const TIMER_RETRY_MIN_MS = 1_000;
const noop = (): void => {};
const valueOfCredential = <T>(credential: Credential<T>): T => credential.value;

/**
 * The provider's implementation. Exported for the keyed provider only; use
 * {@link createRefreshingProvider}.
 * @internal
 */
export class ProviderCell<T> implements RefreshingProvider<T> {
  readonly #policy: ResolvedPolicy;
  readonly #mint: Mint<T>;
  readonly #box: BreakerBox;
  readonly #key: string | undefined;
  readonly #flight = new SingleFlight<Credential<T>>();

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
  #joinedPromise: Promise<Credential<T>> | undefined;
  #joinedValue: Promise<T> | undefined;

  constructor(policy: ResolvedPolicy, mint: Mint<T>, box: BreakerBox, key?: string) {
    this.#policy = policy;
    this.#mint = mint;
    this.#box = box;
    this.#key = key;
  }

  get(options?: CallOptions): Promise<T> {
    return this.getAt(this.#now(), options);
  }

  /** As {@link get}, with the clock already read by the caller (a keyed provider). @internal */
  getAt(now: number, options: CallOptions | undefined): Promise<T> {
    if (this.#servesCached(now, options)) return this.#valuePromise as Promise<T>;
    return this.#slowPath(now, options, false) as Promise<T>;
  }

  getCredential(options?: CallOptions): Promise<Credential<T>> {
    return this.getCredentialAt(this.#now(), options);
  }

  /** As {@link getCredential}, with the clock already read by the caller. @internal */
  getCredentialAt(now: number, options: CallOptions | undefined): Promise<Credential<T>> {
    if (this.#servesCached(now, options)) return this.#credentialPromise as Promise<Credential<T>>;
    return this.#slowPath(now, options, true) as Promise<Credential<T>>;
  }

  /**
   * The hot path's whole decision: fresh, the clock has not stepped back, and the caller has
   * not already given up. Everything else goes through {@link decideServe}.
   */
  #servesCached(now: number, options: CallOptions | undefined): boolean {
    return (
      now < this.#fastUntil &&
      now >= this.#issuedAt &&
      (options === undefined || options.signal?.aborted !== true)
    );
  }

  peek(): Credential<T> | undefined {
    const credential = this.#credential;
    if (credential === undefined) return undefined;
    return this.#now() < (this.#schedule as CredentialSchedule).expiresAt ? credential : undefined;
  }

  invalidate(rejected?: T | Credential<T>): boolean {
    const credential = this.#credential;
    if (this.#closed || credential === undefined) return false;
    if (rejected !== undefined && !matches(credential, rejected)) return false;
    if (this.#refusesInvalidation()) return false;
    this.#previous = credential;
    this.#invalidated = true;
    this.#clearCache();
    return true;
  }

  refresh(options?: CallOptions): Promise<Credential<T>> {
    if (this.#closed) return Promise.reject(this.#closedError());
    const signal = options?.signal;
    if (signal?.aborted) return Promise.reject(signal.reason);
    return this.#mintAndJoin('forced', this.#now(), true, signal) as Promise<Credential<T>>;
  }

  snapshot(): ProviderSnapshot {
    const now = this.#now();
    const schedule = this.#schedule;
    const box = this.#box;
    const decision = decideServe(schedule, now);
    const error = box.lastError;
    return {
      name: this.#policy.name,
      status: this.#closed ? 'closed' : decision === 'missing' ? 'empty' : decision,
      issuedAt: schedule === undefined ? null : schedule.issuedAt,
      expiresAt: finiteOrNull(schedule?.expiresAt),
      refreshDueAt: finiteOrNull(schedule?.dueAt),
      mintInFlight: this.#flight.inFlight,
      waiters: this.#flight.waiters,
      breaker: {
        state: box.state.state,
        failures: box.state.failures,
        retryAfterMs: breakerRetryAfterMs(box.state, now, this.#policy.breaker),
      },
      lastError: box.hasError
        ? { code: errorCode(error) ?? null, message: describeError(error), at: box.lastErrorAt }
        : null,
    };
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#releaseProbe();
    stopTimer(this.#policy.timers, this.#timer);
    this.#timer = undefined;
    this.#previous = undefined;
    this.#clearCache();
    this.#flight.abort(this.#closedError());
  }

  declare [Symbol.dispose]: () => void;

  toJSON(): ProviderSnapshot {
    return this.snapshot();
  }

  /**
   * Starts a background mint when the credential is due or expired, the breaker admits it and
   * none is in flight; returns the mint's settled promise (never rejecting), else undefined.
   * Used by keyed sweeps. @internal
   */
  refreshIfDue(now: number): Promise<unknown> | undefined {
    if (!this.wantsRefresh(now)) return undefined;
    if (this.#admit(now) !== undefined) return undefined;
    const reason = decideServe(this.#schedule, now) === 'due' ? 'proactive' : 'expired';
    return this.#startMint(reason, now).then(noop, noop);
  }

  /** Whether a sweep should refresh this credential now (due or expired, none in flight). @internal */
  wantsRefresh(now: number): boolean {
    if (this.#closed || this.#flight.inFlight) return false;
    const decision = decideServe(this.#schedule, now);
    return decision === 'due' || decision === 'expired';
  }

  /** Seeds the cache with the eager first mint. @internal */
  start(): Promise<Credential<T>> {
    return this.#mintAndJoin('initial', this.#now(), true, undefined) as Promise<Credential<T>>;
  }

  // ---------------------------------------------------------------- internals

  #now(): number {
    const clock = this.#policy.now;
    return clock === undefined ? Date.now() : clock();
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
    let now: number;
    try {
      now = this.#now();
    } catch {
      return false;
    }
    const ageMs = now - schedule.issuedAt;
    if (!(ageMs >= 0 && ageMs < guardMs)) return false;
    const reporter = this.#policy.reporter;
    if (reporter?.onInvalidateRefused !== undefined) {
      reporter.onInvalidateRefused(
        this.#event({ credentialAgeMs: ageMs, retryAfterMs: guardMs - ageMs }),
      );
    }
    return true;
  }

  #closedError(): ProviderClosedError {
    return new ProviderClosedError({ name: this.#policy.name });
  }

  #slowPath(
    now: number,
    options: CallOptions | undefined,
    whole: boolean,
  ): Promise<T | Credential<T>> {
    if (this.#closed) return Promise.reject(this.#closedError());
    const signal = options?.signal;
    if (signal?.aborted) return Promise.reject(signal.reason);
    const decision = decideServe(this.#schedule, now);
    if (decision === 'due') this.#refreshInBackground(now);
    if (decision === 'due' || decision === 'fresh') {
      return (whole ? this.#credentialPromise : this.#valuePromise) as Promise<T | Credential<T>>;
    }
    const reason: MintReason =
      decision === 'expired' ? 'expired' : this.#invalidated ? 'invalidated' : 'initial';
    return this.#mintAndJoin(reason, now, whole, signal);
  }

  /** Joins the mint in flight, or starts one if the breaker admits it, and waits for it. */
  #mintAndJoin(
    reason: MintReason,
    now: number,
    whole: boolean,
    signal: AbortSignal | undefined,
  ): Promise<T | Credential<T>> {
    let shared = this.#flight.join();
    if (shared === undefined) {
      const refusedForMs = this.#admit(now);
      if (refusedForMs !== undefined) return Promise.reject(this.#breakerOpenError(refusedForMs));
      const started = this.#startMint(reason, now);
      shared = this.#flight.join() ?? started;
    }
    return raceSignal<T | Credential<T>>(whole ? shared : this.#valueOf(shared), signal);
  }

  /** The value promise derived once per flight, so a cohort shares one derived promise. */
  #valueOf(shared: Promise<Credential<T>>): Promise<T> {
    if (this.#joinedPromise !== shared) {
      this.#joinedPromise = shared;
      this.#joinedValue = shared.then(valueOfCredential);
      this.#joinedValue.catch(noop);
    }
    return this.#joinedValue as Promise<T>;
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
    if (box.state.state === 'half-open' && box.probe !== undefined && box.probe !== this) {
      return 0; // a shared breaker is probing through another key: the probe decides
    }
    const admission = admitMint(box.state, now, this.#policy.breaker);
    this.#setBreaker(admission.next);
    if (admission.admitted) {
      if (admission.next.state === 'half-open') box.probe = this;
      return undefined;
    }
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
   * Gives up this provider's half-open probe (it is closing): the breaker goes back to open
   * with its cooldown already elapsed, so the next caller anywhere probes at once.
   */
  #releaseProbe(): void {
    const box = this.#box;
    if (box.probe !== this) return;
    box.probe = undefined;
    if (box.state.state === 'half-open') {
      const now = this.#now();
      const openedAt = now - this.#policy.breaker.cooldownMs;
      this.#setBreaker({ state: 'open', failures: box.state.failures, openedAt });
    }
  }

  #startMint(reason: MintReason, startedAt: number): Promise<Credential<T>> {
    const policy = this.#policy;
    const reporter = policy.reporter;
    if (reporter?.onRefreshStart !== undefined) {
      reporter.onRefreshStart(this.#event({ reason }));
    }
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
    const policy = this.#policy;
    const now = this.#now();
    const credential = checkMintedCredential<T>(raw, policy.name);
    if (credential.expiresAt !== undefined && credential.expiresAt <= now) {
      throw new MintedCredentialExpiredError(credential.expiresAt, now, { name: policy.name });
    }
    const previousExpiresAt = (this.#credential ?? this.#previous)?.expiresAt;
    const random = policy.random;
    const schedule = scheduleCredential(
      now,
      credential.expiresAt,
      previousExpiresAt,
      policy.timing,
      random === undefined ? Math.random() : random(),
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
    if (this.#box.probe === this) this.#box.probe = undefined;
    this.#setBreaker(recordSuccess(this.#box.state));
    this.#arm(schedule.dueAt, now);

    const reporter = policy.reporter;
    if (reporter?.onRefreshSuccess !== undefined) {
      reporter.onRefreshSuccess(
        this.#event({
          reason,
          durationMs: now - startedAt,
          remainingLifetimeSeconds: seconds(schedule.expiresAt - now),
        }),
      );
    }
    if (reporter?.onCoalesced !== undefined) {
      reporter.onCoalesced(this.#event({ reason, waiters, ok: true }));
    }
    return credential;
  }

  #onMintFailed(error: unknown, reason: MintReason, startedAt: number, waiters: number): void {
    if (this.#closed) return; // closing is not a mint failure
    const policy = this.#policy;
    const now = this.#now();
    const box = this.#box;
    box.lastError = error;
    box.lastErrorAt = now;
    box.hasError = true;
    if (box.probe === this) box.probe = undefined;
    if (countsTowardsBreaker(error)) {
      this.#setBreaker(recordFailure(box.state, now, policy.breaker));
    }
    const retryAt =
      now +
      Math.max(
        policy.timing.minRefreshIntervalMs,
        breakerRetryAfterMs(box.state, now, policy.breaker),
      );
    this.#arm(retryAt, now);

    const reporter = policy.reporter;
    if (reporter?.onRefreshFailure !== undefined) {
      const cached = this.#credential === undefined ? undefined : this.#schedule?.expiresAt;
      reporter.onRefreshFailure(
        this.#event({
          reason,
          durationMs: now - startedAt,
          error,
          code: errorCode(error),
          cachedRemainingLifetimeSeconds: cached === undefined ? undefined : seconds(cached - now),
        }),
      );
    }
    if (reporter?.onCoalesced !== undefined) {
      reporter.onCoalesced(this.#event({ reason, waiters, ok: false }));
    }
  }

  #setBreaker(next: BreakerState): void {
    const box = this.#box;
    const before = box.state;
    if (before === next) return;
    box.state = next;
    const reporter = this.#policy.reporter;
    if (before.state !== next.state && reporter?.onBreakerStateChange !== undefined) {
      const now = this.#now();
      reporter.onBreakerStateChange(
        this.#event({
          from: before.state,
          to: next.state,
          failures: next.failures,
          retryAfterMs: breakerRetryAfterMs(next, now, this.#policy.breaker),
        }),
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
      Math.min(Math.max(at - now, 0), MAX_TIMER_MS),
    );
  }

  #onTimer(): void {
    this.#timer = undefined;
    if (this.#closed || this.#flight.inFlight) return;
    const now = this.#now();
    const decision = decideServe(this.#schedule, now);
    if (decision === 'fresh') {
      this.#arm((this.#schedule as CredentialSchedule).dueAt, now);
      return;
    }
    const refusedForMs = this.#admit(now);
    if (refusedForMs !== undefined) {
      // 0 means another key of a shared breaker is probing: wait, never spin.
      const waitMs = Math.max(
        refusedForMs,
        this.#policy.timing.minRefreshIntervalMs,
        TIMER_RETRY_MIN_MS,
      );
      this.#arm(now + waitMs, now);
      return;
    }
    const reason: MintReason =
      decision === 'due'
        ? 'proactive'
        : decision === 'expired'
          ? 'expired'
          : this.#invalidated
            ? 'invalidated'
            : 'initial';
    this.#startMint(reason, now);
  }

  #clearCache(): void {
    this.#credential = undefined;
    this.#schedule = undefined;
    this.#fastUntil = NEVER;
    this.#valuePromise = undefined;
    this.#credentialPromise = undefined;
  }

  #event<E extends object>(fields: E): E & { name: string; key?: string } {
    const name = this.#policy.name;
    return this.#key === undefined ? { name, ...fields } : { name, key: this.#key, ...fields };
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

function matches<T>(credential: Credential<T>, rejected: T | Credential<T>): boolean {
  if (rejected === credential || Object.is(rejected, credential.value)) return true;
  return (
    typeof rejected === 'object' &&
    rejected !== null &&
    'value' in rejected &&
    Object.is((rejected as Credential<T>).value, credential.value)
  );
}

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

function finiteOrNull(value: number | undefined): number | null {
  return value === undefined || !Number.isFinite(value) ? null : value;
}

function seconds(ms: number): number | undefined {
  return Number.isFinite(ms) ? ms / 1000 : undefined;
}

function describeError(error: unknown): string {
  try {
    if (error instanceof Error) return error.message;
    if (typeof error === 'string') return error;
    if (error === undefined) return 'undefined';
    const message = (error as { message?: unknown } | null)?.message;
    return typeof message === 'string' ? message : String(error);
  } catch {
    return 'unprintable error';
  }
}
