import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { labelValue } from '../src/label-value.js';

const wellFormed = (text: string) => Buffer.from(text, 'utf8').toString('utf8') === text;

describe('labelValue', () => {
  it('keeps well-formed text without \\u as it is', () => {
    for (const text of ['billing-api', 'tenant-\uFFFD', 'emoji-😀', 'C:\\path', '']) {
      expect(labelValue(text)).toBe(text);
    }
  });

  it('writes lone surrogates as \\uXXXX text and doubles backslashes', () => {
    expect(labelValue('tenant-\uD800')).toBe('tenant-\\uD800');
    expect(labelValue('\uDC00x')).toBe('\\uDC00x');
    expect(labelValue('a\\uD800')).toBe('a\\\\uD800');
    expect(labelValue('a\\b\uD83D')).toBe('a\\\\b\\uD83D');
  });

  it('is injective and always well-formed: it decodes back to the input (property)', () => {
    const decode = (text: string) =>
      text.includes('\\u')
        ? text.replace(/\\\\|\\u([0-9A-F]{4})/g, (_, hex?: string) =>
            hex === undefined ? '\\' : String.fromCharCode(Number.parseInt(hex, 16)),
          )
        : text;
    const units = fc.constantFrom(
      'a',
      '\\',
      'u',
      'D',
      '8',
      '0',
      '\uD800',
      '\uDBFF',
      '\uDC00',
      '\uFFFD',
      '😀',
    );
    fc.assert(
      fc.property(fc.array(units, { maxLength: 12 }), (parts) => {
        const text = parts.join('');
        const label = labelValue(text);
        expect(wellFormed(label)).toBe(true);
        expect(decode(label)).toBe(text);
      }),
      { numRuns: 2000 },
    );
    const tricky = ['x\uD800', 'x\\uD800', 'x\\\\uD800', 'x\uFFFD', 'x\\u', 'x\\', 'x\uD800\uDC00'];
    expect(new Set(tricky.map(labelValue)).size).toBe(tricky.length);
  });
});
