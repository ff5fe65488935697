import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isTlsError, normalizeServername, ServernameInvalidError } from '../src/index.js';
import { checkServername, describeServername } from '../src/servername.js';

const HOSTNAME =
  /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/;

function problemOf(name: unknown, allowSingleLabel = false): string | undefined {
  const checked = checkServername(name, allowSingleLabel);
  return typeof checked === 'string' ? undefined : checked.problem;
}

describe('normalizeServername', () => {
  it.each([
    ['example.com', 'example.com'],
    ['WWW.Example.COM', 'www.example.com'],
    ['www.example.com.', 'www.example.com'],
    ['xn--bcher-kva.example', 'xn--bcher-kva.example'],
    ['a-b.c-d.example', 'a-b.c-d.example'],
    ['1.example.com', '1.example.com'],
    ['example.c0m', 'example.c0m'],
    [`${'a'.repeat(63)}.com`, `${'a'.repeat(63)}.com`],
    [`${'a.'.repeat(125)}co.`, `${'a.'.repeat(125)}co`],
  ])('accepts %j as %j', (input, expected) => {
    expect(normalizeServername(input)).toBe(expected);
  });

  it('accepts exactly 253 characters and a trailing dot on top, refuses 254', () => {
    const name253 = `${'a'.repeat(61)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(63)}`;
    expect(name253).toHaveLength(253);
    expect(normalizeServername(name253)).toBe(name253);
    expect(normalizeServername(`${name253}.`)).toBe(name253);
    expect(problemOf(`x${name253}`)).toBe('too-long');
  });

  it.each([
    ['', 'empty'],
    ['.', 'empty'],
    ['a'.repeat(300), 'too-long'],
    ['../etc/passwd', 'empty-label'],
    ['a/b.example.com', 'bad-character'],
    ['é.example.com', 'non-ascii'],
    ['bücher.example', 'non-ascii'],
    ['127.0.0.1', 'ip-literal'],
    ['127.1', 'ip-literal'],
    ['10.0.0.1.', 'ip-literal'],
    ['::1', 'ip-literal'],
    ['[::1]', 'ip-literal'],
    ['fe80::1%eth0', 'ip-literal'],
    ['example.123', 'numeric-tld'],
    ['a..b.example', 'empty-label'],
    ['example.com..', 'empty-label'],
    ['.example.com', 'empty-label'],
    ['-a.example.com', 'bad-hyphen'],
    ['a-.example.com', 'bad-hyphen'],
    ['x_y.example.com', 'bad-character'],
    ['*.example.com', 'bad-character'],
    ['a b.example.com', 'bad-character'],
    ['a\u0000.example.com', 'bad-character'],
    [`${'a'.repeat(64)}.com`, 'label-too-long'],
    ['localhost', 'single-label'],
  ])('refuses %j: %s', (input, problem) => {
    expect(problemOf(input)).toBe(problem);
    let thrown: unknown;
    try {
      normalizeServername(input);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ServernameInvalidError);
    expect(isTlsError(thrown, 'SLUICE_TLS_SERVERNAME_INVALID')).toBe(true);
    expect((thrown as ServernameInvalidError).problem).toBe(problem);
  });

  it('accepts single labels only with allowSingleLabel', () => {
    expect(normalizeServername('LocalHost', { allowSingleLabel: true })).toBe('localhost');
    expect(problemOf('localhost')).toBe('single-label');
    expect(problemOf('127', true)).toBe('ip-literal');
  });

  it('refuses values that are not strings without throwing from the check', () => {
    for (const value of [undefined, null, 42, {}, ['a.com']]) {
      expect(problemOf(value)).toBe('not-a-string');
    }
  });

  it('describes hostile names escaped and truncated, never echoing control characters', () => {
    const described = describeServername(`evil\u0000\u001b[31m${'x'.repeat(200)}`);
    expect([...described].every((ch) => ch.charCodeAt(0) >= 0x20)).toBe(true);
    expect(described).toContain('\\u0000');
    expect(described).toContain('(210 chars)');
    expect(describeServername('a"b')).toBe('"a\\u0022b"');
  });
});

describe('normalizeServername properties', () => {
  it('never throws anything but ServernameInvalidError, and accepted names match the hostname grammar', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ maxLength: 300 }),
          fc.string({ unit: 'binary', maxLength: 80 }),
          fc
            .array(fc.stringMatching(/^[a-zA-Z0-9_.-]{0,70}$/), { minLength: 1, maxLength: 6 })
            .map((labels) => labels.join('.')),
        ),
        fc.boolean(),
        (input, allowSingleLabel) => {
          let normalized: string;
          try {
            normalized = normalizeServername(input, { allowSingleLabel });
          } catch (error) {
            expect(error).toBeInstanceOf(ServernameInvalidError);
            return;
          }
          expect(normalized).toMatch(HOSTNAME);
          expect(normalized.split('.').at(-1)).not.toMatch(/^[0-9]+$/);
          if (!allowSingleLabel) expect(normalized).toContain('.');
          // Idempotent, and only case and one trailing dot changed.
          expect(normalizeServername(normalized, { allowSingleLabel })).toBe(normalized);
          expect(input.toLowerCase().replace(/\.$/, '')).toBe(normalized);
        },
      ),
      { numRuns: 5_000 },
    );
  });

  it('accepts every name built from the grammar', () => {
    const label = fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?$/);
    const tld = fc.stringMatching(/^[a-z][a-z0-9]{1,10}$/);
    fc.assert(
      fc.property(fc.array(label, { minLength: 1, maxLength: 5 }), tld, (labels, top) => {
        const name = [...labels, top].join('.');
        expect(normalizeServername(name.toUpperCase())).toBe(name);
      }),
    );
  });
});
