/**
 * Runs an Effect mint as core's promise mint: one fiber per mint, forked in the layer's scope
 * with the layer's services (so the mint's requirements `R` are met), interrupted when core
 * aborts the mint's signal (timeout, close, a dropped key).
 */

import type { Credential, MintContext } from '@sluice/core';
import { Cause, type Effect, Exit, Option } from 'effect';
import type { EffectMintContext } from '../options.js';
import type { Runner } from './fiber-timers.js';
import { MintDefect, mintFailed } from './translate.js';

/**
 * Starts `mint` on a fiber; resolves with its credential, or rejects with a `MintFailed`
 * (typed failure) or a `MintDefect` (died or interrupted itself).
 */
export function runEffectMint<T, E, R>(
  start: (context: EffectMintContext<T>) => Effect.Effect<Credential<T>, E, R>,
  context: MintContext<T>,
  run: Runner<R>,
  provider: string,
): Promise<Credential<T>> {
  return new Promise<Credential<T>>((resolve, reject) => {
    const { signal } = context;
    const fiber = run(
      start({ reason: context.reason, previous: Option.fromUndefinedOr(context.previous) }),
    );
    const interrupt = (): void => fiber.interruptUnsafe();
    if (signal.aborted) interrupt();
    else signal.addEventListener('abort', interrupt, { once: true });
    fiber.addObserver((exit) => {
      signal.removeEventListener('abort', interrupt);
      if (Exit.isSuccess(exit)) {
        resolve(exit.value);
        return;
      }
      const failure = Cause.findErrorOption(exit.cause);
      if (Option.isSome(failure)) reject(mintFailed(failure.value, provider));
      else reject(new MintDefect(defectOf(exit.cause), provider));
    });
  });
}

/** The defect of a cause with no typed failure: its first defect, or an interruption. */
function defectOf(cause: Cause.Cause<unknown>): unknown {
  return Cause.hasDies(cause) ? Cause.squash(cause) : new Error('the mint was interrupted');
}
