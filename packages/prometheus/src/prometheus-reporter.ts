/**
 * The Prometheus reporter: core's reporter hooks turned into prom-client counters and
 * histograms, and gauges that read provider snapshots at scrape time.
 */

import {
  type BreakerStateChangeEvent,
  type BreakerStateName,
  type CoalescedEvent,
  createSnapshotSet,
  errorType,
  InvalidOptionError,
  type KeyDroppedEvent,
  type ObservableProvider,
  type ObservedSnapshot,
  type RefreshFailureEvent,
  type RefreshSuccessEvent,
  type Reporter,
} from '@sluice/core';
import { Counter, Gauge, register as globalRegistry, Histogram, type Registry } from 'prom-client';
import { MetricAlreadyRegisteredError } from './errors.js';
import {
  DURATION_BUCKETS_SECONDS,
  PROMETHEUS_METRIC_NAMES,
  WAITER_BUCKETS,
} from './metric-names.js';

/** Options of {@link createPrometheusReporter}. */
export interface PrometheusReporterOptions {
  /**
   * The registry the metrics are registered in. Sluice never calls `collectDefaultMetrics`:
   * process metrics are the application's choice.
   * @default prom-client's global `register`
   */
  registry?: Registry;
  /**
   * Adds a `key` label (a keyed provider's key: a tenant, a hostname) to every metric. Only
   * for a bounded set of keys: each key is its own series. Series of a key the provider
   * drops (`'lru'`, `'idle'`, `delete()`) are removed from the registry.
   * @default false
   */
  includeKey?: boolean;
  /**
   * The clock for `sluice_last_refresh_success_timestamp_seconds`, in epoch milliseconds.
   * Pass the provider's own `now` when you inject one.
   * @default () => Date.now()
   */
  now?: () => number;
}

/**
 * A `Reporter` (from `@sluice/core`) that records Sluice metrics in a Prometheus registry. Pass it as the
 * `reporter` of every provider (one reporter per registry), and `observe()` each provider so
 * the gauges can read its state at scrape time.
 */
export interface PrometheusReporter extends Reporter {
  /**
   * Reads `provider`'s state (expiry, refresh due point, breaker) at every scrape, through
   * its public `snapshot()` (or a keyed provider's `snapshots()`). Idempotent. A closed
   * provider stops reporting by itself.
   * @returns a function that stops observing it (idempotent).
   * @throws {InvalidOptionError} `SLUICE_INVALID_OPTION` (`observe.provider`) when it is not
   *   a Sluice provider.
   */
  observe(provider: ObservableProvider): () => void;
  /**
   * Removes every Sluice metric from the registry and stops observing providers; later
   * events are ignored. A new reporter may then be created for the same registry. Idempotent.
   */
  unregister(): void;
}

type Labels = Record<string, string>;

/**
 * Creates a reporter that records Sluice metrics in a Prometheus registry: refreshes,
 * failures by `error_type`, durations, waiters per mint and breaker transitions from the
 * reporter hooks; credential expiry, refresh due point and breaker state from snapshots at
 * scrape time.
 *
 * @throws {MetricAlreadyRegisteredError} `SLUICE_PROMETHEUS_ALREADY_REGISTERED` when the
 *   registry already holds one of its metric names (a second reporter for one registry).
 * @throws {InvalidOptionError} `SLUICE_INVALID_OPTION` naming the bad option.
 * @example
 * ```ts
 * import { createRefreshingProvider } from '@sluice/core';
 * import { createPrometheusReporter } from '@sluice/prometheus';
 * import { Registry } from 'prom-client';
 *
 * const registry = new Registry();
 * const metrics = createPrometheusReporter({ registry });
 * const tokens = await createRefreshingProvider({ name: 'billing-api', mint, reporter: metrics });
 * metrics.observe(tokens);
 * // serve `await registry.metrics()` on GET /metrics
 * ```
 */
