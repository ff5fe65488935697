/**
 * A keyed provider: one refreshing provider per key (a token per tenant, a certificate per
 * hostname), created lazily, bounded by `maxKeys` with least-recently-used eviction and an
 * optional idle time-to-live. Every key gets the whole policy of the single provider.
 */

import type { Credential } from './credential.js';
import { InvalidOptionError, KeysBusyError, ProviderClosedError } from './errors.js';
import { callSignal } from './internal/call-options.js';
import { type ClockFaults, clockError, readClock } from './internal/clock.js';
import { emit } from './internal/dispatch.js';
import {
  type BreakerBox,
  createBreakerBox,
  ProviderCell,
  sample,
} from './internal/provider-cell.js';
import { RecencyList, type RecencyNode } from './internal/recency-list.js';
import { Semaphore } from './internal/semaphore.js';
import { startTimer, stopTimer, type TimerHandle } from './internal/timers.js';
import { type RefreshPolicyOptions, type ResolvedPolicy, resolvePolicy } from './policy-options.js';
import type { CallOptions, MintContext, ProviderSnapshot } from './refreshing-provider.js';
import type { KeyDropReason } from './reporter.js';

/** Obtains a new credential for `key`. */
export type KeyedMint<K, T> = (
  key: K,
  context: MintContext<T>,
) => Promise<Credential<T>> | Credential<T>;

/** Options of {@link createKeyedProvider}. */
export interface KeyedProviderOptions<K, T> extends RefreshPolicyOptions {
  /** Obtains a new credential for a key. Required. */
  mint: KeyedMint<K, T>;
  /**
   * Turns a key into the string it is cached under. Required unless keys are strings; two
   * keys with the same string share one credential.
   * @default keys must be strings
   */
  keyOf?: (key: K) => string;
  /**
   * Most keys cached at once; past it the least recently used key is dropped (its in-flight
   * mint, if any, is aborted and its waiters get `ProviderClosedError`).
   * @default 10000
   */
  maxKeys?: number;
  /**
   * A key not used (`get`, `getCredential`, `refresh`) for this many milliseconds is dropped.
   * @default undefined (never: only `maxKeys` bounds the cache)
   */
  idleTtlMs?: number;
  /**
   * `'per-key'`: each key has its own breaker. `'shared'`: one breaker for the whole issuer,
   * so when it is down every key fails fast instead of each tripping its own breaker; while
   * one key runs the half-open probe, the others fail fast with `retryAfterMs: 0`.
   * @default 'per-key'
   */
  breakerScope?: 'per-key' | 'shared';
}

/** Options of {@link KeyedProvider.startSweep}. */
export interface SweepOptions {
  /** Time between sweeps, in milliseconds, before jitter. Required. */
  intervalMs: number;
  /**
   * Each interval is spread by up to ±this fraction, so several instances never sweep in step.
   * @default 0.1
   */
  jitter?: number;
  /**
   * Most mints a sweep runs at once.
   * @default 25
   */
  concurrency?: number;
}

/** A running sweep. */
export interface Sweep {
  /** Stops sweeping; mints already started run to completion. Idempotent. */
  stop(): void;
}

/** Diagnostics of one key. */
export interface KeyedSnapshot extends ProviderSnapshot {
  /** The key's string form. */
  readonly key: string;
}

/** Credentials per key, each kept fresh by the refresh policy. */
export interface KeyedProvider<K, T> {
  /** As `RefreshingProvider.get`, for `key`; creates the key's provider on first use. */
  get(key: K, options?: CallOptions): Promise<T>;
  /** As `RefreshingProvider.getCredential`, for `key`. */
  getCredential(key: K, options?: CallOptions): Promise<Credential<T>>;
  /** The key's credential if cached and not expired; no side effects. */
  peek(key: K): Credential<T> | undefined;
  /** As `RefreshingProvider.invalidate`, for `key`. */
  invalidate(key: K, rejected?: T | Credential<T>): boolean;
  /** As `RefreshingProvider.refresh`, for `key`. */
  refresh(key: K, options?: CallOptions): Promise<Credential<T>>;
  /** Drops `key` (aborting its in-flight mint). @returns whether it was cached. */
  delete(key: K): boolean;
  /** Keys cached now. */
  readonly size: number;
  /** Diagnostics of `key`, or `undefined` when it is not cached. */
  snapshot(key: K): KeyedSnapshot | undefined;
  /**
   * The string forms of the keys cached now, least recently used first. A copy: later calls
   * do not change it. Metric backends enumerate keys with it.
   */
  keys(): string[];
  /** {@link snapshot} of every key cached now, least recently used first. */
  snapshots(): KeyedSnapshot[];
  /**
   * Refreshes due and expired keys in the background every `intervalMs` (jittered), at most
   * `concurrency` mints at once. The timer is unref'd. Starting a sweep stops the previous one.
   */
  startSweep(options: SweepOptions): Sweep;
  /** Closes every key's provider and stops the sweep. Idempotent. */
  close(): void;
  /** Same as {@link close}. */
  [Symbol.dispose](): void;
}

