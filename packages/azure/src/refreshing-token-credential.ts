/**
 * `refreshingTokenCredential`: any Azure `TokenCredential` behind Sluice's refresh policy,
 * as a `TokenCredential` every Azure SDK client accepts.
 */

import type { AccessToken, GetTokenOptions, TokenCredential } from '@azure/core-auth';
import {
  type Credential,
  type CredentialCodec,
  checkKnownKeys,
  createKeyedProvider,
  InvalidCredentialError,
  InvalidOptionError,
  type KeyedMint,
  type KeyedProvider,
  type KeyedProviderOptions,
  type KeyedSnapshot,
  POLICY_OPTION_KEYS,
  withMintTraits,
} from '@sluice/core';
import { accessTokenCodec, checkAccessToken } from './access-token-codec.js';
import { NullAccessTokenError } from './errors.js';
import { type AzureTokenKey, azureTokenKey, azureTokenKeyString } from './token-key.js';

/**
 * The part of a fleet coordinator {@link refreshingTokenCredential} uses: `@sluice/redis`'s
 * `FleetCoordinator` (from `createRedisCoordinator`) is one.
 */
export interface KeyedMintCoordinator {
  /** Wraps a keyed mint so that a fleet mints each key once (see `@sluice/redis`). */
  wrapKeyed<K, T>(
    name: string,
    mint: KeyedMint<K, T>,
    options?: { keyOf?: (key: K) => string; codec?: CredentialCodec<T> },
  ): KeyedMint<K, T>;
}

/** What the Azure SDK clients are told about a token's expiry. */
export type ReportedExpiry = 'call-time' | 'actual';

/** Options of {@link refreshingTokenCredential}. Every refresh-policy option of core applies. */
export interface RefreshingTokenCredentialOptions
  extends Omit<KeyedProviderOptions<AzureTokenKey, AccessToken>, 'mint' | 'keyOf'> {
  /**
   * A fleet coordinator (`@sluice/redis`'s `createRedisCoordinator(...)`): the replicas mint
   * each key once per token lifetime. The credential's `name` is the fleet-wide name, so
   * every replica must use the same one. Tokens are stored with {@link accessTokenCodec}.
   * @default none (this process alone)
   */
  coordinator?: KeyedMintCoordinator;
  /**
   * What the SDK clients are told about a token's expiry.
   *
   * `'call-time'`: `expiresOnTimestamp` is the time of the call (no later than the real
   * expiry) and `refreshAfterTimestamp` is left out. Each client's token cache (the bearer
   * policy's token cycler) then asks this credential before every request, a cache hit, so
   * every client follows this credential at once: a refresh, an `invalidate()` or a CAE
   * challenge reaches every client on its next request, and the SDK never refreshes in the
   * background (where a failure after expiry is an unhandled rejection). Read the real
   * expiry from {@link RefreshingTokenCredential.snapshot}.
   *
   * `'actual'`: the real `expiresOnTimestamp`, and `refreshAfterTimestamp` set to this
   * credential's due point. Clients keep the token until then (or until the SDK's own
   * window, 2 minutes before expiry), so an `invalidate()` reaches them only at that point.
   * The SDK then refreshes in the background: after an `invalidate()` while the identity
   * endpoint fails, that refresh can still end in the SDK's unhandled rejection at expiry.
   * @default 'call-time'
   */
  reportedExpiry?: ReportedExpiry;
}