export function createPrometheusReporter(
  options: PrometheusReporterOptions = {},
): PrometheusReporter {
  const { registry, includeKey, now } = checkOptions(options);
  const names = PROMETHEUS_METRIC_NAMES;
  for (const name of Object.values(names)) {
    if (registry.getSingleMetric(name) !== undefined) throw new MetricAlreadyRegisteredError(name);
  }
  const observed = createSnapshotSet();
  const keyLabel = includeKey ? ['key'] : [];
  const registers = [registry];

  const refreshes = new Counter({
    name: names.refreshes,
    help: 'Credential mints that completed, successful or not.',
    labelNames: ['name', 'reason', ...keyLabel],
    registers,
  });
  const failures = new Counter({
    name: names.failures,
    help: 'Credential mints that failed, by error code (or error name).',
    labelNames: ['name', 'reason', 'error_type', ...keyLabel],
    registers,
  });
  const duration = new Histogram({
    name: names.duration,
    help: 'How long credential mints took, in seconds.',
    labelNames: ['name', 'reason', 'result', ...keyLabel],
    buckets: [...DURATION_BUCKETS_SECONDS],
    registers,
  });
  const waiters = new Histogram({
    name: names.waiters,
    help: 'Callers that waited on one credential mint and received its outcome.',
    labelNames: ['name', 'reason', ...keyLabel],
    buckets: [...WAITER_BUCKETS],
    registers,
  });
  const transitions = new Counter({
    name: names.breakerTransitions,
    help: 'Circuit breaker state changes of the credential mint.',
    labelNames: ['name', 'from', 'to', ...keyLabel],
    registers,
  });
  const lastSuccess = new Gauge({
    name: names.lastSuccess,
    help: 'When a credential mint last succeeded, as a Unix timestamp in seconds.',
    labelNames: ['name', ...keyLabel],
    registers,
  });
  new Gauge({
    name: names.expiration,
    help: 'When the cached credential expires, as a Unix timestamp in seconds (the earliest over keys).',
    labelNames: ['name', ...keyLabel],
    registers,
    collect() {
      setEarliest(this, observed.read(), includeKey, (s) => s.snapshot.expiresAt);
    },
  });
  new Gauge({
    name: names.refreshDue,
    help: 'When the cached credential is due for a proactive refresh, as a Unix timestamp in seconds (the earliest over keys).',
    labelNames: ['name', ...keyLabel],
    registers,
    collect() {
      setEarliest(this, observed.read(), includeKey, (s) => s.snapshot.refreshDueAt);
    },
  });
  new Gauge({
    name: names.breakerState,
    help: 'Circuit breaker state of the credential mint: 1 for the current state, 0 for the others (keys in that state, without the key label).',
    labelNames: ['name', 'state', ...keyLabel],
    registers,
    collect() {
      setBreakerStates(this, observed.read(), includeKey);
    },
  });

  /** Series created per key, so a dropped key's series can be removed. */
  const keySeries = new Map<string, Map<Removable, Map<string, Labels>>>();
  let active = true;

  const labelsOf = (event: { name: string; key?: string | undefined }, extra: Labels): Labels => {
    const labels: Labels = { name: event.name, ...extra };
    if (includeKey) labels.key = event.key ?? '';
    return labels;
  };
  const track = (
    event: { name: string; key?: string | undefined },
    metric: Removable,
    labels: Labels,
  ) => {
    if (!includeKey || event.key === undefined) return;
    const id = seriesId(event.name, event.key);
    let series = keySeries.get(id);
    if (series === undefined) {
      series = new Map();
      keySeries.set(id, series);
    }
    let byLabels = series.get(metric);
    if (byLabels === undefined) {
      byLabels = new Map();
      series.set(metric, byLabels);
    }
    byLabels.set(JSON.stringify(labels), labels);
  };
  const observeDuration = (
    event: RefreshSuccessEvent | RefreshFailureEvent,
    result: 'success' | 'failure',
  ) => {
    const seconds = event.durationMs / 1000;
    if (!Number.isFinite(seconds)) return; // a clock that returned NaN: nothing to measure
    const labels = labelsOf(event, { reason: event.reason, result });
    duration.observe(labels, Math.max(0, seconds));
    track(event, duration, labels);
  };
  const countRefresh = (event: RefreshSuccessEvent | RefreshFailureEvent) => {
    const labels = labelsOf(event, { reason: event.reason });
    refreshes.inc(labels);
    track(event, refreshes, labels);
  };

  const reporter: PrometheusReporter = {
    onRefreshSuccess(event: RefreshSuccessEvent) {
      if (!active) return;
      countRefresh(event);
      observeDuration(event, 'success');
      const at = now();
      if (Number.isFinite(at)) {
        const labels = labelsOf(event, {});
        lastSuccess.set(labels, at / 1000);
        track(event, lastSuccess, labels);
      }
    },
    onRefreshFailure(event: RefreshFailureEvent) {
      if (!active) return;
      countRefresh(event);
      const labels = labelsOf(event, {
        reason: event.reason,
        error_type: errorType(event.error, event.code),
      });
      failures.inc(labels);
      track(event, failures, labels);
      observeDuration(event, 'failure');
    },
    onBreakerStateChange(event: BreakerStateChangeEvent) {
      if (!active) return;
      const labels = labelsOf(event, { from: event.from, to: event.to });
      transitions.inc(labels);
      track(event, transitions, labels);
    },
    onCoalesced(event: CoalescedEvent) {
      if (!active || !Number.isFinite(event.waiters)) return;
      const labels = labelsOf(event, { reason: event.reason });
      waiters.observe(labels, event.waiters);
      track(event, waiters, labels);
    },
    onKeyDropped(event: KeyDroppedEvent) {
      const id = seriesId(event.name, event.key);
      const series = keySeries.get(id);
      if (series === undefined) return;
      keySeries.delete(id);
      for (const [metric, byLabels] of series) {
        for (const labels of byLabels.values()) metric.remove(labels);
      }
    },
    observe(provider: ObservableProvider) {
      if (!active) return () => {};
      return observed.add(provider, 'observe.provider');
    },
    unregister() {
      if (!active) return;
      active = false;
      observed.clear();
      keySeries.clear();
      for (const name of Object.values(names)) registry.removeSingleMetric(name);
    },
  };
  return reporter;
}

