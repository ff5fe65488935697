/**
 * @sluice/oauth: OAuth 2.0 token mints on oauth4webapi (client credentials, token exchange,
 * refresh token; client_secret_basic, client_secret_post, client_secret_jwt, private_key_jwt;
 * DPoP) and `createAuthFetch`, a drop-in `fetch` that presents a Sluice provider's token and
 * replaces a refused one once.
 *
 * @packageDocumentation
 */

export {
  AccessToken,
  type AccessTokenInit,
  type AccessTokenView,
  type DPoPKeyHandle,
} from './access-token.js';
export { accessTokenCodec } from './access-token-codec.js';
export {
  type AuthFetch,
  type AuthFetchOptions,
  type AuthFetchProvider,
  createAuthFetch,
  type FetchFunction,
} from './auth-fetch.js';
export type {
  ClientAuthMethod,
  ClientAuthOptions,
  ClientSecretAuth,
  NoClientAuth,
  PrivateKeyJwtAuth,
} from './client-auth.js';
export { type ClientCredentialsMintOptions, clientCredentialsMint } from './client-credentials.js';
export type { AuthorizationServerMetadata, DiscoveryAlgorithm, FetchLike } from './discovery.js';
export type { DPoPAlgorithm, DPoPOptions } from './dpop.js';
export {
  AccessTokenCodecError,
  DiscoveryError,
  type GrantType,
  InsecureRequestError,
  InvalidTokenResponseError,
  isOAuthError,
  OAuthError,
  type OAuthErrorByCode,
  type OAuthErrorCode,
  OriginNotAllowedError,
  RotationHookError,
  TokenEndpointError,
  type TokenEndpointErrorDetails,
  UnreachableError,
  UnsupportedTokenError,
} from './errors.js';
export {
  decodeJwtTimes,
  type JwtTimes,
  type LifetimeInput,
  type LifetimeSource,
  type TokenLifetime,
  tokenExpiresAt,
} from './lifetime.js';
export {
  type RefreshTokenContext,
  type RefreshTokenMintOptions,
  refreshTokenMint,
} from './refresh-token.js';
export type { FetchInput } from './request-body.js';
export {
  TOKEN_EXCHANGE_GRANT_TYPE,
  TOKEN_TYPES,
  type TokenExchangeMintOptions,
  type TokenHolder,
  type TokenSource,
  tokenExchangeMint,
} from './token-exchange.js';
export type { TokenEndpointOptions } from './token-request.js';
export {
  decideUnauthorized,
  type UnauthorizedAction,
  type UnauthorizedInput,
} from './unauthorized.js';
export { type Challenge, parseWwwAuthenticate } from './www-authenticate.js';
