/**
 * The per-provider (and, with `includeKey`, per-key) state gauges: expiry, refresh due
 * point, breaker state and last success, computed from the observed providers' snapshots
 * once per scrape. They bypass prom-client's label hashing (each gauge's `get()` returns its
 * samples directly): at 100,000 keys that is 600,000 samples per scrape, and setting them one
 * `gauge.set()` at a time cost more than the scrape budget.
 */

import { type BreakerStateName, labelValue, type ObservedSnapshot } from '@sluice/core';
import { Gauge, type GaugeConfiguration, type MetricValue } from 'prom-client';

/** Label values by label name. @internal */
export type Labels = Record<string, string>;

/** One label group's state at a scrape. @internal */
export interface StateGroup {
  readonly labels: Labels;
  /** The earliest expiry over the group's states (epoch ms), or `undefined`. */
  expiresAt: number | undefined;
  /** The earliest refresh due point over the group's states (epoch ms), or `undefined`. */
  refreshDueAt: number | undefined;
  /** Providers (or keys) in each breaker state. */
  readonly breaker: Record<BreakerStateName, number>;
}

/** A gauge whose samples are computed at scrape time by `samples()`. @internal */
export class StateGauge extends Gauge<string> {
  readonly #samples: () => MetricValue<string>[];

  constructor(configuration: GaugeConfiguration<string>, samples: () => MetricValue<string>[]) {
    super(configuration);
    this.#samples = samples;
  }

  override async get(): ReturnType<Gauge<string>['get']> {
    const self = this as unknown as { help: string; name: string; aggregator: 'sum' };
    return {
      help: self.help,
      name: self.name,
      type: 'gauge',
      values: this.#samples(),
      aggregator: self.aggregator,
    } as unknown as Awaited<ReturnType<Gauge<string>['get']>>;
  }
}

/**
 * The label identity of a provider (or key): its name, and its key when keys are labels (a
 * single provider's key label is empty). Label values are made well-formed and distinct.
 * @internal
 */
export function groupOf(
  name: string,
  key: string | undefined,
  includeKey: boolean,
): { id: string; labels: Labels } {
  if (!includeKey) return { id: name, labels: { name: labelValue(name) } };
  const k = key ?? '';
  return { id: `${name}\u0000${k}`, labels: { name: labelValue(name), key: labelValue(k) } };
}

/** Groups the states of one scrape by label identity. @internal */
export function groupStates(
  states: readonly ObservedSnapshot[],
  includeKey: boolean,
): Map<string, StateGroup> {
  const groups = new Map<string, StateGroup>();
  for (const state of states) {
    const { snapshot } = state;
    const { id, labels } = groupOf(snapshot.name, state.key, includeKey);
    let group = groups.get(id);
    if (group === undefined) {
      group = {
        labels,
        expiresAt: undefined,
        refreshDueAt: undefined,
        breaker: { closed: 0, open: 0, 'half-open': 0 },
      };
      groups.set(id, group);
    }
    group.expiresAt = earliest(group.expiresAt, snapshot.expiresAt);
    group.refreshDueAt = earliest(group.refreshDueAt, snapshot.refreshDueAt);
    const current = snapshot.breaker.state;
    if (current in group.breaker) group.breaker[current] += 1;
  }
  return groups;
}

function earliest(seen: number | undefined, value: number | null): number | undefined {
  if (value === null || !Number.isFinite(value)) return seen;
  return seen === undefined || value < seen ? value : seen;
}
