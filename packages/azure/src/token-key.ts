/**
 * The cache key of a token request: what makes two `getToken` calls ask for the same token.
 */

import { InvalidOptionError } from '@sluice/core';

/**
 * What a token is cached under: the sorted, de-duplicated scopes, the tenant and whether
 * Continuous Access Evaluation is on. Two `getToken` calls with the same key share one token.
 */
export interface AzureTokenKey {
  /** The scopes, sorted and de-duplicated. */
  readonly scopes: readonly string[];
  /** The `tenantId` of the call. @default undefined (the credential's own tenant) */
  readonly tenantId?: string;
  /** Whether the call asked for a CAE-capable token (`enableCae: true`). */
  readonly enableCae: boolean;
}

/**
 * The key of a `getToken(scopes, { tenantId, enableCae })` call.
 * @throws {InvalidOptionError} `SLUICE_INVALID_OPTION` for scopes that are not a non-empty
 *   string or a non-empty array of non-empty strings, or a `tenantId` that is not a string.
 * @example
 * ```ts
 * import { azureTokenKey } from '@sluice/azure';
 * const key = azureTokenKey(['b', 'a', 'a'], { enableCae: true }); // scopes: ['a', 'b']
 * ```
 */
export function azureTokenKey(
  scopes: string | readonly string[],
  options: {
    readonly tenantId?: string | undefined;
    readonly enableCae?: boolean | undefined;
  } = {},
): AzureTokenKey {
  const list = typeof scopes === 'string' ? [scopes] : scopes;
  if (
    !Array.isArray(list) ||
    list.length === 0 ||
    list.some((scope) => typeof scope !== 'string' || scope === '')
  ) {
    throw new InvalidOptionError(
      'scopes',
      'a non-empty string or array of non-empty strings',
      scopes,
    );
  }
  const { tenantId, enableCae } = options;
  if (tenantId !== undefined && (typeof tenantId !== 'string' || tenantId === '')) {
    throw new InvalidOptionError('tenantId', 'a non-empty string', tenantId);
  }
  const sorted = Object.freeze([...new Set(list as string[])].sort());
  return Object.freeze({
    scopes: sorted,
    ...(tenantId === undefined ? {} : { tenantId }),
    enableCae: enableCae === true,
  });
}

/** The string a key is cached under (and shared in a fleet under). */
export function azureTokenKeyString(key: AzureTokenKey): string {
  return JSON.stringify([key.scopes, key.tenantId ?? null, key.enableCae]);
}
