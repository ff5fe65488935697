/**
 * Per-call transport settings for acme-client, whose HTTP goes through one module-wide axios
 * instance (`acme.axios`) with no per-request options in its API.
 *
 * A request interceptor, installed once, looks up the scope of the call that issued the
 * request (AsyncLocalStorage, so concurrent calls of different mints never mix) and applies:
 * - `ca`: an `https.Agent` trusting exactly the ACME server's CA;
 * - `signal`: aborting it aborts the in-flight request;
 * - a per-request deadline (`requestTimeoutMs`): a hung CA ends as `ETIMEDOUT`;
 * - no retries: acme-client re-sends a failed request up to 5 times, sleeping 5, 10, 15, 20
 *   and 25 s (75 s against a CA that is down, ignoring the abort signal). Sluice's poller and
 *   circuit breaker decide about retries instead.
 *
 * It also repairs errors: acme-client 5.4.0's retry interceptor, once it gives up on a
 * request that got no response (refused, reset, timed out, aborted), calls
 * `validateStatus(undefined)` and throws `TypeError: Cannot read properties of undefined
 * (reading 'config')`, losing the socket error. The scope's transport remembers the socket
 * error and the last HTTP status, and {@link AcmeTransport.run} rethrows the real cause:
 * `signal.reason`, the socket error (with its `code`, so `isTransientNetworkError` can
 * triage it), or an {@link AcmeResponseError} carrying the HTTP status.
 */

import { AsyncLocalStorage } from 'node:async_hooks';
import type { ClientRequest, IncomingMessage, RequestOptions } from 'node:http';
import https from 'node:https';
import * as acme from 'acme-client';

/** An ACME request answered with an HTTP error status; `status` feeds `classifyHttpStatus`. */
export class AcmeResponseError extends Error {
  /** The HTTP status of the failed response. */
  readonly status: number;
  constructor(message: string, status: number, options?: ErrorOptions) {
    super(message, options);
    this.name = 'AcmeResponseError';
    this.status = status;
  }
}

/** Options of {@link AcmeTransport}. */
export interface AcmeTransportOptions {
  /** The CA certificate(s), PEM, trusted for the ACME server's HTTPS. Required. */
  ca: string;
  /**
   * A request not complete this many milliseconds after it started fails with `ETIMEDOUT`.
   * @default 5000
   */
  requestTimeoutMs?: number;
}

interface Scope {
  readonly agent: https.Agent;
  readonly timeoutMs: number;
  readonly signal: AbortSignal | undefined;
  /** The most recent socket-level error of a request of this scope. */
  networkError: Error | undefined;
  /** The status of the most recent response of this scope. */
  lastStatus: number | undefined;
}

type RequestFn = (
  options: RequestOptions,
  callback: (res: IncomingMessage) => void,
) => ClientRequest;

const scopes = new AsyncLocalStorage<Scope>();
let installed = false;

function installInterceptor(): void {
  if (installed) return;
  installed = true;
  acme.axios.interceptors.request.use((config) => {
    const scope = scopes.getStore();
    if (scope === undefined) return config; // not ours: leave acme-client's defaults alone
    const transport: { request: RequestFn } = {
      request(options, callback) {
        const request = https.request({ ...options, agent: scope.agent }, (response) => {
          scope.lastStatus = response.statusCode;
          callback(response);
        });
        // A wall-clock deadline: axios resets the socket idle timeout (`setTimeout(0)`) when
        // its own `timeout` is unset, and an idle timeout never fires on a trickling peer.
        const timer = setTimeout(() => {
          const error = new Error(`ACME request timed out after ${scope.timeoutMs} ms`);
          request.destroy(Object.assign(error, { code: 'ETIMEDOUT' }));
        }, scope.timeoutMs);
        request.once('close', () => clearTimeout(timer));
        request.on('error', (error) => {
          scope.networkError = error;
        });
        return request;
      },
    };
    Object.assign(config, {
      transport,
      // Makes acme-client's retry interceptor see its attempts as used up.
      retryAttempt: Number.POSITIVE_INFINITY,
      ...(scope.signal === undefined ? {} : { signal: scope.signal }),
    });
    return config;
  });
}

/** The HTTPS settings of one ACME server for acme-client calls. */
export class AcmeTransport {
  readonly #agent: https.Agent;
  readonly #timeoutMs: number;

  constructor(options: AcmeTransportOptions) {
    const { ca, requestTimeoutMs = 5_000 } = options;
    if (!Number.isInteger(requestTimeoutMs) || requestTimeoutMs < 1) {
      throw new RangeError(`requestTimeoutMs must be a positive integer, got ${requestTimeoutMs}`);
    }
    installInterceptor();
    this.#agent = new https.Agent({ ca, keepAlive: true, maxSockets: 16 });
    this.#timeoutMs = requestTimeoutMs;
  }

  /**
   * Runs `call` (any acme-client calls) with this transport's CA and timeout, aborting its
   * requests when `signal` aborts.
   * @throws `signal.reason` when aborted; the socket error (`ECONNRESET`, `ECONNREFUSED`,
   *   `ETIMEDOUT`, ...) when a request got no response; {@link AcmeResponseError} when the
   *   last response had an HTTP error status; otherwise what `call` threw.
   */
  async run<T>(call: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    signal?.throwIfAborted();
    const scope: Scope = {
      agent: this.#agent,
      timeoutMs: this.#timeoutMs,
      signal,
      networkError: undefined,
      lastStatus: undefined,
    };
    try {
      return await scopes.run(scope, call);
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      if (scope.networkError !== undefined) throw scope.networkError;
      const status = scope.lastStatus;
      if (status !== undefined && status >= 400) {
        const message = error instanceof Error ? error.message : String(error);
        throw new AcmeResponseError(`HTTP ${status}: ${message}`, status, { cause: error });
      }
      throw error;
    }
  }

  /** Closes pooled connections. */
  close(): void {
    this.#agent.destroy();
  }
}
