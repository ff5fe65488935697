/**
 * Latency samples of a load scenario: a preallocated buffer of milliseconds and the
 * nearest-rank percentiles the reports and thresholds read.
 */

import { round } from '../stats.js';

/** Percentiles of one set of samples, in milliseconds (rounded to 3 decimals). */
export interface LatencySummary {
  readonly count: number;
  readonly p50Ms: number;
  readonly p95Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

/** A growable buffer of latency samples in milliseconds. */
export class LatencySamples {
  #values: Float64Array;
  #count = 0;

  constructor(expected = 1024) {
    this.#values = new Float64Array(Math.max(16, expected));
  }

  get count(): number {
    return this.#count;
  }

  push(ms: number): void {
    if (this.#count === this.#values.length) {
      const grown = new Float64Array(this.#values.length * 2);
      grown.set(this.#values);
      this.#values = grown;
    }
    this.#values[this.#count++] = ms;
  }

  forEach(visit: (ms: number) => void): void {
    for (let i = 0; i < this.#count; i++) visit(this.#values[i] as number);
  }

  /** The percentiles, or `null` when there are no samples. */
  summary(): LatencySummary | null {
    if (this.#count === 0) return null;
    const sorted = this.#values.slice(0, this.#count).sort();
    return {
      count: this.#count,
      p50Ms: round(percentile(sorted, 0.5), 3),
      p95Ms: round(percentile(sorted, 0.95), 3),
      p99Ms: round(percentile(sorted, 0.99), 3),
      maxMs: round(sorted[sorted.length - 1] as number, 3),
    };
  }
}

/** Nearest-rank percentile of ascending `sorted` (non-empty), `q` in (0, 1]. */
export function percentile(sorted: Float64Array | readonly number[], q: number): number {
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil(q * sorted.length)));
  return sorted[rank - 1] as number;
}
