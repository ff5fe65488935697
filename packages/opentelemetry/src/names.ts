/**
 * The names of the metrics, attributes and span `@sluice/opentelemetry` emits. No OpenTelemetry
 * semantic convention covers credential refresh or circuit breakers yet, so these are
 * Sluice's own names, under the `sluice.` namespace, following the general naming rules.
 */

/**
 * Every instrument this package creates, by role. See `docs/observability.md` for units,
 * attributes and semantics.
 *
 * @example
 * ```ts
 * const reader = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
 * // ...
 * const duration = metrics.find((m) => m.descriptor.name === OTEL_METRIC_NAMES.refreshDuration);
 * ```
 */
export const OTEL_METRIC_NAMES = Object.freeze({
  /** Histogram, `s`: how long each mint took; `error.type` only on failures. */
  refreshDuration: 'sluice.refresh.duration',
  /** Histogram, `{waiter}`: callers that waited on one mint and got its outcome. */
  refreshWaiters: 'sluice.refresh.waiters',
  /** Counter, `{transition}`: breaker state changes. */
  breakerTransitions: 'sluice.breaker.transitions',
  /**
   * Counter, `{refusal}`: callers refused with `BreakerOpenError` (breaker open, no valid
   * credential cached). Exported to Prometheus as `sluice_breaker_refusals_total`.
   */
  breakerRefusals: 'sluice.breaker.refusals',
  /**
   * Observable UpDownCounter, `{provider}`: providers (or keys) in each breaker state, one
   * series per state (1 or 0 for a single provider).
   */
  breakerStatus: 'sluice.breaker.status',
  /** Observable gauge, `s`: remaining lifetime of the cached credential (negative once expired). */
  remainingLifetime: 'sluice.credential.remaining_lifetime',
} as const);

/**
 * Every attribute this package sets, on metrics and on the `sluice.refresh` span.
 *
 * @example
 * ```ts
 * const name = point.attributes[OTEL_ATTRIBUTES.providerName]; // 'billing-api'
 * ```
 */
export const OTEL_ATTRIBUTES = Object.freeze({
  /** The provider's `name` option. Always present. */
  providerName: 'sluice.provider.name',
  /**
   * A keyed provider's key (its string form). Only with `includeKey`, and on metrics only on
   * the observable state instruments.
   */
  key: 'sluice.key',
  /** Why the mint ran: `initial`, `proactive`, `expired`, `invalidated` or `forced`. */
  refreshReason: 'sluice.refresh.reason',
  /** On failures only: the error's code, else its name, else `_OTHER`. */
  errorType: 'error.type',
  /** The breaker state: `closed`, `open` or `half-open` (after the change, for transitions). */
  breakerState: 'sluice.breaker.state',
  /** The breaker state before a transition. */
  breakerPreviousState: 'sluice.breaker.previous_state',
  /**
   * On the `sluice.refresh` span: callers that waited on this mint and got its outcome. Set
   * only when the traced mint is paired with the provider's reporter (`traceMint`'s
   * `reporter` option).
   */
  waiterCount: 'sluice.refresh.waiter_count',
} as const);

/**
 * The name of the span around a mint: `sluice.refresh`.
 *
 * @example
 * ```ts
 * const refreshes = exporter.getFinishedSpans().filter((s) => s.name === REFRESH_SPAN_NAME);
 * ```
 */
export const REFRESH_SPAN_NAME = 'sluice.refresh';

/**
 * The instrumentation scope name (the meter's and tracer's name), for SDK views.
 *
 * @example
 * ```ts
 * new MeterProvider({ views: [{ meterName: INSTRUMENTATION_SCOPE, instrumentName: 'sluice.refresh.duration', aggregation }] });
 * ```
 */
export const INSTRUMENTATION_SCOPE = '@sluice/opentelemetry';

/**
 * The explicit bucket boundaries of `sluice.refresh.duration`, in seconds: 5 ms to 60 s,
 * covering a local token endpoint as well as an ACME order that polls.
 *
 * @example
 * ```ts
 * DURATION_BUCKETS_SECONDS.at(-1); // 60
 * ```
 */
export const DURATION_BUCKETS_SECONDS: readonly number[] = Object.freeze([
  0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
]);

/**
 * The explicit bucket boundaries of `sluice.refresh.waiters`.
 *
 * @example
 * ```ts
 * WAITER_BUCKETS[0]; // 0: a background refresh nobody waited on
 * ```
 */
export const WAITER_BUCKETS: readonly number[] = Object.freeze([
  0, 1, 2, 5, 10, 25, 50, 100, 250, 1000, 10000,
]);
