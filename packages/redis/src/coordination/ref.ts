/**
 * A credential's reference in the store: its name, and its key for a keyed credential,
 * escaped so that no two credentials share one and a store can embed it anywhere (a Redis
 * Cluster hash tag, a channel message, a SQL key).
 */

import { InvalidOptionError } from '@sluice/core';

/** Longest name or key accepted, in characters. */
const MAX_LENGTH = 1_024;

/**
 * Percent-encodes `%`, `{`, `}`, `/`, `:` and control characters, so a reference never
 * contains a hash-tag brace, and the name/key separator `/` only appears between the two.
 */
export function escapeRefPart(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are escaped on purpose
  return text.replace(/[%{}/:\u0000-\u001f\u007f]/g, (c) => {
    const hex = c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0');
    return `%${hex}`;
  });
}

/** The reference of a single credential named `name`. @throws {InvalidOptionError} */
export function singleRef(name: string): string {
  return escapeRefPart(checkPart(name, 'name'));
}

/** The reference of `key` of the keyed credential `name`. @throws {InvalidOptionError} */
export function keyedRef(name: string, key: string): string {
  return `${escapeRefPart(name)}/${escapeRefPart(checkPart(key, 'keyOf(key)'))}`;
}

/**
 * Checks a name or key: a non-empty, well-formed string of at most 1,024 characters. A lone
 * UTF-16 surrogate is refused: it becomes U+FFFD on the wire, so `tenant-\uD800` and
 * `tenant-\uFFFD` would share one store key (and one credential).
 */
export function checkPart(value: unknown, option: string): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_LENGTH) {
    throw new InvalidOptionError(
      option,
      `a non-empty string of at most ${MAX_LENGTH} characters`,
      value,
    );
  }
  if (hasLoneSurrogate(value)) {
    throw new InvalidOptionError(
      option,
      'a well-formed string (no lone UTF-16 surrogate: it would share a store key with U+FFFD)',
      value,
    );
  }
  return value;
}

/** Whether `text` holds a UTF-16 surrogate that is not half of a pair. */
export function hasLoneSurrogate(text: string): boolean {
  return /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(text);
}
