/**
 * What a mint says about the credentials it returns, for the code that wraps it: how a value
 * is written to shared storage and read back (a {@link CredentialCodec}), and whether another
 * process may present a value at all. A fleet coordinator such as `@sluice/redis` reads these
 * traits in `wrap()`, so a mint whose values need a special codec works there with no option.
 */

import { InvalidOptionError } from './errors.js';

/**
 * Turns a credential value into a string and back, losslessly: `decode(encode(v))` must be a
 * value that works exactly as `v` does. A value that cannot be written faithfully (a redacted
 * view, a handle to a local key) must make `encode` throw rather than write a lossy string.
 */
export interface CredentialCodec<T> {
  /** The value as a string. Throws for a value it cannot encode faithfully. */
  encode(value: T): string;
  /** The value back from {@link encode}'s output. Throws for a string it cannot read. */
  decode(text: string): T;
}

/** What a mint advertises about its credentials. Every field is optional. */
export interface MintTraits<T> {
  /**
   * How its values are stored and read back by a coordinator.
   * @default none: the coordinator's own codec (JSON in `@sluice/redis`)
   */
  readonly codec?: CredentialCodec<T>;
  /**
   * Why its credentials cannot be shared with another process, for example because they
   * are bound to a private key that only this process holds (DPoP). A coordinator refuses
   * to wrap such a mint and names this reason in its error.
   * @default undefined (shareable)
   */
  readonly unshareable?: string;
}

const TRAITS: unique symbol = Symbol.for('sluice.mint-traits') as never;

/**
 * Returns `mint` itself, carrying `traits` for whoever wraps it (read with
 * {@link mintTraitsOf}). The traits live under a global symbol, so two copies of this
 * package still agree.
 * @typeParam F - the mint's own type (a `Mint<T>`, a `KeyedMint<K, T>`), returned unchanged.
 * @typeParam T - the credential value the codec encodes.
 * @throws {InvalidOptionError} `SLUICE_INVALID_OPTION` when `mint` is not a function, the
 * codec has no `encode`/`decode` functions or `unshareable` is not a non-empty string.
 * @example
 * ```ts
 * import { withMintTraits, type Mint } from '@sluice/core';
 * declare const mintSession: Mint<{ id: string }>;
 * const mint = withMintTraits(mintSession, {
 *   codec: { encode: (v) => v.id, decode: (id) => ({ id }) },
 * });
 * ```
 */
export function withMintTraits<F extends (...args: never[]) => unknown, T = unknown>(
  mint: F,
  traits: MintTraits<T>,
): F {
  if (typeof mint !== 'function') throw new InvalidOptionError('mint', 'a function', mint);
  if (typeof traits !== 'object' || traits === null) {
    throw new InvalidOptionError('traits', 'an object { codec?, unshareable? }', traits);
  }
  const { codec, unshareable } = traits;
  if (codec !== undefined) checkCredentialCodec(codec, 'traits.codec');
  if (unshareable !== undefined && (typeof unshareable !== 'string' || unshareable === '')) {
    throw new InvalidOptionError('traits.unshareable', 'a non-empty string', unshareable);
  }
  const frozen: MintTraits<T> = Object.freeze({
    ...(codec !== undefined ? { codec } : {}),
    ...(unshareable !== undefined ? { unshareable } : {}),
  });
  Object.defineProperty(mint, TRAITS, { value: frozen, configurable: true });
  return mint;
}

/**
 * The traits a mint carries ({@link withMintTraits}), or `undefined` for a plain function.
 * Never throws, whatever it is given.
 */
export function mintTraitsOf<T = unknown>(mint: unknown): MintTraits<T> | undefined {
  if (typeof mint !== 'function') return undefined;
  try {
    const traits = (mint as unknown as Record<symbol, unknown>)[TRAITS];
    return typeof traits === 'object' && traits !== null ? (traits as MintTraits<T>) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Checks that `codec` is an object with `encode` and `decode` functions.
 * @throws {InvalidOptionError} `SLUICE_INVALID_OPTION`, naming `option`.
 */
export function checkCredentialCodec(codec: unknown, option: string): void {
  if (
    typeof codec !== 'object' ||
    codec === null ||
    typeof (codec as { encode?: unknown }).encode !== 'function' ||
    typeof (codec as { decode?: unknown }).decode !== 'function'
  ) {
    throw new InvalidOptionError(option, 'an object { encode, decode }', codec);
  }
}
