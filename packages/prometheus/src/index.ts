/**
 * @sluice/prometheus: Prometheus metrics (prom-client) for Sluice credential providers.
 *
 * @packageDocumentation
 */

export type { ObservableProvider } from '@sluice/core';
export { MetricAlreadyRegisteredError } from './errors.js';
export {
  DURATION_BUCKETS_SECONDS,
  PROMETHEUS_METRIC_NAMES,
  WAITER_BUCKETS,
} from './metric-names.js';
export {
  createPrometheusReporter,
  type PrometheusReporter,
  type PrometheusReporterOptions,
} from './prometheus-reporter.js';
