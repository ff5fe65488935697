/**
 * The Prometheus reporter: core's reporter hooks turned into prom-client counters and
 * histograms, and gauges that read provider snapshots at scrape time.
 */

import {
  type BreakerRefusedEvent,
  type BreakerStateChangeEvent,
  type BreakerStateName,
  type CoalescedEvent,
  checkKnownKeys,
  createSnapshotSet,
  errorType,
  InvalidOptionError,
  type KeyDroppedEvent,
  labelValue,
  type ObservableProvider,
  type ObservedSnapshot,
  type RefreshFailureEvent,
  type RefreshSuccessEvent,
  type Reporter,
} from '@sluice/core';
import {
  Counter,
  register as globalRegistry,
  Histogram,
  type MetricValue,
  type Registry,
} from 'prom-client';
import { MetricAlreadyRegisteredError } from './errors.js';
import {
  DURATION_BUCKETS_SECONDS,
  PROMETHEUS_METRIC_NAMES,
  WAITER_BUCKETS,
} from './metric-names.js';
import { groupOf, groupStates, type Labels, StateGauge, type StateGroup } from './state-gauges.js';

/** Options of {@link createPrometheusReporter}. */
export interface PrometheusReporterOptions {
  /**
   * The registry the metrics are registered in. Sluice never calls `collectDefaultMetrics`:
   * process metrics are the application's choice.
   * @default prom-client's global `register`
   */
  registry?: Registry;
  /**
   * Adds a `key` label (a keyed provider's key: a tenant, a hostname) to the per-key state
   * gauges only: expiry, refresh due point, breaker state and last success, at most 6 series
   * per key (the cert-manager convention). Counters and histograms never carry it: they are
   * aggregated by provider `name`. A key's series go when the provider drops the key or is
   * closed.
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
   * Reads `provider`'s state (expiry, refresh due point, breaker, last success) at every
   * scrape, through its public `snapshot()` (or a keyed provider's `snapshots()`).
   * Idempotent. The state gauges exist only for observed providers: once a provider is
   * closed (or a key dropped) its state series, last success included, are gone from the
   * next scrape.
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

/** When a mint last succeeded for one label group (a name, or a name and key). */
interface LastSuccess {
  readonly labels: Labels;
  seconds: number;
  /** Whether a scrape has seen this group among the observed providers. */
  observed: boolean;
}

/**
 * Creates a reporter that records Sluice metrics in a Prometheus registry: refreshes,
 * failures by `error_type`, durations, waiters per mint, breaker transitions and breaker
 * refusals from the reporter hooks (by provider `name`); credential expiry, refresh due
 * point, breaker state and last success per observed provider (and per key with
 * `includeKey`) at scrape time.
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
  /** Last successes by label group; exported only for groups an observed provider has. */
  const successes = new Map<string, LastSuccess>();

  const refreshes = new Counter({
    name: names.refreshes,
    help: 'Credential mints that completed, successful or not.',
    labelNames: ['name', 'reason'],
    registers,
  });
  const failures = new Counter({
    name: names.failures,
    help: 'Credential mints that failed, by error code (or error name).',
    labelNames: ['name', 'reason', 'error_type'],
    registers,
  });
  const duration = new Histogram({
    name: names.duration,
    help: 'How long credential mints took, in seconds.',
    labelNames: ['name', 'reason', 'result'],
    buckets: [...DURATION_BUCKETS_SECONDS],
    registers,
  });
  const waiters = new Histogram({
    name: names.waiters,
    help: 'Callers that waited on one credential mint and received its outcome.',
    labelNames: ['name', 'reason'],
    buckets: [...WAITER_BUCKETS],
    registers,
  });
  const transitions = new Counter({
    name: names.breakerTransitions,
    help: 'Circuit breaker state changes of the credential mint.',
    labelNames: ['name', 'from', 'to'],
    registers,
  });
  const refusals = new Counter({
    name: names.breakerRefusals,
    help: 'Callers refused at once because the circuit breaker was open and no valid credential was cached.',
    labelNames: ['name'],
    registers,
  });
  /** The label groups of the current scrape, computed once for the four state gauges. */
  let scraped: { states: readonly ObservedSnapshot[]; groups: Map<string, StateGroup> } | undefined;
  const groups = (): Map<string, StateGroup> => {
    const states = observed.read(); // the same array for every gauge of one scrape
    if (scraped?.states === states) return scraped.groups;
    const current = { states, groups: groupStates(states, includeKey) };
    scraped = current;
    // Forget them once this scrape's synchronous pass ends: 100,000 keys' snapshots are not
    // kept between scrapes.
    queueMicrotask(() => {
      if (scraped === current) scraped = undefined;
    });
    return current.groups;
  };
  const stateGauge = (name: string, help: string, samples: () => MetricValue<string>[]) =>
    new StateGauge(
      {
        name,
        help,
        labelNames:
          name === names.breakerState ? ['name', 'state', ...keyLabel] : ['name', ...keyLabel],
        registers,
      },
      samples,
    );
  stateGauge(
    names.lastSuccess,
    'When a credential mint last succeeded, as a Unix timestamp in seconds (the latest over keys).',
    () => lastSuccessSamples(groups(), successes),
  );
  stateGauge(
    names.expiration,
    'When the cached credential expires, as a Unix timestamp in seconds (the earliest over keys).',
    () => timestampSamples(groups(), (group) => group.expiresAt),
  );
  stateGauge(
    names.refreshDue,
    'When the cached credential is due for a proactive refresh, as a Unix timestamp in seconds (the earliest over keys).',
    () => timestampSamples(groups(), (group) => group.refreshDueAt),
  );
  stateGauge(
    names.breakerState,
    'Circuit breaker state of the credential mint: 1 for the current state, 0 for the others (keys in that state, without the key label).',
    () => breakerSamples(groups()),
  );

