import { webcrypto } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Keyring, type SealContext } from '../../src/coordination/encryption.js';
import { DecryptError } from '../../src/coordination/errors.js';

const key = (fill: number) => new Uint8Array(32).fill(fill);
const CONTEXT: SealContext = {
  kind: 'credential',
  namespace: 'sluice:',
  ref: 'billing',
  expiresAt: '1800000000000',
  generation: '42',
};

async function openError(promise: Promise<unknown>): Promise<DecryptError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(DecryptError);
    return error as DecryptError;
  }
  throw new Error('opened');
}

describe('Keyring', () => {
  it('seals with the first key and opens with the same context: AES-256-GCM, a fresh 96-bit IV each time', async () => {
    const ring = Keyring.from({
      keys: [
        { id: 'k2', key: key(2) },
        { id: 'k1', key: key(1) },
      ],
    });
    const a = await ring.seal('secret-token', CONTEXT);
    const b = await ring.seal('secret-token', CONTEXT);
    expect(a.keyId).toBe('k2');
    expect(a.payload).not.toBe(b.payload);
    expect(Buffer.from(a.payload, 'base64').length).toBe(12 + 'secret-token'.length + 16);
    expect(a.payload).not.toContain('secret');
    expect(await ring.open(a.keyId, a.payload, CONTEXT)).toBe('secret-token');
  });

  it('opens with any key of the ring: the second phase of a rotation reads what the first wrote', async () => {
    const before = Keyring.from({
      keys: [
        { id: 'old', key: key(1) },
        { id: 'new', key: key(2) },
      ],
    });
    const after = Keyring.from({
      keys: [
        { id: 'new', key: key(2) },
        { id: 'old', key: key(1) },
      ],
    });
    const sealedBefore = await before.seal('v1', CONTEXT);
    const sealedAfter = await after.seal('v2', CONTEXT);
    expect(await after.open(sealedBefore.keyId, sealedBefore.payload, CONTEXT)).toBe('v1');
    expect(await before.open(sealedAfter.keyId, sealedAfter.payload, CONTEXT)).toBe('v2');
  });

  it.each([
    ['namespace', { namespace: 'other:' }],
    ['credential', { ref: 'other-name' }],
    ['expiry', { expiresAt: '1800000000001' }],
    ['generation', { generation: '43' }],
    ['kind', { kind: 'failure' as const }],
  ])(
    'fails authentication when the %s in the associated data differs (a moved or replayed ciphertext)',
    async (_what, change) => {
      const ring = Keyring.from({ keys: [{ id: 'k1', key: key(1) }] });
      const sealed = await ring.seal('secret-token', CONTEXT);
      const error = await openError(
        ring.open(sealed.keyId, sealed.payload, { ...CONTEXT, ...change }),
      );
      expect(error.problem).toBe('authentication-failed');
      expect(error.message).not.toContain('secret');
    },
  );

  it('an unknown key id, a malformed payload and a tampered byte are DecryptErrors naming the problem, never the value', async () => {
    const ring = Keyring.from({ keys: [{ id: 'k1', key: key(1) }] });
    const sealed = await ring.seal('secret-token', CONTEXT);
    expect((await openError(ring.open('k9', sealed.payload, CONTEXT))).problem).toBe('unknown-key');
    expect((await openError(ring.open('k1', '%%%', CONTEXT))).problem).toBe('malformed');
    expect((await openError(ring.open('k1', 'AAAA', CONTEXT))).problem).toBe('malformed');
    const bytes = Buffer.from(sealed.payload, 'base64');
    bytes[14] = (bytes[14] as number) ^ 1;
    const tampered = await openError(ring.open('k1', bytes.toString('base64'), CONTEXT));
    expect(tampered.problem).toBe('authentication-failed');
    expect(tampered.code).toBe('SLUICE_FLEET_DECRYPT_FAILED');
    expect(`${tampered.message} ${JSON.stringify(tampered)}`).not.toContain('secret');
  });

  it('the same key under another key id does not open (the key id is bound too)', async () => {
    const ring = Keyring.from({
      keys: [
        { id: 'a', key: key(1) },
        { id: 'b', key: key(1) },
      ],
    });
    const sealed = await ring.seal('v', CONTEXT);
    expect((await openError(ring.open('b', sealed.payload, CONTEXT))).problem).toBe(
      'authentication-failed',
    );
  });

  it('copies raw key bytes at construction: changing the caller’s buffer afterwards changes nothing', async () => {
    const material = key(7);
    const ring = Keyring.from({ keys: [{ id: 'k', key: material }] });
    const sealed = await ring.seal('v', CONTEXT);
    material.fill(0);
    expect(await ring.open('k', sealed.payload, CONTEXT)).toBe('v');
  });

  it('accepts an AES-GCM 256 CryptoKey and an ArrayBuffer', async () => {
    const cryptoKey = await webcrypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, [
      'encrypt',
      'decrypt',
    ]);
    const ring = Keyring.from({
      keys: [
        { id: 'ck', key: cryptoKey },
        { id: 'ab', key: key(3).buffer },
      ],
    });
    const sealed = await ring.seal('v', CONTEXT);
    expect(await ring.open('ck', sealed.payload, CONTEXT)).toBe('v');
  });

  it.each([
    ['encryption', null],
    ['encryption.keys', { keys: [] }],
    [
      'encryption.keys',
      { keys: Array.from({ length: 17 }, (_, i) => ({ id: `k${i}`, key: key(1) })) },
    ],
    ['encryption.keys[0]', { keys: [null] }],
    ['encryption.keys[0].id', { keys: [{ id: '', key: key(1) }] }],
    ['encryption.keys[0].id', { keys: [{ id: 'has space', key: key(1) }] }],
    [
      'encryption.keys[1].id',
      {
        keys: [
          { id: 'k', key: key(1) },
          { id: 'k', key: key(2) },
        ],
      },
    ],
    ['encryption.keys[0].key', { keys: [{ id: 'k', key: new Uint8Array(31) }] }],
    ['encryption.keys[0].key', { keys: [{ id: 'k', key: 'a string of 32 characters!!!!!!!' }] }],
  ])('refuses a bad keyring with InvalidOptionError naming %s', (option, value) => {
    expect(() => Keyring.from(value)).toThrow(expect.objectContaining({ option }));
  });

  it('refuses a CryptoKey that is not AES-GCM 256 with encrypt and decrypt', async () => {
    const aes128 = await webcrypto.subtle.generateKey({ name: 'AES-GCM', length: 128 }, false, [
      'encrypt',
      'decrypt',
    ]);
    const decryptOnly = await webcrypto.subtle.generateKey(
      { name: 'AES-GCM', length: 256 },
      false,
      ['decrypt'],
    );
    expect(() => Keyring.from({ keys: [{ id: 'k', key: aes128 }] })).toThrow(
      expect.objectContaining({ option: 'encryption.keys[0].key' }),
    );
    expect(() => Keyring.from({ keys: [{ id: 'k', key: decryptOnly }] })).toThrow(
      expect.objectContaining({ option: 'encryption.keys[0].key' }),
    );
    // A decrypt-only key is fine anywhere but first.
    expect(() =>
      Keyring.from({
        keys: [
          { id: 'a', key: key(1) },
          { id: 'b', key: decryptOnly },
        ],
      }),
    ).not.toThrow();
  });
});
