/**
 * @sluice/opentelemetry: OpenTelemetry metrics and traces for Sluice credential providers.
 *
 * @packageDocumentation
 */

export {
  DURATION_BUCKETS_SECONDS,
  INSTRUMENTATION_SCOPE,
  OTEL_ATTRIBUTES,
  OTEL_METRIC_NAMES,
  REFRESH_SPAN_NAME,
  WAITER_BUCKETS,
} from './names.js';
export type { ObservableProvider } from './observed-providers.js';
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