  let active = true;

  const observeDuration = (
    event: RefreshSuccessEvent | RefreshFailureEvent,
    result: 'success' | 'failure',
  ) => {
    const seconds = event.durationMs / 1000;
    if (!Number.isFinite(seconds)) return; // a clock that returned NaN: nothing to measure
    duration.observe(
      { name: labelValue(event.name), reason: event.reason, result },
      Math.max(0, seconds),
    );
  };

  const reporter: PrometheusReporter = {
    onRefreshSuccess(event: RefreshSuccessEvent) {
      if (!active) return;
      refreshes.inc({ name: labelValue(event.name), reason: event.reason });
      observeDuration(event, 'success');
      const at = now();
      if (!Number.isFinite(at)) return;
      const { id, labels } = groupOf(event.name, event.key, includeKey);
      const seen = successes.get(id);
      if (seen === undefined) successes.set(id, { labels, seconds: at / 1000, observed: false });
      else seen.seconds = at / 1000; // events arrive in order: the latest over keys
    },
    onRefreshFailure(event: RefreshFailureEvent) {
      if (!active) return;
      const name = labelValue(event.name);
      refreshes.inc({ name, reason: event.reason });
      failures.inc({ name, reason: event.reason, error_type: errorType(event.error, event.code) });
      observeDuration(event, 'failure');
    },
    onBreakerStateChange(event: BreakerStateChangeEvent) {
      if (!active) return;
      transitions.inc({ name: labelValue(event.name), from: event.from, to: event.to });
    },
    onBreakerRefused(event: BreakerRefusedEvent) {
      if (!active) return;
      refusals.inc({ name: labelValue(event.name) });
    },
    onCoalesced(event: CoalescedEvent) {
      if (!active || !Number.isFinite(event.waiters)) return;
      waiters.observe({ name: labelValue(event.name), reason: event.reason }, event.waiters);
    },
    onKeyDropped(event: KeyDroppedEvent) {
      if (includeKey) successes.delete(groupOf(event.name, event.key, true).id);
    },
    observe(provider: ObservableProvider) {
      if (!active) return () => {};
      return observed.add(provider, 'observe.provider');
    },
    unregister() {
      if (!active) return;
      active = false;
      observed.clear();
      successes.clear();
      for (const name of Object.values(names)) registry.removeSingleMetric(name);
    },
  };
  return reporter;
}

const BREAKER_STATES: readonly BreakerStateName[] = ['closed', 'open', 'half-open'];

/** One sample per group with a value: an epoch-ms point in time, in seconds. */
function timestampSamples(
  groups: ReadonlyMap<string, StateGroup>,
  pick: (group: StateGroup) => number | undefined,
): MetricValue<string>[] {
  const samples: MetricValue<string>[] = [];
  for (const group of groups.values()) {
    const value = pick(group);
    if (value !== undefined) samples.push({ labels: group.labels, value: value / 1000 });
  }
  return samples;
}

/** Per group, the number of providers (or keys) in each of the three breaker states. */
function breakerSamples(groups: ReadonlyMap<string, StateGroup>): MetricValue<string>[] {
  const samples: MetricValue<string>[] = [];
  for (const { labels, breaker } of groups.values()) {
    for (const state of BREAKER_STATES) {
      samples.push({ labels: { ...labels, state }, value: breaker[state] });
    }
  }
  return samples;
}

/**
 * The last success of every label group an observed provider has now. A group seen before
 * but gone now (its provider closed or unobserved, its key dropped) is forgotten, so a
 * `time() - last_success` alert never fires for a provider that no longer exists.
 */
function lastSuccessSamples(
  groups: ReadonlyMap<string, StateGroup>,
  successes: Map<string, LastSuccess>,
): MetricValue<string>[] {
  const samples: MetricValue<string>[] = [];
  for (const [id, success] of successes) {
    if (groups.has(id)) {
      success.observed = true;
      samples.push({ labels: success.labels, value: success.seconds });
    } else if (success.observed) {
      successes.delete(id);
    }
  }
  return samples;
}

function checkOptions(options: PrometheusReporterOptions): {
  registry: Registry;
  includeKey: boolean;
  now: () => number;
} {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidOptionError('options', 'an object', options);
  }
  checkKnownKeys(options, ['registry', 'includeKey', 'now'], '');
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
