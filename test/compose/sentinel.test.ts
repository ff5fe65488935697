/**
 * The secret sentinel itself: it must find a secret in every rendering and encoding it
 * claims to cover, or the sentinel test could pass while secrets leak.
 */

import { describe, expect, it } from 'vitest';
import { echoesOf, needlesOf, SecretSentinel, sentinelSecret } from './support/sentinel.js';

const SECRET = sentinelSecret('self-test');

function leaksIn(value: unknown): string[] {
  const sentinel = new SecretSentinel();
  sentinel.add('secret', SECRET);
  sentinel.inspect('value', value);
  return sentinel.leaks().map((leak) => leak.encoding);
}

describe('the secret sentinel', () => {
  it('finds every echo of a secret (each encoding, truncated to 12) in an error message', () => {
    for (const { encoding, text } of echoesOf(SECRET)) {
      expect(leaksIn(new Error(`server said: ${text}.`)), encoding).toHaveLength(1);
    }
  });

  it('finds a secret quoted twice, as a JSON string in a MONITOR line', () => {
    const json = JSON.stringify({ token: SECRET });
    const monitorLine = `"HSET" "k" "val" ${JSON.stringify(json)}`;
    expect(leaksIn(monitorLine)).toEqual(['backslash-escaped']);
  });

  it('finds base64 of a secret at every byte alignment', () => {
    for (const pad of ['', 'a', 'ab', 'abc']) {
      const encoded = Buffer.from(`Bearer ${pad}${SECRET}`).toString('base64');
      expect(leaksIn({ header: encoded }), pad).toHaveLength(1);
    }
  });

  it('looks in the cause chain, non-enumerable and symbol properties, Maps, AggregateError and getters', () => {
    const hidden = {};
    Object.defineProperty(hidden, 'args', { value: ['EVALSHA', SECRET], enumerable: false });
    const symbol = { [Symbol('secret')]: SECRET };
    const cases: unknown[] = [
      new Error('outer', { cause: new Error('inner', { cause: { detail: SECRET } }) }),
      hidden,
      symbol,
      new Map([['k', { deep: [{ deeper: SECRET }] }]]),
      new AggregateError([new Error(SECRET.slice(0, 8))], 'many'),
      {
        get lazy() {
          return SECRET;
        },
      },
    ];
    for (const value of cases) expect(leaksIn(value)).toHaveLength(1);
  });

  it('is clean for values without the secret, and never prints the secret in its own failure', () => {
    expect(leaksIn(new Error('nothing here', { cause: { code: 'X' } }))).toEqual([]);
    const sentinel = new SecretSentinel();
    sentinel.add('secret', SECRET);
    sentinel.inspect('leaky', { message: SECRET });
    expect(() => sentinel.expectClean()).toThrow(/leaky: secret/);
    try {
      sentinel.expectClean();
    } catch (error) {
      expect(String(error)).not.toContain(SECRET.slice(0, 8));
    }
  });

  it('refuses a secret shorter than the prefix it checks', () => {
    expect(() => needlesOf('short')).toThrow(/at least 8/);
  });
});
