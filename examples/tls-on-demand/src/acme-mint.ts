/**
 * The on-demand certificate mint: one ACME order per call, through acme-client's low-level
 * API, with Sluice's bounded poller for the order's "not yet" states.
 *
 * Flow per servername: account (once, lazily, shared) → ECDSA P-256 key and CSR → new order
 * → authorizations → answer each pending one's http-01 challenge → poll the order until
 * `ready` → finalize → poll until `valid` → download the chain. `expiresAt` is the leaf's
 * `notAfter`. The signal is honoured between every step and aborts the request in flight.
 *
 * http-01 without a responder: the pebble started by `pebble.ts` runs with
 * `PEBBLE_VA_ALWAYS_VALID=1`, so telling it the challenge is ready suffices. Against a real
 * CA, serve `keyAuthorization` at `http://<name>/.well-known/acme-challenge/<token>` from the
 * `onHttp01Challenge` hook before the challenge is completed.
 */

import { X509Certificate } from 'node:crypto';
import {
  type Credential,
  classifyHttpStatus,
  isTransientNetworkError,
  type MintContext,
  type MintReason,
  type PollOptions,
  poll,
} from '@sluice/core';
import type { TlsCertificate } from '@sluice/tls';
import * as acme from 'acme-client';
import { AcmeResponseError, AcmeTransport } from './acme-transport.js';

/** What the mint reports, for narration and metrics. Never carries key material. */
export type AcmeMintEvent =
  | { readonly type: 'account-created'; readonly accountUrl: string }
  | { readonly type: 'order-created'; readonly servername: string; readonly reason: MintReason }
  | {
      readonly type: 'certificate-issued';
      readonly servername: string;
      readonly reason: MintReason;
      /** Hex serial of the leaf. */
      readonly serialNumber: string;
      /** The leaf's notAfter, epoch ms. */
      readonly notAfter: number;
      /** From the mint's start to the downloaded chain, in milliseconds. */
      readonly durationMs: number;
    };

/** The order-polling schedule: every field of core's `PollOptions` but the signal. */
export type OrderPollOptions = Pick<
  PollOptions,
  'initialDelayMs' | 'multiplier' | 'maxDelayMs' | 'jitter' | 'maxWaitMs'
>;

/** Options of {@link createAcmeMint}. */
export interface AcmeMintOptions {
  /** The ACME directory URL. Required. */
  directoryUrl: string;
  /** PEM CA trusted for the ACME server's own HTTPS (not the issuing root). Required. */
  ca: string;
  /**
   * A request not complete this many milliseconds after it started fails with `ETIMEDOUT`.
   * @default 5000
   */
  requestTimeoutMs?: number;
  /**
   * How the order is polled while `pending`/`processing`.
   * @default { initialDelayMs: 100, multiplier: 2, maxDelayMs: 2000, jitter: 0.2, maxWaitMs: 30000 }
   */
  orderPoll?: OrderPollOptions;
  /**
   * Called with each http-01 challenge's token and key authorization before it is completed,
   * to publish them; a rejection fails the mint.
   * @default nothing (pebble runs with PEBBLE_VA_ALWAYS_VALID)
   */
  onHttp01Challenge?: (challenge: {
    servername: string;
    token: string;
    keyAuthorization: string;
  }) => void | Promise<void>;
  /** Event hook; a throw is ignored. @default none */
  onEvent?: (event: AcmeMintEvent) => void;
}

/** An ACME account and the mint that orders certificates with it. */
export interface AcmeMint {
  /** The mint: give it to `createSniCallback({ certificates })`. */
  readonly mint: (
    servername: string,
    context: MintContext<TlsCertificate>,
  ) => Promise<Credential<TlsCertificate>>;
  /** New orders created for `servername` so far (client side; pebble counts its own). */
  ordersFor(servername: string): number;
  /** New orders created so far, all names. */
  readonly ordersCreated: number;
  /** Closes pooled connections to the CA. */
  close(): void;
}

const DEFAULT_POLL: Required<OrderPollOptions> = {
  initialDelayMs: 100,
  multiplier: 2,
  maxDelayMs: 2_000,
  jitter: 0.2,
  maxWaitMs: 30_000,
};