/** A `TokenCredential` kept fresh by Sluice, with the provider behind it. */
export interface RefreshingTokenCredential extends TokenCredential {
  /**
   * A token for `scopes`: the cached one while valid (a due one is served and refreshed in
   * the background), else one shared mint for every caller and client asking for the same
   * key. With `claims` (a CAE challenge) the key's token is replaced once by a mint carrying
   * the claims; with `proofOfPossessionOptions` the call goes straight to the wrapped
   * credential. Never resolves `null`, and never rejects while a valid token is cached.
   * `abortSignal` ends this caller's wait only, never the shared mint (an already aborted
   * signal rejects at once with its reason).
   * @throws {NullAccessTokenError} `SLUICE_AZURE_NULL_TOKEN` when the wrapped credential
   *   returned `null` and no valid token is cached.
   * @throws {BreakerOpenError} `SLUICE_BREAKER_OPEN` when the breaker is open and no valid
   *   token is cached.
   * @throws {InvalidOptionError} `SLUICE_INVALID_OPTION` for bad scopes or options.
   * @throws the wrapped credential's own error when its mint failed and no valid token is
   *   cached; `abortSignal.reason` when the caller's signal aborts.
   */
  getToken(scopes: string | string[], options?: GetTokenOptions): Promise<AccessToken>;
  /**
   * Drops the cached token of a key (after a 401, say), so the next request mints. Without
   * `options`, every cached key of these scopes (any `tenantId`, with or without
   * `enableCae`: Azure SDK clients ask with `enableCae: true`); with `options`, that key
   * only. With `rejected` (the token string, or an `AccessToken`), a key is dropped only
   * while it still holds that token. Subject to core's invalidation guard
   * (`minRefreshIntervalMs`). With the default `reportedExpiry`, every client presents the
   * next token on its next request.
   * @returns whether a token was dropped.
   * @throws {InvalidOptionError} `SLUICE_INVALID_OPTION` for bad scopes or options.
   */
  invalidate(
    scopes: string | readonly string[],
    options?: TokenKeyOptions,
    rejected?: string | AccessToken,
  ): boolean;
  /**
   * Diagnostics of a key (real expiry, due point, breaker, last error), or `undefined` when
   * nothing is cached for it. Without `options`, of the most recently used key of these
   * scopes (whatever its `tenantId` and `enableCae`). Never contains a token.
   * @throws {InvalidOptionError} `SLUICE_INVALID_OPTION` for bad scopes or options.
   */
  snapshot(
    scopes: string | readonly string[],
    options?: TokenKeyOptions,
  ): KeyedSnapshot | undefined;
  /** The keyed provider behind the credential: `keys()`, `snapshots()`, `startSweep()`... */
  readonly provider: KeyedProvider<AzureTokenKey, AccessToken>;
  /** Closes the provider: in-flight mints are aborted and later calls reject. Idempotent. */
  close(): void;
  /** Same as {@link close}. */
  [Symbol.dispose](): void;
}

/** The parts of `GetTokenOptions` that select a cached token. */
export interface TokenKeyOptions {
  /** As `GetTokenOptions.tenantId`. @default undefined */
  readonly tenantId?: string;
  /** As `GetTokenOptions.enableCae`. @default false */
  readonly enableCae?: boolean;
}

/** The keys of {@link RefreshingTokenCredentialOptions}: any other is refused (`UnknownOptionError`). */
const KNOWN_OPTIONS: readonly string[] = Object.freeze([
  ...POLICY_OPTION_KEYS,
  'maxKeys',
  'idleTtlMs',
  'breakerScope',
  'coordinator',
  'reportedExpiry',
]);

/**
 * Wraps any `TokenCredential` (`ManagedIdentityCredential`, `DefaultAzureCredential`,
 * `ClientSecretCredential`...) into a `TokenCredential` with Sluice's policy: one identity
 * call however many clients share it, the valid token served while the identity endpoint
 * fails, a jittered due point (the issuer's `refreshAfterTimestamp` honoured), the circuit
 * breaker, reporters and, with `coordinator`, one mint per fleet.
 *
 * Tokens are cached per key: the sorted, de-duplicated scopes, `tenantId` and `enableCae`.
 * The mint is lazy: nothing is called before the first `getToken`.
 *
 * @throws {InvalidOptionError} `SLUICE_INVALID_OPTION` when `credential` has no `getToken`
 *   function or an option is bad (named in the error).
 * @example
 * ```ts
 * import { ManagedIdentityCredential } from '@azure/identity';
 * import { BlobServiceClient } from '@azure/storage-blob';
 * import { refreshingTokenCredential } from '@sluice/azure';
 *
 * const credential = refreshingTokenCredential(new ManagedIdentityCredential());
 * const blobs = new BlobServiceClient('https://account.blob.core.windows.net', credential);
 * ```
 */
