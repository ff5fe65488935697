/**
 * What every step of the fleet protocol shares within one coordinator: the store and its
 * guard, the validated options, the timers, the waiting followers, what this instance
 * remembers per credential, the leases it holds, and the last reading of the store's clock.
 */

import type { Credential, MintContext } from '@sluice/core';
import { clampSample } from './backoff.js';
import type { ClockPin } from './clock.js';
import type { Codec } from './codec.js';
import { type CredentialState, CredentialStates } from './credential-state.js';
import type { ResolvedCoordination } from './options.js';
import type { FleetEventBase } from './reporter.js';
import type { CoordinationStore } from './store.js';
import { StoreGuard } from './store-guard.js';
import { TimerSet } from './timer-set.js';
import { Waiters } from './waiters.js';
import { webCrypto } from './web-crypto.js';

/** One call of a wrapped mint. */
export interface Call<T> {
  /** The credential's reference in the store. */
  readonly ref: string;
  /** Its name (and key) for reporter events. */
  readonly label: FleetEventBase;
  readonly codec: Codec<T>;
  /** What the provider passed to the mint. */
  readonly context: MintContext<T>;
  /** The wrapped mint itself. */
  readonly mint: (context: MintContext<T>) => Promise<Credential<T>> | Credential<T>;
}

/** A lease held while this instance's mint runs. */
export interface HeldLease {
  readonly ref: string;
  stop(): void;
}

const noop = (): void => {};

/** The state one coordinator's protocol steps share. */
export class FleetShared {
  readonly store: CoordinationStore;
  readonly config: ResolvedCoordination;
  readonly timers: TimerSet;
  readonly guard: StoreGuard;
  readonly waiters: Waiters;
  readonly states = new CredentialStates();
  /** Stored ids of object values handed out (strings are remembered per credential). */
  readonly objectIds = new WeakMap<object, string>();
  /** Leases held while mints run, by token. */
  readonly leases = new Map<string, HeldLease>();
  /** The last reading of the store's clock. */
  lastPin: ClockPin | undefined;
  /**
   * Store operations that may hold or free a lease (lease grants, releases), still in flight:
   * `close()` waits for them, so it leaves no lease behind.
   */
  readonly inflight = new Set<Promise<unknown>>();
  closed = false;

  constructor(store: CoordinationStore, config: ResolvedCoordination) {
    this.store = store;
    this.config = config;
    this.timers = new TimerSet(config.timers);
    this.guard = new StoreGuard(
      config.commandTimeoutMs,
      config.connectTimeoutMs,
      config.storeBreaker,
      config.reporter,
      this.timers,
      store,
    );
    this.waiters = new Waiters(this.timers);
  }

  /** Pins a store reading to the monotonic clock (and keeps it as the latest). */
  pin(storeNow: number, sentAt: number): ClockPin {
    const pin = { storeNow, sentAt, receivedAt: performance.now() };
    this.lastPin = pin;
    return pin;
  }

  /** The providers' clock, or `undefined` when it throws or is not a finite number. */
  localNow(): number | undefined {
    try {
      const now = this.config.now;
      const value = now === undefined ? Date.now() : now();
      return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
    } catch {
      return undefined;
    }
  }

  /** A jitter sample in [0, 1); 0.5 when the injected source misbehaves. */
  random(): number {
    try {
      const random = this.config.random;
      return clampSample(random === undefined ? Math.random() : random());
    } catch {
      return 0.5;
    }
  }

  /** Remembers that `value` was handed out as the stored credential `id`. */
  remember(state: CredentialState, value: unknown, id: string): void {
    state.remember(value, id);
    if ((typeof value === 'object' && value !== null) || typeof value === 'function') {
      this.objectIds.set(value as object, id);
    }
  }

  /** The stored id of a value handed out, if this instance remembers it. */
  idOf(state: CredentialState, value: unknown): string | undefined {
    const id = state.idOf(value);
    if (id !== undefined) return id;
    if ((typeof value === 'object' && value !== null) || typeof value === 'function') {
      return this.objectIds.get(value as object);
    }
    return undefined;
  }

  /** Keeps `operation` in {@link inflight} until it settles. */
  track(operation: Promise<unknown>): void {
    const settled = operation.then(noop, noop);
    this.inflight.add(settled);
    settled.then(() => this.inflight.delete(settled), noop);
  }

  /**
   * Releases a lease in the background (compare-and-delete); failures are ignored. After
   * `close()` it goes straight to the store (no guard, no timer) and `close()` waits for it.
   */
  releaseQuietly(ref: string, token: string): void {
    if (!this.closed) {
      this.guard.run('release', () => this.store.release(ref, token)).catch(noop);
      return;
    }
    try {
      this.track(this.store.release(ref, token));
    } catch {
      // the lease lapses on its own
    }
  }
}

/** 128 random bits, hex: lease tokens, credential ids, instance ids. */
export function randomId(): string {
  const crypto = webCrypto();
  if (crypto === undefined) throw new TypeError('fleet coordination needs crypto.getRandomValues');
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  let hex = '';
  for (const byte of bytes) hex += byte.toString(16).padStart(2, '0');
  return hex;
}
