/**
 * A token endpoint's refusal, read into a {@link TokenEndpointError}: the OAuth error fields
 * from a JSON body (or from a `WWW-Authenticate` challenge), the `Retry-After`, the status.
 * Everything the server wrote is redacted of the secrets the request carried.
 */

import { type GrantType, TokenEndpointError } from './errors.js';
import { redactText } from './redact.js';
import { parseWwwAuthenticate } from './www-authenticate.js';

/** The most of an error body read, in bytes; the rest is discarded. */
const MAX_ERROR_BODY_BYTES = 64 * 1024;
/** The longest OAuth `error` code kept. */
const MAX_ERROR_CODE_CHARS = 100;

/**
 * Reads a non-200 token-endpoint answer (consuming or cancelling its body) into a
 * {@link TokenEndpointError}. `secrets` are the values the request sent; `now` reads the
 * clock for an HTTP-date `Retry-After`. Never throws for a bad body.
 */
export async function readTokenEndpointError(
  grantType: GrantType,
  response: Response,
  secrets: readonly string[],
  now: () => number,
): Promise<TokenEndpointError> {
  let fields: Record<string, unknown> = {};
  const type = response.headers.get('content-type') ?? '';
  if (/[/+]json\b/i.test(type)) {
    const text = await readLimitedText(response, MAX_ERROR_BODY_BYTES);
    try {
      const parsed: unknown = JSON.parse(text ?? '');
      if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) {
        fields = parsed as Record<string, unknown>;
      }
    } catch {
      // not JSON after all: the status has to do
    }
  } else {
    await response.body?.cancel().catch(() => {});
  }
  if (typeof fields.error !== 'string') {
    const challenge = parseWwwAuthenticate(response.headers.get('www-authenticate')).find(
      (candidate) => candidate.params.error !== undefined,
    );
    if (challenge !== undefined) {
      fields = {
        error: challenge.params.error,
        error_description: challenge.params.error_description,
        error_uri: challenge.params.error_uri,
      };
    }
  }
  const text = (value: unknown, max: number): string | undefined =>
    typeof value === 'string' && value !== '' ? redactText(value, secrets, max) : undefined;
  return new TokenEndpointError({
    grantType,
    status: response.status,
    oauthError: text(fields.error, MAX_ERROR_CODE_CHARS),
    oauthErrorDescription: text(fields.error_description, 200),
    oauthErrorUri: text(fields.error_uri, 500),
    // A retry hint only where waiting is the remedy (429, 5xx): core's breaker honours it.
    retryAfterMs:
      response.status === 429 || response.status >= 500
        ? parseRetryAfter(response.headers.get('retry-after'), now)
        : undefined,
  });
}

/**
 * The three HTTP-date forms of RFC 9110 section 5.6.7: IMF-fixdate
 * (`Sun, 06 Nov 1994 08:49:37 GMT`), RFC 850 (`Sunday, 06-Nov-94 08:49:37 GMT`) and asctime
 * (`Sun Nov  6 08:49:37 1994`). Anything else (`1.5`, `-5`, `tomorrow`) is not a date, even
 * if `Date.parse` would read something into it.
 */
const HTTP_DATE =
  /^(?:[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT|[A-Z][a-z]{5,8}, \d{2}-[A-Z][a-z]{2}-\d{2} \d{2}:\d{2}:\d{2} GMT|[A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]\d \d{2}:\d{2}:\d{2} \d{4})$/;

/**
 * `Retry-After` in milliseconds from now, as a hint worth honouring: delta-seconds (digits
 * only) above 0, or an HTTP-date in the future. `undefined` (no hint, never 0) when absent,
 * malformed (`-5`, `1.5`, garbage), zero, in the past, or too large for a safe integer;
 * core's breaker caps what it honours (`maxRetryAfterMs`).
 */
export function parseRetryAfter(value: string | null, now: () => number): number | undefined {
  if (value === null) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) {
    const ms = Number(trimmed) * 1000;
    return Number.isSafeInteger(ms) && ms > 0 ? ms : undefined;
  }
  if (!HTTP_DATE.test(trimmed)) return undefined;
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return undefined;
  let reading: number;
  try {
    reading = now();
  } catch {
    return undefined;
  }
  const ms = at - reading;
  return Number.isFinite(ms) && ms > 0 ? Math.ceil(ms) : undefined;
}

/** The body as text, at most `maxBytes` of it (the rest is cancelled). Never throws. */
async function readLimitedText(response: Response, maxBytes: number): Promise<string | undefined> {
  const body = response.body;
  if (body === null) return undefined;
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < maxBytes) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.byteLength;
    }
    if (size >= maxBytes) await reader.cancel().catch(() => {});
  } catch {
    return undefined;
  } finally {
    reader.releaseLock();
  }
  const bytes = new Uint8Array(Math.min(size, maxBytes));
  let offset = 0;
  for (const chunk of chunks) {
    const part = chunk.subarray(0, bytes.length - offset);
    bytes.set(part, offset);
    offset += part.length;
  }
  return new TextDecoder().decode(bytes);
}
