/**
 * Scenario 4, the 401 burst, in simulated time (issuer latency 5 ms): token A is rejected
 * once and replaced by B (one legitimate mint); then 1,000 late 401s for A arrive, each
 * reacting the way the library offers (`invalidate(A)`) and then calling `get()` again.
 * Counts the mints those late 401s caused (0 is right: A is already replaced).
 * - sequential: each late 401 is handled after the previous one's `get()` settled;
 * - concurrent: all 1,000 handled in the same tick, then every `get()` awaited.
 */

import type { Contender, ContenderAdapter } from '../contender.js';
import { flush, Issuer, installSimClock, type SimClock, settleSimulated } from '../sim.js';

export interface Burst401Result {
  readonly id: string;
  readonly sequentialMints: number;
  readonly concurrentMints: number;
  /** Late-401 retries that did not get a valid token (sequential + concurrent). */
  readonly failedRetries: number;
}

const LIFETIME_MS = 3_600_000;
const LATENCY_MS = 5;

async function replaced(
  adapter: ContenderAdapter,
  clock: SimClock,
): Promise<{ contender: Contender; issuer: Issuer; stale: string }> {
  const issuer = new Issuer({ latencyMs: LATENCY_MS, lifetimeMs: LIFETIME_MS });
  const contender = await adapter.create({
    mint: issuer.mint,
    lifetimeMs: LIFETIME_MS,
    now: clock.now,
    random: () => 0.5,
  });
  const stale = contender.valueOf(await settleSimulated(clock, contender.get()));
  if (stale === undefined) throw new Error(`401 burst: ${adapter.id} served no token`);
  contender.invalidate(stale);
  const fresh = contender.valueOf(await settleSimulated(clock, contender.get()));
  if (fresh === undefined || fresh === stale) {
    throw new Error(`401 burst: ${adapter.id} did not replace the rejected token`);
  }
  clock.tick(1_000);
  await flush();
  return { contender, issuer, stale };
}

export async function runBurst401(
  adapter: ContenderAdapter,
  lateCount: number,
): Promise<Burst401Result> {
  const clock = installSimClock();
  try {
    let failedRetries = 0;
    const check = (contender: Contender, result: unknown, stale: string): void => {
      const value = contender.valueOf(result);
      if (value === undefined || value === stale) failedRetries += 1;
    };

    const sequential = await replaced(adapter, clock);
    const before = sequential.issuer.requests.length;
    for (let i = 0; i < lateCount; i++) {
      sequential.contender.invalidate(sequential.stale);
      try {
        const result = await settleSimulated(clock, sequential.contender.get());
        check(sequential.contender, result, sequential.stale);
      } catch {
        failedRetries += 1;
      }
    }
    const sequentialMints = sequential.issuer.requests.length - before;
    sequential.contender.close();

    const concurrent = await replaced(adapter, clock);
    const beforeConcurrent = concurrent.issuer.requests.length;
    const retries: Promise<unknown>[] = [];
    for (let i = 0; i < lateCount; i++) {
      concurrent.contender.invalidate(concurrent.stale);
      retries.push(concurrent.contender.get());
    }
    const outcomes = await settleSimulated(clock, Promise.allSettled(retries));
    for (const outcome of outcomes) {
      if (outcome.status === 'rejected') failedRetries += 1;
      else check(concurrent.contender, outcome.value, concurrent.stale);
    }
    const concurrentMints = concurrent.issuer.requests.length - beforeConcurrent;
    concurrent.contender.close();
    return { id: adapter.id, sequentialMints, concurrentMints, failedRetries };
  } finally {
    clock.uninstall();
  }
}
