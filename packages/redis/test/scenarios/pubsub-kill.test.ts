/**
 * Issue row: "CLIENT KILL TYPE pubsub while followers wait" must show that followers finish
 * within the backoff cap.
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeAll, createFleet, createIssuer, type Instance, until } from '../support/fleet.js';
import { type RedisServer, redisAvailable, startRedisServer } from '../support/redis-server.js';

let server: RedisServer;
let instances: Instance[] = [];

describe.skipIf(!redisAvailable())('pub/sub connections killed while followers wait', () => {
  beforeAll(async () => {
    server = await startRedisServer();
  });
  afterAll(async () => {
    await closeAll(instances);
    await server?.stop();
  });

  it('CLIENT KILL TYPE pubsub just before the leader publishes: every follower still finishes within the poll cap, with 1 mint', async () => {
    const issuer = createIssuer({ lifetimeMs: 60_000 });
    let release: () => void = () => {};
    issuer.delay = () => new Promise<void>((resolve) => (release = resolve));
    const maxDelayMs = 400;
    instances = await createFleet(server, 10, {
      issuer,
      // The provider's timeout must leave room after the follower's 40 s wait (the coordinator
      // refuses a wait that would outlast two thirds of it).
      provider: { mintTimeoutMs: 90_000 },
      coordinator: {
        // A stranded follower would wait leaseMs + mintTimeoutMs = 40 s before minting itself.
        leaseMs: 20_000,
        mintTimeoutMs: 20_000,
        poll: { initialDelayMs: 100, maxDelayMs },
      },
    });
    const settledAt: number[] = [];
    const starting = instances.map((instance) =>
      instance.start().then((provider) => {
        settledAt.push(Date.now());
        return provider;
      }),
    );
    await until(
      () => instances.reduce((n, i) => n + i.coordinator.snapshot().waiting, 0) === 9,
      5_000,
      'nine waiting followers',
    );
    const admin = server.client();
    const killed = Number(await admin.call('CLIENT', 'KILL', 'TYPE', 'pubsub'));
    expect(killed).toBeGreaterThanOrEqual(10);
    const storedAt = Date.now();
    release(); // the leader stores and publishes while the subscribers are reconnecting
    await Promise.all(starting);
    expect(issuer.attempts).toBe(1);
    expect(instances.reduce((n, i) => n + i.events.count('fallback'), 0)).toBe(0);
    const lastMs = Math.max(...settledAt) - storedAt;
    // The cap plus its +20 % jitter plus one round trip, with room for a loaded machine:
    // far below the 40 s a stranded follower would wait.
    expect(lastMs).toBeLessThan(maxDelayMs * 1.2 + 1_000);
  }, 30_000);
});
