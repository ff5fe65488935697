/**
 * A Sluice mint over any AWS SDK v3 credential provider: the provider is the source, called
 * once per mint; the credential it returns gets its `expiresAt` from `expiration`, less a skew.
 */

import {
  type Credential,
  checkKnownKeys,
  InvalidCredentialError,
  InvalidOptionError,
  type KeyedMint,
  type Mint,
  raceSignal,
  withMintTraits,
} from '@sluice/core';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import { awsCredentialCodec } from './credential-codec.js';

/** Options of {@link awsMint} and {@link awsKeyedMint}. */
export interface AwsMintOptions {
  /**
   * Taken off every credential's `expiration`, in milliseconds: Sluice treats the credential
   * as expiring this much earlier, and the SDK is handed that earlier `expiration`, so a
   * request is never signed with a credential about to lapse in flight. It never takes more
   * than half of the credential's remaining lifetime.
   * @default 60000
   */
  expirySkewMs?: number;
  /**
   * The clock the skew is computed against, in epoch milliseconds (AWS expirations are wall
   * clock times). Pass the provider's own `now` when you inject one.
   * @default () => Date.now()
   */
  now?: () => number;
}

/** The skew and clock, validated once. @internal */
interface ResolvedMintOptions {
  readonly skewMs: number;
  readonly now: (() => number) | undefined;
}

/** The keys of {@link AwsMintOptions}: any other is refused (`UnknownOptionError`). @internal */
export const MINT_OPTION_KEYS: readonly string[] = Object.freeze(
  Object.keys({ expirySkewMs: true, now: true } satisfies Record<keyof AwsMintOptions, true>),
);

/** Validates {@link AwsMintOptions} once. @internal */
export function resolveMintOptions(options: AwsMintOptions | undefined): ResolvedMintOptions {
  if (options === undefined) return { skewMs: 60_000, now: undefined };
  if (typeof options !== 'object' || options === null) {
    throw new InvalidOptionError('options', 'an object', options);
  }
  checkKnownKeys(options, MINT_OPTION_KEYS, '');
  const { expirySkewMs = 60_000, now } = options;
  if (!Number.isInteger(expirySkewMs) || expirySkewMs < 0 || expirySkewMs > 86_400_000) {
    throw new InvalidOptionError(
      'expirySkewMs',
      'an integer number of milliseconds from 0 to 86400000',
      expirySkewMs,
    );
  }
  if (now !== undefined && typeof now !== 'function') {
    throw new InvalidOptionError('now', 'a function returning epoch milliseconds', now);
  }
  return { skewMs: expirySkewMs, now };
}

/**
 * Checks what a source returned and turns it into a Sluice credential whose `expiresAt` is
 * `expiration` less the skew. The messages describe the problem, never a value. @internal
 */
export function credentialFromIdentity(
  identity: unknown,
  options: ResolvedMintOptions,
): Credential<AwsCredentialIdentity> {
  if (typeof identity !== 'object' || identity === null) {
    throw new InvalidCredentialError(
      `the AWS credential provider returned ${identity === null ? 'null' : typeof identity}, not a credential`,
    );
  }
  const { accessKeyId, secretAccessKey, expiration } = identity as Partial<AwsCredentialIdentity>;
  if (typeof accessKeyId !== 'string' || accessKeyId === '') {
    throw new InvalidCredentialError('the AWS credential has no accessKeyId');
  }
  if (typeof secretAccessKey !== 'string' || secretAccessKey === '') {
    throw new InvalidCredentialError('the AWS credential has no secretAccessKey');
  }
  const value = identity as AwsCredentialIdentity;
  if (expiration === undefined) return { value };
  const expiresMs = expiration instanceof Date ? expiration.getTime() : Number.NaN;
  if (!Number.isFinite(expiresMs)) {
    throw new InvalidCredentialError(
      'the AWS credential has an `expiration` that is not a valid Date',
    );
  }
  const now = options.now === undefined ? Date.now() : options.now();
  const left = expiresMs - now;
  const skew = left > 0 ? Math.min(options.skewMs, left / 2) : 0;
  return { value, expiresAt: Math.floor(expiresMs - skew) };
}

