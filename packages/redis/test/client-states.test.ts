/**
 * The caller's ioredis client in the states users hand it over in, against a real
 * redis-server: created with `lazyConnect: true`, and still connecting while many calls wait.
 */

import type { MintContext } from '@sluice/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisCoordinator } from '../src/index.js';
import { recordingReporter } from './support/fleet.js';
import { type RedisServer, redisAvailable, startRedisServer } from './support/redis-server.js';

let server: RedisServer;
let counter = 0;

const context = (): MintContext<string> => ({
  reason: 'initial',
  signal: new AbortController().signal,
});

describe.skipIf(!redisAvailable())('client states', () => {
  beforeAll(async () => {
    server = await startRedisServer();
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('a lazyConnect: true client is connected on first use: the fleet coordinates (one mint for six calls), with no fallback and no connect timeout', async () => {
    const keyPrefix = `lazy-${++counter}:`;
    let mints = 0;
    const instances = Array.from({ length: 3 }, () => {
      const redis = server.client({ lazyConnect: true });
      expect(redis.status).toBe('wait');
      const events = recordingReporter();
      const coordinator = createRedisCoordinator({
        redis,
        keyPrefix,
        reporter: events.reporter,
        connectTimeoutMs: 10_000,
      });
      const mint = coordinator.wrap<string>('api', async () => {
        mints++;
        await new Promise((resolve) => setTimeout(resolve, 50));
        return { value: `token-${mints}`, expiresAt: Date.now() + 60_000 };
      });
      return { redis, coordinator, events, mint };
    });
    try {
      const values = await Promise.all(
        instances.flatMap(({ mint }) => [
          Promise.resolve(mint(context())),
          Promise.resolve(mint(context())),
        ]),
      );
      expect(mints).toBe(1);
      expect(new Set(values.map((c) => c.value))).toEqual(new Set(['token-1']));
      for (const { redis, events } of instances) {
        expect(redis.status).toBe('ready');
        expect(events.count('fallback')).toBe(0);
        expect(events.count('storeError')).toBe(0);
      }
    } finally {
      for (const { coordinator, redis } of instances) {
        await coordinator.close();
        redis.disconnect();
      }
    }
  });

  it('while the first connection is pending, 30 waiting calls add one ready and one end listener in all (no MaxListenersExceededWarning), and close() removes them', async () => {
    // A client whose first connection cannot complete: it waits for a server that never answers.
    const redis = server.client({ lazyConnect: true, port: 1, retryStrategy: () => null });
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => warnings.push(warning);
    process.on('warning', onWarning);
    const before = { ready: redis.listenerCount('ready'), end: redis.listenerCount('end') };
    const coordinator = createRedisCoordinator({
      redis,
      keyPrefix: `pending-${++counter}:`,
      connectTimeoutMs: 60_000,
    });
    const mint = coordinator.wrap<string>('api', async () => ({
      value: 'local',
      expiresAt: Date.now() + 60_000,
    }));
    try {
      // Keep the client in `connecting`: never let it reach `ready` or `end` during the calls.
      (redis as unknown as { connect: () => Promise<void> }).connect = () => new Promise(() => {});
      const calls = Array.from({ length: 30 }, () => Promise.resolve(mint(context())));
      await new Promise((resolve) => setImmediate(resolve));
      expect(redis.listenerCount('ready') - before.ready).toBeLessThanOrEqual(2);
      expect(redis.listenerCount('end') - before.end).toBeLessThanOrEqual(1);
      await coordinator.close();
      expect(redis.listenerCount('ready')).toBe(before.ready);
      expect(redis.listenerCount('end')).toBe(before.end);
      const settled = await Promise.all(calls);
      expect(settled.every((c) => c.value === 'local')).toBe(true);
      await new Promise((resolve) => setImmediate(resolve));
      expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning')).toEqual([]);
    } finally {
      process.off('warning', onWarning);
      redis.disconnect();
    }
  });
});
