import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { checkMintedCredential, credentialFromExpiresIn, remainingMs } from '../src/credential.js';
import { InvalidCredentialError, InvalidOptionError } from '../src/errors.js';
import { installClock, START, type TestClock } from './support/fake-clock.js';

let clock: TestClock;
beforeEach(() => {
  clock = installClock();
});
afterEach(() => {
  clock.uninstall();
});

describe('credentialFromExpiresIn', () => {
  it('turns expires_in seconds into epoch milliseconds on the global clock, read at call time', () => {
    expect(credentialFromExpiresIn('t', 3600)).toEqual({
      value: 't',
      expiresAt: START + 3_600_000,
    });
    clock.tick(1_000);
    expect(credentialFromExpiresIn('t', 1).expiresAt).toBe(START + 2_000);
  });

  it('uses an injected clock and subtracts the skew', () => {
    expect(credentialFromExpiresIn('t', 60, { now: () => 5_000, skewSeconds: 10 })).toEqual({
      value: 't',
      expiresAt: 55_000,
    });
  });

  it('never lets the skew take more than half the lifetime', () => {
    // expires_in 30 with a 60 s skew: half of 30 s is kept, not an already expired token.
    expect(credentialFromExpiresIn('t', 30, { now: () => 0, skewSeconds: 60 }).expiresAt).toBe(
      15_000,
    );
    expect(credentialFromExpiresIn('t', 30, { now: () => 0, skewSeconds: 15 }).expiresAt).toBe(
      15_000,
    );
    expect(credentialFromExpiresIn('t', 0, { now: () => 0, skewSeconds: 5 }).expiresAt).toBe(0);
  });

  it('a missing expires_in means the credential never expires', () => {
    expect(credentialFromExpiresIn('t', undefined)).toEqual({ value: 't' });
  });

  it.each([[-1], [Number.NaN], [Number.POSITIVE_INFINITY], ['3600']])(
    'refuses expires_in %p',
    (bad) => {
      expect(() => credentialFromExpiresIn('t', bad as number)).toThrow(InvalidOptionError);
    },
  );

  it('never echoes the value in its errors', () => {
    expect(() => credentialFromExpiresIn('sk_SECRET', -5)).toThrow(
      expect.not.stringContaining('sk_SECRET'),
    );
  });
});

describe('checkMintedCredential', () => {
  it('returns a frozen copy holding only value and expiresAt', () => {
    const checked = checkMintedCredential<string>(
      { value: 'v', expiresAt: 5, extra: 'dropped' },
      'n',
    );
    expect(checked).toEqual({ value: 'v', expiresAt: 5 });
    expect(Object.isFrozen(checked)).toBe(true);
  });

  it('names the problem without printing the value', () => {
    expect(() => checkMintedCredential({ value: 'sk_SECRET', expiresAt: 'soon' }, 'api')).toThrow(
      /\[api\] .*`expiresAt` must be a finite number of epoch milliseconds, received a string/,
    );
    try {
      checkMintedCredential({ value: 'sk_SECRET', expiresAt: new Date() }, 'api');
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidCredentialError);
      expect((error as Error).message).toContain('a Date');
      expect((error as Error).message).not.toContain('sk_SECRET');
    }
  });
});

describe('checkMintedCredential: refreshAfter', () => {
  it('keeps a finite refreshAfter in the frozen copy, and adds none when absent', () => {
    expect(checkMintedCredential({ value: 'v', expiresAt: 9, refreshAfter: 5 }, 'n')).toEqual({
      value: 'v',
      expiresAt: 9,
      refreshAfter: 5,
    });
    expect('refreshAfter' in checkMintedCredential({ value: 'v', expiresAt: 9 }, 'n')).toBe(false);
    // A refreshAfter without expiry, in the past or after expiry is valid: the policy places it.
    expect(checkMintedCredential({ value: 'v', refreshAfter: 5 }, 'n').refreshAfter).toBe(5);
    expect(checkMintedCredential({ value: 'v', expiresAt: 9, refreshAfter: 99 }, 'n')).toEqual({
      value: 'v',
      expiresAt: 9,
      refreshAfter: 99,
    });
  });

  it.each([
    ['NaN', Number.NaN, 'received NaN'],
    ['Infinity', Number.POSITIVE_INFINITY, 'received Infinity'],
    ['a string', '1700000000000', 'received a string'],
    ['a Date', new Date(0), 'a Date (convert it with date.getTime())'],
    ['null', null, 'received null'],
    ['a bigint', 1n, 'received a bigint'],
  ])(
    'refuses a refreshAfter that is %s with InvalidCredentialError naming the field',
    (_, bad, says) => {
      let caught: unknown;
      try {
        checkMintedCredential({ value: 'sk_SECRET', expiresAt: 9, refreshAfter: bad }, 'api');
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(InvalidCredentialError);
      const message = (caught as Error).message;
      expect(message).toContain('`refreshAfter` must be a finite number of epoch milliseconds');
      expect(message).toContain(says);
      expect(message).not.toContain('sk_SECRET');
    },
  );
});

describe('remainingMs', () => {
  it('is expiresAt - now, or undefined for a credential that never expires', () => {
    expect(remainingMs({ value: 1, expiresAt: 1_500 }, 1_000)).toBe(500);
    expect(remainingMs({ value: 1 }, 1_000)).toBeUndefined();
  });
});