async function callSource(
  source: AwsCredentialIdentityProvider,
  signal: AbortSignal,
): Promise<unknown> {
  // `forceRefresh`: a memoizing source (the default chain, say) must not hand back the very
  // credential Sluice is replacing.
  return raceSignal(
    Promise.resolve().then(() => source({ forceRefresh: true })),
    signal,
  );
}

/**
 * A Sluice mint that calls `source` (any `AwsCredentialIdentityProvider`: `fromHttp`,
 * `fromTemporaryCredentials`, `fromNodeProviderChain`, your own) with `{ forceRefresh: true }`
 * once per mint. The credential's `expiresAt` is its `expiration` less `expirySkewMs`; one
 * without `expiration` never expires. The mint carries {@link awsCredentialCodec} as its
 * codec (core's `withMintTraits`), so `@sluice/redis`'s `wrap()` stores the `Date` losslessly.
 *
 * The source cannot be cancelled: when the mint times out or the provider closes, the mint
 * rejects at once and the source's late answer is dropped. `callerClientConfig` is never
 * passed to the source: one mint serves every client, so no client's config applies.
 * @throws {InvalidOptionError} `SLUICE_INVALID_OPTION` when `source` is not a function or an
 *   option is bad.
 * @example
 * ```ts
 * import { awsMint } from '@sluice/aws';
 * import { createLazyProvider } from '@sluice/core';
 * import type { AwsCredentialIdentityProvider } from '@smithy/types';
 * declare const source: AwsCredentialIdentityProvider;
 * const provider = createLazyProvider({ name: 'aws', mint: awsMint(source) });
 * ```
 */
export function awsMint(
  source: AwsCredentialIdentityProvider,
  options?: AwsMintOptions,
): Mint<AwsCredentialIdentity> {
  if (typeof source !== 'function') {
    throw new InvalidOptionError('source', 'an AwsCredentialIdentityProvider function', source);
  }
  const resolved = resolveMintOptions(options);
  const mint: Mint<AwsCredentialIdentity> = async ({ signal }) =>
    credentialFromIdentity(await callSource(source, signal), resolved);
  return withMintTraits(mint, { codec: awsCredentialCodec });
}

/**
 * The keyed form of {@link awsMint}: `sourceFor(key)` builds the source for a key (a role,
 * an account, a region) and is called once per mint of that key, so keep it cheap or cache
 * sources yourself. Carries {@link awsCredentialCodec} as {@link awsMint} does.
 * @throws {InvalidOptionError} `SLUICE_INVALID_OPTION` when `sourceFor` is not a function or
 *   an option is bad.
 * @example
 * ```ts
 * import { awsKeyedMint } from '@sluice/aws';
 * import { createKeyedProvider } from '@sluice/core';
 * import type { AwsCredentialIdentityProvider } from '@smithy/types';
 * declare function assumeRole(roleArn: string): AwsCredentialIdentityProvider;
 * const roles = createKeyedProvider({ mint: awsKeyedMint(assumeRole), maxKeys: 5_000 });
 * ```
 */
export function awsKeyedMint<K>(
  sourceFor: (key: K) => AwsCredentialIdentityProvider,
  options?: AwsMintOptions,
): KeyedMint<K, AwsCredentialIdentity> {
  if (typeof sourceFor !== 'function') {
    throw new InvalidOptionError(
      'sourceFor',
      'a function (key) => AwsCredentialIdentityProvider',
      sourceFor,
    );
  }
  const resolved = resolveMintOptions(options);
  const mint: KeyedMint<K, AwsCredentialIdentity> = async (key, { signal }) => {
    const source = sourceFor(key);
    if (typeof source !== 'function') {
      throw new InvalidOptionError(
        'sourceFor(key)',
        'an AwsCredentialIdentityProvider function',
        source,
      );
    }
    return credentialFromIdentity(await callSource(source, signal), resolved);
  };
  return withMintTraits(mint, { codec: awsCredentialCodec });
}
