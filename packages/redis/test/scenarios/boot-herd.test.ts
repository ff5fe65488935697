/**
 * Issue row: "boot herd: 1,000 instances start together" must show 1 upstream mint.
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

describe.skipIf(!redisAvailable())('boot herd', () => {
  beforeAll(async () => {
    server = await startRedisServer();
  });
  afterAll(async () => {
    await closeAll(instances);
    await server?.stop();
  });

  it('1,000 instances starting together cause exactly 1 upstream mint, and all serve its token', async () => {
    const issuer = createIssuer({ lifetimeMs: 60_000, delay: 200 });
    instances = await createFleet(server, 1_000, { issuer, coordinator: CROWDED });
    const providers = await Promise.all(instances.map((instance) => instance.start()));
    const values = await Promise.all(providers.map((provider) => provider.get()));
    expect(issuer.attempts).toBe(1);
    expect(new Set(values).size).toBe(1);
    const fallbacks = instances.reduce((n, i) => n + i.events.count('fallback'), 0);
    expect(fallbacks).toBe(0);
    expect(instances.reduce((n, i) => n + i.events.count('adopted'), 0)).toBe(999);
  }, 120_000);
});
