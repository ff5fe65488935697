/**
 * The OpenTelemetry metrics reporter: core's reporter hooks recorded on histograms and a
 * counter, and observable instruments that read provider snapshots at collection time.
 */

import {
  type Attributes,
  type BatchObservableResult,
  type MeterProvider,
  metrics,
  ValueType,
} from '@opentelemetry/api';
import {
  type BreakerRefusedEvent,
  type BreakerStateChangeEvent,
  type BreakerStateName,
  type CoalescedEvent,
  checkKnownKeys,
  createSnapshotSet,
  errorType,
  InvalidOptionError,
  labelValue,
  type ObservableProvider,
  type ObservedSnapshot,
  type RefreshFailureEvent,
  type RefreshSuccessEvent,
  type Reporter,
  type ReporterEventBase,
} from '@sluice/core';
import {
  OTEL_ATTRIBUTES as A,
  DURATION_BUCKETS_SECONDS,
  INSTRUMENTATION_SCOPE,
  OTEL_METRIC_NAMES as M,
  WAITER_BUCKETS,
} from './names.js';
import { attachRefreshSpans } from './refresh-spans.js';
import { VERSION } from './version.js';

/** Options of {@link createOpenTelemetryReporter}. */
export interface OpenTelemetryReporterOptions {
  /**
   * Where the instruments come from (the meter is `@sluice/opentelemetry`).
   * @default the global meter provider (`metrics.getMeterProvider()`), read once here
   */
  meterProvider?: MeterProvider;
  /**
   * Adds the `sluice.key` attribute (a keyed provider's key) to the observable per-key state
   * instruments only (`sluice.breaker.status`, `sluice.credential.remaining_lifetime`): at
   * most 4 series per key. Histograms and counters never carry it; they are aggregated by
   * provider name (the cert-manager convention), because OpenTelemetry's synchronous
   * instruments cannot forget a series. A dropped key or closed provider is no longer
   * observed (see `docs/observability.md` for what cumulative temporality keeps).
   * @default false
   */
  includeKey?: boolean;
  /**
   * The clock `sluice.credential.remaining_lifetime` is measured against, in epoch
   * milliseconds. Pass the provider's own `now` when you inject one.
   * @default () => Date.now()
   */
  now?: () => number;
}

/**
 * A `Reporter` (from `@sluice/core`) that records Sluice metrics with OpenTelemetry. Pass it as the `reporter`
 * of every provider and `observe()` each provider so the observable instruments can read its
 * state at collection time.
 */
export interface OpenTelemetryReporter extends Reporter {
  /**
   * Reads `provider`'s state (breaker, credential lifetime) at every collection, through its
   * public `snapshot()` (or a keyed provider's `snapshots()`). Idempotent. A closed provider
   * stops reporting by itself.
   * @returns a function that stops observing it (idempotent).
   * @throws {InvalidOptionError} `SLUICE_INVALID_OPTION` (`observe.provider`) when it is not
   *   a Sluice provider.
   */
  observe(provider: ObservableProvider): () => void;
  /**
   * Stops observing every provider, removes the observable callback and ignores later events.
   * Idempotent.
   */
  shutdown(): void;
}

/**
 * Creates a reporter that records Sluice metrics with OpenTelemetry: `sluice.refresh.duration`
 * (seconds, `error.type` on failures), `sluice.refresh.waiters` and
 * `sluice.breaker.transitions` and `sluice.breaker.refusals` from the hooks;
 * `sluice.breaker.status` and `sluice.credential.remaining_lifetime` from snapshots at
 * collection time. Every measurement has `sluice.provider.name`; `sluice.key` only with
 * `includeKey`, and only on the two observable instruments.
 *
 * @throws {InvalidOptionError} `SLUICE_INVALID_OPTION` naming the bad option.
 * @example
 * ```ts
 * import { createRefreshingProvider } from '@sluice/core';
 * import { createOpenTelemetryReporter, traceMint } from '@sluice/opentelemetry';
 *
 * const telemetry = createOpenTelemetryReporter();
 * const tokens = await createRefreshingProvider({
 *   name: 'billing-api',
 *   mint: traceMint(mintToken, { name: 'billing-api' }),
 *   reporter: telemetry,
 * });
 * telemetry.observe(tokens);
 * ```
 */
