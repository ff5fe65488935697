/**
 * How an Effect program uses a promise mint from another package (an `@sluice/oauth` mint, a
 * mint wrapped by `@sluice/redis`): an Effect mint that runs it with an abort signal tied to
 * the fiber (interruption aborts the request), and the mint's clock bound to Effect's `Clock`,
 * so `TestClock` moves the token's expiry as it moves the provider's.
 */

import type { Credential, Mint } from '@sluice/core';
import type { EffectMint } from '@sluice/effect';
import { Clock, Effect, Option } from 'effect';

/**
 * An Effect mint running `mint`. `clock.current` is set to Effect's time as each mint starts:
 * give the promise mint `now: () => clock.current` so its expiry follows Effect's `Clock`.
 */
export function effectMintOf<T>(
  mint: Mint<T>,
  clock: { current: number } = { current: Date.now() },
): EffectMint<T, unknown, never> {
  return ({ reason, previous }) =>
    Effect.gen(function* () {
      clock.current = yield* Clock.currentTimeMillis;
      return yield* Effect.tryPromise({
        try: async (signal): Promise<Credential<T>> =>
          mint({
            signal,
            reason,
            ...(Option.isSome(previous) ? { previous: previous.value } : {}),
          }),
        catch: (error) => error,
      });
    });
}