interface Entry<T> extends RecencyNode {
  readonly id: string;
  readonly cell: ProviderCell<T>;
  lastUsedAt: number;
  /** Callers wait on its mint: never evicted nor expired while so. */
  busy: boolean;
}

const MAX_DELAY_MS = 2_147_483_647;

class Keyed<K, T> implements KeyedProvider<K, T> {
  readonly #policy: ResolvedPolicy;
  readonly #mint: KeyedMint<K, T>;
  readonly #keyOf: ((key: K) => string) | undefined;
  readonly #maxKeys: number;
  readonly #idleTtlMs: number | undefined;
  readonly #sharedBox: BreakerBox | undefined;
  readonly #entries = new Map<string, Entry<T>>();
  /** The same entries, least recently used first: eviction and expiry order. */
  readonly #recency = new RecencyList<Entry<T>>();
  /** Entries whose mint has callers waiting: they are skipped by eviction and expiry. */
  #busyCount = 0;
  #closed = false;
  #stopSweep: (() => void) | undefined;
  /** Wakes when the least recently used key reaches `idleTtlMs` (set while one may). */
  #idleTimer: TimerHandle | undefined;
  readonly #clock: ClockFaults = { fault: undefined };

  constructor(
    policy: ResolvedPolicy,
    options: KeyedProviderOptions<K, T>,
    maxKeys: number,
    idleTtlMs: number | undefined,
  ) {
    this.#policy = policy;
    this.#mint = options.mint;
    this.#keyOf = options.keyOf;
    this.#maxKeys = maxKeys;
    this.#idleTtlMs = idleTtlMs;
    this.#sharedBox = options.breakerScope === 'shared' ? createBreakerBox() : undefined;
  }

  get size(): number {
    return this.#entries.size;
  }

  get(key: K, options?: CallOptions): Promise<T> {
    const now = this.#read();
    const cell = this.#cellFor(key, now, options);
    return cell instanceof ProviderCell ? cell.getAt(now, options) : cell;
  }

  getCredential(key: K, options?: CallOptions): Promise<Credential<T>> {
    const now = this.#read();
    const cell = this.#cellFor(key, now, options);
    return cell instanceof ProviderCell ? cell.getCredentialAt(now, options) : cell;
  }

  refresh(key: K, options?: CallOptions): Promise<Credential<T>> {
    const now = this.#read();
    const cell = this.#cellFor(key, now, options);
    return cell instanceof ProviderCell ? cell.refresh(options) : cell;
  }

  peek(key: K): Credential<T> | undefined {
    return this.#live(key)?.cell.peek();
  }

  invalidate(key: K, rejected?: T | Credential<T>): boolean {
    return this.#live(key)?.cell.invalidate(rejected) ?? false;
  }

  delete(key: K): boolean {
    const id = this.#id(key);
    const entry = this.#entries.get(id);
    if (entry === undefined) return false;
    this.#drop(entry, 'deleted');
    return true;
  }

  snapshot(key: K): KeyedSnapshot | undefined {
    const entry = this.#live(key);
    return entry === undefined ? undefined : { ...entry.cell.snapshot(), key: entry.id };
  }

  keys(): string[] {
    return this.#ordered().map((entry) => entry.id);
  }

