import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { escapeRefPart, keyedRef, singleRef } from '../../src/coordination/ref.js';

describe('credential references', () => {
  it('never contain a brace, and two different (name, key) pairs never share one', () => {
    const part = fc.string({ minLength: 1, maxLength: 20, unit: 'binary' });
    fc.assert(
      fc.property(part, part, part, part, (n1, k1, n2, k2) => {
        const a = keyedRef(n1, k1);
        const b = keyedRef(n2, k2);
        expect(/[{}]/.test(a)).toBe(false);
        if (n1 !== n2 || k1 !== k2) expect(a).not.toBe(b);
        expect(singleRef(n1)).not.toBe(a); // a single credential never collides with a key
      }),
    );
  });

  it('name collisions: the key encoding is injective on the wire (UTF-8) because ill-formed names are refused: tenant-\\uD800 and tenant-\\uFFFD never share a key', () => {
    expect(() => keyedRef('tenants', 'tenant-\uD800')).toThrow(
      expect.objectContaining({ code: 'SLUICE_INVALID_OPTION', option: 'keyOf(key)' }),
    );
    expect(() => singleRef('api-\uDC00x')).toThrow(
      expect.objectContaining({ code: 'SLUICE_INVALID_OPTION', option: 'name' }),
    );
    expect(keyedRef('tenants', 'tenant-\uFFFD')).toBe('tenants/tenant-\uFFFD');
    expect(singleRef('emoji-\uD83D\uDE00')).toBe('emoji-\uD83D\uDE00'); // a pair is fine
    const codeUnit = fc.integer({ min: 0, max: 0xffff }).map((n) => String.fromCharCode(n));
    const part = fc.string({
      minLength: 1,
      maxLength: 8,
      unit: fc.oneof(codeUnit, fc.constantFrom('\uD800', '\uDC00', '\uFFFD', '/', '%')),
    });
    const wire = (name: string, key: string): string | undefined => {
      try {
        return Buffer.from(keyedRef(name, key), 'utf8').toString('hex');
      } catch {
        return undefined; // refused
      }
    };
    fc.assert(
      fc.property(part, part, part, part, (n1, k1, n2, k2) => {
        const a = wire(n1, k1);
        const b = wire(n2, k2);
        if (a !== undefined && b !== undefined && (n1 !== n2 || k1 !== k2)) expect(a).not.toBe(b);
      }),
      { numRuns: 2_000 },
    );
  });

  it('escapes %, braces, / and : and control characters only', () => {
    expect(escapeRefPart('billing-api v2')).toBe('billing-api v2');
    expect(escapeRefPart('a{b}c/d:e%f\n')).toBe('a%7Bb%7Dc%2Fd%3Ae%25f%0A');
  });

  it.each([
    ['name', () => singleRef('')],
    ['name', () => singleRef(7 as never)],
    ['name', () => singleRef('x'.repeat(1_025))],
    ['keyOf(key)', () => keyedRef('n', '')],
  ])('refuses an empty, non-string or too long %s with InvalidOptionError', (option, make) => {
    expect(make).toThrow(expect.objectContaining({ code: 'SLUICE_INVALID_OPTION', option }));
  });
});
