/**
 * Issue row: "Redis Cluster: a local 3-primary cluster (--cluster-enabled, redis-cli --cluster
 * create)" must show that the boot herd and the steady state pass on it.
 */

import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
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
import {
  findBinary,
  type RedisClusterServers,
  redisAvailable,
  startRedisCluster,
} from '../support/redis-server.js';

/** See boot-herd.test.ts: a thousand instances share one test process. */
const CROWDED = { commandTimeoutMs: 5_000, connectTimeoutMs: 10_000 };
let cluster: RedisClusterServers;
let instances: Instance[] = [];

describe.skipIf(!redisAvailable())('Redis Cluster', () => {
  beforeAll(async () => {
    cluster = await startRedisCluster();
  }, 60_000);
  afterAll(async () => {
    await closeAll(instances);
    await cluster?.stop();
  });

  it('a credential’s three keys live in one slot of the cluster (hash tags)', async () => {
    const cli = findBinary('redis-cli') as string;
    const port = String(cluster.nodes[0]?.port);
    const slots = await Promise.all(
      ['cred', 'lease', 'fail'].map(async (suffix) => {
        const { stdout } = await promisify(execFile)(cli, [
          '-p',
          port,
          'cluster',
          'keyslot',
          `sluice:{billing%7Bx%7D/tenant-1}:${suffix}`,
        ]);
        return stdout.trim();
      }),
    );
    expect(new Set(slots).size).toBe(1);
  });

  it('boot herd on a 3-primary cluster: 1,000 instances starting together cause 1 upstream mint', async () => {
    const issuer = createIssuer({ lifetimeMs: 60_000, delay: 200 });
    instances = await createFleet(cluster, 1_000, {
      issuer,
      coordinator: CROWDED,
      connectBatch: 100,
    });
    const providers = await Promise.all(instances.map((instance) => instance.start()));
    const values = await Promise.all(providers.map((provider) => provider.get()));
    expect(issuer.attempts).toBe(1);
    expect(new Set(values).size).toBe(1);
    await closeAll(instances);
    instances = [];
  }, 180_000);

  it('steady state on the cluster: several credentials in different slots, one mint per refresh each, no expired token served', async () => {
    const lifetimeMs = 1_500;
    const policy = { refreshAt: 0.5, jitter: 0, schedule: 'timer' as const };
    const names = ['billing', 'payroll', 'search'];
    const runs = await Promise.all(
      names.map(async (name) => {
        const issuer = createIssuer({ lifetimeMs, delay: 5 });
        const fleet = await createFleet(cluster, 8, {
          issuer,
          name,
          provider: policy,
          coordinator: { refreshAt: policy.refreshAt },
        });
        instances.push(...fleet);
        await Promise.all(fleet.map((instance) => instance.start()));
        return { issuer, fleet };
      }),
    );
    const serving = keepServing(instances, 25);
    const before = runs.map((run) => run.issuer.attempts);
    await sleep(3 * lifetimeMs);
    await serving.stop();
    runs.forEach((run, i) => {
      const mints = run.issuer.attempts - (before[i] as number);
      // One refresh every half lifetime: six in three lifetimes, give or take the edges.
      expect(mints).toBeGreaterThanOrEqual(4);
      expect(mints).toBeLessThanOrEqual(7);
      expect(expiredServes(run.fleet, run.issuer)).toEqual([]);
    });
    expect(instances.flatMap((i) => i.errors)).toEqual([]);
    expect(instances.reduce((n, i) => n + i.events.count('fallback'), 0)).toBe(0);
  }, 60_000);
});
