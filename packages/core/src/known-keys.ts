/**
 * Refusing option keys nobody reads. In plain JavaScript a misspelt option (`refershAt`, `kid`
 * for `keyId`) is otherwise ignored without a word, and the bug surfaces far away (a server
 * answering `invalid_client`). Every options object Sluice validates goes through
 * {@link checkKnownKeys}, and adapters use it for theirs.
 */

import { UnknownOptionError } from './errors.js';

/**
 * Throws {@link UnknownOptionError} for the first own enumerable key of `options` that is not
 * in `known`, naming the key and, when one is close enough to be a typo, the nearest known
 * key. Values are never read or echoed. Symbol keys and `undefined`-valued keys are refused
 * the same way; a non-object `options` is left to the caller's own type check.
 * @param path Where the object sits, for the message: `''` for top-level options, or a prefix
 * such as `'breaker'` (the error then names `breaker.cooldwnMs`).
 * @throws {UnknownOptionError} `SLUICE_INVALID_OPTION` for an unknown key.
 * @example
 * ```ts
 * import { checkKnownKeys } from '@sluice/core';
 * const options: object = { refershAt: 0.5 };
 * checkKnownKeys(options, ['refreshAt', 'jitter'], ''); // throws: did you mean `refreshAt`?
 * ```
 */
export function checkKnownKeys(options: unknown, known: readonly string[], path: string): void {
  if (typeof options !== 'object' || options === null) return;
  for (const key of Reflect.ownKeys(options)) {
    if (typeof key === 'string' && known.includes(key)) continue;
    const descriptor = Object.getOwnPropertyDescriptor(options, key);
    if (descriptor === undefined || descriptor.enumerable !== true) continue;
    const name = typeof key === 'string' ? key : String(key);
    throw new UnknownOptionError(
      path === '' ? name : `${path}.${name}`,
      typeof key === 'string' ? nearestKey(key, known) : undefined,
      known,
    );
  }
}

/**
 * The known key a misspelt `key` most likely meant, or `undefined` when none is close:
 * case-insensitive edit distance (adjacent swaps count one) within a third of the length
 * (at least 2), or a known key that contains it or is contained in it.
 */
export function nearestKey(key: string, known: readonly string[]): string | undefined {
  const wanted = key.toLowerCase();
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of known) {
    const lower = candidate.toLowerCase();
    let distance = editDistance(wanted, lower);
    if (distance > Math.max(2, Math.floor(Math.max(wanted.length, lower.length) / 3))) {
      const related =
        wanted.length >= 2 && (lower.includes(wanted) || wanted.includes(lower)) ? 1 : 0;
      if (related === 0) continue;
      distance = Math.abs(lower.length - wanted.length);
    }
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best ?? aliasOf(wanted, known);
}

/** Well-known spellings of the same thing under another name (`kid` is a JWT's `keyId`). */
const ALIASES: Readonly<Record<string, readonly string[]>> = Object.freeze({
  kid: ['keyId'],
  key_id: ['keyId'],
  secret: ['clientSecret'],
  client_secret: ['clientSecret'],
  client_id: ['clientId'],
  timeout: ['mintTimeoutMs', 'timeoutMs', 'commandTimeoutMs'],
});

function aliasOf(key: string, known: readonly string[]): string | undefined {
  for (const alias of ALIASES[key] ?? []) if (known.includes(alias)) return alias;
  return undefined;
}

/** Optimal string alignment distance: insertions, deletions, substitutions, adjacent swaps. */
function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 8) return Math.abs(a.length - b.length);
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[] = new Array(rows * cols).fill(0);
  for (let i = 0; i < rows; i++) d[i * cols] = i;
  for (let j = 0; j < cols; j++) d[j] = j;
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let value = Math.min(
        (d[(i - 1) * cols + j] as number) + 1,
        (d[i * cols + j - 1] as number) + 1,
        (d[(i - 1) * cols + j - 1] as number) + cost,
      );
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        value = Math.min(value, (d[(i - 2) * cols + j - 2] as number) + 1);
      }
      d[i * cols + j] = value;
    }
  }
  return d[rows * cols - 1] as number;
}
