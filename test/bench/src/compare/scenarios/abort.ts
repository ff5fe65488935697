/**
 * Scenario 5, abort isolation, in simulated time (issuer latency 5 ms): 100 callers, each
 * with its own AbortController, wait on an expired token; the first aborts right after
 * every caller started. Reports how many of the 99 others got a valid token, what the
 * aborting caller got, and the mints.
 */

import type { ContenderAdapter } from '../contender.js';
import { flush, Issuer, installSimClock, settleSimulated } from '../sim.js';

export type AborterOutcome = 'rejected at once' | 'rejected later' | 'got the token' | 'other';

export interface AbortResult {
  readonly id: string;
  readonly others: number;
  /** Of the other callers, how many got a valid token. */
  readonly othersServed: number;
  /** Of the other callers, how many got a token that had already expired. */
  readonly othersExpired: number;
  readonly aborter: AborterOutcome;
  readonly mints: number;
}

const LIFETIME_MS = 60_000;
const LATENCY_MS = 5;

export async function runAbort(adapter: ContenderAdapter, waiters: number): Promise<AbortResult> {
  const clock = installSimClock();
  try {
    const issuer = new Issuer({ latencyMs: LATENCY_MS, lifetimeMs: LIFETIME_MS });
    const contender = await adapter.create({
      mint: issuer.mint,
      lifetimeMs: LIFETIME_MS,
      now: clock.now,
      random: () => 0.5,
    });
    await settleSimulated(clock, contender.get());
    clock.tick(2 * LIFETIME_MS);
    await flush();
    const before = issuer.requests.length;

    const controllers = Array.from({ length: waiters }, () => new AbortController());
    const startedAt = clock.now();
    let aborter: AborterOutcome = 'other';
    let othersServed = 0;
    let othersExpired = 0;
    const calls = controllers.map((controller, index) =>
      contender.get(controller.signal).then(
        (result) => {
          const value = contender.valueOf(result);
          const expiresAt = value === undefined ? undefined : issuer.expiresAt(value);
          const valid = expiresAt !== undefined && expiresAt > clock.now();
          if (index === 0) aborter = valid ? 'got the token' : 'other';
          else if (valid) othersServed += 1;
          else if (value !== undefined) othersExpired += 1;
        },
        () => {
          if (index === 0) {
            aborter = clock.now() === startedAt ? 'rejected at once' : 'rejected later';
          }
        },
      ),
    );
    controllers[0]?.abort(new Error('caller gave up'));
    await settleSimulated(clock, Promise.all(calls), 1, 60_000);
    contender.close();
    return {
      id: adapter.id,
      others: waiters - 1,
      othersServed,
      othersExpired,
      aborter,
      mints: issuer.requests.length - before,
    };
  } finally {
    clock.uninstall();
  }
}
