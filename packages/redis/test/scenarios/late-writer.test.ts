/**
 * Issue row: "an instance paused after minting writes late" must show that its write is
 * rejected and it adopts the newer credential.
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { credentialKeys } from '../../src/redis/keys.js';
import { type ChildInstance, forkInstance } from '../support/child-instance.js';
import { createInstanceWith, createIssuer, type Instance, until } from '../support/fleet.js';
import { type RedisServer, redisAvailable, startRedisServer } from '../support/redis-server.js';

let server: RedisServer;
let paused: ChildInstance | undefined;
let newer: Instance | undefined;

describe.skipIf(!redisAvailable())('a late writer', () => {
  beforeAll(async () => {
    server = await startRedisServer();
  });
  afterAll(async () => {
    await paused?.stop();
    await newer?.close();
    await server?.stop();
  });

  it('a process frozen (SIGSTOP) between its mint and its store writes late: the store refuses it and the process adopts the newer token', async () => {
    const keyPrefix = 'late:';
    const leaseMs = 300;
    let holding = false;
    paused = await forkInstance({
      port: server.port,
      keyPrefix,
      leaseMs,
      holdAfterMintMs: 400,
      onMint: (request) => request.answer('old-token', 30_000),
      onHolding: (child) => {
        child.pause(); // frozen with the minted token in hand, before storing it
        holding = true;
      },
    });
    const pausedServed = paused.get();
    await until(() => holding, 10_000, 'the child to mint');
    // Another instance needs the token: it waits out the frozen lease, then mints a newer one.
    const issuer = createIssuer({ lifetimeMs: 60_000, delay: 5 });
    newer = createInstanceWith(server.client(), {
      issuer,
      coordinator: { keyPrefix, leaseMs, poll: { initialDelayMs: 50, maxDelayMs: 100 } },
    });
    const token = await (await newer.start()).get();
    expect(issuer.attempts).toBe(1);
    paused.resume();
    expect(await pausedServed).toBe(token);
    const admin = server.client();
    const stored = await admin.hget(credentialKeys(keyPrefix, 'api').credential, 'val');
    expect(JSON.parse(stored ?? 'null')).toBe(token);
    const events = await paused.events();
    expect(events.filter((e) => e.hook === 'onStored').map((e) => e.event.outcome)).toEqual([
      'refused',
    ]);
  }, 60_000);
});
