/**
 * Secrets at rest: AES-256-GCM through WebCrypto, a random 96-bit IV per value, and a keyring
 * of key ids. The first key of the ring encrypts; every key decrypts, so a key is rotated in
 * two phases (add it everywhere second, then move it first). The associated data binds the
 * namespace (the Redis key prefix), the credential, the key id, the expiry and the generation,
 * so a ciphertext copied under another credential, or into another record of the same one,
 * fails to authenticate.
 */

import { checkKnownKeys, InvalidOptionError } from '@sluice/core';
import { DecryptError } from './errors.js';
import { type CryptoKeyLike, isCryptoKey, type SubtleLike, webCrypto } from './web-crypto.js';

/** One key of the ring. */
export interface EncryptionKey {
  /** The key's id, stored beside each ciphertext: 1 to 64 characters of `[A-Za-z0-9._-]`. */
  readonly id: string;
  /**
   * 32 bytes of key material, or an AES-GCM 256-bit `CryptoKey` (the first key of the ring
   * needs the `encrypt` usage, every key `decrypt`).
   */
  readonly key: Uint8Array | ArrayBuffer | CryptoKeyLike;
}

/** Options of encryption at rest. */
export interface EncryptionOptions {
  /**
   * The keyring, newest first: `keys[0]` encrypts every new value, any of them decrypts. At
   * most 16 keys, ids unique.
   */
  readonly keys: readonly EncryptionKey[];
}

/** What the associated data of one sealed value binds. */
export interface SealContext {
  /** `'credential'` or `'failure'`. */
  readonly kind: 'credential' | 'failure';
  /** The namespace: the Redis key prefix. */
  readonly namespace: string;
  /** The credential's reference (name, and key for a keyed credential). */
  readonly ref: string;
  /** Its expiry on the store's clock, as stored (`'inf'` for never). */
  readonly expiresAt: string;
  /** Its generation stamp, as stored. */
  readonly generation: string;
}

const IV_BYTES = 12;
const KEY_ID = /^[A-Za-z0-9._-]{1,64}$/;
const MAX_KEYS = 16;

/** A validated keyring; keys are imported into WebCrypto on first use. */
export class Keyring {
  readonly #entries: ReadonlyMap<string, Promise<CryptoKeyLike>>;
  /** The id of the key that encrypts. */
  readonly primaryId: string;

  private constructor(entries: ReadonlyMap<string, Promise<CryptoKeyLike>>, primaryId: string) {
    this.#entries = entries;
    this.primaryId = primaryId;
  }

  /**
   * Validates `options` (throwing {@link InvalidOptionError} naming `encryption.keys...`) and
   * copies every raw key, so later changes to the caller's buffers change nothing.
   */
  static from(options: unknown): Keyring {
    if (typeof options !== 'object' || options === null || Array.isArray(options)) {
      throw new InvalidOptionError('encryption', 'an object { keys }', options);
    }
    checkKnownKeys(options, ['keys'], 'encryption');
    const keys = (options as { keys?: unknown }).keys;
    if (!Array.isArray(keys) || keys.length === 0 || keys.length > MAX_KEYS) {
      throw new InvalidOptionError(
        'encryption.keys',
        `an array of 1 to ${MAX_KEYS} { id, key } entries`,
        keys,
      );
    }
    const subtle = webCrypto()?.subtle;
    if (subtle === undefined) {
      throw new InvalidOptionError(
        'encryption',
        'a runtime with WebCrypto (crypto.subtle)',
        options,
      );
    }
    const entries = new Map<string, Promise<CryptoKeyLike>>();
    keys.forEach((entry: unknown, index: number) => {
      const where = `encryption.keys[${index}]`;
      if (typeof entry !== 'object' || entry === null) {
        throw new InvalidOptionError(where, 'an object { id, key }', entry);
      }
      // The key material is never read for the message: only the unknown key's name shows.
      checkKnownKeys(entry, ['id', 'key'], where);
      const { id, key } = entry as { id?: unknown; key?: unknown };
      if (typeof id !== 'string' || !KEY_ID.test(id)) {
        throw new InvalidOptionError(`${where}.id`, 'a string of 1 to 64 [A-Za-z0-9._-]', id);
      }
      if (entries.has(id)) throw new InvalidOptionError(`${where}.id`, 'a unique key id', id);
      const imported = importKey(subtle, key, index === 0, `${where}.key`);
      imported.catch(() => {}); // surfaced where it is awaited
      entries.set(id, imported);
    });
    return new Keyring(entries, (keys[0] as EncryptionKey).id);
  }

