/**
 * A keyed provider: one refreshing provider per key (a token per tenant, a certificate per
 * hostname), created lazily, bounded by `maxKeys` with least-recently-used eviction and an
 * optional idle time-to-live. Every key gets the whole policy of the single provider.
 */

import type { Credential } from './credential.js';
import { InvalidOptionError } from './errors.js';
import { type BreakerBox, createBreakerBox, ProviderCell } from './internal/provider-cell.js';
import { RecencyList, type RecencyNode } from './internal/recency-list.js';
import { Semaphore } from './internal/semaphore.js';
import { startTimer, stopTimer, type TimerHandle } from './internal/timers.js';
import { type RefreshPolicyOptions, type ResolvedPolicy, resolvePolicy } from './policy-options.js';
import type { CallOptions, MintContext, ProviderSnapshot } from './refreshing-provider.js';
import type { KeyDropReason } from './reporter.js';

/**
 * Obtains a new credential for `key`. As with `Mint`, an error whose `countsTowardsBreaker`
 * property is `false` reaches the waiters but not the breaker.
 */
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
  /** The same entries, least recently used first: eviction order. */
  readonly #recency = new RecencyList<Entry<T>>();
  #closed = false;
  #stopSweep: (() => void) | undefined;

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
    const now = this.#now();
    let cell: ProviderCell<T>;
    try {
      cell = this.#use(key, now);
    } catch (error) {
      return Promise.reject(error);
    }
    return cell.getAt(now, options);
  }

  getCredential(key: K, options?: CallOptions): Promise<Credential<T>> {
    const now = this.#now();
    let cell: ProviderCell<T>;
    try {
      cell = this.#use(key, now);
    } catch (error) {
      return Promise.reject(error);
    }
    return cell.getCredentialAt(now, options);
  }

  refresh(key: K, options?: CallOptions): Promise<Credential<T>> {
    let cell: ProviderCell<T>;
    try {
      cell = this.#use(key, this.#now());
    } catch (error) {
      return Promise.reject(error);
    }
    return cell.refresh(options);
  }

  peek(key: K): Credential<T> | undefined {
    return this.#live(this.#id(key))?.cell.peek();
  }

  invalidate(key: K, rejected?: T | Credential<T>): boolean {
    return this.#live(this.#id(key))?.cell.invalidate(rejected) ?? false;
  }

  delete(key: K): boolean {
    const id = this.#id(key);
    const entry = this.#entries.get(id);
    if (entry === undefined) return false;
    this.#drop(entry, 'deleted');
    return true;
  }

  snapshot(key: K): KeyedSnapshot | undefined {
    const id = this.#id(key);
    const entry = this.#live(id);
    return entry === undefined ? undefined : { ...entry.cell.snapshot(), key: id };
  }

  keys(): string[] {
    const ids: string[] = [];
    for (const entry of this.#recency) ids.push(entry.id);
    return ids;
  }

  snapshots(): KeyedSnapshot[] {
    const all: KeyedSnapshot[] = [];
    for (const entry of [...this.#recency]) {
      const live = this.#live(entry.id);
      if (live !== undefined) all.push({ ...live.cell.snapshot(), key: live.id });
    }
    return all;
  }

  startSweep(options: SweepOptions): Sweep {
    const { intervalMs, jitter, concurrency } = checkSweep(options);
    this.#stopSweep?.();
    if (this.#closed) return { stop: () => {} };
    const semaphore = new Semaphore(concurrency);
    let timer: TimerHandle | undefined;
    let stopped = false;
    const arm = (): void => {
      const random = this.#policy.random;
      const sample = random === undefined ? Math.random() : random();
      timer = startTimer(
        this.#policy.timers,
        () => void sweep(),
        intervalMs * (1 + jitter * (2 * sample - 1)),
      );
    };
    const sweep = async (): Promise<void> => {
      timer = undefined;
      if (stopped) return;
      const now = this.#now();
      this.#evictIdle(now);
      const due: ProviderCell<T>[] = [];
      for (const entry of this.#entries.values())
        if (entry.cell.wantsRefresh(now)) due.push(entry.cell);
      await Promise.all(
        due.map((cell) =>
          semaphore.run(() =>
            stopped ? Promise.resolve() : (cell.refreshIfDue(this.#now()) ?? Promise.resolve()),
          ),
        ),
      );
      if (!stopped) arm();
    };
    const stop = (): void => {
      stopped = true;
      stopTimer(this.#policy.timers, timer);
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
    const entries = [...this.#recency]; // least recently used first
    this.#entries.clear();
    this.#recency.clear();
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

  #now(): number {
    const clock = this.#policy.now;
    return clock === undefined ? Date.now() : clock();
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

  /** The cached entry, unless idle past `idleTtlMs` (then it is dropped). No recency change. */
  #live(id: string): Entry<T> | undefined {
    const entry = this.#entries.get(id);
    if (entry === undefined) return undefined;
    if (this.#idleTtlMs !== undefined && this.#now() - entry.lastUsedAt >= this.#idleTtlMs) {
      this.#drop(entry, 'idle');
      return undefined;
    }
    return entry;
  }

  /** The key's provider, created on first use, marked most recently used: O(1). */
  #use(key: K, now: number): ProviderCell<T> {
    const id = this.#id(key);
    const entries = this.#entries;
    const found = entries.get(id);
    if (found !== undefined) {
      if (this.#idleTtlMs === undefined || now - found.lastUsedAt < this.#idleTtlMs) {
        found.lastUsedAt = now;
        this.#recency.touch(found);
        return found.cell;
      }
      this.#drop(found, 'idle');
    }
    const box = this.#sharedBox ?? createBreakerBox();
    const mint = this.#mint;
    const cell = new ProviderCell<T>(this.#policy, (context) => mint(key, context), box, id);
    if (this.#closed) {
      cell.close(); // every call on it rejects with ProviderClosedError
      return cell;
    }
    this.#evictIdle(now);
    while (entries.size >= this.#maxKeys) {
      this.#drop(this.#recency.oldest as Entry<T>, 'lru');
    }
    const entry: Entry<T> = { id, cell, lastUsedAt: now, newer: undefined, older: undefined };
    entries.set(id, entry);
    this.#recency.push(entry);
    return cell;
  }

  /** Drops idle keys from the least recently used end: O(number dropped). */
  #evictIdle(now: number): void {
    const ttl = this.#idleTtlMs;
    if (ttl === undefined) return;
    for (let entry = this.#recency.oldest; entry !== undefined; entry = this.#recency.oldest) {
      if (now - entry.lastUsedAt < ttl) return;
      this.#drop(entry, 'idle');
    }
  }

  #drop(entry: Entry<T>, reason: KeyDropReason): void {
    if (this.#entries.get(entry.id) === entry) {
      this.#entries.delete(entry.id);
      this.#recency.remove(entry);
    }
    entry.cell.close();
    const hook = this.#policy.reporter?.onKeyDropped;
    if (hook !== undefined) hook({ name: this.#policy.name, key: entry.id, reason });
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
