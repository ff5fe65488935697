/**
 * The OAuth 2.0 client credentials grant (RFC 6749 section 4.4) as a Sluice mint: a service
 * obtaining a token for itself.
 */

import type { Mint } from '@sluice/core';
import * as oauth from 'oauth4webapi';
import type { AccessToken } from './access-token.js';
import { withAccessTokenTraits } from './access-token-codec.js';
import {
  type Grant,
  requestToken,
  resolveTokenEndpoint,
  type TokenEndpointOptions,
} from './token-request.js';
import { optionalString } from './validate.js';

/** Options of {@link clientCredentialsMint}. */
export interface ClientCredentialsMintOptions extends TokenEndpointOptions {
  /**
   * The `audience` parameter some servers (Auth0, for one) use instead of `resource` to name
   * the API the token is for.
   * @default none
   */
  audience?: string;
}

/**
 * A mint for the client credentials grant. Each mint sends one token request (two when a
 * DPoP server asks for a nonce), authenticated with `clientAuth`, and returns the token as a
 * `Credential<AccessToken>` whose `expiresAt` follows the lifetime rules: `expires_in`, else
 * the JWT's `exp`, else `fallbackLifetimeSeconds`, else no expiry; minus `skewSeconds`.
 * The metadata is discovered by the first mint and cached; the mint's `signal` (a Sluice
 * timeout, `close()`) aborts both requests.
 *
 * Options are checked here, at once; the mint itself rejects with `TokenEndpointError`
 * (OAuth `error` and HTTP status, `transient` for 429 and 5xx), `InvalidTokenResponseError`,
 * `DiscoveryError`, `UnreachableError` (the token endpoint's host could not be reached), or
 * the signal's reason on abort.
 *
 * The mint advertises core mint traits: `accessTokenCodec` for its tokens, so a fleet
 * coordinator (`@sluice/redis`) shares the real token; with `dpop`, `unshareable` instead
 * (a DPoP-bound token works only with this mint's key pair), so a coordinator refuses it.
 *
 * @throws {InvalidOptionError} `SLUICE_INVALID_OPTION` naming the bad option
 *   (`clientCredentialsMint.clientAuth.clientSecret`, ...), never echoing a secret.
 * @example
 * ```ts
 * const tokens = await createRefreshingProvider({
 *   name: 'billing-api',
 *   mint: clientCredentialsMint({
 *     issuer: 'https://auth.example.com',
 *     clientId: 'billing',
 *     clientAuth: { method: 'client_secret_basic', clientSecret: process.env.BILLING_SECRET ?? '' },
 *     resource: 'https://billing.example.com',
 *   }),
 * });
 * ```
 */
export function clientCredentialsMint(options: ClientCredentialsMintOptions): Mint<AccessToken> {
  const fn = 'clientCredentialsMint';
  const endpoint = resolveTokenEndpoint(options, fn);
  const audience = optionalString(options.audience, `${fn}.audience`);
  const grant: Grant = {
    type: 'client_credentials',
    send: (as, requestOptions) => {
      const parameters = endpoint.parameters();
      if (audience !== undefined) parameters.set('audience', audience);
      return oauth.clientCredentialsGrantRequest(
        as,
        endpoint.client,
        endpoint.clientAuth,
        parameters,
        requestOptions,
      );
    },
    process: (as, response) =>
      oauth.processClientCredentialsResponse(as, endpoint.client, response),
  };
  return withAccessTokenTraits(
    async ({ signal }) => (await requestToken(endpoint, grant, signal)).credential,
    endpoint.dpop !== undefined,
  );
}
