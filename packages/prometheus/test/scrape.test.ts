/**
 * The exposition a real Prometheus would scrape: served on a real HTTP `/metrics` endpoint on
 * loopback, scraped with fetch, and linted with `promtool check metrics`.
 *
 * Without promtool the suite is skipped (with the install hint), except under `CI=true`,
 * where it fails.
 */

import { createKeyedProvider, createRefreshingProvider } from '@sluice/core';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type MetricsEndpoint,
  sampleLabels,
  sampleValue,
  startMetricsEndpoint,
} from '../../../test/support/metrics-endpoint.js';
import {
  checkMetrics,
  findPromtool,
  PROMTOOL_INSTALL_HINT,
  PROMTOOL_REQUIRED,
} from '../../../test/support/promtool.js';
import { createPrometheusReporter, PROMETHEUS_METRIC_NAMES as N } from '../src/index.js';

const promtool = findPromtool();
if (promtool === undefined && !PROMTOOL_REQUIRED) console.warn(`skipped: ${PROMTOOL_INSTALL_HINT}`);

describe.skipIf(promtool === undefined && !PROMTOOL_REQUIRED)(
  'GET /metrics linted by promtool',
  () => {
    const registry = new Registry();
    const metrics = createPrometheusReporter({ registry, includeKey: true });
    let endpoint: MetricsEndpoint;
    const closers: Array<() => void> = [];

    beforeAll(async () => {
      if (promtool === undefined)
        throw new Error(`${PROMTOOL_INSTALL_HINT} (CI=true: this suite must run)`);
      endpoint = await startMetricsEndpoint(async () => ({
        contentType: registry.contentType,
        body: await registry.metrics(),
      }));
      // Every metric gets samples: successes, failures with a code, a breaker that opened,
      // coalesced waiters, a keyed provider with keys, a dropped key.
      let fail = false;
      const single = await createRefreshingProvider({
        name: 'billing-api',
        breaker: { failureThreshold: 1, cooldownMs: 60_000 },
        mint: () => {
          if (fail) throw Object.assign(new Error('token endpoint said 503'), { code: 'HTTP_503' });
          return { value: 'token', expiresAt: Date.now() + 3_600_000 };
        },
        reporter: metrics,
      });
      closers.push(() => single.close());
      metrics.observe(single);
      fail = true;
      await single.refresh().catch(() => {});
      const down = await createRefreshingProvider({
        name: 'down-api',
        lazy: true,
        breaker: { failureThreshold: 1, cooldownMs: 60_000 },
        mint: () => {
          throw new Error('token endpoint down');
        },
        reporter: metrics,
      });
      closers.push(() => down.close());
      metrics.observe(down);
      await down.get().catch(() => {});
      await down.get().catch(() => {}); // refused: the breaker is open
      const keyed = createKeyedProvider<string, string>({
        name: 'tenants',
        maxKeys: 2,
        mint: async (key) => ({ value: key, expiresAt: Date.now() + 600_000 }),
        reporter: metrics,
      });
      closers.push(() => keyed.close());
      metrics.observe(keyed);
      await Promise.all([keyed.get('acme'), keyed.get('acme'), keyed.get('globex')]);
      await keyed.get('initech'); // drops 'acme' (least recently used)
    });

    afterAll(async () => {
      for (const close of closers) close();
      metrics.unregister();
      await endpoint?.close();
    });

    it('serves every Sluice metric with HELP and TYPE over HTTP', async () => {
      const { status, contentType, body } = await endpoint.scrape();
      expect(status).toBe(200);
      expect(contentType).toMatch(/^text\/plain; version=0\.0\.4/);
      for (const name of Object.values(N)) {
        expect(body, name).toMatch(new RegExp(`^# HELP ${name} \\S`, 'm'));
        expect(body, name).toMatch(new RegExp(`^# TYPE ${name} (counter|gauge|histogram)$`, 'm'));
      }
      expect(
        sampleValue(body, N.breakerState, { name: 'billing-api', key: '', state: 'open' }),
      ).toBe(1);
      expect(
        sampleLabels(body, N.expiration)
          .map((l) => l.key)
          .sort(),
      ).toEqual(['', 'globex', 'initech']);
      expect(body).not.toContain('key="acme"');
      expect(sampleValue(body, N.breakerRefusals, { name: 'down-api' })).toBe(1);
    });

    it('passes promtool check metrics with no lint problem', async () => {
      const { body } = await endpoint.scrape();
      const result = await checkMetrics(body);
      expect(result.output).toBe('');
      expect(result.code).toBe(0);
    });

    it('would fail promtool on a badly named counter (the lint can fail)', async () => {
      const bad =
        '# HELP sluice_refreshes Mints.\n# TYPE sluice_refreshes counter\nsluice_refreshes 1\n';
      const result = await checkMetrics(bad);
      expect(result.code).not.toBe(0);
      expect(result.output).toMatch(/counter metrics should have "_total" suffix/);
    });
  },
);
