/**
 * @sluice/azure: Sluice's refresh policy under the Azure SDK. Wraps any `TokenCredential`
 * into a `TokenCredential`: one identity call across clients, the valid token served through
 * identity failures, a jittered due point honouring `refreshAfterTimestamp`, the breaker,
 * reporters, CAE claims challenges and `@sluice/redis` fleet coordination.
 *
 * @packageDocumentation
 */

export { accessTokenCodec } from './access-token-codec.js';
export { NullAccessTokenError } from './errors.js';
export {
  type KeyedMintCoordinator,
  type RefreshingTokenCredential,
  type RefreshingTokenCredentialOptions,
  type ReportedExpiry,
  refreshingTokenCredential,
  type TokenKeyOptions,
} from './refreshing-token-credential.js';
export { type AzureTokenKey, azureTokenKey } from './token-key.js';
