/**
 * `pnpm bench:effect`: the cost of one `yield* tokens.get` on a fresh credential, against
 * the ways a caller could otherwise get a cached token inside Effect. Each contender runs
 * in rounds of N calls inside one fiber; the figure is the median per-call time over the
 * rounds, in nanoseconds, and its ratio to Effect's own `cachedInvalidateWithTTL` hit.
 *
 *   sluice-effect        yield* tokens.get (this package)
 *   promise-wrapper      yield* Effect.promise(() => provider.get())
 *   signal-wrapper       yield* Effect.tryPromise((signal) => provider.get({ signal }))
 *   effect-cached        yield* cached, from Effect.cachedInvalidateWithTTL(mint, '1 hour')
 *
 * Machine-dependent: compare ratios within one run, not absolute times across runs.
 */

import { createRefreshingProvider } from '@sluice/core';
import { Effect } from 'effect';
import { makeCredentialProvider } from '../src/index.js';

const N = 100_000;
const ROUNDS = 9;

const mint = () => ({ value: 'token', expiresAt: Date.now() + 3_600_000 });

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

const program = Effect.gen(function* () {
  const tokens = yield* makeCredentialProvider({ mint: () => Effect.sync(mint) });
  const core = yield* Effect.promise(() => createRefreshingProvider({ mint }));
  yield* Effect.addFinalizer(() => Effect.sync(() => core.close()));
  const [cached] = yield* Effect.cachedInvalidateWithTTL(Effect.sync(mint), '1 hour');
  const contenders: Array<[string, Effect.Effect<unknown, unknown>]> = [
    ['sluice-effect', tokens.get],
    ['promise-wrapper', Effect.promise(() => core.get())],
    [
      'signal-wrapper',
      Effect.tryPromise({ try: (signal) => core.get({ signal }), catch: (e) => e }),
    ],
    ['effect-cached', cached],
  ];
  const samples = new Map<string, number[]>(contenders.map(([name]) => [name, []]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, effect] of contenders) {
      const started = performance.now();
      for (let i = 0; i < N; i++) yield* effect;
      samples.get(name)?.push(((performance.now() - started) * 1e6) / N);
    }
  }
  const floor = median(samples.get('effect-cached') ?? [1]);
  console.log(
    `node ${process.version}, effect 4.1, ${ROUNDS} rounds of ${N} calls, median ns/call`,
  );
  console.log('| contender | ns/call | vs effect-cached |');
  console.log('| --- | ---: | ---: |');
  for (const [name] of contenders) {
    const ns = median(samples.get(name) ?? []);
    console.log(`| ${name} | ${ns.toFixed(0)} | ${(ns / floor).toFixed(2)}x |`);
  }
});

await Effect.runPromise(Effect.scoped(program));
