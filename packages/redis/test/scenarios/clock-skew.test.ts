/**
 * Issue row: "instance clocks offset by +/-30% of the lifetime" must show mints per lifetime
 * unchanged.
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

const LIFETIME_MS = 1_500;
const LIFETIMES = 6;
const SIZE = 20;
const POLICY = { refreshAt: 0.6, jitter: 0, schedule: 'timer' as const };

let server: RedisServer;
const all: Instance[] = [];

describe.skipIf(!redisAvailable())('skewed instance clocks', () => {
  beforeAll(async () => {
    server = await startRedisServer();
  });
  afterAll(async () => {
    await closeAll(all);
    await server?.stop();
  });

  it('clocks offset by up to +/-30 % of the lifetime: the same mints per lifetime as a fleet with one clock, and no expired token served', async () => {
    const run = async (keyPrefix: string, offsetOf: (i: number) => number) => {
      const issuer = createIssuer({ lifetimeMs: LIFETIME_MS, delay: 5 });
      const instances = await Promise.all(
        Array.from({ length: SIZE }, (_, i) =>
          createFleet(server, 1, {
            issuer,
            clockOffsetMs: offsetOf(i),
            provider: POLICY,
            coordinator: { keyPrefix, refreshAt: POLICY.refreshAt },
          }),
        ),
      ).then((groups) => groups.flat());
      all.push(...instances);
      await Promise.all(instances.map((instance) => instance.start()));
      const serving = keepServing(instances, 50);
      const before = issuer.attempts;
      await sleep(LIFETIME_MS * LIFETIMES);
      await serving.stop();
      return { mints: issuer.attempts - before, instances, issuer };
    };
    const spread = (i: number) => Math.round(((i / (SIZE - 1)) * 2 - 1) * 0.3 * LIFETIME_MS);
    const [plain, skewed] = await Promise.all([run('plain:', () => 0), run('skewed:', spread)]);
    // One refresh every 0.6 lifetimes, whoever's clock.
    const expected = LIFETIMES / POLICY.refreshAt;
    expect(plain.mints).toBeGreaterThanOrEqual(expected - 2);
    expect(plain.mints).toBeLessThanOrEqual(expected + 1);
    expect(Math.abs(skewed.mints - plain.mints)).toBeLessThanOrEqual(1);
    expect(expiredServes(skewed.instances, skewed.issuer)).toEqual([]);
    expect(expiredServes(plain.instances, plain.issuer)).toEqual([]);
    const fallbacks = skewed.instances.reduce((n, i) => n + i.events.count('fallback'), 0);
    expect(fallbacks).toBe(0);
  }, 60_000);
});
