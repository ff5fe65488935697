/**
 * Issue row: "1,000 concurrent invalidations of one token" must show 1 upstream mint.
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeAll, createFleet, createIssuer, type Instance } from '../support/fleet.js';
import { type RedisServer, redisAvailable, startRedisServer } from '../support/redis-server.js';

/**
 * A thousand instances share this one test process (and two CPU cores with redis-server and
 * the other test files); in production each has its own event loop. A store operation here can
 * wait behind a thousand others, so the operation timeout is raised from its 250 ms default.
 */
const CROWDED = { commandTimeoutMs: 5_000, connectTimeoutMs: 10_000 };

let server: RedisServer;
let instances: Instance[] = [];

describe.skipIf(!redisAvailable())('invalidation storm', () => {
  beforeAll(async () => {
    server = await startRedisServer();
  });
  afterAll(async () => {
    await closeAll(instances);
    await server?.stop();
  });

  it('1,000 instances invalidating the same token at once cause 1 upstream mint, and none adopts the rejected token', async () => {
    const issuer = createIssuer({ lifetimeMs: 60_000, delay: 100 });
    instances = await createFleet(server, 1_000, { issuer, coordinator: CROWDED });
    const providers = await Promise.all(instances.map((instance) => instance.start()));
    const rejected = await (providers[0] as (typeof providers)[number]).get();
    expect(issuer.attempts).toBe(1);
    const refreshed = await Promise.all(
      providers.map((provider) => {
        expect(provider.invalidate(rejected)).toBe(true);
        return provider.get();
      }),
    );
    expect(issuer.attempts).toBe(2);
    expect(new Set(refreshed).size).toBe(1);
    expect(refreshed[0]).not.toBe(rejected);
  }, 120_000);
});
