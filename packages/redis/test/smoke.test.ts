import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createInstanceWith, createIssuer } from './support/fleet.js';
import { type RedisServer, startRedisServer } from './support/redis-server.js';

let server: RedisServer;
beforeAll(async () => {
  server = await startRedisServer();
});
afterAll(async () => {
  await server?.stop();
});

describe('smoke', () => {
  it('20 instances boot with one mint', async () => {
    const issuer = createIssuer({ lifetimeMs: 2_000, delay: 50 });
    const instances = Array.from({ length: 20 }, () =>
      createInstanceWith(server.client(), { issuer }),
    );
    const providers = await Promise.all(instances.map((i) => i.start()));
    const values = await Promise.all(providers.map((p) => p.get()));
    console.log(
      JSON.stringify(instances[0]?.events.events.slice(0, 5)),
      JSON.stringify(instances[1]?.events.events.slice(0, 5)),
    );
    expect(new Set(values).size).toBe(1);
    expect(issuer.attempts).toBe(1);
    console.log(instances[0]?.events.events.slice(0, 5), instances[1]?.events.events);
    await Promise.all(instances.map((i) => i.close()));
  });
});