/** Creates the ACME account holder and its mint. Nothing is sent until the first mint. */
export async function createAcmeMint(options: AcmeMintOptions): Promise<AcmeMint> {
  const { directoryUrl, ca, onHttp01Challenge, onEvent } = options;
  const pollOptions = { ...DEFAULT_POLL, ...options.orderPoll };
  const transport = new AcmeTransport({
    ca,
    ...(options.requestTimeoutMs === undefined
      ? {}
      : { requestTimeoutMs: options.requestTimeoutMs }),
  });
  const client = new acme.Client({
    directoryUrl,
    accountKey: await acme.crypto.createPrivateEcdsaKey('P-256'),
    // Only reached if getCertificate() sees a non-valid order, which this mint never passes.
    backoffAttempts: 3,
    backoffMin: 100,
    backoffMax: 1_000,
  });
  const orders = new Map<string, number>();
  let ordersCreated = 0;
  let account: Promise<void> | undefined;

  const emit = (event: AcmeMintEvent): void => {
    try {
      onEvent?.(event);
    } catch {
      // a throwing listener never changes what the mint does
    }
  };

  /** Shared by every mint: no caller's signal aborts it; request timeouts bound it. */
  const ensureAccount = (signal: AbortSignal): Promise<void> => {
    account ??= transport.run(async () => {
      await client.createAccount({ termsOfServiceAgreed: true });
      emit({ type: 'account-created', accountUrl: client.getAccountUrl() });
    });
    const pending = account;
    pending.catch(() => {
      if (account === pending) account = undefined; // the next mint tries again
    });
    return abortable(pending, signal);
  };

  const pollOrder = (
    order: acme.Order,
    target: 'ready' | 'valid',
    servername: string,
    signal: AbortSignal,
  ): Promise<acme.Order> =>
    poll<acme.Order>(
      async ({ signal: attemptSignal }) => {
        let current: acme.Order;
        try {
          current = await transport.run(() => client.getOrder(order), attemptSignal);
        } catch (error) {
          if (isWorthAnotherTry(error)) return { status: 'pending', error };
          throw error;
        }
        if (current.status === target || (target === 'ready' && current.status === 'valid')) {
          return { status: 'done', value: current };
        }
        if (current.status === 'invalid') {
          const detail = (current.error as { detail?: unknown } | undefined)?.detail;
          throw new Error(
            `ACME order for ${servername} is invalid${typeof detail === 'string' ? `: ${detail}` : ''}`,
          );
        }
        return { status: 'pending' };
      },
      { ...pollOptions, signal },
    );

  const mint = async (
    servername: string,
    { signal, reason }: MintContext<TlsCertificate>,
  ): Promise<Credential<TlsCertificate>> => {
    const startedAt = performance.now();
    await ensureAccount(signal);

    const keyPem = await acme.crypto.createPrivateEcdsaKey('P-256');
    const [, csr] = await acme.crypto.createCsr({ commonName: servername }, keyPem);
    signal.throwIfAborted();

    const order = await transport.run(
      () => client.createOrder({ identifiers: [{ type: 'dns', value: servername }] }),
      signal,
    );
    ordersCreated += 1;
    orders.set(servername, (orders.get(servername) ?? 0) + 1);
    emit({ type: 'order-created', servername, reason });

    const authorizations = await transport.run(() => client.getAuthorizations(order), signal);
    for (const authorization of authorizations) {
      if (authorization.status === 'valid') continue; // reused from an earlier order
      if (authorization.status !== 'pending') {
        throw new Error(
          `ACME authorization for ${authorization.identifier.value} is ${authorization.status}`,
        );
      }
      const challenge = authorization.challenges.find((c) => c.type === 'http-01');
      if (challenge === undefined) {
        throw new Error(`ACME server offers no http-01 challenge for ${servername}`);
      }
      const keyAuthorization = await client.getChallengeKeyAuthorization(challenge);
      if (onHttp01Challenge !== undefined) {
        await abortable(
          Promise.resolve(
            onHttp01Challenge({ servername, token: challenge.token, keyAuthorization }),
          ),
          signal,
        );
      }
      await transport.run(() => client.completeChallenge(challenge), signal);
    }

    const ready = await pollOrder(order, 'ready', servername, signal);
    const finalized =
      ready.status === 'valid'
        ? ready
        : await transport.run(() => client.finalizeOrder(ready, csr), signal);
    const valid =
      finalized.status === 'valid'
        ? finalized
        : await pollOrder(finalized, 'valid', servername, signal);
    const chain = await transport.run(() => client.getCertificate(valid), signal);

    const [leafPem] = acme.crypto.splitPemChain(chain);
    if (leafPem === undefined)
      throw new Error(`ACME server returned no certificate for ${servername}`);
    const leaf = new X509Certificate(leafPem);
    const notAfter = Date.parse(leaf.validTo);
    emit({
      type: 'certificate-issued',
      servername,
      reason,
      serialNumber: leaf.serialNumber,
      notAfter,
      durationMs: Math.round(performance.now() - startedAt),
    });
    return { value: { key: keyPem.toString('utf8'), cert: chain }, expiresAt: notAfter };
  };

  return {
    mint,
    ordersFor: (servername) => orders.get(servername) ?? 0,
    get ordersCreated() {
      return ordersCreated;
    },
    close: () => transport.close(),
  };
}

/** Transient: a network failure, a timeout, or HTTP 429/5xx. Anything else is final. */
function isWorthAnotherTry(error: unknown): boolean {
  if (error instanceof AcmeResponseError) return classifyHttpStatus(error.status) === 'pending';
  return isTransientNetworkError(error);
}

/** Waits for `promise` unless `signal` aborts first (then rejects with `signal.reason`). */
function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}
