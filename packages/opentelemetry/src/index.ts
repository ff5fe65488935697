/**
 * @sluice/opentelemetry: OpenTelemetry metrics and traces for Sluice credential providers.
 *
 * @packageDocumentation
 */

export type { ObservableProvider } from '@sluice/core';
export {
  DURATION_BUCKETS_SECONDS,
  INSTRUMENTATION_SCOPE,
  OTEL_ATTRIBUTES,
  OTEL_METRIC_NAMES,
  REFRESH_SPAN_NAME,
  WAITER_BUCKETS,
} from './names.js';
export {
  createOpenTelemetryReporter,
  type OpenTelemetryReporter,
  type OpenTelemetryReporterOptions,
} from './opentelemetry-reporter.js';
export {
  type TraceKeyedMintOptions,
  type TraceMintOptions,
  traceKeyedMint,
  traceMint,
} from './trace-mint.js';
