/**
 * A GET over HTTPS that trusts exactly the given CA: for pebble's directory and management
 * interface, whose listener certificate is in no system trust store.
 */

import https from 'node:https';

/** What {@link httpsGet} returns. */
export interface HttpsGetResult {
  readonly status: number;
  readonly body: string;
}

/** Options of {@link httpsGet}. */
export interface HttpsGetOptions {
  /** The only trusted CA, PEM. Required. */
  ca: string;
  /** Aborts the request; it then rejects with `signal.reason`. */
  signal?: AbortSignal;
  /** A request without an answer after this many milliseconds fails. @default 5000 */
  timeoutMs?: number;
}

/** GETs `url` and resolves with its status and body, whatever the status. */
export function httpsGet(url: string, options: HttpsGetOptions): Promise<HttpsGetResult> {
  const { ca, signal, timeoutMs = 5_000 } = options;
  return new Promise((resolve, reject) => {
    const request = https.get(
      url,
      { ca, agent: false, timeout: timeoutMs, ...(signal === undefined ? {} : { signal }) },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('error', reject);
        response.on('end', () =>
          resolve({
            status: response.statusCode ?? 0,
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
      },
    );
    request.on('timeout', () =>
      request.destroy(Object.assign(new Error(`GET ${url} timed out`), { code: 'ETIMEDOUT' })),
    );
    request.on('error', (error) => reject(signal?.aborted ? signal.reason : error));
  });
}
