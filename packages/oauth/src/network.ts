/**
 * Network failures of the requests this package makes (discovery, the token endpoint), told
 * apart from the caller's abort and named by host and code.
 */

import { isTransientNetworkError } from '@sluice/core';
import { UnreachableError } from './errors.js';

/** The host (and port) of `url`, or a generic name when it cannot be parsed. */
export function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return 'the server';
  }
}

/** The first string `code` in an error's cause chain (`ECONNREFUSED`, `ENOTFOUND`). */
export function networkCode(error: unknown): string | undefined {
  let link: unknown = error;
  for (let depth = 0; depth < 8 && typeof link === 'object' && link !== null; depth += 1) {
    const code = (link as { code?: unknown }).code;
    if (typeof code === 'string' && /^[A-Z0-9_]{1,40}$/.test(code)) return code;
    link = (link as { cause?: unknown }).cause;
  }
  return undefined;
}

/** What went wrong reaching `url`, for a message: its host and the cause's code. */
export function unreachableProblem(url: string, error: unknown): string {
  const code = networkCode(error);
  return `could not reach ${hostOf(url)}${code === undefined ? '' : ` (${code})`}`;
}

/** A failed token request to `url` as an {@link UnreachableError}; `cause` is `error`. */
export function unreachable(url: string, error: unknown): UnreachableError {
  return new UnreachableError(hostOf(url), {
    causeCode: networkCode(error),
    transient: isTransientNetworkError(error),
    cause: error,
  });
}
