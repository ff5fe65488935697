/**
 * Issue row: "issuer answers 503 for 10 minutes (compressed time is fine)" must show
 * fleet-wide upstream attempts bounded by the failure window, and zero errors while valid.
 *
 * Time is compressed 60x: one nominal minute is one real second. The failure window keeps its
 * default shape scaled the same way (1 s doubling to 60 s becomes 17 ms doubling to 1 s), and
 * so does the local breaker's cooldown.
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  closeAll,
  createFleet,
  createIssuer,
  expiredServes,
  type Instance,
  keepServing,
  sleep,
} from '../support/fleet.js';
import { type RedisServer, redisAvailable, startRedisServer } from '../support/redis-server.js';

const MINUTE = 1_000; // compressed
let server: RedisServer;
let instances: Instance[] = [];

describe.skipIf(!redisAvailable())('an issuer outage', () => {
  beforeAll(async () => {
    server = await startRedisServer();
  });
  afterAll(async () => {
    await closeAll(instances);
    await server?.stop();
  });

  it('503 for 10 (compressed) minutes: at most 20 upstream attempts for the whole fleet, zero errors while a valid token is held, served again within one window after', async () => {
    const issuer = createIssuer({ lifetimeMs: 5 * MINUTE, delay: 5 });
    instances = await createFleet(server, 20, {
      issuer,
      provider: {
        breaker: { failureThreshold: 5, cooldownMs: MINUTE },
        minRefreshIntervalMs: Math.round(MINUTE / 12),
      },
      coordinator: {
        failureBackoff: { initialDelayMs: Math.round(MINUTE / 60), maxDelayMs: MINUTE },
      },
    });
    await Promise.all(instances.map((instance) => instance.start()));
    const serving = keepServing(instances, 20);
    await sleep(MINUTE);
    issuer.failing = 503;
    const before = issuer.attempts;
    await sleep(10 * MINUTE);
    const during = issuer.attempts - before;
    issuer.failing = undefined;
    await sleep(1.5 * MINUTE);
    await serving.stop();
    expect(during).toBeGreaterThanOrEqual(3);
    expect(during).toBeLessThanOrEqual(20);
    const whileValid = instances.flatMap((i) => i.errors.filter((e) => e.lastValid));
    expect(whileValid).toEqual([]);
    expect(expiredServes(instances, issuer)).toEqual([]);
    // Every instance was served again after the outage.
    const end = Date.now();
    for (const instance of instances) {
      expect(instance.served.at(-1)?.at).toBeGreaterThan(end - 0.5 * MINUTE);
    }
  }, 60_000);
});