export function createOpenTelemetryReporter(
  options: OpenTelemetryReporterOptions = {},
): OpenTelemetryReporter {
  const { meterProvider, includeKey, now } = checkOptions(options);
  const meter = meterProvider.getMeter(INSTRUMENTATION_SCOPE, VERSION);
  const duration = meter.createHistogram(M.refreshDuration, {
    description: 'How long credential mints took.',
    unit: 's',
    advice: { explicitBucketBoundaries: [...DURATION_BUCKETS_SECONDS] },
  });
  const waiters = meter.createHistogram(M.refreshWaiters, {
    description: 'Callers that waited on one credential mint and received its outcome.',
    unit: '{waiter}',
    valueType: ValueType.INT,
    advice: { explicitBucketBoundaries: [...WAITER_BUCKETS] },
  });
  const transitions = meter.createCounter(M.breakerTransitions, {
    description: 'Circuit breaker state changes of the credential mint.',
    unit: '{transition}',
    valueType: ValueType.INT,
  });
  const refusals = meter.createCounter(M.breakerRefusals, {
    description:
      'Callers refused at once because the circuit breaker was open and no valid credential was cached.',
    unit: '{refusal}',
    valueType: ValueType.INT,
  });
  const breakerStatus = meter.createObservableUpDownCounter(M.breakerStatus, {
    description:
      'Providers (or keys) whose mint breaker is in each state: 1 for the current state and 0 for the others, per provider.',
    unit: '{provider}',
    valueType: ValueType.INT,
  });
  const remaining = meter.createObservableGauge(M.remainingLifetime, {
    description:
      'Remaining lifetime of the cached credential (the shortest over keys); negative once expired.',
    unit: 's',
  });
  const observed = createSnapshotSet();
  /** The breaker groups reported by the previous collection (see `observeBreakers`). */
  let breakerGroups = new Map<string, Attributes>();
  const collect = (result: BatchObservableResult): void => {
    const states = observed.read();
    breakerGroups = observeBreakers(result, breakerStatus, states, includeKey, breakerGroups);
    if (states.length === 0) return;
    let at: number;
    try {
      at = now();
    } catch {
      return; // a clock that throws: no lifetime this collection
    }
    if (Number.isFinite(at)) observeLifetimes(result, remaining, states, includeKey, at);
  };
  meter.addBatchObservableCallback(collect, [breakerStatus, remaining]);
  let active = true;

  /** The attributes of a hook-driven measurement: the provider name only, never the key. */
  const base = (event: ReporterEventBase): Attributes => ({
    [A.providerName]: labelValue(event.name),
  });
  const recordDuration = (attributes: Attributes, durationMs: number): void => {
    const seconds = durationMs / 1000;
    if (Number.isFinite(seconds)) duration.record(Math.max(0, seconds), attributes);
  };

  const reporter: OpenTelemetryReporter = {
    onRefreshSuccess(event: RefreshSuccessEvent) {
      if (!active) return;
      recordDuration({ ...base(event), [A.refreshReason]: event.reason }, event.durationMs);
    },
    onRefreshFailure(event: RefreshFailureEvent) {
      if (!active) return;
      recordDuration(
        {
          ...base(event),
          [A.refreshReason]: event.reason,
          [A.errorType]: errorType(event.error, event.code),
        },
        event.durationMs,
      );
    },
    onCoalesced(event: CoalescedEvent) {
      if (!active || !Number.isFinite(event.waiters) || event.waiters < 0) return;
      waiters.record(event.waiters, { ...base(event), [A.refreshReason]: event.reason });
      spans.recordWaiters(event.name, event.key, event.waiters);
    },
    onBreakerStateChange(event: BreakerStateChangeEvent) {
      if (!active) return;
      transitions.add(1, {
        ...base(event),
        [A.breakerPreviousState]: event.from,
        [A.breakerState]: event.to,
      });
    },
    onBreakerRefused(event: BreakerRefusedEvent) {
      if (!active) return;
      refusals.add(1, base(event));
    },
    observe(provider: ObservableProvider) {
      if (!active) return () => {};
      return observed.add(provider, 'observe.provider');
    },
    shutdown() {
      if (!active) return;
      active = false;
      observed.clear();
      meter.removeBatchObservableCallback(collect, [breakerStatus, remaining]);
    },
  };
  const spans = attachRefreshSpans(reporter);
  return reporter;
}

