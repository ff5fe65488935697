/**
 * One `SecureContext` per certificate: parsing a PEM key and chain costs far more than a
 * handshake's lookup, so it happens once per certificate, never per handshake.
 */

import { X509Certificate } from 'node:crypto';
import tls, { type SecureContext, type SecureContextOptions } from 'node:tls';

/** A certificate as the provider hands it out: PEM private key and PEM chain. */
export interface TlsCertificate {
  /** The private key, PEM (PKCS#8 or the key type's own PEM form). Never logged. */
  readonly key: string | Buffer;
  /** The leaf certificate followed by its intermediates, PEM, in one string or buffer. */
  readonly cert: string | Buffer;
}

/** A certificate's built context and the leaf's validity window. */
export interface CachedSecureContext {
  /** The context to hand to the handshake. */
  readonly context: SecureContext;
  /** The leaf certificate's `notBefore`, in epoch milliseconds. */
  readonly notBefore: number;
  /** The leaf certificate's `notAfter`, in epoch milliseconds. */
  readonly notAfter: number;
}

/** TLS settings merged under every certificate's key and chain (ciphers, minVersion, ...). */
export type CertificateContextOptions = Omit<SecureContextOptions, 'key' | 'cert' | 'pfx'>;

/**
 * Builds a `SecureContext` per certificate, once, and keeps it as long as the certificate
 * object itself is alive: entries are held in a `WeakMap` keyed by the `{ key, cert }` object,
 * so a certificate dropped by the provider takes its context with it. Treat certificate
 * objects as immutable: a mutated object keeps its old context.
 *
 * @example
 * ```ts
 * const contexts = new SecureContextCache({ minVersion: 'TLSv1.2' });
 * const { context } = contexts.get({ key: keyPem, cert: chainPem });
 * ```
 */
export class SecureContextCache {
  readonly #options: CertificateContextOptions;
  readonly #entries = new WeakMap<TlsCertificate, CachedSecureContext>();

  /**
   * @param options - merged under each certificate's `key` and `cert`.
   * @default options `{}` (Node's defaults)
   */
  constructor(options: CertificateContextOptions = {}) {
    this.#options = Object.freeze({ ...options });
  }

  /**
   * The certificate's context, built on first use.
   * @throws the error of `tls.createSecureContext` for a key or chain that does not load,
   *   or a `TypeError` when `certificate` is not a `{ key, cert }` object.
   */
  get(certificate: TlsCertificate): CachedSecureContext {
    const cached = this.#entries.get(certificate);
    if (cached !== undefined) return cached;
    if (typeof certificate !== 'object' || certificate === null || !isPem(certificate.key)) {
      throw new TypeError('a TLS certificate must be an object { key, cert } of PEM strings');
    }
    const { key, cert } = certificate;
    if (!isPem(cert)) throw new TypeError('a TLS certificate `cert` must be a PEM string');
    const context = tls.createSecureContext({ ...this.#options, key, cert });
    const leaf = new X509Certificate(cert);
    const notBefore = Date.parse(leaf.validFrom);
    const notAfter = Date.parse(leaf.validTo);
    const entry: CachedSecureContext = Object.freeze({ context, notBefore, notAfter });
    this.#entries.set(certificate, entry);
    return entry;
  }
}

function isPem(value: unknown): value is string | Buffer {
  return (typeof value === 'string' && value !== '') || Buffer.isBuffer(value);
}