  /** Encrypts `plaintext` with the primary key: base64 of IV followed by ciphertext and tag. */
  async seal(plaintext: string, context: SealContext): Promise<{ keyId: string; payload: string }> {
    const keyId = this.primaryId;
    const key = await (this.#entries.get(keyId) as Promise<CryptoKeyLike>);
    const crypto = webCrypto() as NonNullable<ReturnType<typeof webCrypto>>;
    const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES));
    const sealed = await crypto.subtle.encrypt(
      { name: 'AES-GCM', iv, additionalData: associatedData(context, keyId), tagLength: 128 },
      key,
      new TextEncoder().encode(plaintext),
    );
    const bytes = new Uint8Array(IV_BYTES + sealed.byteLength);
    bytes.set(iv, 0);
    bytes.set(new Uint8Array(sealed), IV_BYTES);
    return { keyId, payload: toBase64(bytes) };
  }

  /**
   * Decrypts a payload sealed by {@link seal} under `keyId`.
   * @throws {DecryptError} for an unknown key id, a malformed payload or a failed
   *   authentication (tampered, or sealed for another context); never with the plaintext.
   */
  async open(keyId: string, payload: string, context: SealContext): Promise<string> {
    const entry = this.#entries.get(keyId);
    if (entry === undefined) throw new DecryptError('unknown-key', keyId);
    let bytes: Uint8Array;
    try {
      bytes = fromBase64(payload);
    } catch {
      throw new DecryptError('malformed', keyId);
    }
    if (bytes.length < IV_BYTES + 16) throw new DecryptError('malformed', keyId);
    let opened: ArrayBuffer;
    try {
      opened = await (webCrypto() as NonNullable<ReturnType<typeof webCrypto>>).subtle.decrypt(
        {
          name: 'AES-GCM',
          iv: bytes.subarray(0, IV_BYTES),
          additionalData: associatedData(context, keyId),
          tagLength: 128,
        },
        await entry,
        bytes.subarray(IV_BYTES),
      );
    } catch {
      throw new DecryptError('authentication-failed', keyId);
    }
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(opened);
    } catch {
      throw new DecryptError('malformed', keyId);
    }
  }
}

function importKey(
  subtle: SubtleLike,
  key: unknown,
  primary: boolean,
  option: string,
): Promise<CryptoKeyLike> {
  if (isCryptoKey(key)) {
    const algorithm = key.algorithm as { name?: string; length?: number };
    if (algorithm.name !== 'AES-GCM' || algorithm.length !== 256) {
      throw new InvalidOptionError(option, 'an AES-GCM CryptoKey of 256 bits', key);
    }
    const usages = key.usages;
    if (!usages.includes('decrypt') || (primary && !usages.includes('encrypt'))) {
      throw new InvalidOptionError(
        option,
        primary ? "a CryptoKey with 'encrypt' and 'decrypt' usages" : "a CryptoKey with 'decrypt'",
        key,
      );
    }
    return Promise.resolve(key);
  }
  let bytes: Uint8Array;
  if (key instanceof Uint8Array) bytes = new Uint8Array(key);
  else if (key instanceof ArrayBuffer) bytes = new Uint8Array(key.slice(0));
  else
    throw new InvalidOptionError(
      option,
      '32 bytes (Uint8Array or ArrayBuffer) or a CryptoKey',
      key,
    );
  if (bytes.length !== 32) {
    throw new InvalidOptionError(
      option,
      'exactly 32 bytes of key material',
      `${bytes.length} bytes`,
    );
  }
  return subtle.importKey('raw', bytes, { name: 'AES-GCM' }, false, ['encrypt', 'decrypt']);
}

function associatedData(context: SealContext, keyId: string): Uint8Array {
  return new TextEncoder().encode(
    JSON.stringify([
      'sluice-fleet/1',
      context.kind,
      context.namespace,
      context.ref,
      keyId,
      context.expiresAt,
      context.generation,
    ]),
  );
}

function toBase64(bytes: Uint8Array): string {
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}

function fromBase64(text: string): Uint8Array {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}
