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

/**
 * Why a request failed, for a message: the first code in the cause chain, else the deepest
 * cause's message when it is short and printable (undici's `bad port`), else nothing.
 */
export function networkReason(error: unknown): string | undefined {
  const code = networkCode(error);
  if (code !== undefined) return code;
  let link: unknown = error;
  let message: string | undefined;
  for (let depth = 0; depth < 8 && typeof link === 'object' && link !== null; depth += 1) {
    const text = (link as { message?: unknown }).message;
    if (typeof text === 'string') message = text;
    link = (link as { cause?: unknown }).cause;
  }
  return message !== undefined && /^[\x20-\x7e]{1,80}$/.test(message) ? message : undefined;
}

/** What went wrong reaching `url`, for a message: its host and the cause's code. */
export function unreachableProblem(url: string, error: unknown): string {
  const reason = networkReason(error);
  return `could not reach ${hostOf(url)}${reason === undefined ? '' : ` (${reason})`}`;
}

/** A failed token request to `url` as an {@link UnreachableError}; `cause` is `error`. */
export function unreachable(url: string, error: unknown): UnreachableError {
  return new UnreachableError(hostOf(url), {
    causeCode: networkReason(error),
    transient: isTransientNetworkError(error),
    cause: error,
  });
}
