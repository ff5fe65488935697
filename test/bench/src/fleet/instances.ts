/**
 * The fleet benchmark's instances: each with its own ioredis connection, its own coordinator
 * (and so its own pub/sub connection) and its own provider, all in this one process.
 */

import {
  createRefreshingProvider,
  type Mint,
  type RefreshingProvider,
  type RefreshingProviderOptions,
} from '@sluice/core';
import {
  createRedisCoordinator,
  type FleetCoordinator,
  type RedisCoordinatorOptions,
} from '@sluice/redis';
import { Redis } from 'ioredis';

/** One replica. */
export interface BenchInstance {
  readonly redis: Redis;
  readonly coordinator: FleetCoordinator;
  provider: RefreshingProvider<string> | undefined;
  /** Token values served, with when the call was made. */
  readonly served: Array<{ value: string; at: number }>;
  /** Calls that failed while the last token served still had more than 50 ms to live. */
  errorsWhileValid: number;
  /** Calls that failed in all. */
  errors: number;
}

/** A thousand instances share one process here; an operation may wait behind the others. */
export const CROWDED: Partial<RedisCoordinatorOptions> = {
  commandTimeoutMs: 5_000,
  connectTimeoutMs: 30_000,
};

/** Opens `count` instances on `port`, `batch` connections at a time, and waits until all are up. */
export async function openInstances(
  port: number,
  count: number,
  options: Partial<RedisCoordinatorOptions> = {},
  batch = 100,
): Promise<BenchInstance[]> {
  const instances: BenchInstance[] = [];
  for (let start = 0; start < count; start += batch) {
    const made = Array.from({ length: Math.min(batch, count - start) }, () => {
      const redis = new Redis({ port, host: '127.0.0.1' });
      redis.on('error', () => {});
      const coordinator = createRedisCoordinator({ redis, ...CROWDED, ...options });
      return {
        redis,
        coordinator,
        provider: undefined,
        served: [],
        errorsWhileValid: 0,
        errors: 0,
      } satisfies BenchInstance;
    });
    instances.push(...made);
    await Promise.all(
      made.map((i) =>
        i.redis.status === 'ready' ? undefined : new Promise((r) => i.redis.once('ready', r)),
      ),
    );
  }
  await new Promise((resolve) => setTimeout(resolve, 1_000)); // subscriptions settle
  return instances;
}

/** Starts one coordinated provider per instance, all at once (the boot herd). */
export function startProviders(
  instances: readonly BenchInstance[],
  name: string,
  mint: Mint<string>,
  policy: Partial<RefreshingProviderOptions<string>>,
): Promise<unknown> {
  return Promise.all(
    instances.map(async (instance) => {
      instance.provider?.close();
      instance.provider = await createRefreshingProvider<string>({
        name,
        mint: instance.coordinator.wrap(name, mint),
        ...policy,
      });
    }),
  );
}

/**
 * Calls `get()` on every instance every `everyMs` (phases spread evenly) until stopped;
 * `expiryOf` gives a token's real expiry, to tell errors while valid from the others.
 */
export function serve(
  instances: readonly BenchInstance[],
  everyMs: number,
  expiryOf: (token: string) => number | undefined,
): { stop(): Promise<void> } {
  let running = true;
  const loops = instances.map(async (instance, i) => {
    await new Promise((resolve) => setTimeout(resolve, (i / instances.length) * everyMs));
    while (running) {
      const at = Date.now();
      try {
        const value = (await instance.provider?.get()) as string;
        instance.served.push({ value, at });
        if (instance.served.length > 64) instance.served.shift();
      } catch {
        instance.errors++;
        const last = instance.served.at(-1);
        const expiry = last === undefined ? undefined : expiryOf(last.value);
        if (expiry !== undefined && expiry > at + 50) instance.errorsWhileValid++;
      }
      await new Promise((resolve) => setTimeout(resolve, everyMs));
    }
  });
  return {
    async stop() {
      running = false;
      await Promise.all(loops);
    },
  };
}

/** Closes every provider, coordinator and connection. */
export async function closeInstances(instances: readonly BenchInstance[]): Promise<void> {
  for (const instance of instances) instance.provider?.close();
  await Promise.all(instances.map((instance) => instance.coordinator.close()));
  for (const instance of instances) instance.redis.disconnect();
}
