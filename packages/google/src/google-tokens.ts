/**
 * Google access tokens under Sluice's policy: a provider built from any `AuthClient`, handed
 * to the `OAuth2Client`s that send requests through their `refreshHandler`.
 */

import {
  type CallOptions,
  checkKnownKeys,
  createLazyProvider,
  InvalidOptionError,
  type Mint,
  POLICY_OPTION_KEYS,
  type RefreshingProvider,
  type RefreshPolicyOptions,
} from '@sluice/core';
import type {
  GoogleAuthClientLike,
  GoogleRefreshHandler,
  GoogleRefreshHandlerClient,
} from './auth-client-types.js';
import { type GoogleMintOptions, googleAuthMint, MINT_OPTION_KEYS } from './google-mint.js';

/** Options of {@link googleTokens}. */
export interface GoogleTokensOptions extends RefreshPolicyOptions, GoogleMintOptions {
  /**
   * Wraps the mint before the provider uses it, for fleet coordination:
   * `(mint) => fleet.wrap('gcp:storage', mint)` with `@sluice/redis` (a token is a string,
   * which the coordinator's default codec stores as is).
   * @default none
   */
  wrapMint?: (mint: Mint<string>) => Mint<string>;
}

/** What {@link googleTokens} returns. */
export interface GoogleTokens {
  /** The Sluice provider of the access token: `get()`, `refresh()`, `snapshot()`, `close()`. */
  readonly provider: RefreshingProvider<string>;
  /**
   * The current access token (`provider.get()`). With {@link invalidate}, this makes the
   * object a provider for `@sluice/oauth`'s `createAuthFetch(tokens)`, whose 401 handling then
   * reaches the attached clients too.
   * @throws as `RefreshingProvider.get`.
   */
  get(options?: CallOptions): Promise<string>;
  /**
   * A handler for `OAuth2Client.refreshHandler`: resolves the provider's token (a due one is
   * served while it is refreshed in the background; the valid one is served while the source
   * fails). Its `expiry_date` is when the client should ask again: the token's refresh due
   * point, never later than its (skewed) expiry. Once that point has passed, a client with
   * `eagerRefreshThresholdMillis: 0` asks on each request (a cache read) until the new token
   * arrives.
   */
  readonly refreshHandler: GoogleRefreshHandler;
  /**
   * Installs {@link refreshHandler} on `client` (an `OAuth2Client` from your own
   * google-auth-library, the same major version as the library that sends the requests),
   * sets its `eagerRefreshThresholdMillis` to 0 (Sluice owns the schedule) and registers it
   * (weakly) so {@link invalidate} reaches it. Returns `client`.
   * @throws {InvalidOptionError} `SLUICE_INVALID_OPTION` when `client` is not an object.
   */
  attach<C extends GoogleRefreshHandlerClient>(client: C): C;
  /**
   * Drops the cached token (after a 401, say) in the provider and in every attached client
   * that holds it, so the next request of each mints or gets the new token. With `rejected`,
   * does nothing unless the provider still holds that token. The provider's invalidation
   * guard applies (`minRefreshIntervalMs`).
   * @returns whether the provider's token was dropped.
   */
  invalidate(rejected?: string): boolean;
}

/**
 * Builds a Sluice provider of Google access tokens from any google-auth-library `AuthClient`
 * (`new Compute()`, `await new GoogleAuth({ scopes }).getClient()`, a `JWT`, an
 * `Impersonated` client), and the refresh handler that presents its token through
 * `OAuth2Client`s: one token and one source call shared by every client, refreshed from 80 %
 * of its lifetime with jitter, the valid token served while the source fails, a circuit
 * breaker, reporters, and fleet coordination through `wrapMint`. Nothing is minted until the
 * first request.
 *
 * A 401 is not seen by the handler: call `invalidate(token)` and retry, or send your own
 * requests through `@sluice/oauth`'s `createAuthFetch(tokens)`, which does both.
 * @throws {InvalidOptionError} `SLUICE_INVALID_OPTION` naming a bad option.
 * @example
 * ```ts
 * import { googleTokens } from '@sluice/google';
 * import { Compute, OAuth2Client } from 'google-auth-library';
 *
 * const tokens = googleTokens(new Compute());
 * const auth = tokens.attach(new OAuth2Client());
 * const res = await auth.request({ url: 'https://storage.googleapis.com/storage/v1/b/reports' });
 * ```
 */
