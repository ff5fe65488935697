/**
 * The hot path of `get` / `getCredential`: a credential that has not expired is served
 * without a promise or an `AbortSignal`. Node makes a fresh `AbortSignal` per call cost
 * about 10 µs (its collection, not its creation), so only a call that has to wait for a mint
 * gets one: that is the call whose interruption must reach core.
 */

import type { Credential } from '@sluice/core';
import { Effect } from 'effect';
import type { KeyedCredentialError } from '../errors.js';
import { fromCall } from './translate.js';

const ignore = (): void => {};

/**
 * An Effect that serves `pick(peek())` at once when `peek` finds a credential that has not
 * expired, after calling `touch` (core's `get`, which serves that same credential and does
 * what a hit does: starts a background refresh when it is due, marks a key as used); when
 * nothing valid is cached it waits through `call`, whose signal the fiber's interruption
 * aborts.
 */
export function served<T, A, Err extends KeyedCredentialError<unknown>>(
  peek: () => Credential<T> | undefined,
  touch: () => Promise<unknown>,
  pick: (credential: Credential<T>) => A,
  call: (signal: AbortSignal) => Promise<A>,
): Effect.Effect<A, Err> {
  const wait = fromCall<A, Err>(call);
  return Effect.suspend(() => {
    let cached: Credential<T> | undefined;
    try {
      cached = peek();
    } catch {
      return wait; // a key keyOf rejects, a clock that throws: the call reports it
    }
    if (cached === undefined) return wait;
    try {
      touch().then(undefined, ignore);
    } catch {
      return wait;
    }
    return Effect.succeed(pick(cached));
  });
}
