import { describe, expect, it } from 'vitest';
import {
  checkCredentialCodec,
  InvalidOptionError,
  isSluiceError,
  type Mint,
  mintTraitsOf,
  withMintTraits,
} from '../src/index.js';

const mint: Mint<string> = () => ({ value: 'v' });
const codec = { encode: (v: string) => v, decode: (t: string) => t };

describe('withMintTraits', () => {
  it('returns the same function, carrying its traits for mintTraitsOf', () => {
    const fn: Mint<string> = () => ({ value: 'x' });
    const wrapped = withMintTraits(fn, { codec, unshareable: 'bound to a local key' });
    expect(wrapped).toBe(fn);
    expect(mintTraitsOf(fn)?.codec).toBe(codec);
    expect(mintTraitsOf(fn)?.unshareable).toBe('bound to a local key');
    expect(Object.isFrozen(mintTraitsOf(fn))).toBe(true);
  });

  it('reads traits written by another copy of core (a global symbol)', () => {
    const fn = () => ({ value: 1 });
    Object.defineProperty(fn, Symbol.for('sluice.mint-traits'), { value: { unshareable: 'x' } });
    expect(mintTraitsOf(fn)?.unshareable).toBe('x');
  });

  it('refuses a non-function mint, a codec without encode/decode and an empty reason', () => {
    expect(() => withMintTraits(42 as never, {})).toThrow(InvalidOptionError);
    expect(() => withMintTraits(mint, { codec: { encode: () => '' } as never })).toThrow(
      /traits\.codec/,
    );
    expect(() => withMintTraits(mint, { unshareable: '' })).toThrow(/traits\.unshareable/);
    expect(() => withMintTraits(mint, null as never)).toThrow(/traits/);
  });

  it('mintTraitsOf never throws: plain functions, non-functions and throwing getters', () => {
    expect(mintTraitsOf(() => undefined)).toBeUndefined();
    expect(mintTraitsOf({ value: 1 })).toBeUndefined();
    const hostile = () => undefined;
    Object.defineProperty(hostile, Symbol.for('sluice.mint-traits'), {
      get() {
        throw new Error('boom');
      },
    });
    expect(mintTraitsOf(hostile)).toBeUndefined();
  });
});

describe('checkCredentialCodec', () => {
  it('names the option it checked', () => {
    let caught: unknown;
    try {
      checkCredentialCodec('json', 'codec');
    } catch (error) {
      caught = error;
    }
    expect(isSluiceError(caught)).toBe(true);
    expect((caught as InvalidOptionError).option).toBe('codec');
    expect(() => checkCredentialCodec(codec, 'codec')).not.toThrow();
  });
});
