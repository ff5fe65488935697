/**
 * The OAuth 2.0 refresh-token grant (RFC 6749 section 6) as a Sluice mint, with rotated
 * refresh tokens handed to a hook for storage and one mint at a time per refresh token.
 */

import { InvalidOptionError, type Mint, raceSignal } from '@sluice/core';
import { Mutex } from 'async-mutex';
import * as oauth from 'oauth4webapi';
import type { AccessToken } from './access-token.js';
import { withAccessTokenTraits } from './access-token-codec.js';
import { isOAuthError, RotationHookError } from './errors.js';
import { withoutSecrets } from './redact.js';
import {
  type Grant,
  requestToken,
  resolveTokenEndpoint,
  type TokenEndpointOptions,
} from './token-request.js';
import { optionalFunction } from './validate.js';

/** What the `refreshToken` loader and the `onRotation` hook receive. */
export interface RefreshTokenContext {
  /** The mint's signal: aborted when the mint times out or the provider closes. */
  readonly signal: AbortSignal;
}

/** Options of {@link refreshTokenMint}. */
export interface RefreshTokenMintOptions extends TokenEndpointOptions {
  /**
   * The refresh token. A string is the starting token: the mint then keeps the newest one
   * (after rotations) in memory. A function is a loader called before every mint (read the
   * token from your store); a loader that returns a token this mint has already rotated away
   * from is overruled by the newer one in memory. Required.
   */
  refreshToken: string | ((context: RefreshTokenContext) => string | PromiseLike<string>);
  /**
   * Called when the server rotates the refresh token (its answer carries a different
   * `refresh_token`), with the new one, before the mint resolves: store it. When the hook
   * throws or rejects, the mint fails with `RotationHookError`: the new token stays in memory,
   * and the next mint calls the hook again (with the token it rotates to, or with this one
   * if the server does not rotate again).
   * @default none (rotated tokens live in memory only)
   */
  onRotation?: (refreshToken: string, context: RefreshTokenContext) => void | PromiseLike<void>;
}

/** How many rotated-away refresh tokens are remembered to overrule a stale loader. */
const RETIRED_LIMIT = 16;

/**
 * A mint for the refresh-token grant. Mints of one `refreshTokenMint` run one at a time
 * (a shared refresh token must never be sent twice concurrently), each with the newest
 * refresh token: rotated tokens replace the old one in memory and go to `onRotation`.
 *
 * With a `refreshToken` loader, a mint refused with `invalid_grant` reloads the token once
 * and, if the store now holds a different one (another instance rotated it meanwhile),
 * retries once with it. Two instances sharing a refresh token can still race: see
 * docs/oauth.md, "Refresh-token rotation across instances".
 *
 * Lifetime rules, errors and discovery are those of {@link clientCredentialsMint}, and so are
 * its mint traits: the access tokens it mints are shareable through a fleet coordinator (the
 * codec), while the refresh token stays in this mint (in memory, or in your store through
 * the loader and `onRotation`): a fleet sharing one refresh token must share it through that
 * store, not through the coordinator.
 *
 * @throws {InvalidOptionError} `SLUICE_INVALID_OPTION` naming the bad option; from the mint,
 *   also when the loader returns no token (the value is never echoed).
 * @example
 * ```ts
 * const tokens = await createRefreshingProvider({
 *   name: 'mail-sync',
 *   mint: refreshTokenMint({
 *     issuer: 'https://auth.example.com',
 *     clientId: 'mail-sync',
 *     clientAuth: { method: 'none' },
 *     refreshToken: () => vault.read('mail-sync/refresh-token'),
 *     onRotation: (next) => vault.write('mail-sync/refresh-token', next),
 *   }),
 * });
 * ```
 */
export function refreshTokenMint(options: RefreshTokenMintOptions): Mint<AccessToken> {
  const fn = 'refreshTokenMint';
  const endpoint = resolveTokenEndpoint(options, fn);
  const source = options.refreshToken;
  if (typeof source !== 'function' && (typeof source !== 'string' || source === '')) {
    throw new InvalidOptionError(
      `${fn}.refreshToken`,
      'a non-empty string or a loader function',
      source,
      { secret: true },
    );
  }
  const onRotation = optionalFunction<RefreshTokenMintOptions['onRotation']>(
    options.onRotation,
    `${fn}.onRotation`,
  );
  const loader = typeof source === 'function' ? source : undefined;
  let current = typeof source === 'string' ? source : undefined;
  const retired: string[] = [];
  const mutex = new Mutex();
  /** A rotated token the hook failed to store; stored by the next mint that keeps it. */
  let unsaved: string | undefined;

  const save = async (refreshToken: string, context: RefreshTokenContext): Promise<void> => {
    if (onRotation === undefined) return;
    try {
      await onRotation(refreshToken, context);
      unsaved = undefined;
    } catch (error) {
      unsaved = refreshToken;
      // The hook's own error (a store's answer) may quote the token it was storing.
      throw new RotationHookError(withoutSecrets(error, [refreshToken]));
    }
  };

  const load = async (context: RefreshTokenContext): Promise<string> => {
    if (loader === undefined) return current as string;
    const loaded: unknown = await loader(context);
    if (typeof loaded !== 'string' || loaded === '') {
      throw new InvalidOptionError(
        `${fn}.refreshToken`,
        'a loader returning a non-empty string',
        loaded,
        { secret: true },
      );
    }
    // A store that still holds a token we rotated away from is behind our memory.
    return retired.includes(loaded) && current !== undefined ? current : loaded;
  };

  const grantFor = (refreshToken: string): Grant => ({
    type: 'refresh_token',
    send: (as, requestOptions) =>
      oauth.refreshTokenGrantRequest(as, endpoint.client, endpoint.clientAuth, refreshToken, {
        ...requestOptions,
        additionalParameters: endpoint.parameters(),
      }),
    process: (as, response) => oauth.processRefreshTokenResponse(as, endpoint.client, response),
  });

  const mintOnce = async (context: RefreshTokenContext) => {
    let used = await load(context);
    let issued: Awaited<ReturnType<typeof requestToken>>;
    try {
      issued = await requestToken(endpoint, grantFor(used), context.signal);
    } catch (error) {
      if (loader === undefined || !isOAuthError(error, 'SLUICE_OAUTH_TOKEN_ENDPOINT')) throw error;
      if (error.oauthError !== 'invalid_grant') throw error;
      const reloaded = await load(context);
      if (reloaded === used) throw error;
      used = reloaded; // another instance rotated it: one retry with the stored token
      issued = await requestToken(endpoint, grantFor(used), context.signal);
    }
    const rotated = issued.response.refresh_token;
    if (typeof rotated === 'string' && rotated !== '' && rotated !== used) {
      retired.push(used);
      if (retired.length > RETIRED_LIMIT) retired.shift();
      current = rotated;
      await save(rotated, context);
    } else {
      current = used;
      // The hook failed last time and the server did not rotate since: store it now.
      if (unsaved === used) await save(used, context);
    }
    return issued.credential;
  };

  const mint: Mint<AccessToken> = async ({ signal }) => {
    const acquired = mutex.acquire();
    let release: (() => void) | undefined;
    try {
      release = await raceSignal(acquired, signal);
    } catch (error) {
      // Aborted while queued: give the turn back as soon as it comes.
      acquired.then(
        (late) => late(),
        () => {},
      );
      throw error;
    }
    try {
      return await mintOnce({ signal });
    } finally {
      release();
    }
  };
  // The access tokens are shareable (the codec); the refresh token never leaves this mint.
  return withAccessTokenTraits(mint, endpoint.dpop !== undefined);
}
