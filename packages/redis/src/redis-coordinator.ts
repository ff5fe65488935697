/**
 * `createRedisCoordinator`: the fleet protocol (`coordination/`) over Redis (`redis/`).
 */

import { checkKnownKeys, InvalidOptionError } from '@sluice/core';
import { createFleetCoordinator, type FleetCoordinator } from './coordination/fleet-coordinator.js';
import { COORDINATION_OPTION_KEYS, type CoordinationOptions } from './coordination/options.js';
import { checkKeyPrefix } from './redis/keys.js';
import { createRedisStore, type RedisClient } from './redis/redis-store.js';

/** Options of {@link createRedisCoordinator}. */
export interface RedisCoordinatorOptions extends CoordinationOptions {
  /**
   * The caller's ioredis client, a `Redis` or a `Cluster`. The coordinator runs its scripts on
   * it and opens one more connection of its own for pub/sub (`redis.duplicate()`), which
   * `close()` closes; the caller's client is never closed. Required.
   */
  redis: RedisClient;
  /**
   * Prefix of every key and of the pub/sub channel (`<prefix>events`). Coordinators with the
   * same prefix on the same Redis form one fleet. No `{` or `}`: each credential's keys get a
   * hash tag of their own.
   * @default 'sluice:'
   */
  keyPrefix?: string;
}

/**
 * Creates a fleet coordinator over Redis: wrap each provider's mint with it, and every
 * instance sharing the Redis (and `keyPrefix`) mints once per credential lifetime for the
 * whole fleet, shares failures, and falls back to its own local policy whenever Redis is away.
 * Redis is consulted only when the local provider would mint; `get()` of a fresh credential
 * never touches it.
 *
 * @throws {InvalidOptionError} `SLUICE_INVALID_OPTION` naming the bad option.
 * @example
 * ```ts
 * import { Redis } from 'ioredis';
 * import { createRefreshingProvider } from '@sluice/core';
 * import { createRedisCoordinator } from '@sluice/redis';
 *
 * const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
 * const fleet = createRedisCoordinator({ redis });
 * const tokens = await createRefreshingProvider({
 *   name: 'billing-api',
 *   mint: fleet.wrap('billing-api', mintBillingToken),
 * });
 * ```
 */
export function createRedisCoordinator(options: RedisCoordinatorOptions): FleetCoordinator {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidOptionError('options', 'an object', options);
  }
  checkKnownKeys(options, [...COORDINATION_OPTION_KEYS, 'redis', 'keyPrefix'], '');
  const { redis, keyPrefix = 'sluice:' } = options;
  if (!isRedisClient(redis)) {
    throw new InvalidOptionError('redis', 'an ioredis Redis or Cluster client', redis);
  }
  const prefix = checkKeyPrefix(keyPrefix);
  const { keyPrefix: _prefix, redis: _redis, ...rest } = options;
  let report: ((error: unknown) => void) | undefined;
  const store = createRedisStore({
    redis,
    keyPrefix: prefix,
    onSubscriberError: (error) => report?.(error),
  });
  const onStoreError = options.reporter?.onStoreError;
  if (typeof onStoreError === 'function') {
    const reporter = options.reporter;
    report = (error) => {
      try {
        onStoreError.call(reporter, { operation: 'subscribe', error });
      } catch {
        // telemetry never changes what callers get
      }
    };
  }
  try {
    return createFleetCoordinator({ ...rest, store, namespace: prefix });
  } catch (error) {
    void store.close();
    throw error;
  }
}

function isRedisClient(redis: unknown): redis is RedisClient {
  if (typeof redis !== 'object' || redis === null) return false;
  const client = redis as Record<string, unknown>;
  return (
    typeof client.evalsha === 'function' &&
    typeof client.eval === 'function' &&
    typeof client.duplicate === 'function' &&
    typeof client.on === 'function'
  );
}
