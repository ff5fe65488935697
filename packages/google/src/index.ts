/**
 * @sluice/google: Sluice's refresh policy under google-auth-library, through
 * `OAuth2Client.refreshHandler`.
 *
 * @packageDocumentation
 */

export type {
  GoogleAccessTokenResponse,
  GoogleAccessTokenResult,
  GoogleAuthClientLike,
  GoogleCachedCredentials,
  GoogleRefreshHandler,
  GoogleRefreshHandlerClient,
} from './auth-client-types.js';
export { type GoogleMintOptions, googleAuthMint } from './google-mint.js';
export {
  type GoogleTokens,
  type GoogleTokensOptions,
  googleTokens,
  googleTokensFromProvider,
} from './google-tokens.js';
