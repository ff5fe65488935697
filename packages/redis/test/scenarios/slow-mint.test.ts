/**
 * Issue row: "a mint slower than the lease" must show that lease renewal prevents a duplicate
 * mint.
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { credentialKeys } from '../../src/redis/keys.js';
import { closeAll, createFleet, createIssuer, type Instance, sleep } from '../support/fleet.js';
import { type RedisServer, redisAvailable, startRedisServer } from '../support/redis-server.js';

let server: RedisServer;
let instances: Instance[] = [];

describe.skipIf(!redisAvailable())('a mint slower than the lease', () => {
  beforeAll(async () => {
    server = await startRedisServer();
  });
  afterAll(async () => {
    await closeAll(instances);
    await server?.stop();
  });

  it('a 1.5 s mint under a 300 ms lease: renewals keep the lease alive, so 10 instances still make 1 mint', async () => {
    const issuer = createIssuer({ lifetimeMs: 60_000, delay: 1_500 });
    const leaseMs = 300;
    instances = await createFleet(server, 10, {
      issuer,
      coordinator: {
        leaseMs,
        mintTimeoutMs: 10_000,
        poll: { initialDelayMs: 50, maxDelayMs: 100 },
      },
    });
    const admin = server.client();
    const leaseKey = credentialKeys('sluice:', 'api').lease;
    const starting = Promise.all(instances.map((instance) => instance.start()));
    // Sample the lease while the mint runs: it never lapses, though the mint outlives it 5x.
    const ttls: number[] = [];
    for (let t = 0; t < 1_300; t += 100) {
      await sleep(100);
      ttls.push(await admin.pttl(leaseKey));
    }
    const providers = await starting;
    expect(ttls.every((ttl) => ttl > 0 && ttl <= leaseMs)).toBe(true);
    expect(issuer.attempts).toBe(1);
    expect(new Set(await Promise.all(providers.map((p) => p.get())))).toHaveProperty('size', 1);
    expect(await admin.exists(leaseKey)).toBe(0);
  }, 30_000);
});
