import tls from 'node:tls';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { SecureContextCache } from '../src/index.js';
import { createLocalCa, type IssuedLeaf, type LocalCa } from './support/local-ca.js';

let ca: LocalCa;
let leaf: IssuedLeaf;

beforeAll(async () => {
  ca = await createLocalCa();
  leaf = await ca.issue('cache.example', 120_000);
});

describe('SecureContextCache', () => {
  it('builds a context once per certificate object and reads the leaf notAfter from the chain', () => {
    const build = vi.spyOn(tls, 'createSecureContext');
    const cache = new SecureContextCache({ sessionTimeout: 60 });
    const first = cache.get(leaf.certificate);
    expect(cache.get(leaf.certificate)).toBe(first);
    expect(build).toHaveBeenCalledTimes(1);
    expect(build.mock.calls[0]?.[0]).toMatchObject({ sessionTimeout: 60 });
    expect(first.notAfter).toBe(leaf.notAfter); // the leaf's, not the CA's that follows it
    const copy = { ...leaf.certificate };
    expect(cache.get(copy)).not.toBe(first);
    expect(build).toHaveBeenCalledTimes(2);
    build.mockRestore();
  });

  it('throws for a certificate that is not a { key, cert } pair of PEM', () => {
    const cache = new SecureContextCache();
    expect(() => cache.get(null as never)).toThrow(TypeError);
    expect(() => cache.get({ key: leaf.certificate.key } as never)).toThrow(TypeError);
    expect(() => cache.get({ key: 'garbage', cert: leaf.certificate.cert })).toThrow();
  });
});
