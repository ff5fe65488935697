/**
 * `close()` racing the protocol, against a real redis-server: whatever is in flight when it is
 * called, and wherever it is called from, it leaves no lease in Redis.
 */

import type { MintContext } from '@sluice/core';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisCoordinator, type FleetReporter } from '../src/index.js';
import { type RedisServer, redisAvailable, startRedisServer } from './support/redis-server.js';

let server: RedisServer;
let admin: Redis;
let counter = 0;

const context = (): MintContext<string> => ({
  reason: 'initial',
  signal: new AbortController().signal,
});

function setup(reporter?: (close: () => Promise<void>) => FleetReporter) {
  const keyPrefix = `close-${++counter}:`;
  const redis = server.client();
  let close: () => Promise<void> = () => Promise.resolve();
  const coordinator = createRedisCoordinator({
    redis,
    keyPrefix,
    ...(reporter === undefined ? {} : { reporter: reporter(() => close()) }),
  });
  close = () => coordinator.close();
  let mints = 0;
  const mint = coordinator.wrap<string>('api', async () => {
    mints++;
    await new Promise((resolve) => setTimeout(resolve, 20));
    return { value: `token-${mints}`, expiresAt: Date.now() + 60_000 };
  });
  return {
    redis,
    coordinator,
    call: () => Promise.resolve(mint(context())),
    lease: `${keyPrefix}{api}:lease`,
  };
}

describe.skipIf(!redisAvailable())('close() races', () => {
  beforeAll(async () => {
    server = await startRedisServer();
    admin = server.client();
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('close() while a load-or-lease is in flight leaves no lease in Redis (5 of 5 runs)', async () => {
    for (let run = 0; run < 5; run++) {
      const { redis, coordinator, call, lease } = setup();
      await new Promise<void>((resolve) => redis.once('ready', () => resolve()));
      const pending = call();
      const closing = coordinator.close(); // the EVALSHA is already on the wire
      expect(await pending).toMatchObject({ value: 'token-1' });
      await closing;
      expect(await admin.pttl(lease)).toBe(-2);
      expect(coordinator.snapshot()).toMatchObject({ leasesHeld: 0, timers: 0 });
      redis.disconnect();
    }
  });

  for (const hook of ['onLeased', 'onWoken'] as const) {
    it(`close() called from inside a reporter hook (${hook}) leaves no lease in Redis`, async () => {
      let closing: Promise<void> | undefined;
      const { redis, coordinator, call, lease } = setup((close) => ({
        [hook]: () => {
          closing ??= close();
        },
      }));
      await new Promise<void>((resolve) => redis.once('ready', () => resolve()));
      if (hook === 'onWoken') {
        // Someone else's lease: this call waits and is woken by the poll.
        await admin.set(lease, 'other', 'PX', 300);
      }
      const value = await call();
      expect(value.value).toMatch(/^token-/);
      expect(closing).toBeDefined();
      await (closing ?? coordinator.close());
      // No lease of ours: the key is gone, or still the other holder's.
      expect([null, 'other']).toContain(await admin.get(lease));
      expect(coordinator.snapshot()).toMatchObject({ leasesHeld: 0, timers: 0 });
      redis.disconnect();
    });
  }
});
