/**
 * The fleet test harness: a counting issuer (the one source of truth for how many upstream
 * mints the fleet made and when each token really expires), and "instances", each with its
 * own ioredis connection, its own coordinator (with its own pub/sub connection) and its own
 * provider, like separate replicas.
 */

import {
  type Credential,
  createRefreshingProvider,
  type MintContext,
  type RefreshingProvider,
  type RefreshingProviderOptions,
} from '@sluice/core';
import type { Redis, RedisOptions } from 'ioredis';
import {
  createRedisCoordinator,
  type FleetCoordinator,
  type FleetReporter,
  type RedisCoordinatorOptions,
} from '../../src/index.js';

/** A controllable issuer shared by every instance of a test. */
export interface Issuer {
  /** Requests that reached the issuer (successful or not). */
  readonly attempts: number;
  /** Tokens issued. */
  readonly issued: number;
  /** Lifetime of issued tokens, in ms. */
  lifetimeMs: number;
  /** While set, every request fails with this status (503 by default) after `delayMs`. */
  failing: number | undefined;
  /** How long each request takes, in ms (or a function returning a promise to await). */
  delay: number | (() => Promise<void>);
  /** The real expiry (Date.now() epoch ms) of every token issued. */
  readonly expiries: Map<string, number>;
  /** Issues a token; `expiresAt` is on the caller's clock `now`. */
  mint(context: MintContext<string>, now?: () => number): Promise<Credential<string>>;
}

/** An issuer's HTTP-style failure. */
export class IssuerError extends Error {
  readonly code = 'ISSUER_UNAVAILABLE';
  readonly status: number;
  constructor(status: number) {
    super(`issuer answered HTTP ${status}`);
    this.name = 'IssuerError';
    this.status = status;
  }
}

/** Creates an issuer. */
export function createIssuer(options: { lifetimeMs: number; delay?: number }): Issuer {
  let attempts = 0;
  let serial = 0;
  const expiries = new Map<string, number>();
  const issuer: Issuer = {
    get attempts() {
      return attempts;
    },
    get issued() {
      return expiries.size;
    },
    lifetimeMs: options.lifetimeMs,
    failing: undefined,
    delay: options.delay ?? 5,
    expiries,
    async mint(context, now = Date.now) {
      attempts++;
      const delay = issuer.delay;
      if (typeof delay === 'number') {
        if (delay > 0) await sleep(delay, context.signal);
      } else {
        await delay();
      }
      if (issuer.failing !== undefined) throw new IssuerError(issuer.failing);
      serial++;
      const value = `token-${serial}-${Math.random().toString(36).slice(2, 8)}`;
      const lifetime = issuer.lifetimeMs;
      expiries.set(value, Date.now() + lifetime);
      return { value, expiresAt: now() + lifetime };
    },
  };
  return issuer;
}

/** Sleeps `ms` (rejecting with the signal's reason when it aborts). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Counts of every reporter hook, and the events themselves. */
export function recordingReporter() {
  const events: Array<{ hook: string; event: Record<string, unknown> }> = [];
  const record =
    (hook: string) =>
    (event: object): void => {
      events.push({ hook, event: { ...event } });
    };
  const reporter: FleetReporter = {
    onAdopted: record('adopted'),
    onLeased: record('leased'),
    onStored: record('stored'),
    onRelayedFailure: record('relayed'),
    onFailureRecorded: record('failureRecorded'),
    onFallback: record('fallback'),
    onStoreStateChange: record('storeState'),
    onStoreError: record('storeError'),
    onDecryptFailed: record('decryptFailed'),
    onWoken: record('woken'),
    onLeaseLost: record('leaseLost'),
  };
  return {
    reporter,
    events,
    of: (hook: string) => events.filter((e) => e.hook === hook).map((e) => e.event),
    count: (hook: string) => events.filter((e) => e.hook === hook).length,
  };
}

/** One replica: its own connection, coordinator and provider. */
export interface Instance {
  readonly redis: Redis;
  readonly coordinator: FleetCoordinator;
  readonly events: ReturnType<typeof recordingReporter>;
  /** The instance's clock (with its offset). */
  readonly now: () => number;
  provider: RefreshingProvider<string> | undefined;
  /** Builds the provider (eager first mint unless `lazy`). */
  start(options?: Partial<RefreshingProviderOptions<string>>): Promise<RefreshingProvider<string>>;
  close(): Promise<void>;
}

/** Options of {@link createInstance}. */
export interface InstanceOptions {
  /** Connects to this port (a redis-server or a proxy in front of it). */
  readonly port: number;
  readonly issuer: Issuer;
  readonly name?: string;
  /** Added to Date.now() for this instance's clock. */
  readonly clockOffsetMs?: number;
  readonly coordinator?: Partial<RedisCoordinatorOptions>;
  readonly provider?: Partial<RefreshingProviderOptions<string>>;
  readonly redis?: RedisOptions;
}

/** Creates an instance (its Redis connection is opened at once; the provider on `start`). */
export function createInstanceWith(redis: Redis, options: Omit<InstanceOptions, 'port'>): Instance {
  const offset = options.clockOffsetMs ?? 0;
  const now = (): number => Date.now() + offset;
  const events = recordingReporter();
  const coordinator = createRedisCoordinator({
    redis,
    now,
    reporter: events.reporter,
    ...options.coordinator,
  });
  const name = options.name ?? 'api';
  const mint = coordinator.wrap<string>(name, (context) => options.issuer.mint(context, now));
  const instance: Instance = {
    redis,
    coordinator,
    events,
    now,
    provider: undefined,
    async start(extra = {}) {
      const provider = await createRefreshingProvider<string>({
        name,
        now,
        mint,
        refreshFloorMs: 0,
        ...options.provider,
        ...extra,
      });
      instance.provider = provider;
      return provider;
    },
    async close() {
      instance.provider?.close();
      await coordinator.close();
      redis.disconnect();
    },
  };
  return instance;
}

/** Runs `fn` for 0..n-1 with at most `concurrency` in flight. */
export async function inBatches<R>(
  n: number,
  concurrency: number,
  fn: (i: number) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(n);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, n) }, async () => {
      for (;;) {
        const i = next++;
        if (i >= n) return;
        results[i] = await fn(i);
      }
    }),
  );
  return results;
}

/** Waits until `condition()` holds, polling every 10 ms, or throws after `timeoutMs`. */
export async function until(
  condition: () => boolean,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}
