/**
 * The keyed provider's implementation: one provider cell per key in a map, with an exact LRU
 * order (an intrusive list), an idle time-to-live kept by one timer, and the rule that a key
 * whose mint callers wait on is never evicted or expired. The public contract and the factory
 * are in `keyed-provider.ts`.
 */

import type {
  KeyedMint,
  KeyedProvider,
  KeyedProviderOptions,
  KeyedSnapshot,
  Sweep,
  SweepOptions,
} from '../contracts/keyed.js';
import type { CallOptions } from '../contracts/provider.js';
import type { Credential } from '../credential.js';
import { InvalidOptionError, KeysBusyError, ProviderClosedError } from '../errors.js';
import type { ResolvedPolicy } from '../policy-options.js';
import type { KeyDropReason } from '../reporter.js';
import { type BreakerBox, createBreakerBox } from './breaker-box.js';
import { callSignal } from './call-options.js';
import { type ClockFaults, clockError, readClock } from './clock.js';
import { emit, hold, release } from './dispatch.js';
import { checkSweep, startSweeps } from './keyed-sweep.js';
import { ProviderCell } from './provider-cell.js';
import { RecencyList, type RecencyNode } from './recency-list.js';
import { startTimer, stopTimer, type TimerHandle } from './timers.js';

interface Entry<T> extends RecencyNode {
  readonly id: string;
  readonly cell: ProviderCell<T>;
  lastUsedAt: number;
  /** Callers wait on its mint: never evicted nor expired while so. */
  busy: boolean;
}

/** @internal */
export class KeyedCells<K, T> implements KeyedProvider<K, T> {
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
    hold();
    try {
      this.#drop(entry, 'deleted');
    } finally {
      release();
    }
    return true;
  }

  snapshot(key: K): KeyedSnapshot | undefined {
    const entry = this.#live(key);
    return entry === undefined ? undefined : { ...entry.cell.snapshot(), key: entry.id };
  }

  keys(): string[] {
    return [...this.#recency].map((entry) => entry.id);
  }

  snapshots(): KeyedSnapshot[] {
    const now = this.#read();
    const all: KeyedSnapshot[] = [];
    for (const entry of [...this.#recency]) {
      if (this.#idle(entry, now)) continue;
      all.push({ ...entry.cell.snapshot(), key: entry.id });
    }
    return all;
  }

  startSweep(options: SweepOptions): Sweep {
    const resolved = checkSweep(options);
    this.#stopSweep?.();
    if (this.#closed) return { stop: () => {} };
    const sweep: Sweep = startSweeps(
      {
        now: () => this.#read(),
        evictIdle: (now) => {
          hold();
          try {
            this.#evictIdle(now);
          } finally {
            release();
          }
        },
        due: (now) => {
          const due: ProviderCell<T>[] = [];
          for (const entry of this.#entries.values()) {
            if (entry.cell.wantsRefresh(now)) due.push(entry.cell);
          }
          return due;
        },
        stopped: () => {
          if (this.#stopSweep === sweep.stop) this.#stopSweep = undefined;
        },
      },
      resolved,
      this.#policy,
    );
    this.#stopSweep = sweep.stop;
    return sweep;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    hold();
    try {
      this.#stopSweep?.();
      stopTimer(this.#policy.timers, this.#idleTimer);
      this.#idleTimer = undefined;
      const entries = [...this.#recency]; // least recently used first
      this.#entries.clear();
      this.#recency.clear();
      this.#busyCount = 0;
      for (const entry of entries) entry.cell.close();
    } finally {
      release();
    }
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

  /** The key's provider, created on first use, marked most recently used: O(1). */
  #use(id: string, key: K, now: number): ProviderCell<T> {
    const found = this.#entries.get(id);
    if (found !== undefined && !this.#idle(found, now)) {
      found.lastUsedAt = now;
      this.#recency.touch(found);
      return found.cell;
    }
    hold(); // evictions report their events once the new key is in place
    try {
      return this.#add(id, key, now, found);
    } finally {
      release();
    }
  }

  /** Adds `key` (dropping its idle predecessor, then idle and least recently used keys). */
  #add(id: string, key: K, now: number, idle: Entry<T> | undefined): ProviderCell<T> {
    const entries = this.#entries;
    if (idle !== undefined) this.#drop(idle, 'idle');
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
    hold();
    try {
      this.#expireIdle();
    } catch {
      // A timer callback never throws into the runtime.
    } finally {
      release();
    }
  }

  #expireIdle(): void {
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
  KeyedCells.prototype,
  (Symbol as { dispose?: symbol }).dispose ?? Symbol.for('Symbol.dispose'),
  {
    value(this: KeyedCells<unknown, unknown>) {
      this.close();
    },
  },
);
