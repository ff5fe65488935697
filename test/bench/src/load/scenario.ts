/**
 * What every load scenario reports: its phases (load, duration, latency percentiles, error
 * rate), its mint count and its threshold contracts with their verdicts.
 */

import type { LatencySummary } from './latency.js';

/** One stretch of a scenario with its own expectations (cold / warm, valid / expired...). */
export interface PhaseResult {
  readonly name: string;
  /** Calls issued in this phase. */
  readonly calls: number;
  readonly errors: number;
  /** errors / calls (0 when there were no calls). */
  readonly errorRate: number;
  /** Latency of the calls that succeeded (or, where the phase says so, that failed). */
  readonly latency: LatencySummary | null;
  /** What `latency` measures, when it is not "successful calls". */
  readonly latencyOf?: string;
}

/** One threshold contract and its verdict. */
export interface ThresholdResult {
  readonly metric: string;
  /** The contract, human-readable (`<= 25 ms`, `== 0`, `7..9`). */
  readonly limit: string;
  readonly measured: string;
  readonly pass: boolean;
}

export interface ScenarioResult {
  readonly id: string;
  readonly title: string;
  readonly setup: string;
  /** The sustained load, human-readable. */
  readonly load: string;
  /** Planned duration of the load, ms. */
  readonly durationMs: number;
  /** Wall time of the load, ms. */
  readonly wallMs: number;
  /** Mints (token requests / certificate issuances) while the load ran. */
  readonly mints: number;
  readonly phases: readonly PhaseResult[];
  readonly thresholds: readonly ThresholdResult[];
  /** Extra figures for the JSON (schedule lag, probe times...). */
  readonly details: Record<string, unknown>;
}

/** Builds a threshold result for `measured <= limit`. */
export function atMost(
  metric: string,
  measured: number,
  limit: number,
  unit = '',
): ThresholdResult {
  return {
    metric,
    limit: `<= ${limit}${unit}`,
    measured: `${measured}${unit}`,
    pass: measured <= limit,
  };
}

/** Builds a threshold result for `min <= measured <= max`. */
export function between(
  metric: string,
  measured: number,
  min: number,
  max: number,
  unit = '',
): ThresholdResult {
  return {
    metric,
    limit: min === max ? `== ${min}${unit}` : `${min}..${max}${unit}`,
    measured: `${measured}${unit}`,
    pass: measured >= min && measured <= max,
  };
}

/** Latency contracts of one phase; a phase without samples fails them (nothing was served). */
export function latencyThresholds(
  label: string,
  latency: LatencySummary | null,
  limits: { p50Ms?: number; p95Ms?: number; p99Ms?: number },
): ThresholdResult[] {
  const results: ThresholdResult[] = [];
  for (const key of ['p50Ms', 'p95Ms', 'p99Ms'] as const) {
    const limit = limits[key];
    if (limit === undefined) continue;
    const name = `${label} ${key.slice(0, 3)}`;
    if (latency === null) {
      results.push({ metric: name, limit: `<= ${limit} ms`, measured: 'no samples', pass: false });
    } else {
      results.push(atMost(name, latency[key], limit, ' ms'));
    }
  }
  return results;
}

export function phase(
  name: string,
  calls: number,
  errors: number,
  latency: LatencySummary | null,
  latencyOf?: string,
): PhaseResult {
  return {
    name,
    calls,
    errors,
    errorRate: calls === 0 ? 0 : errors / calls,
    latency,
    ...(latencyOf === undefined ? {} : { latencyOf }),
  };
}