export function refreshingTokenCredential(
  credential: TokenCredential,
  options: RefreshingTokenCredentialOptions = {},
): RefreshingTokenCredential {
  if (
    typeof credential !== 'object' ||
    credential === null ||
    typeof (credential as { getToken?: unknown }).getToken !== 'function'
  ) {
    throw new InvalidOptionError(
      'credential',
      'a TokenCredential (an object with getToken)',
      credential,
    );
  }
  if (typeof options !== 'object' || options === null) {
    throw new InvalidOptionError('options', 'an object', options);
  }
  checkKnownKeys(options, KNOWN_OPTIONS, '');
  const { coordinator, reportedExpiry = 'call-time', name = 'azure', ...policy } = options;
  if (reportedExpiry !== 'call-time' && reportedExpiry !== 'actual') {
    throw new InvalidOptionError('reportedExpiry', "'call-time' or 'actual'", reportedExpiry);
  }
  if (
    coordinator !== undefined &&
    (typeof coordinator !== 'object' ||
      coordinator === null ||
      typeof coordinator.wrapKeyed !== 'function')
  ) {
    throw new InvalidOptionError(
      'coordinator',
      'an object with wrapKeyed (a FleetCoordinator)',
      coordinator,
    );
  }

  // Claims of a CAE challenge waiting for the key's next mint, and the claims each token was
  // minted with (so a second 401 carrying the same claims does not mint again).
  const pendingClaims = new Map<string, string>();
  const mintedWithClaims = new WeakMap<AccessToken, string>();

  const mint: KeyedMint<AzureTokenKey, AccessToken> = async (key, { signal }) => {
    const claims = pendingClaims.get(azureTokenKeyString(key));
    const token = await credential.getToken([...key.scopes], {
      abortSignal: signal,
      ...(key.tenantId === undefined ? {} : { tenantId: key.tenantId }),
      ...(key.enableCae ? { enableCae: true } : {}),
      ...(claims === undefined ? {} : { claims }),
    });
    if (token === null) throw new NullAccessTokenError(key.scopes, { name });
    const checked = checkAccessToken(token);
    if (typeof checked === 'string') throw new InvalidCredentialError(checked, { name });
    if (claims !== undefined) mintedWithClaims.set(checked, claims);
    return {
      value: checked,
      expiresAt: checked.expiresOnTimestamp,
      ...(checked.refreshAfterTimestamp === undefined
        ? {}
        : { refreshAfter: checked.refreshAfterTimestamp }),
    };
  };
  const traced = withMintTraits(mint, { codec: accessTokenCodec });
  const provider = createKeyedProvider<AzureTokenKey, AccessToken>({
    ...policy,
    name,
    keyOf: azureTokenKeyString,
    mint:
      coordinator === undefined
        ? traced
        : coordinator.wrapKeyed(name, traced, {
            keyOf: azureTokenKeyString,
            codec: accessTokenCodec,
          }),
  });

  const report = (key: AzureTokenKey, value: AccessToken): AccessToken => {
    const tokenType = value.tokenType === undefined ? {} : { tokenType: value.tokenType };
    if (reportedExpiry === 'call-time') {
      return {
        token: value.token,
        expiresOnTimestamp: Math.min(value.expiresOnTimestamp, Date.now()),
        ...tokenType,
      };
    }
    const due = provider.snapshot(key)?.refreshDueAt ?? null;
    return {
      token: value.token,
      expiresOnTimestamp: value.expiresOnTimestamp,
      ...(due === null ? {} : { refreshAfterTimestamp: due }),
      ...tokenType,
    };
  };

  const renewForClaims = async (
    key: AzureTokenKey,
    claims: string,
    call: { signal?: AbortSignal },
  ): Promise<Credential<AccessToken>> => {
    const current = provider.peek(key);
    if (current !== undefined && mintedWithClaims.get(current.value) === claims) return current;
    const keyString = azureTokenKeyString(key);
    // A mint already running started without these claims: joining it is not enough.
    const joined = provider.snapshot(key)?.mintInFlight === true;
    pendingClaims.set(keyString, claims);
    try {
      const renewed = await provider.refresh(key, call);
      if (!joined || mintedWithClaims.get(renewed.value) === claims) return renewed;
      return await provider.refresh(key, call);
    } finally {
      if (pendingClaims.get(keyString) === claims) pendingClaims.delete(keyString);
    }
  };

  const keysOfScopes = (scopes: readonly string[]): AzureTokenKey[] => {
    const wanted = JSON.stringify(scopes);
    const keys: AzureTokenKey[] = [];
    for (const text of provider.keys()) {
      const [keyScopes, tenantId, enableCae] = JSON.parse(text) as [
        string[],
        string | null,
        boolean,
      ];
      if (JSON.stringify(keyScopes) !== wanted) continue;
      keys.push(
        azureTokenKey(keyScopes, { ...(tenantId === null ? {} : { tenantId }), enableCae }),
      );
    }
    return keys;
  };

  const keyOfCall = (scopes: unknown, keyOptions: unknown): AzureTokenKey => {
    if (keyOptions !== undefined && (typeof keyOptions !== 'object' || keyOptions === null)) {
      throw new InvalidOptionError('options', 'an object', keyOptions);
    }
    return azureTokenKey(scopes as string[], (keyOptions ?? {}) as TokenKeyOptions);
  };

  return {
    async getToken(scopes: string | string[], getTokenOptions?: GetTokenOptions) {
      const key = keyOfCall(scopes, getTokenOptions);
      const { abortSignal, claims, proofOfPossessionOptions } = getTokenOptions ?? {};
      if (claims !== undefined && typeof claims !== 'string') {
        throw new InvalidOptionError('claims', 'a string', claims);
      }
      if (proofOfPossessionOptions !== undefined) {
        // Bound to one request (nonce, method, URL): never cached, never shared.
        const token = await credential.getToken(scopes, getTokenOptions);
        if (token === null) throw new NullAccessTokenError(key.scopes, { name });
        return token;
      }
      const call = abortSignal === undefined ? {} : { signal: abortSignal as AbortSignal };
      const credentialNow =
        claims === undefined || claims === ''
          ? await provider.getCredential(key, call)
          : await renewForClaims(key, claims, call);
      return report(key, credentialNow.value);
    },
    invalidate(scopes, keyOptions, rejected) {
      const asked = keyOfCall(scopes, keyOptions);
      // Without options: every cached key of these scopes (any tenant, CAE or not), since
      // the SDK clients ask with `enableCae: true` and callers rarely know it.
      const keys = keyOptions === undefined ? keysOfScopes(asked.scopes) : [asked];
      const rejectedToken = typeof rejected === 'string' ? rejected : rejected?.token;
      let dropped = false;
      for (const key of keys) {
        const cached = provider.peek(key);
        if (rejected !== undefined && cached?.value.token !== rejectedToken) continue;
        if (provider.invalidate(key, cached)) dropped = true;
      }
      return dropped;
    },
    snapshot(scopes, keyOptions) {
      const asked = keyOfCall(scopes, keyOptions);
      if (keyOptions !== undefined) return provider.snapshot(asked);
      const key = keysOfScopes(asked.scopes).at(-1);
      return key === undefined ? undefined : provider.snapshot(key);
    },
    provider,
    close() {
      provider.close();
    },
    [Symbol.dispose]() {
      provider.close();
    },
  };
}
