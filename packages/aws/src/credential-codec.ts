/**
 * The lossless string form of an AWS credential, for a fleet coordinator's shared store: the
 * `expiration` Date survives the round trip, which plain JSON would turn into a string.
 */

import type { CredentialCodec } from '@sluice/core';
import type { AwsCredentialIdentity } from '@smithy/types';

/** The fields an {@link AwsCredentialIdentity} may carry, as they are written. */
interface EncodedIdentity {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
  readonly credentialScope?: string;
  readonly accountId?: string;
  /** Epoch milliseconds. */
  readonly expiration?: number;
  readonly $source?: Record<string, string>;
}

const STRING_FIELDS = ['sessionToken', 'credentialScope', 'accountId'] as const;
const KNOWN = new Set<string>([
  'accessKeyId',
  'secretAccessKey',
  'expiration',
  '$source',
  ...STRING_FIELDS,
]);

/** Why `field` cannot be written faithfully; never echoes a value. */
function refuse(field: string, expected: string): never {
  throw new TypeError(`AWS credential: \`${field}\` must be ${expected}; it cannot be stored`);
}

function encodeIdentity(identity: AwsCredentialIdentity): string {
  if (typeof identity !== 'object' || identity === null) refuse('the credential', 'an object');
  for (const field of Object.keys(identity)) {
    if (!KNOWN.has(field)) refuse(field, 'absent (an unknown field would be lost)');
  }
  const { accessKeyId, secretAccessKey, expiration } = identity;
  if (typeof accessKeyId !== 'string') refuse('accessKeyId', 'a string');
  if (typeof secretAccessKey !== 'string') refuse('secretAccessKey', 'a string');
  const encoded: Record<string, unknown> = { accessKeyId, secretAccessKey };
  for (const field of STRING_FIELDS) {
    const value = identity[field];
    if (value === undefined) continue;
    if (typeof value !== 'string') refuse(field, 'a string or absent');
    encoded[field] = value;
  }
  if (expiration !== undefined) {
    const ms = expiration instanceof Date ? expiration.getTime() : Number.NaN;
    if (!Number.isFinite(ms)) refuse('expiration', 'a valid Date or absent');
    encoded.expiration = ms;
  }
  const source = (identity as { $source?: unknown }).$source;
  if (source !== undefined) {
    if (typeof source !== 'object' || source === null || Array.isArray(source)) {
      refuse('$source', 'an object of strings or absent');
    }
    for (const value of Object.values(source)) {
      if (typeof value !== 'string') refuse('$source', 'an object of strings or absent');
    }
    encoded.$source = { ...source };
  }
  return JSON.stringify(encoded);
}

function decodeIdentity(text: string): AwsCredentialIdentity {
  const parsed = JSON.parse(text) as EncodedIdentity;
  if (typeof parsed !== 'object' || parsed === null) refuse('the stored credential', 'an object');
  const { accessKeyId, secretAccessKey, expiration, $source } = parsed;
  if (typeof accessKeyId !== 'string') refuse('accessKeyId', 'a string');
  if (typeof secretAccessKey !== 'string') refuse('secretAccessKey', 'a string');
  const identity: Record<string, unknown> = { accessKeyId, secretAccessKey };
  for (const field of STRING_FIELDS) {
    const value = parsed[field];
    if (value === undefined) continue;
    if (typeof value !== 'string') refuse(field, 'a string or absent');
    identity[field] = value;
  }
  if (expiration !== undefined) {
    if (typeof expiration !== 'number' || !Number.isFinite(expiration)) {
      refuse('expiration', 'epoch milliseconds');
    }
    identity.expiration = new Date(expiration);
  }
  if ($source !== undefined) {
    if (typeof $source !== 'object' || $source === null || Array.isArray($source)) {
      refuse('$source', 'an object of strings');
    }
    for (const value of Object.values($source)) {
      if (typeof value !== 'string') refuse('$source', 'an object of strings');
    }
    identity.$source = { ...$source };
  }
  return identity as unknown as AwsCredentialIdentity;
}

/**
 * Writes an AWS credential as JSON with `expiration` in epoch milliseconds and reads it back
 * with a real `Date`, so a credential shared through a fleet coordinator works exactly as the
 * one minted. {@link awsMint} attaches it to its mint (core's `withMintTraits`), so
 * `@sluice/redis`'s `wrap()` uses it with no option. `encode` throws a `TypeError` (naming
 * the field, never its value) for a field it cannot write faithfully, such as an unknown
 * property or an invalid `expiration`.
 * @example
 * ```ts
 * import { awsCredentialCodec } from '@sluice/aws';
 * const text = awsCredentialCodec.encode({
 *   accessKeyId: 'AKIAEXAMPLE',
 *   secretAccessKey: 'example-secret',
 *   expiration: new Date('2030-01-01T00:00:00Z'),
 * });
 * const back = awsCredentialCodec.decode(text); // back.expiration is a Date again
 * ```
 */
export const awsCredentialCodec: CredentialCodec<AwsCredentialIdentity> = Object.freeze({
  encode: encodeIdentity,
  decode: decodeIdentity,
});
