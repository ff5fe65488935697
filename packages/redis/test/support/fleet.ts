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
import type { Cluster, Redis, RedisOptions } from 'ioredis';
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

/**
 * An error counts as "while valid" when the last token served still had more than this long
 * to live: an instance places an adopted token's expiry up to one store round trip early on
 * purpose (never late), so the last few milliseconds of a token's life may go unused.
 */
export const VALIDITY_MARGIN_MS = 50;

/** One replica: its own connection, coordinator and provider. */
export interface Instance {
  readonly redis: Redis | Cluster;
  readonly coordinator: FleetCoordinator;
  readonly events: ReturnType<typeof recordingReporter>;
  /** The instance's clock (with its offset). */
  readonly now: () => number;
  /** Upstream mints this instance made (its calls of the issuer). */
  readonly mints: number;
  /** Every value this instance's provider served through `serve()`, with the time. */
  readonly served: Array<{ value: string; at: number }>;
  /** Calls `get()` and records what it served; errors are recorded too. */
  serve(): Promise<string | undefined>;
  /** Errors `serve()` saw, with whether the instance's last served token was still valid. */
  readonly errors: Array<{
    error: unknown;
    lastValid: boolean;
    at: number;
    expiry: number | undefined;
  }>;
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
export function createInstanceWith(
  redis: Redis | Cluster,
  options: Omit<InstanceOptions, 'port'>,
): Instance {
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
  let mints = 0;
  const mint = coordinator.wrap<string>(name, (context) => {
    mints++;
    return options.issuer.mint(context, now);
  });
  const served: Array<{ value: string; at: number }> = [];
  const errors: Instance['errors'] = [];
  const instance: Instance = {
    redis,
    coordinator,
    events,
    now,
    get mints() {
      return mints;
    },
    served,
    errors,
    async serve() {
      const provider = instance.provider;
      if (provider === undefined) return undefined;
      // Both are judged at the moment of the call: that is when the provider decides.
      const at = Date.now();
      try {
        const value = await provider.get();
        served.push({ value, at });
        return value;
      } catch (error) {
        const last = served.at(-1);
        const expiry = last === undefined ? undefined : options.issuer.expiries.get(last.value);
        const lastValid = expiry !== undefined && expiry > at + VALIDITY_MARGIN_MS;
        errors.push({ error, lastValid, at, expiry });
        return undefined;
      }
    },
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

/** Something that makes Redis clients: a redis-server, a proxy, a cluster. */
export interface ClientFactory {
  client(options?: RedisOptions): Redis | Cluster;
}

/**
 * `size` instances sharing `keyPrefix`, each with its own connection; resolves once every
 * connection and every coordinator's subscription is up, so a test can start them together.
 * Connections are opened `connectBatch` at a time (a connection storm is not what these tests
 * are about); on failure every instance made so far is closed.
 */
export async function createFleet(
  factory: ClientFactory,
  size: number,
  options: Omit<InstanceOptions, 'port'> & {
    clients?: (i: number) => Redis | Cluster;
    connectBatch?: number;
  },
): Promise<Instance[]> {
  const instances: Instance[] = [];
  const batch = options.connectBatch ?? size;
  try {
    for (let start = 0; start < size; start += batch) {
      const made = Array.from({ length: Math.min(batch, size - start) }, (_, j) =>
        createInstanceWith(options.clients?.(start + j) ?? factory.client(options.redis), options),
      );
      instances.push(...made);
      await until(
        () => made.every((instance) => instance.redis.status === 'ready'),
        60_000,
        'every connection',
      );
    }
    // Give every coordinator's subscriber connection the same chance.
    await sleep(batch < size ? 2_000 : 200);
    return instances;
  } catch (error) {
    await closeAll(instances);
    throw error;
  }
}

/** Closes instances in parallel batches. */
export async function closeAll(instances: readonly Instance[]): Promise<void> {
  await inBatches(instances.length, 100, (i) => (instances[i] as Instance).close());
}

/**
 * Calls `serve()` on every instance every `everyMs` until `stop()`; returns the loop's promise
 * through `stop()`, which waits for the calls in flight.
 */
export function keepServing(
  instances: readonly Instance[],
  everyMs: number,
): { stop(): Promise<void> } {
  let running = true;
  const loops = instances.map(async (instance) => {
    while (running) {
      await instance.serve();
      await sleep(everyMs);
    }
  });
  return {
    async stop() {
      running = false;
      await Promise.all(loops);
    },
  };
}

/**
 * Every value served that had already expired (by the issuer's own record) when it was served.
 */
export function expiredServes(instances: readonly Instance[], issuer: Issuer) {
  const bad: Array<{ value: string; at: number; expiredAt: number | undefined }> = [];
  for (const instance of instances) {
    for (const serve of instance.served) {
      const expiry = issuer.expiries.get(serve.value);
      if (expiry === undefined || expiry <= serve.at) bad.push({ ...serve, expiredAt: expiry });
    }
  }
  return bad;
}

/**
 * Watches the stored credential of `name` under `keyPrefix` every 5 ms: the sequence of stored
 * expiries (to check it never decreases) and every token that was ever stored (values stored
 * in clear, JSON).
 */
export function watchStored(redis: Redis, keyPrefix: string, name = 'api') {
  const key = `${keyPrefix}{${name}}:cred`;
  const expiries: number[] = [];
  const tokens = new Set<string>();
  let decreased: Array<[number, number]> = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const [exp, val] = await redis.hmget(key, 'exp', 'val');
      if (exp !== null && exp !== undefined && val !== null && val !== undefined) {
        const expiresAt = Number(exp);
        const last = expiries.at(-1);
        if (last !== undefined && expiresAt < last) decreased = [...decreased, [last, expiresAt]];
        if (last !== expiresAt) expiries.push(expiresAt);
        tokens.add(JSON.parse(val) as string);
      }
      await sleep(5);
    }
  })();
  return {
    expiries,
    tokens,
    /** Pairs [before, after] where the stored expiry went down. */
    decreases: () => decreased,
    async stop() {
      running = false;
      await loop;
    },
  };
}
