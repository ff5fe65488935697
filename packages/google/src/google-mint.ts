/**
 * A Sluice mint over any google-auth-library `AuthClient`: each mint makes the client fetch
 * a new access token and reads its expiry.
 */

import {
  checkKnownKeys,
  InvalidCredentialError,
  InvalidOptionError,
  type Mint,
  raceSignal,
} from '@sluice/core';
import type { GoogleAuthClientLike } from './auth-client-types.js';

/** Options of {@link googleAuthMint}. */
export interface GoogleMintOptions {
  /**
   * Taken off every token's expiry, in milliseconds: Sluice treats the token as expiring
   * this much earlier and the refresh handler reports that earlier `expiry_date`, so a
   * request is never sent with a token about to lapse in flight. It never takes more than
   * half of the token's remaining lifetime.
   * @default 60000
   */
  expirySkewMs?: number;
  /**
   * The clock, in epoch milliseconds (google-auth-library's expiries are wall clock times).
   * @default () => Date.now()
   */
  now?: () => number;
}

/** The validated options. @internal */
export interface ResolvedGoogleMintOptions {
  readonly skewMs: number;
  readonly now: (() => number) | undefined;
}

/** The keys of {@link GoogleMintOptions}: any other is refused (`UnknownOptionError`). @internal */
export const MINT_OPTION_KEYS: readonly string[] = Object.freeze(
  Object.keys({ expirySkewMs: true, now: true } satisfies Record<keyof GoogleMintOptions, true>),
);

/** Validates {@link GoogleMintOptions} once. @internal */
export function resolveGoogleMintOptions(
  options: GoogleMintOptions | undefined,
): ResolvedGoogleMintOptions {
  if (options === undefined) return { skewMs: 60_000, now: undefined };
  if (typeof options !== 'object' || options === null) {
    throw new InvalidOptionError('options', 'an object', options);
  }
  checkKnownKeys(options, MINT_OPTION_KEYS, '');
  const { expirySkewMs = 60_000, now } = options;
  if (!Number.isInteger(expirySkewMs) || expirySkewMs < 0 || expirySkewMs > 86_400_000) {
    throw new InvalidOptionError(
      'expirySkewMs',
      'an integer number of milliseconds from 0 to 86400000',
      expirySkewMs,
    );
  }
  if (now !== undefined && typeof now !== 'function') {
    throw new InvalidOptionError('now', 'a function returning epoch milliseconds', now);
  }
  return { skewMs: expirySkewMs, now };
}

/**
 * A Sluice mint that gets a new access token from `client` (any google-auth-library
 * `AuthClient`, version 9 or 10) on every call. The client becomes Sluice's source: its
 * `eagerRefreshThresholdMillis` is raised so that its own cache never answers a mint with
 * the token being replaced; do not also use it to send requests. The token's `expiresAt` is
 * the client's `expiry_date` less `expirySkewMs`.
 * @throws {InvalidOptionError} `SLUICE_INVALID_OPTION` when `client` has no `getAccessToken`
 *   or an option is bad.
 * @example
 * ```ts
 * import { createLazyProvider } from '@sluice/core';
 * import { googleAuthMint } from '@sluice/google';
 * import { Compute } from 'google-auth-library';
 * const tokens = createLazyProvider({ name: 'gcp', mint: googleAuthMint(new Compute()) });
 * ```
 */
export function googleAuthMint(
  client: GoogleAuthClientLike,
  options?: GoogleMintOptions,
): Mint<string> {
  if (
    typeof client !== 'object' ||
    client === null ||
    typeof (client as { getAccessToken?: unknown }).getAccessToken !== 'function'
  ) {
    throw new InvalidOptionError('client', 'a google-auth-library AuthClient', typeof client);
  }
  const resolved = resolveGoogleMintOptions(options);
  return async ({ signal }) => {
    // Sluice owns the schedule: the client must fetch, never serve its cached token.
    client.eagerRefreshThresholdMillis = Number.MAX_SAFE_INTEGER;
    const { token } = await raceSignal(
      Promise.resolve().then(() => client.getAccessToken()),
      signal,
    );
    if (typeof token !== 'string' || token === '') {
      throw new InvalidCredentialError('the Google auth client returned no access token');
    }
    const cached = client.credentials;
    const expiry =
      cached !== null && typeof cached === 'object' && cached.access_token === token
        ? cached.expiry_date
        : undefined;
    if (typeof expiry !== 'number' || !Number.isFinite(expiry)) {
      throw new InvalidCredentialError(
        'the Google auth client gave no expiry_date for its access token',
      );
    }
    const now = resolved.now === undefined ? Date.now() : resolved.now();
    const left = expiry - now;
    const skew = left > 0 ? Math.min(resolved.skewMs, left / 2) : 0;
    return { value: token, expiresAt: Math.floor(expiry - skew) };
  };
}
