/**
 * Scenario 6, the fleet herd, in simulated time: N instances of a contender start together
 * at t=0 with one-hour tokens (issuer latency 50 ms). Each instance calls `get()` once a
 * second at its own phase (seeded mulberry32) from minute 40, before any contender's refresh
 * point, to minute 62, after every token expired. Reports the instants of the refresh mints
 * (every request after the initial ones) as a histogram and the peak mints per second
 * reaching the issuer. Jitter comes from the same seeded PRNG where the library takes one
 * (Sluice); the others have no jitter option.
 */

import type { Contender, ContenderAdapter } from '../contender.js';
import { mulberry32 } from '../prng.js';
import { flush, Issuer, installSimClock, START_MS } from '../sim.js';

export interface FleetOptions {
  readonly instances: number;
  readonly seed: number;
}

export const FLEET_SETUP = {
  lifetimeMs: 3_600_000,
  issuerLatencyMs: 50,
  callsFromMs: 40 * 60_000,
  callsUntilMs: 62 * 60_000,
  stepMs: 10,
  binMs: 10_000,
} as const;

export interface FleetResult {
  readonly id: string;
  readonly instances: number;
  /** Refresh mints in each `binMs` bin from `callsFromMs` (index 0 = first bin). */
  readonly histogram: readonly number[];
  readonly refreshMints: number;
  /** Largest number of refresh mints in one second. */
  readonly peakMintsPerSecond: number;
  /** First and last refresh mint, in minutes since the start. */
  readonly firstRefreshMin: number | null;
  readonly lastRefreshMin: number | null;
  /** Calls that failed or got no valid token. */
  readonly failedCalls: number;
}

export async function runFleet(
  adapter: ContenderAdapter,
  options: FleetOptions,
): Promise<FleetResult> {
  const clock = installSimClock();
  try {
    const { lifetimeMs, issuerLatencyMs, callsFromMs, callsUntilMs, stepMs, binMs } = FLEET_SETUP;
    const issuer = new Issuer({ latencyMs: issuerLatencyMs, lifetimeMs });
    const random = mulberry32(options.seed);
    const instances: Contender[] = [];
    const byPhase: Contender[][] = Array.from({ length: 1000 / stepMs }, () => []);
    for (let i = 0; i < options.instances; i++) {
      const contender = await adapter.create({
        mint: issuer.mint,
        lifetimeMs,
        now: clock.now,
        random,
      });
      instances.push(contender);
      byPhase[Math.floor(random() * byPhase.length)]?.push(contender);
    }
    const initial = instances.map((contender) => contender.get());
    await flush();
    clock.tick(issuerLatencyMs);
    await Promise.all(initial);
    const initialRequests = issuer.requests.length;

    clock.tick(callsFromMs - (clock.now() - START_MS));
    await flush();
    let failedCalls = 0;
    const call = (contender: Contender): void => {
      contender.get().then(
        (result) => {
          const value = contender.valueOf(result);
          const expiresAt = value === undefined ? undefined : issuer.expiresAt(value);
          if (expiresAt === undefined || expiresAt <= clock.now()) failedCalls += 1;
        },
        () => {
          failedCalls += 1;
        },
      );
    };
    for (let t = callsFromMs; t < callsUntilMs; t += stepMs) {
      const bucket = byPhase[((t % 1000) / stepMs) | 0] ?? [];
      for (const contender of bucket) call(contender);
      await flush();
      clock.tick(stepMs);
    }
    await flush();
    for (const contender of instances) contender.close();

    const refreshes = issuer.requests.slice(initialRequests).map((at) => at - START_MS);
    const histogram = Array.from(
      { length: Math.ceil((callsUntilMs - callsFromMs) / binMs) },
      () => 0,
    );
    const perSecond = new Map<number, number>();
    for (const at of refreshes) {
      const bin = Math.floor((at - callsFromMs) / binMs);
      if (bin >= 0 && bin < histogram.length) histogram[bin] = (histogram[bin] ?? 0) + 1;
      const second = Math.floor(at / 1000);
      perSecond.set(second, (perSecond.get(second) ?? 0) + 1);
    }
    return {
      id: adapter.id,
      instances: options.instances,
      histogram,
      refreshMints: refreshes.length,
      peakMintsPerSecond: Math.max(0, ...perSecond.values()),
      firstRefreshMin: refreshes.length === 0 ? null : Math.min(...refreshes) / 60_000,
      lastRefreshMin: refreshes.length === 0 ? null : Math.max(...refreshes) / 60_000,
      failedCalls,
    };
  } finally {
    clock.uninstall();
  }
}
