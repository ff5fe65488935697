/**
 * The keyed form: many roles, accounts or regions, each its own credential with the whole
 * policy, bounded by `maxKeys` and `idleTtlMs`.
 */

import {
  checkKnownKeys,
  createKeyedProvider,
  InvalidOptionError,
  type KeyedMint,
  type KeyedProvider,
  type KeyedProviderOptions,
  type KeyedSnapshot,
  POLICY_OPTION_KEYS,
} from '@sluice/core';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import { type AwsIdentityRequest, memoizedCredentials } from './aws-credentials.js';
import { type AwsMintOptions, awsKeyedMint, MINT_OPTION_KEYS } from './aws-mint.js';

/** A `credentials:` value for one key of {@link awsCredentialsByKey}. */
export interface AwsKeyCredentials extends AwsCredentialIdentityProvider {
  /** As {@link AwsCredentials}'s call, for this key. */
  (request?: AwsIdentityRequest): Promise<AwsCredentialIdentity>;
  /** Always `true`: the SDK's signal that the provider caches on its own. */
  readonly memoized: true;
  /** Drops this key's cached credential so its next request mints. @returns whether one was dropped. */
  readonly invalidate: () => boolean;
  /** This key's diagnostics (never the credential), or `undefined` when not cached. */
  readonly snapshot: () => KeyedSnapshot | undefined;
}

/** Options of {@link awsCredentialsByKey}. */
export interface AwsCredentialsByKeyOptions<K>
  extends Omit<KeyedProviderOptions<K, AwsCredentialIdentity>, 'mint'>,
    AwsMintOptions {
  /**
   * Wraps the keyed mint, for fleet coordination: `(mint) => fleet.wrapKeyed('aws-roles',
   * mint, { keyOf })` with `@sluice/redis`.
   * @default none
   */
  wrapMint?: (mint: KeyedMint<K, AwsCredentialIdentity>) => KeyedMint<K, AwsCredentialIdentity>;
}

/** What {@link awsCredentialsByKey} returns. */
export interface AwsCredentialsByKey<K> {
  /** The `credentials:` value for `key` (a new function each call; all share the key's cache). */
  credentials(key: K): AwsKeyCredentials;
  /** The keyed Sluice provider behind them: `invalidate(key)`, `snapshots()`, `close()`. */
  readonly provider: KeyedProvider<K, AwsCredentialIdentity>;
}

/** The keys of {@link AwsCredentialsByKeyOptions}: any other is refused (`UnknownOptionError`). */
const KNOWN_OPTIONS: readonly string[] = Object.freeze([
  ...POLICY_OPTION_KEYS,
  'keyOf',
  'maxKeys',
  'idleTtlMs',
  'breakerScope',
  ...MINT_OPTION_KEYS,
  'wrapMint',
]);

/**
 * Credentials for many roles, accounts or regions (AssumeRole into 250 accounts times 10
 * regions, say): `sourceFor(key)` builds the AWS credential provider of a key and is called
 * once per mint of that key. Every key gets the whole policy of {@link awsCredentials}; keys
 * are bounded by `maxKeys` (least recently used dropped) and `idleTtlMs`. `keyOf` is required
 * unless keys are strings.
 * @throws {InvalidOptionError} `SLUICE_INVALID_OPTION` naming a bad option.
 * @example
 * ```ts
 * import { S3Client } from '@aws-sdk/client-s3';
 * import { fromTemporaryCredentials } from '@aws-sdk/credential-providers';
 * import { awsCredentialsByKey } from '@sluice/aws';
 *
 * const roles = awsCredentialsByKey(
 *   (roleArn: string) => fromTemporaryCredentials({ params: { RoleArn: roleArn } }),
 *   { maxKeys: 5_000, idleTtlMs: 3_600_000 },
 * );
 * const s3 = new S3Client({
 *   region: 'eu-west-1',
 *   credentials: roles.credentials('arn:aws:iam::123456789012:role/reader'),
 * });
 * ```
 */
export function awsCredentialsByKey<K>(
  sourceFor: (key: K) => AwsCredentialIdentityProvider,
  options: AwsCredentialsByKeyOptions<K> = {},
): AwsCredentialsByKey<K> {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidOptionError('options', 'an object', options);
  }
  checkKnownKeys(options, KNOWN_OPTIONS, '');
  const { wrapMint, expirySkewMs, now, ...keyed } = options;
  if (wrapMint !== undefined && typeof wrapMint !== 'function') {
    throw new InvalidOptionError('wrapMint', 'a function (mint) => mint', wrapMint);
  }
  const base = awsKeyedMint(sourceFor, {
    ...(expirySkewMs === undefined ? {} : { expirySkewMs }),
    ...(now === undefined ? {} : { now }),
  });
  const mint = wrapMint === undefined ? base : wrapMint(base);
  if (typeof mint !== 'function') {
    throw new InvalidOptionError('wrapMint(mint)', 'a keyed mint function', mint);
  }
  const provider = createKeyedProvider<K, AwsCredentialIdentity>({
    name: 'aws',
    ...keyed,
    ...(now === undefined ? {} : { now }),
    mint,
  });
  return Object.freeze({
    provider,
    credentials(key: K): AwsKeyCredentials {
      return memoizedCredentials(
        () => provider.getCredential(key),
        () => provider.refresh(key),
        {
          invalidate: () => provider.invalidate(key),
          snapshot: () => provider.snapshot(key),
        },
      ) as AwsKeyCredentials;
    },
  });
}
