/**
 * How an Azure `AccessToken` is written to shared storage (a `@sluice/redis` fleet) and read
 * back, losslessly.
 */

import type { AccessToken } from '@azure/core-auth';
import type { CredentialCodec } from '@sluice/core';

/**
 * A frozen copy of `token` holding only the four fields of `AccessToken`, or a description
 * of what is wrong with it (never its value). @internal
 */
export function checkAccessToken(candidate: unknown): AccessToken | string {
  if (typeof candidate !== 'object' || candidate === null) {
    return `expected an AccessToken object, received ${candidate === null ? 'null' : typeof candidate}`;
  }
  const { token, expiresOnTimestamp, refreshAfterTimestamp, tokenType } = candidate as Partial<
    Record<keyof AccessToken, unknown>
  >;
  if (typeof token !== 'string' || token === '') return '`token` must be a non-empty string';
  if (typeof expiresOnTimestamp !== 'number' || !Number.isFinite(expiresOnTimestamp)) {
    return '`expiresOnTimestamp` must be a finite number of epoch milliseconds';
  }
  if (
    refreshAfterTimestamp !== undefined &&
    (typeof refreshAfterTimestamp !== 'number' || !Number.isFinite(refreshAfterTimestamp))
  ) {
    return '`refreshAfterTimestamp` must be a finite number of epoch milliseconds when present';
  }
  if (tokenType !== undefined && tokenType !== 'Bearer' && tokenType !== 'pop') {
    return "`tokenType` must be 'Bearer' or 'pop' when present";
  }
  return Object.freeze({
    token,
    expiresOnTimestamp,
    ...(refreshAfterTimestamp === undefined ? {} : { refreshAfterTimestamp }),
    ...(tokenType === undefined ? {} : { tokenType }),
  });
}

/**
 * The lossless codec of an `AccessToken`: `token`, `expiresOnTimestamp` and, when present,
 * `refreshAfterTimestamp` and `tokenType`, as JSON. {@link refreshingTokenCredential}'s mint
 * carries it (`withMintTraits`), so a `@sluice/redis` coordinator stores tokens with it; pass
 * it yourself to a coordinator that does not read mint traits.
 *
 * `decode` throws a plain `Error` naming the bad field (never the token) for a string that is
 * not an encoded `AccessToken`.
 *
 * @example
 * ```ts
 * import { accessTokenCodec } from '@sluice/azure';
 * const text = accessTokenCodec.encode({ token: 'eyJ...', expiresOnTimestamp: 1_900_000_000_000 });
 * const token = accessTokenCodec.decode(text);
 * ```
 */
export const accessTokenCodec: CredentialCodec<AccessToken> = Object.freeze({
  encode(value: AccessToken): string {
    const checked = checkAccessToken(value);
    if (typeof checked === 'string') throw new Error(`accessTokenCodec.encode: ${checked}`);
    return JSON.stringify(checked);
  },
  decode(text: string): AccessToken {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new Error('accessTokenCodec.decode: not JSON');
    }
    const checked = checkAccessToken(parsed);
    if (typeof checked === 'string') throw new Error(`accessTokenCodec.decode: ${checked}`);
    return checked;
  },
});
