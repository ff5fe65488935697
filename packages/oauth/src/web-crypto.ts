/**
 * WebCrypto key types as this package's API names them. They describe `CryptoKey` and
 * `CryptoKeyPair` structurally, so a service compiled without the DOM lib (Node types only,
 * `skipLibCheck: false`) can use the package's declarations: every `crypto.subtle` key, from
 * Node or a browser, fits them.
 */

/** A WebCrypto key (`CryptoKey`), e.g. from `crypto.subtle.importKey` or `generateKey`. */
export interface WebCryptoKey {
  /** `'private'`, `'public'` or `'secret'`. */
  readonly type: string;
  /** Whether the key material can be exported. */
  readonly extractable: boolean;
  /** The key's algorithm, at least its name. */
  readonly algorithm: WebCryptoAlgorithm;
  /** What the key may be used for (`'sign'`, `'verify'`). */
  readonly usages: readonly string[];
}

/** A WebCrypto key's algorithm (`KeyAlgorithm`), at least its name. */
export interface WebCryptoAlgorithm {
  /** `'ECDSA'`, `'RSASSA-PKCS1-v1_5'`, `'Ed25519'`, ... */
  readonly name: string;
}

/** A WebCrypto key pair (`CryptoKeyPair`), e.g. from `crypto.subtle.generateKey`. */
export interface WebCryptoKeyPair {
  /** The private key: it signs. */
  readonly privateKey: WebCryptoKey;
  /** The public key: it travels in DPoP proofs, so it must be extractable. */
  readonly publicKey: WebCryptoKey;
}