const BREAKER_STATES: readonly BreakerStateName[] = ['closed', 'open', 'half-open'];

/** The attribute identity of a state: its provider name, and key when keys are attributes. */
function groupOf(
  state: ObservedSnapshot,
  includeKey: boolean,
): { id: string; attributes: Attributes } {
  const name = state.snapshot.name;
  if (!includeKey || state.key === undefined) {
    return { id: name, attributes: { [A.providerName]: labelValue(name) } };
  }
  return {
    id: `${name}\u0000${state.key}`,
    attributes: { [A.providerName]: labelValue(name), [A.key]: labelValue(state.key) },
  };
}

/**
 * Observes, per provider (or key), how many are in each breaker state; returns the groups
 * reported. A group reported last time but gone now (a closed provider, a dropped key) is
 * reported once more with 0 in every state: under cumulative temporality the SDK keeps
 * exporting the last value of a series nobody observes, and a closed provider must not stay
 * "open" forever.
 */
function observeBreakers(
  result: BatchObservableResult,
  instrument: Parameters<BatchObservableResult['observe']>[0],
  states: readonly ObservedSnapshot[],
  includeKey: boolean,
  previous: ReadonlyMap<string, Attributes>,
): Map<string, Attributes> {
  const groups = new Map<
    string,
    { attributes: Attributes; counts: Record<BreakerStateName, number> }
  >();
  for (const state of states) {
    const { id, attributes } = groupOf(state, includeKey);
    let group = groups.get(id);
    if (group === undefined) {
      group = { attributes, counts: { closed: 0, open: 0, 'half-open': 0 } };
      groups.set(id, group);
    }
    const current = state.snapshot.breaker.state;
    if (current in group.counts) group.counts[current] += 1;
  }
  const reported = new Map<string, Attributes>();
  for (const [id, { attributes, counts }] of groups) {
    reported.set(id, attributes);
    for (const state of BREAKER_STATES) {
      result.observe(instrument, counts[state], { ...attributes, [A.breakerState]: state });
    }
  }
  for (const [id, attributes] of previous) {
    if (reported.has(id)) continue;
    for (const state of BREAKER_STATES) {
      result.observe(instrument, 0, { ...attributes, [A.breakerState]: state });
    }
  }
  return reported;
}

function observeLifetimes(
  result: BatchObservableResult,
  instrument: Parameters<BatchObservableResult['observe']>[0],
  states: readonly ObservedSnapshot[],
  includeKey: boolean,
  now: number,
): void {
  const shortest = new Map<string, { attributes: Attributes; expiresAt: number }>();
  for (const state of states) {
    const expiresAt = state.snapshot.expiresAt;
    if (expiresAt === null || !Number.isFinite(expiresAt)) continue;
    const { id, attributes } = groupOf(state, includeKey);
    const seen = shortest.get(id);
    if (seen === undefined || expiresAt < seen.expiresAt)
      shortest.set(id, { attributes, expiresAt });
  }
  for (const { attributes, expiresAt } of shortest.values()) {
    result.observe(instrument, (expiresAt - now) / 1000, attributes);
  }
}

function checkOptions(options: OpenTelemetryReporterOptions): {
  meterProvider: MeterProvider;
  includeKey: boolean;
  now: () => number;
} {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidOptionError('options', 'an object', options);
  }
  checkKnownKeys(options, ['meterProvider', 'includeKey', 'now'], '');
  const { meterProvider = metrics.getMeterProvider(), includeKey = false, now } = options;
  if (
    typeof meterProvider !== 'object' ||
    meterProvider === null ||
    typeof meterProvider.getMeter !== 'function'
  ) {
    throw new InvalidOptionError('meterProvider', 'an OpenTelemetry MeterProvider', meterProvider);
  }
  if (typeof includeKey !== 'boolean') {
    throw new InvalidOptionError('includeKey', 'a boolean', includeKey);
  }
  if (now !== undefined && typeof now !== 'function') {
    throw new InvalidOptionError('now', 'a function returning epoch milliseconds', now);
  }
  return { meterProvider, includeKey, now: now ?? (() => Date.now()) };
}
