/**
 * @sluice/redis inside @sluice/effect: each replica is an Effect scope holding a fleet
 * coordinator (acquired and released with the scope) and a credential provider whose Effect
 * mint runs the coordinator-wrapped mint, on one real redis-server.
 */

import type { MintContext } from '@sluice/core';
import { MintFailed, makeCredentialProvider } from '@sluice/effect';
import { createRedisCoordinator, type FleetCoordinator } from '@sluice/redis';
import { Cause, Effect, Exit } from 'effect';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runTest } from '../../packages/effect/test/support/harness.js';
import { createIssuer, IssuerError } from '../../packages/redis/test/support/fleet.js';
import {
  type RedisServer,
  startRedisServer,
} from '../../packages/redis/test/support/redis-server.js';
import { binariesAvailable } from './support/binaries.js';
import { effectMintOf } from './support/effect-mint.js';
import { readyClient } from './support/redis.js';

let redis: RedisServer;
let prefixes = 0;

/** A fleet coordinator as a scoped Effect resource: closed when the scope closes. */
function coordinatorIn(server: RedisServer, keyPrefix: string) {
  return Effect.acquireRelease(
    Effect.promise(async () => createRedisCoordinator({ redis: server.client(), keyPrefix })),
    (fleet: FleetCoordinator) => Effect.promise(() => fleet.close()),
  );
}

describe.skipIf(!binariesAvailable({ redis: true }))('redis x effect', () => {
  beforeAll(async () => {
    redis = await startRedisServer(); // stopped by PID in afterAll
  });

  afterAll(async () => {
    await redis?.stop();
  });

  it('two Effect replicas over one Redis share one upstream mint, and closing their scopes closes the coordinators and leaves no lease in Redis', async () => {
    const keyPrefix = `redis-effect-${++prefixes}:`;
    const issuer = createIssuer({ lifetimeMs: 60_000, delay: 0 });
    const replica = Effect.gen(function* () {
      const fleet = yield* coordinatorIn(redis, keyPrefix);
      const provider = yield* makeCredentialProvider<string, unknown, never>({
        name: 'billing-api',
        mint: effectMintOf(
          fleet.wrap('billing-api', (context: MintContext<string>) => issuer.mint(context)),
        ),
      });
      return { fleet, value: yield* provider.get };
    });
    const fleets: FleetCoordinator[] = [];
    const values = await runTest(
      Effect.gen(function* () {
        const a = yield* replica;
        const b = yield* replica;
        fleets.push(a.fleet, b.fleet);
        return [a.value, b.value];
      }),
    );
    expect(values[0]).toBe(values[1]);
    expect(issuer.attempts).toBe(1);
    for (const fleet of fleets)
      expect(fleet.snapshot()).toMatchObject({ closed: true, leasesHeld: 0, timers: 0 });
    const admin = await readyClient(redis);
    expect((await admin.keys(`${keyPrefix}*`)).filter((key) => key.endsWith(':lease'))).toEqual([]);
  });

  it("an issuer outage seen through the fleet fails the Effect replica's build with MintFailed carrying the issuer's error", async () => {
    const keyPrefix = `redis-effect-${++prefixes}:`;
    const issuer = createIssuer({ lifetimeMs: 60_000, delay: 0 });
    issuer.failing = 503;
    const exit = await runTest(
      Effect.exit(
        Effect.gen(function* () {
          const fleet = yield* coordinatorIn(redis, keyPrefix);
          return yield* makeCredentialProvider<string, unknown, never>({
            name: 'billing-api',
            mint: effectMintOf(
              fleet.wrap('billing-api', (context: MintContext<string>) => issuer.mint(context)),
            ),
          });
        }),
      ),
    );
    expect(Exit.isFailure(exit)).toBe(true);
    const failure = Exit.isFailure(exit) ? Cause.squash(exit.cause) : undefined;
    expect(failure).toBeInstanceOf(MintFailed);
    expect((failure as MintFailed).cause).toBeInstanceOf(IssuerError);
    expect(issuer.attempts).toBe(1);
  });

  it('with Redis killed an Effect replica falls back to a local mint and keeps serving', async () => {
    const own = await startRedisServer();
    try {
      const keyPrefix = `redis-effect-${++prefixes}:`;
      const issuer = createIssuer({ lifetimeMs: 60_000, delay: 0 });
      const [first, second] = await runTest(
        Effect.gen(function* () {
          const fleet = yield* coordinatorIn(own, keyPrefix);
          const provider = yield* makeCredentialProvider<string, unknown, never>({
            name: 'billing-api',
            mint: effectMintOf(
              fleet.wrap('billing-api', (context: MintContext<string>) => issuer.mint(context)),
            ),
          });
          const before = yield* provider.get;
          yield* Effect.promise(() => own.kill());
          const after = yield* provider.refresh;
          return [before, after.value];
        }),
      );
      expect(second).not.toBe(first);
      expect(issuer.attempts).toBe(2);
    } finally {
      await own.stop();
    }
  });
});
