/**
 * The drop-in `credentials:` value for AWS SDK v3 clients: a memoized identity provider
 * backed by a Sluice provider, so every client sharing it shares one credential, one
 * refresh policy, one breaker and one set of reporters.
 */

import {
  type Credential,
  checkKnownKeys,
  createLazyProvider,
  InvalidOptionError,
  type Mint,
  POLICY_OPTION_KEYS,
  type RefreshingProvider,
  type RefreshPolicyOptions,
} from '@sluice/core';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import { type AwsMintOptions, awsMint, MINT_OPTION_KEYS } from './aws-mint.js';

/**
 * What the SDK passes when it asks for credentials. Only `forceRefresh` is read;
 * `callerClientConfig` (the asking client's config) is ignored, because one mint serves
 * every client that shares the value.
 */
export interface AwsIdentityRequest {
  /** Mint a new credential now instead of serving the cached one. @default false */
  readonly forceRefresh?: boolean;
  /** Any other property the SDK passes (`callerClientConfig`, ...): ignored. */
  readonly [property: string]: unknown;
}

/**
 * A `credentials:` value for any AWS SDK v3 client. Carries `memoized: true`, which tells
 * the SDK not to wrap it in its own per-client cache (that cache would hold the credential
 * until 5 minutes before expiry, ignoring `invalidate()`, and refresh per client).
 */
export interface AwsCredentials extends AwsCredentialIdentityProvider {
  /**
   * The credential: the cached one while valid (a due one is served and refreshed in the
   * background), else one shared mint. `{ forceRefresh: true }` mints (`provider.refresh()`).
   * Each call returns a fresh copy (the SDK annotates the object it gets) whose
   * `expiration` is the skewed expiry Sluice itself uses.
   * @throws {BreakerOpenError} `SLUICE_BREAKER_OPEN` when no valid credential is cached and
   *   the breaker is open, or for `forceRefresh` while it is open.
   * @throws the source's own error, unchanged, when no valid credential is cached.
   */
  (request?: AwsIdentityRequest): Promise<AwsCredentialIdentity>;
  /** Always `true`: the SDK's signal that the provider caches on its own. */
  readonly memoized: true;
  /** The Sluice provider behind it: `invalidate()`, `refresh()`, `snapshot()`, `close()`. */
  readonly provider: RefreshingProvider<AwsCredentialIdentity>;
}

/** Options of {@link awsCredentials}: the refresh policy, the skew, and a mint wrapper. */
export interface AwsCredentialsOptions extends RefreshPolicyOptions, AwsMintOptions {
  /**
   * Wraps the mint before the provider uses it, for fleet coordination:
   * `(mint) => fleet.wrap('aws:billing', mint)` with `@sluice/redis`. The mint it is given
   * carries a lossless codec for the credential (see {@link awsCredentialCodec}).
   * @default none
   */
  wrapMint?: (mint: Mint<AwsCredentialIdentity>) => Mint<AwsCredentialIdentity>;
}

/** The identity the SDK gets: a copy, with the skewed `expiration`. @internal */
export function identityOf(credential: Credential<AwsCredentialIdentity>): AwsCredentialIdentity {
  const { value, expiresAt } = credential;
  const copy: Record<string, unknown> = { ...value };
  const source = (value as { $source?: object }).$source;
  // The SDK adds its feature flags to `$source`: never let it write into the cached object.
  if (typeof source === 'object' && source !== null) copy.$source = { ...source };
  if (expiresAt === undefined) delete copy.expiration;
  else copy.expiration = new Date(expiresAt);
  return copy as unknown as AwsCredentialIdentity;
}

/** Builds the memoized function around a `get`/`refresh` pair. @internal */
export function memoizedCredentials<P extends object>(
  get: () => Promise<Credential<AwsCredentialIdentity>>,
  refresh: () => Promise<Credential<AwsCredentialIdentity>>,
  extra: P,
): AwsCredentialIdentityProvider & { readonly memoized: true } & P {
  const credentials = async (request?: AwsIdentityRequest) =>
    identityOf(await (request?.forceRefresh === true ? refresh() : get()));
  Object.defineProperty(credentials, 'memoized', { value: true, enumerable: true });
  for (const [name, value] of Object.entries(extra)) {
    Object.defineProperty(credentials, name, { value, enumerable: true });
  }
  return credentials as never;
}

/**
 * Wraps any `AwsCredentialIdentityProvider` into a `credentials:` value for AWS SDK v3
 * clients with Sluice's policy: one credential and one mint shared by every client given
 * the value (the SDK alone mints once per client), refreshed in the background from 80 % of
 * its lifetime with jitter, a valid credential served while the source fails, a circuit
 * breaker around the source, reporter hooks, and fleet coordination through `wrapMint`.
 *
 * Nothing is minted until the first request. `callerClientConfig` is not available at mint
 * time: the source is called without it (one mint serves all clients), so a source that
 * needs a client's region or profile must be built with them. Call `provider.close()` when
 * done.
 * @throws {InvalidOptionError} `SLUICE_INVALID_OPTION` naming a bad option, or when
 *   `source` is not a function.
 * @example
 * ```ts
 * import { S3Client } from '@aws-sdk/client-s3';
 * import { fromTemporaryCredentials } from '@aws-sdk/credential-providers';
 * import { awsCredentials } from '@sluice/aws';
 *
 * const credentials = awsCredentials(
 *   fromTemporaryCredentials({ params: { RoleArn: 'arn:aws:iam::123456789012:role/reader' } }),
 * );
 * const eu = new S3Client({ region: 'eu-west-1', credentials });
 * const us = new S3Client({ region: 'us-east-1', credentials }); // shares the credential
 * credentials.provider.invalidate(); // the next request of either client mints
 * ```
 */
export function awsCredentials(
  source: AwsCredentialIdentityProvider,
  options: AwsCredentialsOptions = {},
): AwsCredentials {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidOptionError('options', 'an object', options);
  }
  checkKnownKeys(options, [...POLICY_OPTION_KEYS, ...MINT_OPTION_KEYS, 'wrapMint'], '');
  const { wrapMint, expirySkewMs, now, ...policy } = options;
  if (wrapMint !== undefined && typeof wrapMint !== 'function') {
    throw new InvalidOptionError('wrapMint', 'a function (mint) => mint', wrapMint);
  }
  const mintOptions: AwsMintOptions = {
    ...(expirySkewMs === undefined ? {} : { expirySkewMs }),
    ...(now === undefined ? {} : { now }),
  };
  const base = awsMint(source, mintOptions);
  const mint = wrapMint === undefined ? base : wrapMint(base);
  if (typeof mint !== 'function') {
    throw new InvalidOptionError('wrapMint(mint)', 'a mint function', mint);
  }
  const provider = createLazyProvider<AwsCredentialIdentity>({
    name: 'aws',
    ...policy,
    ...(now === undefined ? {} : { now }),
    mint,
  });
  return memoizedCredentials(
    () => provider.getCredential(),
    () => provider.refresh(),
    { provider },
  ) as AwsCredentials;
}
