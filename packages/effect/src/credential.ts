/**
 * Building a credential inside an Effect mint, on Effect's `Clock` (so a token's expiry and
 * the provider's clock agree, under `TestClock` too).
 */

import {
  type Credential,
  checkKnownKeys,
  credentialFromExpiresIn,
  InvalidOptionError,
} from '@sluice/core';
import { Effect } from 'effect';

/**
 * A credential from an OAuth-style `expires_in` (seconds from now), with `expiresAt` read
 * from Effect's `Clock`. `undefined` gives a credential that never expires. Use it instead
 * of core's `credentialFromExpiresIn` in an Effect mint: core's reads `Date.now()`, which
 * `TestClock` does not move.
 *
 * Fails with `InvalidOptionError` (`option: 'expiresInSeconds'`) when the issuer sent an
 * `expires_in` that is not a finite number of seconds from 0, so the mint fails with it and
 * the callers see `MintFailed` with code `SLUICE_INVALID_OPTION`. A bad `skewSeconds` is a
 * programming mistake and dies.
 *
 * @param value - the credential's value (the access token).
 * @param expiresInSeconds - the issuer's `expires_in`, in seconds.
 * @param options - `skewSeconds`: taken off the lifetime for latency and clock skew
 *   (default 0).
 * @example
 * ```ts
 * const mint = () =>
 *   fetchToken.pipe(Effect.flatMap((body) => credentialExpiringIn(body.access_token, body.expires_in)));
 * ```
 */
export function credentialExpiringIn<T>(
  value: T,
  expiresInSeconds: number | undefined,
  options: { readonly skewSeconds?: number } = {},
): Effect.Effect<Credential<T>, InvalidOptionError> {
  return Effect.clockWith((clock) =>
    Effect.suspend(() => {
      try {
        checkKnownKeys(options, ['skewSeconds'], 'credentialExpiringIn');
        return Effect.succeed(
          credentialFromExpiresIn(value, expiresInSeconds, {
            now: () => clock.currentTimeMillisUnsafe(),
            ...(options.skewSeconds === undefined ? {} : { skewSeconds: options.skewSeconds }),
          }),
        );
      } catch (error) {
        if (error instanceof InvalidOptionError && error.option === 'expiresInSeconds') {
          return Effect.fail(error);
        }
        return Effect.die(error);
      }
    }),
  );
}
