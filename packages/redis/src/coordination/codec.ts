/**
 * How a credential's value becomes the string a store holds, and back. JSON by default; a
 * TLS certificate (`{ key, cert }` PEM pair, strings or buffers) with {@link tlsCertificateCodec}.
 */

import type { CredentialCodec } from '@sluice/core';
import { CodecError } from './errors.js';

/**
 * Turns a credential value into a string and back, losslessly: core's `CredentialCodec`
 * under the name this package has always used. `decode(encode(v))` must work as `v` does; a
 * value it cannot write faithfully must make `encode` throw.
 */
export type Codec<T> = CredentialCodec<T>;

/** Deepest nesting `jsonCodec` accepts. */
const MAX_DEPTH = 64;

/**
 * `JSON.stringify` / `JSON.parse` for the values JSON holds faithfully: strings, finite
 * numbers, booleans, `null`, and arrays and plain objects of those. The default.
 *
 * Anything JSON would change silently is refused (`encode` throws a `CodecError`, code
 * `SLUICE_FLEET_CODEC_FAILED`, naming where in the value): a class instance or any object
 * whose prototype is not `Object.prototype` or `null` (a token class, a `Date`, a `Map`), an
 * object with its own `toJSON` (a redacting one would store `'[redacted]'`), a function, a
 * symbol, a bigint, an `undefined` member or array hole, a non-finite number, a cycle. Give
 * such values a codec of their own.
 * @throws {CodecError} `SLUICE_FLEET_CODEC_FAILED` from `encode`, for the values above.
 * @example
 * ```ts
 * coordinator.wrap('billing-api', mint, { codec: jsonCodec });
 * ```
 */
export const jsonCodec: Codec<unknown> = Object.freeze({
  encode(value: unknown): string {
    const problem = jsonProblem(value, '$', 0, new Set());
    if (problem !== undefined) {
      throw new CodecError('unencodable', `jsonCodec cannot store ${problem} faithfully`);
    }
    return JSON.stringify(value);
  },
  decode(text: string): unknown {
    return JSON.parse(text);
  },
});

/** A TLS key and certificate chain in PEM, as strings or bytes (Node's `Buffer` included). */
export interface PemPairInput {
  /** The private key, PEM. */
  readonly key: string | Uint8Array;
  /** The certificate chain, PEM. */
  readonly cert: string | Uint8Array;
}

/** A TLS key and certificate chain in PEM, as strings. */
export interface PemPair {
  /** The private key, PEM. */
  readonly key: string;
  /** The certificate chain, PEM. */
  readonly cert: string;
}

/**
 * Stores a TLS certificate `{ key, cert }` (the value type of `@sluice/tls`): buffers are read
 * as UTF-8 PEM; it decodes to strings, which Node's TLS accepts the same way.
 * @example
 * ```ts
 * const mint = coordinator.wrapKeyed('certificates', acmeMint, { codec: tlsCertificateCodec });
 * ```
 */
export const tlsCertificateCodec: {
  /** The pair as JSON of two PEM strings. */
  encode(value: PemPairInput): string;
  /** The pair back, as strings. */
  decode(text: string): PemPair;
} = Object.freeze({
  encode(value: PemPairInput): string {
    if (typeof value !== 'object' || value === null) {
      throw new TypeError('a TLS certificate must be an object { key, cert }');
    }
    return JSON.stringify({ key: pemText(value.key, 'key'), cert: pemText(value.cert, 'cert') });
  },
  decode(text: string): PemPair {
    const parsed: unknown = JSON.parse(text);
    const { key, cert } = (parsed ?? {}) as { key?: unknown; cert?: unknown };
    if (typeof key !== 'string' || typeof cert !== 'string') {
      throw new TypeError('a stored TLS certificate must have string `key` and `cert`');
    }
    return { key, cert };
  },
});

function pemText(part: string | Uint8Array, field: string): string {
  if (typeof part === 'string') return part;
  if (part instanceof Uint8Array) return new TextDecoder().decode(part);
  throw new TypeError(`a TLS certificate's \`${field}\` must be a PEM string or bytes`);
}

/** What JSON would not hold faithfully in `value` (at `path`), or `undefined`. */
function jsonProblem(
  value: unknown,
  path: string,
  depth: number,
  seen: Set<object>,
): string | undefined {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return undefined;
    case 'number':
      return Number.isFinite(value) ? undefined : `a non-finite number at ${path}`;
    case 'undefined':
      return `undefined at ${path}`;
    case 'bigint':
    case 'symbol':
    case 'function':
      return `a ${typeof value} at ${path}`;
  }
  if (value === null) return undefined;
  const object = value as object;
  if (depth >= MAX_DEPTH) return `a value nested deeper than ${MAX_DEPTH} levels at ${path}`;
  if (seen.has(object)) return `a cycle at ${path}`;
  const proto = Object.getPrototypeOf(object) as object | null;
  if (Array.isArray(object)) {
    if (proto !== Array.prototype) return `an array subclass at ${path}`;
  } else if (proto !== Object.prototype && proto !== null) {
    return `an instance of ${className(proto)} at ${path} (not a plain object)`;
  }
  if (Object.getOwnPropertySymbols(object).length > 0) return `symbol keys at ${path}`;
  if (Object.hasOwn(object, 'toJSON')) return `an object with its own toJSON at ${path}`;
  seen.add(object);
  try {
    if (Array.isArray(object)) {
      for (let i = 0; i < object.length; i++) {
        if (!Object.hasOwn(object, i)) return `a hole at ${path}[${i}]`;
        const problem = jsonProblem(object[i], `${path}[${i}]`, depth + 1, seen);
        if (problem !== undefined) return problem;
      }
      return undefined;
    }
    for (const key of Object.keys(object)) {
      const at = /^[A-Za-z_$][\w$]{0,63}$/.test(key) ? `${path}.${key}` : `${path}[…]`;
      const problem = jsonProblem((object as Record<string, unknown>)[key], at, depth + 1, seen);
      if (problem !== undefined) return problem;
    }
    return undefined;
  } finally {
    seen.delete(object);
  }
}

function className(proto: object): string {
  try {
    const name = (proto as { constructor?: { name?: unknown } }).constructor?.name;
    return typeof name === 'string' && /^[A-Za-z_$][\w$]{0,63}$/.test(name) ? name : 'a class';
  } catch {
    return 'a class';
  }
}
