/**
 * Option checks shared by the mints and `createAuthFetch`: each throws core's
 * `InvalidOptionError` naming the option, and never echoes a secret.
 */

import { InvalidOptionError } from '@sluice/core';

/**
 * Throws `InvalidOptionError` for `option`. `secret: true` describes the value by its type
 * only (for options that hold or may hold a secret); `secret: false` shows a public value
 * (a URL) in full.
 */
export function invalid(
  option: string,
  expected: string,
  received: unknown,
  secret?: boolean,
): never {
  throw new InvalidOptionError(
    option,
    expected,
    received,
    secret === undefined ? undefined : { secret },
  );
}

/** An object (not null, not an array); `secret`: a wrong value is described by type only. */
export function checkObject(
  value: unknown,
  option: string,
  secret?: boolean,
): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    invalid(option, 'an object', value, secret);
  }
  return value as Record<string, unknown>;
}

/** A non-empty string. */
export function checkString(value: unknown, option: string): string {
  if (typeof value !== 'string' || value === '') invalid(option, 'a non-empty string', value);
  return value;
}

/** `undefined`, or a non-empty string. */
export function optionalString(value: unknown, option: string): string | undefined {
  return value === undefined ? undefined : checkString(value, option);
}

/**
 * A non-empty string that is a secret: a bad value is described by its type only (an
 * `InvalidOptionError` would echo a short string or a number).
 */
export function checkSecret(value: unknown, option: string): string {
  if (typeof value === 'string' && value !== '') return value;
  return invalid(option, 'a non-empty string', value, true);
}

/** `undefined`, or a boolean. */
export function optionalBoolean(value: unknown, option: string): boolean | undefined {
  if (value !== undefined && typeof value !== 'boolean') invalid(option, 'a boolean', value);
  return value;
}

/** `undefined`, or a finite number of seconds from `min` (inclusive). */
export function optionalSeconds(value: unknown, option: string, min: number): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min) {
    invalid(option, `a finite number of seconds >= ${min}`, value);
  }
  return value;
}

/** `undefined`, or a finite number of seconds above 0. */
export function optionalPositiveSeconds(value: unknown, option: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    invalid(option, 'a finite number of seconds > 0', value);
  }
  return value;
}

/** `undefined`, or a function. */
export function optionalFunction<F>(value: unknown, option: string): F | undefined {
  if (value !== undefined && typeof value !== 'function') invalid(option, 'a function', value);
  return value as F | undefined;
}

/** `undefined`, a non-empty string, or a non-empty array of them. */
export function optionalStrings(value: unknown, option: string): readonly string[] | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'string') return [checkString(value, option)];
  if (!Array.isArray(value) || value.length === 0) {
    invalid(option, 'a non-empty string or a non-empty array of them', value);
  }
  return Object.freeze(value.map((item, index) => checkString(item, `${option}[${index}]`)));
}

/**
 * `undefined`, or an object of string values. The values may be secrets (a vendor's API
 * key): a wrong one is described by its type only.
 */
export function optionalParameters(
  value: unknown,
  option: string,
): Readonly<Record<string, string>> | undefined {
  if (value === undefined) return undefined;
  const object = checkObject(value, option, true);
  const copy: Record<string, string> = {};
  for (const [key, item] of Object.entries(object)) {
    if (typeof item !== 'string') invalid(`${option}.${key}`, 'a string', item, true);
    copy[key] = item;
  }
  return Object.freeze(copy);
}

/** A URL from a string or a `URL`. */
export function checkUrl(value: unknown, option: string): URL {
  if (value instanceof URL) return new URL(value.href);
  if (typeof value === 'string') {
    try {
      return new URL(value);
    } catch {
      // fall through
    }
  }
  return invalid(option, 'an absolute URL (a string or a URL)', value);
}

/**
 * Refuses a non-`https:` URL unless insecure requests are allowed (and then anything but
 * `http:`). The URL is shown, without its credentials, query or fragment.
 */
export function checkHttps(url: URL, option: string, allowInsecure: boolean): void {
  if (url.protocol === 'https:') return;
  if (allowInsecure && url.protocol === 'http:') return;
  invalid(
    option,
    allowInsecure ? 'an http: or https: URL' : 'an https: URL (or set allowInsecureRequests)',
    publicUrl(url),
    false,
  );
}

/**
 * A URL as it may be shown in an error: without userinfo (a password), query or fragment
 * (either may carry a credential).
 */
export function publicUrl(url: URL): string {
  const copy = new URL(url.href);
  copy.username = '';
  copy.password = '';
  copy.search = '';
  copy.hash = '';
  return copy.href;
}
