/**
 * Scenario 3, the outage, in simulated time: callers at a fixed rate for 10 minutes; the
 * issuer answers in 50 ms and fails every request from minute 1; the token, issued at t=0,
 * lives 2 minutes. Reports the requests reaching the issuer per minute and what callers got.
 * Deterministic: no randomness except Sluice's jitter, fed by a seeded mulberry32.
 */

import type { ContenderAdapter } from '../contender.js';
import { mulberry32 } from '../prng.js';
import { flush, Issuer, installSimClock, START_MS } from '../sim.js';

export interface OutageOptions {
  readonly callersPerSecond: number;
  readonly durationMs: number;
  readonly seed: number;
}

export const OUTAGE_SETUP = {
  issuerLatencyMs: 50,
  failFromMs: 60_000,
  lifetimeMs: 120_000,
} as const;

export interface OutageResult {
  readonly id: string;
  /** Requests that reached the issuer in each simulated minute (index 0 = minute 0-1). */
  readonly mintsPerMinute: readonly number[];
  readonly mintsTotal: number;
  readonly callers: number;
  /** Served a valid token without waiting (same simulated millisecond). */
  readonly servedAtOnce: number;
  /** Served a valid token after waiting for a mint. */
  readonly servedAfterWait: number;
  /** Served a token that had already expired when it was served. */
  readonly servedExpired: number;
  /** Rejected (the mint's error, an open breaker...). */
  readonly errors: number;
  /** Resolved with no token (lru-cache after a failed fetch with nothing stale). */
  readonly empty: number;
  /** Still waiting when the simulation ended. */
  readonly pending: number;
  /** Longest time a caller waited for its answer, any answer (simulated ms). */
  readonly worstLatencyMs: number;
  /** Callers that waited at least 1 ms. */
  readonly waited: number;
}

export async function runOutage(
  adapter: ContenderAdapter,
  options: OutageOptions,
): Promise<OutageResult> {
  const clock = installSimClock();
  try {
    const { issuerLatencyMs, failFromMs, lifetimeMs } = OUTAGE_SETUP;
    const issuer = new Issuer({
      latencyMs: issuerLatencyMs,
      lifetimeMs,
      failsAt: (at) => at - START_MS >= failFromMs,
    });
    const contender = await adapter.create({
      mint: issuer.mint,
      lifetimeMs,
      now: clock.now,
      random: mulberry32(options.seed),
    });
    const tally = {
      servedAtOnce: 0,
      servedAfterWait: 0,
      servedExpired: 0,
      errors: 0,
      empty: 0,
      settled: 0,
      worst: 0,
      waited: 0,
    };
    const every = Math.max(1, Math.round(1000 / options.callersPerSecond));
    let callers = 0;
    const call = (): void => {
      callers += 1;
      const startedAt = clock.now();
      const done = (): number => {
        const latency = clock.now() - startedAt;
        tally.settled += 1;
        if (latency > tally.worst) tally.worst = latency;
        if (latency > 0) tally.waited += 1;
        return latency;
      };
      contender.get().then(
        (result) => {
          const latency = done();
          const value = contender.valueOf(result);
          const expiresAt = value === undefined ? undefined : issuer.expiresAt(value);
          if (value === undefined) tally.empty += 1;
          else if (expiresAt === undefined || expiresAt <= clock.now()) tally.servedExpired += 1;
          else if (latency === 0) tally.servedAtOnce += 1;
          else tally.servedAfterWait += 1;
        },
        () => {
          done();
          tally.errors += 1;
        },
      );
    };
    for (let ms = 0; ms < options.durationMs; ms++) {
      if (ms % every === 0) call();
      await flush();
      clock.tick(1);
    }
    await flush();
    contender.close();
    await flush();
    const minutes = Math.ceil(options.durationMs / 60_000);
    const mintsPerMinute = Array.from({ length: minutes }, () => 0);
    for (const at of issuer.requests) {
      const minute = Math.floor((at - START_MS) / 60_000);
      if (minute < minutes) mintsPerMinute[minute] = (mintsPerMinute[minute] ?? 0) + 1;
    }
    return {
      id: adapter.id,
      mintsPerMinute,
      mintsTotal: issuer.requests.length,
      callers,
      servedAtOnce: tally.servedAtOnce,
      servedAfterWait: tally.servedAfterWait,
      servedExpired: tally.servedExpired,
      errors: tally.errors,
      empty: tally.empty,
      pending: callers - tally.settled,
      worstLatencyMs: tally.worst,
      waited: tally.waited,
    };
  } finally {
    clock.uninstall();
  }
}
