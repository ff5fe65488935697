/**
 * The few WebCrypto shapes the coordinator uses, declared here so the package's types need
 * neither the DOM library nor Node's: the runtime objects are `globalThis.crypto`'s.
 */

/** A WebCrypto `CryptoKey`, as far as the keyring checks it. */
export interface CryptoKeyLike {
  /** `'secret'` for an AES key. */
  readonly type: string;
  /** The key's algorithm: `AES-GCM` with a `length` of 256 here. */
  readonly algorithm: {
    /** The algorithm's name. */
    readonly name: string;
    /** The key length in bits. */
    readonly length?: number;
  };
  /** What the key may do: `encrypt`, `decrypt`, ... */
  readonly usages: readonly string[];
}

/** The AES-GCM parameters of `encrypt` / `decrypt`. */
interface AesGcmParams {
  readonly name: 'AES-GCM';
  readonly iv: Uint8Array;
  readonly additionalData: Uint8Array;
  readonly tagLength: number;
}

/** The part of `crypto.subtle` the keyring calls. */
export interface SubtleLike {
  importKey(
    format: 'raw',
    keyData: Uint8Array,
    algorithm: { readonly name: 'AES-GCM' },
    extractable: boolean,
    usages: string[],
  ): Promise<CryptoKeyLike>;
  encrypt(algorithm: AesGcmParams, key: CryptoKeyLike, data: Uint8Array): Promise<ArrayBuffer>;
  decrypt(algorithm: AesGcmParams, key: CryptoKeyLike, data: Uint8Array): Promise<ArrayBuffer>;
}

/** `globalThis.crypto`, typed to what is used, or `undefined` where there is none. */
export function webCrypto():
  | { readonly subtle: SubtleLike; getRandomValues(array: Uint8Array): Uint8Array }
  | undefined {
  const crypto = (globalThis as { crypto?: unknown }).crypto as
    | { subtle?: SubtleLike; getRandomValues?: (array: Uint8Array) => Uint8Array }
    | undefined;
  if (crypto?.subtle === undefined || typeof crypto.getRandomValues !== 'function')
    return undefined;
  return crypto as { subtle: SubtleLike; getRandomValues(array: Uint8Array): Uint8Array };
}

/** Whether `key` is a WebCrypto `CryptoKey` of this runtime. */
export function isCryptoKey(key: unknown): key is CryptoKeyLike {
  const CryptoKeyClass = (globalThis as { CryptoKey?: unknown }).CryptoKey;
  return (
    typeof CryptoKeyClass === 'function' && key instanceof (CryptoKeyClass as new () => object)
  );
}
