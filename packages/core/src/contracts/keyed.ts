/**
 * The contract of a keyed provider, shared by its face (`keyed-provider.ts`) and its
 * implementation (`internal/keyed-cells.ts`, `internal/keyed-sweep.ts`). Types only.
 */

import type { Credential } from '../credential.js';
import type { RefreshPolicyOptions } from '../policy-options.js';
import type { CallOptions, MintContext, ProviderSnapshot } from './provider.js';

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
   * Most keys cached at once; past it the least recently used key that no caller waits on is
   * dropped (a background refresh of it is aborted). A key whose mint callers wait on is never
   * evicted: when every key is in that state, a call for a new key fails with
   * `KeysBusyError` (`SLUICE_KEYS_BUSY`) until one of those mints settles.
   * @default 10000
   */
  maxKeys?: number;
  /**
   * A key not used (`get`, `getCredential`, `refresh`) for this many milliseconds is dropped,
   * by the next call or by one unref'd timer (so a quiet provider stops refreshing it), and
   * never while callers wait on its mint.
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
  /** The key's credential if cached and not expired; no side effects (an idle key reads as absent). */
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
