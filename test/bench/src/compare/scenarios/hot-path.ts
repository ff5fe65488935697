/**
 * Scenario 1, the hot path: `await contender.get()` on a fresh cached token (one-hour
 * lifetime, real clock, each library's default clock), against the floor (`await` of an
 * already resolved promise) and one `Date.now()`. Same method as the core benchmark's
 * `hot-path.ts`: mitata `measure` p50 per round, interleaved rounds with alternating order,
 * the median of round medians; ratios are median/median within this run. Allocation: forced
 * GC, N operations, `used_heap_size` delta minus the same with 0 operations, median of
 * repeats (that loop is private to `hot-path.ts`, so it is repeated here on the same helpers).
 */

import { do_not_optimize, measure } from 'mitata';
import { bytesPerOp } from '../../allocation.js';
import { median, round } from '../../stats.js';
import type { Contender, ContenderAdapter } from '../contender.js';
import { Issuer } from '../sim.js';

export interface HotPathOptions {
  readonly rounds: number;
  readonly minCpuTimeMs: number;
  readonly allocationOps: number;
  readonly allocationRepeats: number;
}

export interface HotPathCase {
  /** A contender id, `floor` or `date-now`. */
  readonly id: string;
  readonly medianNs: number;
  readonly roundMediansNs: readonly number[];
  /** `medianNs / floor medianNs`, same run. */
  readonly ratioToFloor: number;
  readonly roundRatios: readonly number[];
  readonly bytesPerOp: number | null;
}

interface Case {
  readonly id: string;
  readonly op: () => unknown;
  readonly async: boolean;
}

const HOUR_MS = 3_600_000;

export async function measureHotPaths(
  adapters: readonly ContenderAdapter[],
  options: HotPathOptions,
): Promise<HotPathCase[]> {
  const contenders: Contender[] = [];
  const resolved = Promise.resolve('token');
  const cases: Case[] = [{ id: 'floor', op: () => resolved, async: true }];
  for (const adapter of adapters) {
    const issuer = new Issuer({ latencyMs: 0, lifetimeMs: HOUR_MS });
    const contender = await adapter.create({ mint: issuer.mint, lifetimeMs: HOUR_MS });
    const first = contender.valueOf(await contender.get());
    if (first === undefined) throw new Error(`hot path: ${adapter.id} served no token`);
    contenders.push(contender);
    cases.push({ id: adapter.id, op: () => contender.get(), async: true });
  }
  cases.push({ id: 'date-now', op: () => do_not_optimize(Date.now()), async: false });

  try {
    const perRound = new Map<string, number[]>(cases.map((c) => [c.id, []]));
    for (let r = 0; r < options.rounds; r++) {
      const order = r % 2 === 0 ? cases : [...cases].reverse();
      for (const testCase of order) {
        const stats = await measure(testCase.op, { min_cpu_time: options.minCpuTimeMs * 1e6 });
        perRound.get(testCase.id)?.push(stats.p50);
      }
    }
    const floorRounds = perRound.get('floor') ?? [];
    const floor = median(floorRounds);
    const results: HotPathCase[] = [];
    for (const testCase of cases) {
      const rounds = perRound.get(testCase.id) ?? [];
      const medianNs = median(rounds);
      results.push({
        id: testCase.id,
        medianNs: round(medianNs, 3),
        roundMediansNs: rounds.map((ns) => round(ns, 3)),
        ratioToFloor: round(medianNs / floor, 3),
        roundRatios: rounds.map((ns, i) => round(ns / (floorRounds[i] ?? Number.NaN), 2)),
        bytesPerOp:
          options.allocationOps > 0 && testCase.async
            ? round(await bytesPerOp(testCase, options.allocationOps, options.allocationRepeats), 1)
            : null,
      });
    }
    return results;
  } finally {
    for (const contender of contenders) contender.close();
  }
}
