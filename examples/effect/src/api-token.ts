/**
 * The access token of one API, as an Effect service backed by @sluice/effect: the layer owns
 * the provider, the mint is an Effect that needs the `TokenEndpoint` service.
 */

// biome-ignore assist/source/organizeImports: docs/effect.md quotes the region's imports (it continues token-endpoint.ts)
import { Context, Effect } from 'effect';
import { TokenEndpoint, type TokenEndpointError } from './token-endpoint.js';
// #region service
import type { InvalidOptionError } from '@sluice/core';
import {
  type CredentialProvider,
  credentialExpiringIn,
  credentialProviderLayer,
} from '@sluice/effect';

/** What minting can fail with: the endpoint's error, or an `expires_in` that is no number. */
export type MintError = TokenEndpointError | InvalidOptionError;

/** The API's access token, kept fresh. */
export class ApiToken extends Context.Service<ApiToken, CredentialProvider<string, MintError>>()(
  'example/ApiToken',
) {}

/** Mints with the token endpoint; `expires_in` becomes `expiresAt` on Effect's Clock. */
const mint = () =>
  Effect.gen(function* () {
    const endpoint = yield* TokenEndpoint;
    const body = yield* endpoint.requestToken;
    return yield* credentialExpiringIn(body.access_token, body.expires_in, { skewSeconds: 1 });
  });

/** The provider lives as long as this layer; the layer needs a `TokenEndpoint`. */
export const ApiTokenLive = credentialProviderLayer(ApiToken, {
  name: 'api',
  mint,
  mintTimeout: '5 seconds',
  breaker: { failureThreshold: 3, cooldown: '30 seconds' },
});
// #endregion service
