/**
 * Redis key names. Every key of one credential carries the credential's reference as a hash
 * tag (`{...}`), so the three keys share one Redis Cluster slot and the scripts can touch them
 * atomically. References never contain a brace (see `coordination/ref.ts`).
 */

import { InvalidOptionError } from '@sluice/core';
import { hasLoneSurrogate } from '../coordination/ref.js';

/** The three keys of one credential. */
export interface CredentialKeys {
  /** The stored credential: a hash. */
  readonly credential: string;
  /** The lease: a token string with a TTL. */
  readonly lease: string;
  /** The failure record: a hash with a TTL. */
  readonly failure: string;
}

/** Checks a key prefix: a well-formed string of at most 256 characters without `{` or `}`. */
export function checkKeyPrefix(prefix: unknown): string {
  if (
    typeof prefix !== 'string' ||
    prefix.length > 256 ||
    /[{}]/.test(prefix) ||
    hasLoneSurrogate(prefix)
  ) {
    throw new InvalidOptionError(
      'keyPrefix',
      'a well-formed string of at most 256 characters without { or } (the coordinator adds its own hash tag)',
      prefix,
    );
  }
  return prefix;
}

/** The keys of the credential `ref` under `prefix`. */
export function credentialKeys(prefix: string, ref: string): CredentialKeys {
  const base = `${prefix}{${ref}}`;
  return { credential: `${base}:cred`, lease: `${base}:lease`, failure: `${base}:fail` };
}

/** The one pub/sub channel of a prefix; messages are `<kind> <ref>`. */
export function eventsChannel(prefix: string): string {
  return `${prefix}events`;
}
