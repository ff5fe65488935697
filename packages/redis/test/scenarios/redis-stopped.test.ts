/**
 * Issue rows: "redis-server SIGSTOPped past the timeout, then SIGCONT" (valid credentials served
 * throughout; fallback reported; replies stay in order after resume) and "redis-server killed
 * and restarted empty" (at most 1 mint per instance while it is away, then coordinated again).
 */

import { afterEach, describe, expect, it } from 'vitest';
import {
  closeAll,
  createFleet,
  createIssuer,
  expiredServes,
  type Instance,
  keepServing,
  sleep,
  until,
} from '../support/fleet.js';
import { type RedisServer, redisAvailable, startRedisServer } from '../support/redis-server.js';

const POLICY = { refreshAt: 0.5, jitter: 0, schedule: 'timer' as const };
let server: RedisServer | undefined;
let instances: Instance[] = [];

afterEach(async () => {
  await closeAll(instances);
  instances = [];
  await server?.stop();
  server = undefined;
});

describe.skipIf(!redisAvailable())('redis-server stopped', () => {
  it('SIGSTOP past the timeout, then SIGCONT: valid tokens served throughout, the fallback reported, replies in order after resume, then one mint per refresh again', async () => {
    server = await startRedisServer();
    const lifetimeMs = 2_000;
    const issuer = createIssuer({ lifetimeMs, delay: 5 });
    instances = await createFleet(server, 10, {
      issuer,
      provider: POLICY,
      coordinator: { refreshAt: POLICY.refreshAt, storeBreaker: { cooldownMs: 300 } },
    });
    await Promise.all(instances.map((instance) => instance.start()));
    const serving = keepServing(instances, 20);
    await sleep(500);
    server.pause();
    // Commands sent on each caller's client while Redis is frozen.
    const echoes = instances.map((instance, i) =>
      Promise.all(Array.from({ length: 5 }, (_, n) => instance.redis.echo(`${i}:${n}`))),
    );
    await sleep(1_500); // past commandTimeoutMs (250) and past a refresh point
    server.resume();
    const replies = await Promise.all(echoes);
    replies.forEach((list, i) => {
      expect(list).toEqual([0, 1, 2, 3, 4].map((n) => `${i}:${n}`));
    });
    const fallbacks = instances.flatMap((instance) => instance.events.of('fallback'));
    expect(fallbacks.length).toBeGreaterThan(0);
    for (const fallback of fallbacks) {
      expect(fallback).toMatchObject({
        reason: 'store-unavailable',
        error: { code: 'SLUICE_FLEET_STORE_TIMEOUT' },
      });
    }
    // Coordinated again: count mints over two lifetimes once the store is back.
    await until(
      () => instances.every((instance) => instance.coordinator.snapshot().store === 'available'),
      5_000,
      'every store breaker to close',
    );
    await sleep(lifetimeMs);
    const before = issuer.attempts;
    await sleep(2 * lifetimeMs);
    const after = issuer.attempts - before;
    await serving.stop();
    expect(after).toBeLessThanOrEqual(2 / POLICY.refreshAt + 1);
    expect(instances.flatMap((i) => i.errors)).toEqual([]);
    expect(expiredServes(instances, issuer)).toEqual([]);
  }, 30_000);

  it('killed (kill -9) and restarted empty: at most 1 local mint per instance while it is away, then one mint per refresh for the fleet again', async () => {
    server = await startRedisServer();
    const port = server.port;
    const lifetimeMs = 3_000;
    const issuer = createIssuer({ lifetimeMs, delay: 5 });
    instances = await createFleet(server, 10, {
      issuer,
      provider: POLICY,
      coordinator: { refreshAt: POLICY.refreshAt },
      redis: { retryStrategy: () => 100 },
    });
    await Promise.all(instances.map((instance) => instance.start()));
    const serving = keepServing(instances, 20);
    await sleep(800);
    const mintsBefore = instances.map((instance) => instance.mints);
    await server.kill();
    await sleep(1_200); // less than one refresh interval (1.5 s): each instance refreshes once at most
    const away = instances.map((instance, i) => instance.mints - (mintsBefore[i] as number));
    for (const mints of away) expect(mints).toBeLessThanOrEqual(1);
    expect(away.some((mints) => mints === 1)).toBe(true);
    server = await startRedisServer({ port });
    await until(
      () => instances.every((instance) => instance.redis.status === 'ready'),
      10_000,
      'every client to reconnect',
    );
    await sleep(lifetimeMs);
    const before = issuer.attempts;
    await sleep(2 * lifetimeMs);
    const after = issuer.attempts - before;
    await serving.stop();
    expect(after).toBeLessThanOrEqual(2 / POLICY.refreshAt + 1);
    expect(instances.flatMap((i) => i.errors)).toEqual([]);
    expect(expiredServes(instances, issuer)).toEqual([]);
  }, 40_000);
});
