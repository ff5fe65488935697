/**
 * How a credential's value becomes the string a store holds, and back. JSON by default; a
 * TLS certificate (`{ key, cert }` PEM pair, strings or buffers) with {@link tlsCertificateCodec}.
 */

/** Turns a credential value into a string and back. `decode(encode(v))` must equal `v`. */
export interface Codec<T> {
  /** The value as a string. May throw for a value it cannot encode. */
  encode(value: T): string;
  /** The value back from {@link encode}'s output. May throw for a string it cannot read. */
  decode(text: string): T;
}

/**
 * `JSON.stringify` / `JSON.parse`: strings, numbers, plain objects and arrays. The default.
 * @example
 * ```ts
 * coordinator.wrap('billing-api', mint, { codec: jsonCodec });
 * ```
 */
export const jsonCodec: Codec<unknown> = Object.freeze({
  encode(value: unknown): string {
    const text = JSON.stringify(value);
    if (typeof text !== 'string') throw new TypeError('the value cannot be encoded as JSON');
    return text;
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