  snapshots(): KeyedSnapshot[] {
    const now = this.#read();
    const all: KeyedSnapshot[] = [];
    for (const entry of this.#ordered()) {
      if (this.#idle(entry, now)) continue;
      all.push({ ...entry.cell.snapshot(), key: entry.id });
    }
    return all;
  }

  startSweep(options: SweepOptions): Sweep {
    const { intervalMs, jitter, concurrency } = checkSweep(options);
    this.#stopSweep?.();
    if (this.#closed) return { stop: () => {} };
    const policy = this.#policy;
    const semaphore = new Semaphore(concurrency);
    let timer: TimerHandle | undefined;
    let stopped = false;
    const sweep = async (): Promise<void> => {
      const now = this.#read();
      if (!Number.isFinite(now)) return; // unknown time: try again at the next interval
      this.#evictIdle(now);
      const due: ProviderCell<T>[] = [];
      for (const entry of this.#entries.values()) {
        if (entry.cell.wantsRefresh(now)) due.push(entry.cell);
      }
      await Promise.all(
        due.map((cell) =>
          semaphore.run(async () => {
            const at = this.#read();
            if (!stopped && Number.isFinite(at)) await cell.refreshIfDue(at);
          }),
        ),
      );
    };
    // Each sweep re-arms the next one however it ends, until stop().
    const arm = (): void => {
      if (stopped) return;
      try {
        const delayMs = intervalMs * (1 + jitter * (2 * sample(policy.random) - 1));
        timer = startTimer(
          policy.timers,
          () => {
            timer = undefined;
            if (!stopped) sweep().then(arm, arm);
          },
          delayMs,
        );
      } catch {
        stopped = true; // the timers themselves failed: nothing more can be scheduled
      }
    };
    const stop = (): void => {
      stopped = true;
      stopTimer(policy.timers, timer);
      timer = undefined;
      if (this.#stopSweep === stop) this.#stopSweep = undefined;
    };
    this.#stopSweep = stop;
    arm();
    return { stop };
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#stopSweep?.();
    stopTimer(this.#policy.timers, this.#idleTimer);
    this.#idleTimer = undefined;
    const entries = this.#ordered(); // least recently used first
    this.#entries.clear();
    this.#recency.clear();
    this.#busyCount = 0;
    for (const entry of entries) entry.cell.close();
  }

  declare [Symbol.dispose]: () => void;

  toJSON(): { name: string; size: number; maxKeys: number; closed: boolean } {
    return {
      name: this.#policy.name,
      size: this.#entries.size,
      maxKeys: this.#maxKeys,
      closed: this.#closed,
    };
  }

  // ---------------------------------------------------------------- internals

  /** The clock, never throwing: NaN when it cannot be read. */
  #read(): number {
    return readClock(this.#policy.now, this.#clock);
  }

  /**
   * The key's provider for a call, created on first use and marked most recently used; or
   * the call's rejection when the provider is closed, the key has no string form, the clock
   * cannot be read (then nothing is created, touched or evicted), or every key is busy.
   */
  #cellFor(
    key: K,
    now: number,
    options: CallOptions | undefined,
  ): ProviderCell<T> | Promise<never> {
    try {
      if (this.#closed) return Promise.reject(new ProviderClosedError({ name: this.#policy.name }));
      const id = this.#id(key);
      if (!Number.isFinite(now)) return this.#refuseUnreadableClock(now, options);
      return this.#use(id, key, now);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * A call that arrives while the clock cannot be read: the same answer, in the same order of
   * checks, as a single provider gives (options, then an aborted signal, then the clock).
   */
  #refuseUnreadableClock(now: number, options: CallOptions | undefined): Promise<never> {
    const signal = callSignal(options);
    if (signal?.aborted) return Promise.reject(signal.reason);
    return Promise.reject(clockError(now, this.#clock, this.#policy.name));
  }

  /** The key's string form. @throws {InvalidOptionError} when it cannot be had. */
  #id(key: K): string {
    const keyOf = this.#keyOf;
    if (keyOf === undefined) {
      if (typeof key === 'string') return key;
      throw new InvalidOptionError(
        'key',
        'a string, or any value when the `keyOf` option turns it into one',
        key,
      );
    }
    const id = keyOf(key);
    if (typeof id !== 'string') throw new InvalidOptionError('keyOf(key)', 'a string', id);
    return id;
  }

  /** Whether `entry` has been unused for `idleTtlMs` at `now` (never while busy). */
  #idle(entry: Entry<T>, now: number): boolean {
    const ttl = this.#idleTtlMs;
    return ttl !== undefined && !entry.busy && now - entry.lastUsedAt >= ttl;
  }

  /**
   * The cached entry of `key` unless it is idle past `idleTtlMs`. Changes nothing: no
   * recency, no expiry (the next call or the idle timer drops an idle key).
   */
  #live(key: K): Entry<T> | undefined {
    const entry = this.#entries.get(this.#id(key));
    if (entry === undefined) return undefined;
    if (this.#idleTtlMs !== undefined && this.#idle(entry, this.#read())) return undefined;
    return entry;
  }

  /** Every entry, least recently used first. */
  #ordered(): Entry<T>[] {
    return [...this.#recency];
  }

  /** The key's provider, created on first use, marked most recently used: O(1). */
  #use(id: string, key: K, now: number): ProviderCell<T> {
    const entries = this.#entries;
    const found = entries.get(id);
    if (found !== undefined) {
      if (!this.#idle(found, now)) {
        found.lastUsedAt = now;
        this.#recency.touch(found);
        return found.cell;
      }
      this.#drop(found, 'idle');
    }
    this.#evictIdle(now);
    while (entries.size >= this.#maxKeys) {
      // Every key has callers waiting on its mint: refuse the new key rather than fail them.
      if (this.#busyCount >= entries.size) {
        throw new KeysBusyError(this.#maxKeys, { name: this.#policy.name });
      }
      const victim = this.#recency.oldest as Entry<T>;
      if (victim.busy) {
        this.#inUse(victim, now); // callers wait on it: it is in use, not least recent
        continue;
      }
      this.#drop(victim, 'lru');
    }
    const mint = this.#mint;
    const entry: Entry<T> = {
      id,
      cell: undefined as unknown as ProviderCell<T>,
      lastUsedAt: now,
      busy: false,
      newer: undefined,
      older: undefined,
    };
    const cell = new ProviderCell<T>(
      this.#policy,
      (context) => mint(key, context),
      this.#sharedBox ?? createBreakerBox(),
      id,
      { onBusyChange: (busy) => this.#onBusyChange(entry, busy) },
    );
    (entry as { cell: ProviderCell<T> }).cell = cell;
    entries.set(id, entry);
    this.#recency.push(entry);
    this.#armIdleTimer(now);
    return cell;
  }

  /** A key's mint gained its first waiter, or lost its last one. */
  #onBusyChange(entry: Entry<T>, busy: boolean): void {
    if (entry.busy === busy || this.#entries.get(entry.id) !== entry) return;
    entry.busy = busy;
    this.#busyCount += busy ? 1 : -1;
  }

  /** Marks a busy entry met at the old end as used now: it moves to the recent end. */
  #inUse(entry: Entry<T>, now: number): void {
    if (now > entry.lastUsedAt) entry.lastUsedAt = now;
    this.#recency.touch(entry);
  }

  /** Drops idle keys from the least recently used end, skipping busy ones: O(number met). */
  #evictIdle(now: number): void {
    if (this.#idleTtlMs === undefined) return;
    let budget = this.#entries.size; // each entry is met at most once
    for (let entry = this.#recency.oldest; entry !== undefined; entry = this.#recency.oldest) {
      if (budget-- <= 0 || now - entry.lastUsedAt < this.#idleTtlMs) return;
      if (entry.busy) this.#inUse(entry, now);
      else this.#drop(entry, 'idle');
    }
  }

  /**
   * With `idleTtlMs`, keeps one timer set for when the least recently used key goes idle, so
   * a quiet provider drops its idle keys (and stops refreshing them on the 'timer' schedule)
   * without waiting for another call. It fires no sooner than min(idleTtlMs, 1 s) after it is
   * set, so a burst of keys is dropped in batches, never one timer per key.
   */
  #armIdleTimer(now: number): void {
    const ttl = this.#idleTtlMs;
    if (ttl === undefined || this.#idleTimer !== undefined || this.#closed) return;
    const oldest = this.#recency.oldest;
    if (oldest === undefined) return;
    const delayMs = Math.max(oldest.lastUsedAt + ttl - now, Math.min(ttl, 1_000));
    this.#idleTimer = startTimer(this.#policy.timers, () => this.#onIdleTimer(), delayMs);
  }

  #onIdleTimer(): void {
    this.#idleTimer = undefined;
    if (this.#closed) return;
    const now = this.#read();
    if (!Number.isFinite(now)) {
      const ttl = this.#idleTtlMs as number;
      this.#idleTimer = startTimer(
        this.#policy.timers,
        () => this.#onIdleTimer(),
        Math.min(ttl, 1_000),
      );
      return;
    }
    try {
      this.#evictIdle(now);
    } finally {
      this.#armIdleTimer(now);
    }
  }

  #drop(entry: Entry<T>, reason: KeyDropReason): void {
    if (this.#entries.get(entry.id) === entry) {
      this.#entries.delete(entry.id);
      this.#recency.remove(entry);
      if (entry.busy) {
        entry.busy = false;
        this.#busyCount -= 1;
      }
    }
    entry.cell.close();
    const hook = this.#policy.reporter?.onKeyDropped;
    if (hook !== undefined) emit(hook, { name: this.#policy.name, key: entry.id, reason });
  }
}

Object.defineProperty(
  Keyed.prototype,
  (Symbol as { dispose?: symbol }).dispose ?? Symbol.for('Symbol.dispose'),
  {
    value(this: Keyed<unknown, unknown>) {
      this.close();
    },
  },
);

/**
 * Creates a keyed provider: a refreshing provider per key, created lazily on first use,
 * bounded by `maxKeys` (least recently used dropped first) and optionally `idleTtlMs`.
 * Every key has the full policy: due point with jitter, single-flight per key, the mint's
 * result or error to every waiter of that key, per-caller signals, the refresh-loop guard.
 *
 * @throws {InvalidOptionError} `SLUICE_INVALID_OPTION` naming the bad option.
 * @example
 * ```ts
 * const tokens = createKeyedProvider<string, string>({
 *   mint: async (audience, { signal }) => fetchToken(audience, signal),
 *   maxKeys: 1_000,
 * });
 * const token = await tokens.get('https://billing.example');
 * ```
 */
export function createKeyedProvider<K, T>(
  options: KeyedProviderOptions<K, T>,
): KeyedProvider<K, T> {
  const policy = resolvePolicy(options);
  const { mint, keyOf, maxKeys = 10_000, idleTtlMs, breakerScope = 'per-key' } = options;
  if (typeof mint !== 'function')
    throw new InvalidOptionError('mint', 'a function (key, context) => credential', mint);
  if (keyOf !== undefined && typeof keyOf !== 'function')
    throw new InvalidOptionError('keyOf', 'a function', keyOf);
  if (!Number.isInteger(maxKeys) || maxKeys < 1 || maxKeys > 100_000_000) {
    throw new InvalidOptionError('maxKeys', 'an integer from 1 to 100000000', maxKeys);
  }
  if (
    idleTtlMs !== undefined &&
    (!Number.isInteger(idleTtlMs) || idleTtlMs < 1 || idleTtlMs > MAX_DELAY_MS)
  ) {
    throw new InvalidOptionError(
      'idleTtlMs',
      `an integer number of milliseconds from 1 to ${MAX_DELAY_MS}`,
      idleTtlMs,
    );
  }
  if (breakerScope !== 'per-key' && breakerScope !== 'shared') {
    throw new InvalidOptionError('breakerScope', "'per-key' or 'shared'", breakerScope);
  }
  return new Keyed<K, T>(
    policy,
    { mint, ...(keyOf === undefined ? {} : { keyOf }), breakerScope },
    maxKeys,
    idleTtlMs,
  );
}

function checkSweep(options: SweepOptions): Required<SweepOptions> {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidOptionError(
      'startSweep',
      'an object { intervalMs, jitter?, concurrency? }',
      options,
    );
  }
  const { intervalMs, jitter = 0.1, concurrency = 25 } = options;
  if (!Number.isInteger(intervalMs) || intervalMs < 1 || intervalMs > MAX_DELAY_MS) {
    throw new InvalidOptionError(
      'startSweep.intervalMs',
      `an integer number of milliseconds from 1 to ${MAX_DELAY_MS}`,
      intervalMs,
    );
  }
  if (typeof jitter !== 'number' || !(jitter >= 0 && jitter < 1)) {
    throw new InvalidOptionError('startSweep.jitter', 'a number in [0, 1)', jitter);
  }
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 10_000) {
    throw new InvalidOptionError(
      'startSweep.concurrency',
      'an integer from 1 to 10000',
      concurrency,
    );
  }
  return { intervalMs, jitter, concurrency };
}
