/**
 * The OpenTelemetry metrics as Prometheus sees them: the SDK's Prometheus exporter serves them
 * on a real HTTP endpoint on loopback, and `promtool check metrics` lints the text.
 *
 * Without promtool the suite is skipped (with the install hint), except under `CI=true`,
 * where it fails.
 */

import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { createKeyedProvider, createRefreshingProvider } from '@sluice/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type MetricsEndpoint,
  sampleLabels,
  sampleValue,
  startEndpoint,
} from '../../../test/support/metrics-endpoint.js';
import {
  checkMetrics,
  findPromtool,
  PROMTOOL_INSTALL_HINT,
  PROMTOOL_REQUIRED,
} from '../../../test/support/promtool.js';
import { createOpenTelemetryReporter } from '../src/index.js';

/**
 * The Prometheus names exporter-prometheus 0.223 derives from ours: dots become underscores,
 * counters get `_total`, and (unlike the Collector's exporter) no unit suffix is added.
 */
const PROMETHEUS_NAMES = {
  duration: 'sluice_refresh_duration',
  waiters: 'sluice_refresh_waiters',
  transitions: 'sluice_breaker_transitions_total',
  refusals: 'sluice_breaker_refusals_total',
  status: 'sluice_breaker_status',
  lifetime: 'sluice_credential_remaining_lifetime',
} as const;

const promtool = findPromtool();
if (promtool === undefined && !PROMTOOL_REQUIRED) console.warn(`skipped: ${PROMTOOL_INSTALL_HINT}`);

describe.skipIf(promtool === undefined && !PROMTOOL_REQUIRED)(
  'OpenTelemetry metrics through the Prometheus exporter, linted by promtool',
  () => {
    const exporter = new PrometheusExporter({ preventServerStart: true });
    const meterProvider = new MeterProvider({ readers: [exporter] });
    const telemetry = createOpenTelemetryReporter({ meterProvider, includeKey: true });
    let endpoint: MetricsEndpoint;
    const closers: Array<() => void> = [];

    beforeAll(async () => {
      if (promtool === undefined)
        throw new Error(`${PROMTOOL_INSTALL_HINT} (CI=true: this suite must run)`);
      endpoint = await startEndpoint((request, response) =>
        exporter.getMetricsRequestHandler(request, response),
      );
      let fail = false;
      const single = await createRefreshingProvider({
        name: 'billing-api',
        breaker: { failureThreshold: 1 },
        mint: () => {
          if (fail) throw Object.assign(new Error('503'), { code: 'HTTP_503' });
          return { value: 't', expiresAt: Date.now() + 3_600_000 };
        },
        reporter: telemetry,
      });
      closers.push(() => single.close());
      telemetry.observe(single);
      fail = true;
      await single.refresh().catch(() => {});
      const down = await createRefreshingProvider({
        name: 'down-api',
        lazy: true,
        breaker: { failureThreshold: 1, cooldownMs: 60_000 },
        mint: () => {
          throw new Error('token endpoint down');
        },
        reporter: telemetry,
      });
      closers.push(() => down.close());
      await down.get().catch(() => {});
      await down.get().catch(() => {}); // refused: the breaker is open
      const keyed = createKeyedProvider<string, string>({
        name: 'tenants',
        mint: async (key) => ({ value: key, expiresAt: Date.now() + 600_000 }),
        reporter: telemetry,
      });
      closers.push(() => keyed.close());
      telemetry.observe(keyed);
      await Promise.all([keyed.get('acme'), keyed.get('acme'), keyed.get('globex')]);
    });

    afterAll(async () => {
      for (const close of closers) close();
      telemetry.shutdown();
      await meterProvider.shutdown();
      await endpoint?.close();
    });

    it('serves every Sluice instrument under its Prometheus name', async () => {
      const { status, body } = await endpoint.scrape();
      expect(status).toBe(200);
      for (const name of Object.values(PROMETHEUS_NAMES)) {
        expect(body, name).toMatch(new RegExp(`^# TYPE ${name} (counter|gauge|histogram)$`, 'm'));
      }
      expect(
        sampleValue(body, PROMETHEUS_NAMES.status, {
          sluice_provider_name: 'billing-api',
          sluice_breaker_state: 'open',
          otel_scope_name: '@sluice/opentelemetry',
          otel_scope_version: '0.1.0',
        }),
      ).toBe(1);
      expect(
        sampleValue(body, PROMETHEUS_NAMES.refusals, {
          sluice_provider_name: 'down-api',
          otel_scope_name: '@sluice/opentelemetry',
          otel_scope_version: '0.1.0',
        }),
      ).toBe(1);
      const failed = sampleLabels(body, `${PROMETHEUS_NAMES.duration}_count`).find(
        (labels) => labels.error_type !== undefined,
      );
      expect(failed?.error_type).toBe('HTTP_503');
      expect(
        sampleLabels(body, PROMETHEUS_NAMES.lifetime)
          .map((labels) => labels.sluice_key ?? '')
          .sort(),
      ).toEqual(['', 'acme', 'globex']);
    });

    it('passes promtool check metrics with no lint problem', async () => {
      const { body } = await endpoint.scrape();
      const result = await checkMetrics(body);
      expect(result.output).toBe('');
      expect(result.code).toBe(0);
    });
  },
);
