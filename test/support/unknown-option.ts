/**
 * The shared assertion of issue 17 §4's tests: an options object with an unknown key is
 * refused with core's `UnknownOptionError` naming the key (with its path) and the nearest
 * valid key, and no rendering of the error shows the key's value.
 */

import { inspect } from 'node:util';
import { expect } from 'vitest';

/** The fields of core's `UnknownOptionError` (read by shape: this file imports no package). */
export interface UnknownOptionShape extends Error {
  readonly code: string;
  readonly option: string;
  readonly suggestion: string | undefined;
}

/** What `fn` threw (synchronously, or as the rejection of the promise it returned). */
export async function caughtFrom(fn: () => unknown): Promise<unknown> {
  try {
    await fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a refusal, and nothing was thrown');
}

/**
 * Asserts that `fn` refuses `option`, suggesting `suggestion` (`undefined`: none close), and
 * that neither `secret` nor its first or last 8 characters appear in the error's message,
 * `String()`, `JSON.stringify` or `util.inspect` (hidden fields and cause chain included).
 */
export async function expectUnknownOption(
  fn: () => unknown,
  option: string,
  suggestion: string | undefined,
  secret: string,
): Promise<UnknownOptionShape> {
  const caught = await caughtFrom(fn);
  expect(caught).toBeInstanceOf(Error);
  const error = caught as UnknownOptionShape;
  expect(error.name).toBe('UnknownOptionError');
  expect(error.code).toBe('SLUICE_INVALID_OPTION');
  expect(error.option).toBe(option);
  expect(error.suggestion).toBe(suggestion);
  expect(error.message).toContain(`unknown option \`${option}\``);
  if (suggestion !== undefined) expect(error.message).toContain(`did you mean \`${suggestion}\`?`);
  const renderings = [
    error.message,
    String(error),
    JSON.stringify(error),
    inspect(error, { depth: 9, showHidden: true }),
  ];
  for (const rendering of renderings) {
    expect(rendering).not.toContain(secret.slice(0, 8));
    expect(rendering).not.toContain(secret.slice(-8));
  }
  return error;
}
