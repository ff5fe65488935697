/**
 * The error `@sluice/azure` raises itself.
 */

import { SluiceError } from '@sluice/core';

/**
 * The wrapped `TokenCredential` resolved `null` instead of an `AccessToken` (the interface
 * allows it; the Azure SDK's pipeline retries it every 3 s until the token expires). Sluice
 * treats it as a failed mint: the breaker counts it, reporters see it, and a valid cached
 * token is still served. Code `SLUICE_AZURE_NULL_TOKEN`.
 *
 * @example
 * ```ts
 * import { isSluiceError } from '@sluice/core';
 * import { refreshingTokenCredential } from '@sluice/azure';
 * import type { TokenCredential } from '@azure/core-auth';
 * declare const inner: TokenCredential;
 * const credential = refreshingTokenCredential(inner);
 * try {
 *   await credential.getToken('https://storage.azure.com/.default');
 * } catch (error) {
 *   if (isSluiceError(error, 'SLUICE_AZURE_NULL_TOKEN')) console.error(error.message);
 * }
 * ```
 */
export class NullAccessTokenError extends SluiceError<'SLUICE_AZURE_NULL_TOKEN'> {
  /** The scopes that were asked for, sorted and de-duplicated (never a token). */
  readonly scopes: readonly string[];

  constructor(scopes: readonly string[], options?: { name?: string }) {
    super(
      'SLUICE_AZURE_NULL_TOKEN',
      `${options?.name === undefined ? '' : `${options.name}: `}the wrapped TokenCredential ` +
        `returned null for scopes ${JSON.stringify(scopes)} (no token, no error)`,
    );
    this.scopes = scopes;
  }
}
