/**
 * Whether a request can be sent a second time: its body must still be there after the first
 * send. Strings, `URLSearchParams`, `ArrayBuffer`s and views, `Blob`s and `FormData` are
 * values fetch reads afresh each time; a `ReadableStream` (or an async iterable, or a
 * `Request`'s own body, which is a stream) is consumed by the first send.
 */

/** The request as `fetch` receives it. */
export type FetchInput = string | URL | Request;

/**
 * True when the body of `fetch(input, init)` is absent or a value that can be sent again;
 * false for streams. A non-null `init.body` wins over a `Request`'s own body, as in `fetch`;
 * `init.body: null` does not remove it (`fetch` then sends the `Request`'s own body, a stream
 * consumed by the first send).
 */
export function isReplayable(input: FetchInput, init: RequestInit | undefined): boolean {
  const body = init?.body;
  if (body !== undefined && body !== null) return isReplayableBody(body);
  if (isRequest(input)) return input.body === null;
  return true;
}

/** True for the body values fetch can send any number of times. */
export function isReplayableBody(body: unknown): boolean {
  if (body === null || body === undefined) return true;
  if (typeof body === 'string') return true;
  if (body instanceof URLSearchParams) return true;
  if (body instanceof ArrayBuffer || ArrayBuffer.isView(body)) return true;
  if (typeof SharedArrayBuffer !== 'undefined' && body instanceof SharedArrayBuffer) return true;
  if (typeof Blob !== 'undefined' && body instanceof Blob) return true;
  if (typeof FormData !== 'undefined' && body instanceof FormData) return true;
  return false;
}

/** A `Request` (duck-typed, so another realm's or another fetch implementation's works too). */
export function isRequest(input: unknown): input is Request {
  if (typeof input !== 'object' || input === null || input instanceof URL) return false;
  const candidate = input as { url?: unknown; method?: unknown; headers?: unknown };
  return (
    typeof candidate.url === 'string' &&
    typeof candidate.method === 'string' &&
    typeof candidate.headers === 'object' &&
    candidate.headers !== null
  );
}
