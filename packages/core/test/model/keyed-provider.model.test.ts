/**
 * Model-based race tests: random sequences of calls, aborts, clock moves (ticks and wall-clock
 * steps), mint outcomes and closes, run against the real provider (single, lazy or eager;
 * keyed, per-key or shared breaker) and the pure model in `provider-model.ts`, compared after
 * every step. Promise interleavings come from deferred mints settled by commands and from
 * bursts: several actions run synchronously, before any microtask, so a mint settling races
 * the calls, aborts, clock steps and closes issued in the same tick.
 *
 * Runs: `SLUICE_MODEL_RUNS` (default 200) per property; replay a failure with
 * `SLUICE_MODEL_SEED=<seed> SLUICE_MODEL_PATH=<path> SLUICE_MODEL_REPLAY=<replayPath>` as
 * printed (add `SLUICE_MODEL_VERBOSE=1` to list every failure met while shrinking).
 */

import { afterAll, describe, it } from 'vitest';
import { assertModel, modelTimeoutMs, runs, seed, summary } from './model-harness.js';

describe(`keyed provider model (seed ${seed}, ${runs} runs each)`, () => {
  afterAll(() => {
    console.info(summary());
  });

  it(
    "a keyed provider with 'per-key' breakers agrees with the model: one mint per key",
    () => assertModel('per-key'),
    modelTimeoutMs,
  );

  it(
    "a keyed provider with a 'shared' breaker agrees with the model: one half-open probe",
    () => assertModel('shared'),
    modelTimeoutMs,
  );
});