export function googleTokens(
  client: GoogleAuthClientLike,
  options: GoogleTokensOptions = {},
): GoogleTokens {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidOptionError('options', 'an object', options);
  }
  checkKnownKeys(options, [...POLICY_OPTION_KEYS, ...MINT_OPTION_KEYS, 'wrapMint'], '');
  const { wrapMint, expirySkewMs, now, ...policy } = options;
  if (wrapMint !== undefined && typeof wrapMint !== 'function') {
    throw new InvalidOptionError('wrapMint', 'a function (mint) => mint', wrapMint);
  }
  const base = googleAuthMint(client, {
    ...(expirySkewMs === undefined ? {} : { expirySkewMs }),
    ...(now === undefined ? {} : { now }),
  });
  const mint = wrapMint === undefined ? base : wrapMint(base);
  if (typeof mint !== 'function') {
    throw new InvalidOptionError('wrapMint(mint)', 'a mint function', mint);
  }
  const provider = createLazyProvider<string>({
    name: 'google',
    ...policy,
    ...(now === undefined ? {} : { now }),
    mint,
  });
  return withProvider(provider);
}

/**
 * The refresh handler and client registry around an existing provider of Google access
 * tokens (one built with {@link googleAuthMint}, or a fleet-coordinated one). The tokens'
 * `expiresAt` must be set: it becomes `expiry_date`.
 * @throws {InvalidOptionError} `SLUICE_INVALID_OPTION` when `provider` has no `getCredential`.
 * @example
 * ```ts
 * import { createLazyProvider } from '@sluice/core';
 * import { googleAuthMint, googleTokensFromProvider } from '@sluice/google';
 * import { Compute, OAuth2Client } from 'google-auth-library';
 * const provider = createLazyProvider({ mint: googleAuthMint(new Compute()) });
 * const auth = googleTokensFromProvider(provider).attach(new OAuth2Client());
 * ```
 */
export function googleTokensFromProvider(provider: RefreshingProvider<string>): GoogleTokens {
  if (
    typeof provider !== 'object' ||
    provider === null ||
    typeof (provider as { getCredential?: unknown }).getCredential !== 'function'
  ) {
    throw new InvalidOptionError(
      'provider',
      'a Sluice RefreshingProvider<string>',
      typeof provider,
    );
  }
  return withProvider(provider);
}

/**
 * The `expiry_date` handed to a client: when it should ask the handler again. That is the
 * token's refresh due point (so Sluice sees the access that starts its background refresh
 * while the token is still valid), never later than its expiry; a token that never expires
 * is asked for again after a day.
 */
function askAgainAt(provider: RefreshingProvider<string>, expiresAt: number | undefined): number {
  const due = provider.snapshot().refreshDueAt;
  const expiry = expiresAt ?? Date.now() + 86_400_000;
  return due === null ? expiry : Math.min(due, expiry);
}

function withProvider(provider: RefreshingProvider<string>): GoogleTokens {
  const attached = new Set<WeakRef<GoogleRefreshHandlerClient>>();
  const refreshHandler: GoogleRefreshHandler = async () => {
    const { value, expiresAt } = await provider.getCredential();
    return { access_token: value, expiry_date: askAgainAt(provider, expiresAt) };
  };
  const prune = (): void => {
    for (const ref of attached) if (ref.deref() === undefined) attached.delete(ref);
  };
  return Object.freeze({
    provider,
    get: (options?: CallOptions) => provider.get(options),
    refreshHandler,
    attach<C extends GoogleRefreshHandlerClient>(client: C): C {
      if (typeof client !== 'object' || client === null) {
        throw new InvalidOptionError('client', 'a google-auth-library OAuth2Client', client);
      }
      client.refreshHandler = refreshHandler;
      client.eagerRefreshThresholdMillis = 0;
      prune();
      attached.add(new WeakRef(client));
      return client;
    },
    invalidate(rejected?: string): boolean {
      const held = provider.peek()?.value;
      const dropped =
        rejected === undefined ? provider.invalidate() : provider.invalidate(rejected);
      if (!dropped) return false;
      const stale = rejected ?? held;
      for (const ref of attached) {
        const client = ref.deref();
        if (client === undefined) {
          attached.delete(ref);
        } else if (stale === undefined || client.credentials?.access_token === stale) {
          client.credentials = {};
        }
      }
      return true;
    },
  });
}