/** What the reporter needs of a prom-client metric to drop a key's series. */
interface Removable {
  remove(labels: Labels): void;
}

const BREAKER_STATES: readonly BreakerStateName[] = ['closed', 'open', 'half-open'];

function seriesId(name: string, key: string): string {
  return `${name}\u0000${key}`;
}

/** The label identity of a state: its provider name, and key when keys are labels. */
function groupOf(state: ObservedSnapshot, includeKey: boolean): { id: string; labels: Labels } {
  const name = state.snapshot.name;
  if (!includeKey) return { id: name, labels: { name } };
  const key = state.key ?? '';
  return { id: seriesId(name, key), labels: { name, key } };
}

/** Sets one series per label group to the earliest epoch-ms value over its states, in seconds. */
function setEarliest(
  gauge: Gauge,
  states: readonly ObservedSnapshot[],
  includeKey: boolean,
  pick: (state: ObservedSnapshot) => number | null,
): void {
  gauge.reset();
  const earliest = new Map<string, { labels: Labels; value: number }>();
  for (const state of states) {
    const value = pick(state);
    if (value === null || !Number.isFinite(value)) continue;
    const { id, labels } = groupOf(state, includeKey);
    const seen = earliest.get(id);
    if (seen === undefined || value < seen.value) earliest.set(id, { labels, value });
  }
  for (const { labels, value } of earliest.values()) gauge.set(labels, value / 1000);
}

/** Sets, per label group, the number of providers (or keys) in each of the three states. */
function setBreakerStates(
  gauge: Gauge,
  states: readonly ObservedSnapshot[],
  includeKey: boolean,
): void {
  gauge.reset();
  const counts = new Map<string, { labels: Labels; counts: Record<BreakerStateName, number> }>();
  for (const state of states) {
    const { id, labels } = groupOf(state, includeKey);
    let group = counts.get(id);
    if (group === undefined) {
      group = { labels, counts: { closed: 0, open: 0, 'half-open': 0 } };
      counts.set(id, group);
    }
    const current = state.snapshot.breaker.state;
    if (current in group.counts) group.counts[current] += 1;
  }
  for (const { labels, counts: byState } of counts.values()) {
    for (const state of BREAKER_STATES) gauge.set({ ...labels, state }, byState[state]);
  }
}

function checkOptions(options: PrometheusReporterOptions): {
  registry: Registry;
  includeKey: boolean;
  now: () => number;
} {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidOptionError('options', 'an object', options);
  }
  const { registry = globalRegistry, includeKey = false, now } = options;
  if (
    typeof registry !== 'object' ||
    registry === null ||
    typeof registry.getSingleMetric !== 'function' ||
    typeof registry.registerMetric !== 'function' ||
    typeof registry.removeSingleMetric !== 'function'
  ) {
    throw new InvalidOptionError('registry', 'a prom-client Registry', registry);
  }
  if (typeof includeKey !== 'boolean') {
    throw new InvalidOptionError('includeKey', 'a boolean', includeKey);
  }
  if (now !== undefined && typeof now !== 'function') {
    throw new InvalidOptionError('now', 'a function returning epoch milliseconds', now);
  }
  return { registry, includeKey, now: now ?? (() => Date.now()) };
}
