/**
 * The names of the metrics `@sluice/prometheus` registers, and their fixed buckets.
 */

/**
 * Every metric name this package registers, by role. They follow Prometheus naming (base
 * units, `_seconds`, `_total` for counters, `_timestamp_seconds` for points in time) and
 * cert-manager's precedent for expiry gauges. See `docs/observability.md` for labels and
 * semantics.
 *
 * @example
 * ```ts
 * const expiry = registry.getSingleMetric(PROMETHEUS_METRIC_NAMES.expiration);
 * ```
 */
export const PROMETHEUS_METRIC_NAMES = Object.freeze({
  /** Counter of mints that completed (succeeded or failed). Labels: `name`, `reason`. */
  refreshes: 'sluice_refreshes_total',
  /** Counter of mints that failed. Labels: `name`, `reason`, `error_type`. */
  failures: 'sluice_refresh_failures_total',
  /** Histogram of mint durations in seconds. Labels: `name`, `reason`, `result`. */
  duration: 'sluice_refresh_duration_seconds',
  /** Gauge: when the cached credential expires (Unix seconds). Labels: `name` (+ `key`). */
  expiration: 'sluice_credential_expiration_timestamp_seconds',
  /** Gauge: when its proactive refresh is due (Unix seconds). Labels: `name` (+ `key`). */
  refreshDue: 'sluice_credential_refresh_due_timestamp_seconds',
  /**
   * Gauge: when a mint last succeeded (Unix seconds), for observed providers that are open.
   * Labels: `name` (+ `key`).
   */
  lastSuccess: 'sluice_last_refresh_success_timestamp_seconds',
  /**
   * Gauge: 1 for the breaker's current state, 0 for the other two. Labels: `name`, `state`
   * (+ `key`).
   */
  breakerState: 'sluice_breaker_state',
  /** Counter of breaker state changes. Labels: `name`, `from`, `to`. */
  breakerTransitions: 'sluice_breaker_transitions_total',
  /**
   * Counter of callers refused with `BreakerOpenError` (breaker open, no valid credential
   * cached). Label: `name`.
   */
  breakerRefusals: 'sluice_breaker_refusals_total',
  /** Histogram of callers that waited on one mint. Labels: `name`, `reason`. */
  waiters: 'sluice_refresh_waiters',
} as const);

/**
 * The buckets of `sluice_refresh_duration_seconds`, in seconds: 5 ms to 60 s, covering a
 * local token endpoint as well as an ACME order that polls.
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
 * The buckets of `sluice_refresh_waiters`: callers coalesced onto one mint (0 for a
 * background refresh nobody waited on).
 *
 * @example
 * ```ts
 * WAITER_BUCKETS[0]; // 0: a background refresh nobody waited on
 * ```
 */
export const WAITER_BUCKETS: readonly number[] = Object.freeze([
  0, 1, 2, 5, 10, 25, 50, 100, 250, 1000, 10000,
]);
