/**
 * @sluice/redis with @sluice/prometheus: replicas coordinated through one real redis-server,
 * each reporting to its own prom-client registry (one per process, as in production). The
 * exposition text is linted by a real `promtool check metrics`.
 */

import {
  createKeyedProvider,
  createRefreshingProvider,
  type MintContext,
  type RefreshingProvider,
} from '@sluice/core';
import { createPrometheusReporter } from '@sluice/prometheus';
import { createRedisCoordinator } from '@sluice/redis';
import { Registry } from 'prom-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createIssuer } from '../../packages/redis/test/support/fleet.js';
import {
  type RedisServer,
  startRedisServer,
} from '../../packages/redis/test/support/redis-server.js';
import { checkMetrics } from '../support/promtool.js';
import { binariesAvailable } from './support/binaries.js';

let redis: RedisServer;
const closers: Array<() => unknown> = [];
let prefixes = 0;

/** Series lines (no comments) of an exposition text. */
function series(text: string): string[] {
  return text.split('\n').filter((line) => line !== '' && !line.startsWith('#'));
}

function sample(text: string, metric: string, labels: string): number | undefined {
  const line = series(text).find((l) => l.startsWith(`${metric}{`) && l.includes(labels));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

describe.skipIf(!binariesAvailable({ redis: true, promtool: true }))('redis x prometheus', () => {
  beforeAll(async () => {
    redis = await startRedisServer(); // stopped by PID in afterAll
  });

  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close();
  });

  afterAll(async () => {
    await redis?.stop();
  });

  async function replica(
    server: RedisServer,
    keyPrefix: string,
    issuer: ReturnType<typeof createIssuer>,
  ) {
    const registry = new Registry();
    const metrics = createPrometheusReporter({ registry });
    const fleet = createRedisCoordinator({ redis: server.client(), keyPrefix });
    const provider: RefreshingProvider<string> = await createRefreshingProvider<string>({
      name: 'billing-api',
      reporter: metrics,
      mint: fleet.wrap('billing-api', (context: MintContext<string>) => issuer.mint(context)),
    });
    metrics.observe(provider);
    closers.push(
      () => metrics.unregister(),
      () => fleet.close(),
      () => provider.close(),
    );
    return { registry, provider };
  }

  it("every replica's registry shows the fleet's one credential (same expiry, one upstream mint), and each scrape passes promtool without the token", async () => {
    const keyPrefix = `redis-prom-${++prefixes}:`;
    const issuer = createIssuer({ lifetimeMs: 60_000, delay: 0 });
    const replicas = await Promise.all([1, 2, 3, 4].map(() => replica(redis, keyPrefix, issuer)));
    expect(issuer.attempts).toBe(1);
    const token = await replicas[0]?.provider.get();
    const expiries: (number | undefined)[] = [];
    for (const { registry, provider } of replicas) {
      expect(await provider.get()).toBe(token);
      const text = await registry.metrics();
      expiries.push(
        sample(text, 'sluice_credential_expiration_timestamp_seconds', 'name="billing-api"'),
      );
      expect(sample(text, 'sluice_refreshes_total', 'reason="initial"')).toBe(1);
      expect(text).not.toContain(String(token));
      const lint = await checkMetrics(text);
      expect(lint.output).toBe('');
      expect(lint.code).toBe(0);
    }
    // One credential: the same expiry everywhere, up to the store-clock translation (ms).
    const seconds = expiries.map(Number);
    expect(Math.max(...seconds) - Math.min(...seconds)).toBeLessThan(1);
    expect(Math.min(...seconds)).toBeGreaterThan(Date.now() / 1000);
  });

  it('a keyed fleet provider with per-key labels keeps at most 6 series per key and removes them all on close', async () => {
    const keyPrefix = `redis-prom-${++prefixes}:`;
    const issuer = createIssuer({ lifetimeMs: 60_000, delay: 0 });
    const registry = new Registry();
    const metrics = createPrometheusReporter({ registry, includeKey: true });
    const fleet = createRedisCoordinator({ redis: redis.client(), keyPrefix });
    const tenants = createKeyedProvider<string, string>({
      name: 'tenants',
      reporter: metrics,
      mint: fleet.wrapKeyed('tenants', (_tenant: string, context: MintContext<string>) =>
        issuer.mint(context),
      ),
    });
    metrics.observe(tenants);
    closers.push(
      () => metrics.unregister(),
      () => fleet.close(),
    );
    const keys = ['t-1', 't-2', 't-3'];
    for (const key of keys) await tenants.get(key);
    const before = series(await registry.metrics());
    for (const key of keys) {
      const perKey = before.filter((line) => line.includes(`key="${key}"`));
      expect(perKey.length).toBeGreaterThan(0);
      expect(perKey.length).toBeLessThanOrEqual(6);
    }
    tenants.close();
    const after = series(await registry.metrics());
    expect(after.filter((line) => line.includes('key="'))).toEqual([]);
    expect(after.filter((line) => line.startsWith('sluice_last_refresh_success'))).toEqual([]);
  });

  it('with Redis killed a replica falls back to a local mint, its metrics count the refresh, and the scrape still passes promtool', async () => {
    const own = await startRedisServer();
    try {
      const keyPrefix = `redis-prom-${++prefixes}:`;
      const issuer = createIssuer({ lifetimeMs: 60_000, delay: 0 });
      const { registry, provider } = await replica(own, keyPrefix, issuer);
      await own.kill();
      await provider.refresh();
      expect(issuer.attempts).toBe(2);
      const text = await registry.metrics();
      expect(sample(text, 'sluice_refreshes_total', 'reason="forced"')).toBe(1);
      expect(sample(text, 'sluice_refresh_failures_total', 'reason="forced"')).toBeUndefined();
      const lint = await checkMetrics(text);
      expect(lint.code).toBe(0);
    } finally {
      await own.stop();
    }
  });
});
