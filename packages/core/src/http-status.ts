/**
 * Triage of HTTP answers and network errors for pollers and mints: which ones are worth
 * another try and which ones are final.
 */

import { InvalidOptionError } from './errors.js';

/** How a poll attempt should treat an HTTP status. */
export type HttpStatusClass = 'done' | 'pending' | 'failed';

/**
 * Classifies an HTTP status for polling: 2xx is `'done'`, 429 and 5xx are `'pending'` (worth
 * another try), everything else is `'failed'`.
 *
 * `'failed'` covers the 4xx other than 429 (the request itself is wrong: 404 unknown order,
 * 401 bad key), and also 1xx and 3xx: `fetch` never surfaces an interim 1xx and follows
 * redirects, so one reaching here (`redirect: 'manual'`, a 304) is nothing a retry fixes.
 * An integer outside 100..599 (a broken server, or the 0 of a browser's opaque response) is
 * `'failed'` too. A 2xx only says the request succeeded: the body may still say "not ready".
 *
 * @throws {InvalidOptionError} `SLUICE_INVALID_OPTION` when `status` is not an integer, which
 *   is a programming mistake (passing the response, or a string).
 * @example
 * ```ts
 * const res = await fetch(orderUrl, { signal });
 * switch (classifyHttpStatus(res.status)) {
 *   case 'pending': return { status: 'pending', error: new Error(`HTTP ${res.status}`) };
 *   case 'failed': throw new Error(`order lookup failed: HTTP ${res.status}`);
 *   case 'done': return { status: 'done', value: await res.json() };
 * }
 * ```
 */
export function classifyHttpStatus(status: number): HttpStatusClass {
  if (!Number.isSafeInteger(status)) {
    throw new InvalidOptionError('classifyHttpStatus.status', 'an integer HTTP status', status);
  }
  if (status >= 200 && status <= 299) return 'done';
  if (status === 429 || (status >= 500 && status <= 599)) return 'pending';
  return 'failed';
}

/** Error codes of network failures that may well succeed on a later try. */
const TRANSIENT_CODES: ReadonlySet<string> = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'EPIPE',
  'ENETDOWN',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_SOCKET',
  'UND_ERR_RES_CONTENT_LENGTH_MISMATCH',
]);

/** The messages of the `TypeError` that `fetch` rejects with on a network failure. */
const FETCH_FAILED_MESSAGES: ReadonlySet<string> = new Set([
  'fetch failed', // Node (undici)
  'Failed to fetch', // Chromium
  'NetworkError when attempting to fetch resource.', // Firefox
  'Load failed', // Safari
]);

/** How many errors of a `cause` / `errors` tree are looked at, so a cycle cannot loop. */
const MAX_VISITED = 16;

/**
 * True when `error` looks like a network failure worth retrying: its `code`, or the code of an
 * error in its `cause` chain (or an `AggregateError`'s `errors`), is a transient socket, DNS or
 * timeout code (`ECONNRESET`, `ECONNREFUSED`, `ETIMEDOUT`, `EAI_AGAIN`, undici's timeout and
 * socket codes, ...); or it is a `TimeoutError` (a per-request `AbortSignal.timeout`); or it is
 * the `TypeError` `fetch` rejects with on a network failure and no error in its chain carries a
 * code at all.
 *
 * Not transient: an `AbortError` (someone cancelled), `ENOTFOUND` and TLS certificate errors
 * (they do not heal by waiting), and undici's argument errors (`UND_ERR_INVALID_ARG`, ...).
 * In browsers a CORS refusal looks like any other failed fetch and so counts as transient;
 * `maxWaitMs` bounds the cost.
 *
 * @example
 * ```ts
 * try {
 *   res = await fetch(orderUrl, { signal });
 * } catch (error) {
 *   if (isTransientNetworkError(error)) return { status: 'pending', error };
 *   throw error;
 * }
 * ```
 */
export function isTransientNetworkError(error: unknown): boolean {
  let sawCode = false;
  for (const link of errorTree(error)) {
    const { code, name } = link as { code?: unknown; name?: unknown };
    if (name === 'TimeoutError') return true;
    if (typeof code === 'string') {
      if (TRANSIENT_CODES.has(code)) return true;
      sawCode = true;
    }
  }
  return !sawCode && error instanceof TypeError && FETCH_FAILED_MESSAGES.has(error.message);
}

/** The error and the errors under it (`cause`, `AggregateError.errors`), breadth first. */
function* errorTree(error: unknown): Generator<object> {
  const queue: unknown[] = [error];
  const seen = new Set<unknown>();
  while (queue.length > 0 && seen.size < MAX_VISITED) {
    const next = queue.shift();
    if (typeof next !== 'object' || next === null || seen.has(next)) continue;
    seen.add(next);
    yield next;
    const { cause, errors } = next as { cause?: unknown; errors?: unknown };
    queue.push(cause);
    if (Array.isArray(errors)) queue.push(...errors);
  }
}
