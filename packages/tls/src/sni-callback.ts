/**
 * The `SNICallback` guard: validate the name, ask `allow()`, get the certificate from a
 * keyed provider within a handshake deadline, and hand Node a `SecureContext` built once per
 * certificate. Every handshake either gets a context or fails within `handshakeTimeoutMs`.
 */

import type { SecureContext } from 'node:tls';
import {
  type Credential,
  checkKnownKeys,
  createKeyedProvider,
  errorCode,
  InvalidOptionError,
  type KeyedMint,
  type KeyedProvider,
  type KeyedProviderOptions,
  ProviderClosedError,
  type Reporter,
  raceSignal,
} from '@sluice/core';
import {
  CertificateExpiredError,
  CertificateNotYetValidError,
  HandshakeTimeoutError,
  ServernameInvalidError,
  ServernameRefusedError,
} from './errors.js';
import {
  type CachedSecureContext,
  type CertificateContextOptions,
  SecureContextCache,
  type TlsCertificate,
} from './secure-context-cache.js';
import { checkServername, describeServername } from './servername.js';

/** Obtains a certificate for a servername: the on-demand issuance (an ACME order, say). */
export type CertificateMint = KeyedMint<string, TlsCertificate>;

/**
 * Decides whether the server may obtain and serve a certificate for `servername` (already
 * validated and lowercased). Only `true` allows; anything else refuses. A throw or rejection
 * fails the handshake with that error. Waited on at most until the handshake deadline, whose
 * signal it receives.
 */
export type AllowServername = (
  servername: string,
  context: { readonly signal: AbortSignal },
) => boolean | Promise<boolean>;

/** A servername was refused before any certificate was looked up. */
export interface ServernameRefusedEvent {
  /** The `name` option. */
  readonly name: string;
  /**
   * `'not-allowed'`: the normalized name. `'invalid'`: the offered name, quoted, escaped and
   * cut to 80 characters, so it is safe to log.
   */
  readonly servername: string;
  /** `'invalid'`: not a DNS hostname (see `problem`). `'not-allowed'`: `allow()` said no. */
  readonly reason: 'invalid' | 'not-allowed';
  /** For `'invalid'`: what is wrong with the name. */
  readonly problem?: string;
}

/** A handshake for a valid, allowed name got no certificate. */
export interface HandshakeFailureEvent {
  /** The `name` option. */
  readonly name: string;
  /** The normalized servername. */
  readonly servername: string;
  /** `error.code` when it has a string one (`SLUICE_BREAKER_OPEN`, `SLUICE_TLS_HANDSHAKE_TIMEOUT`, ...). */
  readonly code: string | undefined;
  /** The error passed to Node (the mint's own error, unchanged, when the mint failed). */
  readonly error: unknown;
  /** Time from the callback's call to the failure, in milliseconds on the `now` clock. */
  readonly durationMs: number;
}

/**
 * The core {@link Reporter} hooks (its events carry `key` = the servername) plus hooks of
 * the handshake. All optional; a hook that throws is ignored. No event carries key material.
 */
export interface TlsReporter extends Reporter {
  /** A servername was refused (invalid, or not allowed) before any certificate work. */
  onServernameRefused?(event: ServernameRefusedEvent): void;
  /**
   * A handshake for a valid, allowed name got no certificate (the deadline passed, the mint
   * failed, the breaker is open).
   */
  onHandshakeFailure?(event: HandshakeFailureEvent): void;
}

/** The keyed-provider policy options accepted when `certificates` is a mint. */
export type CertificatePolicyOptions = Omit<
  KeyedProviderOptions<string, TlsCertificate>,
  'mint' | 'keyOf' | 'reporter' | 'now' | 'name'
>;

/** Options of {@link createSniCallback}. */
export interface SniCallbackOptions extends CertificatePolicyOptions {
  /**
   * Where certificates come from: a keyed provider of `{ key, cert }` keyed by servername
   * (you own it: `close()` leaves it open), or a mint `(servername, ctx) => credential` from
   * which a keyed provider is built with the policy options given here (then `allow` is
   * required). A minted credential's `expiresAt` is clamped to the leaf's `notAfter`, and
   * its key and chain are loaded during the mint, so a certificate that does not load is a
   * mint failure (counted by the breaker).
   */
  certificates: KeyedProvider<string, TlsCertificate> | CertificateMint;
  /**
   * The on-demand decision: may the server get a certificate for this name? Required when
   * `certificates` is a mint, so nobody can make the server order certificates for arbitrary
   * names. Called for every handshake of a valid name; its answers are not cached.
   * @default undefined (every valid name is allowed; only with a keyed provider)
   */
  allow?: AllowServername;
  /**
   * The longest a handshake waits for `allow()` and the certificate, in milliseconds; then it
   * fails with `HandshakeTimeoutError`. The shared mint is not aborted (see `mintTimeoutMs`).
   * @default 10000
   */
  handshakeTimeoutMs?: number;
  /** Merged under every certificate's key and chain: `minVersion`, `ciphers`, ... @default {} */
  secureContextOptions?: CertificateContextOptions;
  /**
   * Accept single-label names such as `localhost`.
   * @default false
   */
  allowSingleLabel?: boolean;
  /** Core hooks (for a mint) and handshake hooks. @default no reporter */
  reporter?: TlsReporter;
  /**
   * The clock, in epoch milliseconds; also the keyed provider's clock when built here.
   * @default () => Date.now()
   */
  now?: () => number;
  /** A name for telemetry and error messages. @default 'sluice-tls' */
  name?: string;
}

/** What Node calls back with from an `SNICallback`. */
export type SniDone = (error: Error | null, context?: SecureContext) => void;

/**
 * An `SNICallback` for `tls.createServer` / `https.createServer`, with its provider and a
 * `close()`.
 */
export interface SniCallback {
  (servername: string, callback: SniDone): void;
  /** The keyed provider of certificates (the one passed in, or the one built from a mint). */
  readonly provider: KeyedProvider<string, TlsCertificate>;
  /**
   * Fails later handshakes with `ProviderClosedError` and closes the provider if it was built
   * here (aborting its mints). Idempotent.
   */
  close(): void;
  /** Same as {@link SniCallback.close}. */
  [Symbol.dispose](): void;
}

/** The policy options passed on to the keyed provider built from a mint: all of them. */
const POLICY: Record<keyof CertificatePolicyOptions, true> = {
  refreshAt: true,
  jitter: true,
  refreshFloorMs: true,
  breaker: true,
  mintTimeoutMs: true,
  minRefreshIntervalMs: true,
  schedule: true,
  random: true,
  timers: true,
  maxKeys: true,
  idleTtlMs: true,
  breakerScope: true,
};
const POLICY_OPTIONS = Object.keys(POLICY) as (keyof CertificatePolicyOptions)[];

/**
 * Every key of {@link SniCallbackOptions}: any other is refused (`UnknownOptionError`). A
 * record of the interface's keys, so a policy option added to core cannot be left out here.
 */
const KNOWN: Record<keyof SniCallbackOptions, true> = {
  ...POLICY,
  certificates: true,
  allow: true,
  handshakeTimeoutMs: true,
  secureContextOptions: true,
  allowSingleLabel: true,
  reporter: true,
  now: true,
  name: true,
};
const KNOWN_OPTIONS: readonly string[] = Object.freeze(Object.keys(KNOWN));

const MAX_DELAY_MS = 2_147_483_647;

/**
 * Creates the `SNICallback` of a TLS server that serves a certificate per servername from a
 * Sluice keyed provider. For each handshake it:
 * 1. validates the name (see `normalizeServername`), failing at once when it is invalid;
 * 2. asks `allow(servername)`, failing with `ServernameRefusedError` unless it says `true`;
 * 3. gets the certificate: a cached one at once (a due one is renewed in the background), an
 *    expired or missing one from one shared mint per name, guarded by the breaker;
 * 4. hands Node the certificate's `SecureContext`, built once per certificate.
 * Steps 2 and 3 together wait at most `handshakeTimeoutMs`. A handshake never retries a mint:
 * every waiter gets the mint's own error, and a name that keeps failing fails fast
 * (`BreakerOpenError`) until the breaker's cooldown admits one probe.
 *
 * @throws {InvalidOptionError} `SLUICE_INVALID_OPTION` naming the bad option (including
 *   `allow` missing with a mint, or policy options given with a ready-made provider).
 * @example
 * ```ts
 * import https from 'node:https';
 * import { createSniCallback } from '@sluice/tls';
 *
 * const sni = createSniCallback({
 *   certificates: (servername, { signal }) => orderCertificate(servername, signal),
 *   allow: (servername) => customerDomains.has(servername),
 *   handshakeTimeoutMs: 10_000,
 *   mintTimeoutMs: 90_000,
 *   breaker: { failureThreshold: 3, cooldownMs: 300_000 },
 * });
 * const server = https.createServer({ SNICallback: sni }, handler);
 * server.on('close', () => sni.close());
 * ```
 */
export function createSniCallback(options: SniCallbackOptions): SniCallback {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidOptionError('options', 'an object', options);
  }
  checkKnownKeys(options, KNOWN_OPTIONS, '');
  const {
    certificates,
    allow,
    handshakeTimeoutMs = 10_000,
    secureContextOptions = {},
    allowSingleLabel = false,
    reporter,
    now: clock,
    name = 'sluice-tls',
  } = options;
  if (allow !== undefined && typeof allow !== 'function') {
    throw new InvalidOptionError('allow', 'a function (servername, { signal }) => boolean', allow);
  }
  if (
    !Number.isInteger(handshakeTimeoutMs) ||
    handshakeTimeoutMs < 1 ||
    handshakeTimeoutMs > MAX_DELAY_MS
  ) {
    throw new InvalidOptionError(
      'handshakeTimeoutMs',
      `an integer number of milliseconds from 1 to ${MAX_DELAY_MS}`,
      handshakeTimeoutMs,
    );
  }
  if (typeof secureContextOptions !== 'object' || secureContextOptions === null) {
    throw new InvalidOptionError('secureContextOptions', 'an object', secureContextOptions);
  }
  if (typeof allowSingleLabel !== 'boolean') {
    throw new InvalidOptionError('allowSingleLabel', 'a boolean', allowSingleLabel);
  }
  if (reporter !== undefined && (typeof reporter !== 'object' || reporter === null)) {
    throw new InvalidOptionError('reporter', 'an object with optional hook methods', reporter);
  }
  if (clock !== undefined && typeof clock !== 'function') {
    throw new InvalidOptionError('now', 'a function', clock);
  }
  if (typeof name !== 'string') throw new InvalidOptionError('name', 'a string', name);

  const contexts = new SecureContextCache(secureContextOptions);
  const now = clock === undefined ? () => Date.now() : clock;
  let provider: KeyedProvider<string, TlsCertificate>;
  let owned: boolean;
  if (typeof certificates === 'function') {
    if (allow === undefined) {
      throw new InvalidOptionError(
        'allow',
        'a function deciding which servernames may be issued certificates (required when `certificates` is a mint)',
        allow,
      );
    }
    const mint = certificates;
    const policy: Partial<KeyedProviderOptions<string, TlsCertificate>> = {};
    for (const option of POLICY_OPTIONS) {
      if (options[option] !== undefined) Object.assign(policy, { [option]: options[option] });
    }
    provider = createKeyedProvider<string, TlsCertificate>({
      ...policy,
      name,
      ...(clock === undefined ? {} : { now: clock }),
      ...(reporter === undefined ? {} : { reporter }),
      mint: async (servername, context) =>
        loadMinted(servername, await mint(servername, context), contexts, now),
    });
    owned = true;
  } else if (isKeyedProvider(certificates)) {
    for (const option of POLICY_OPTIONS) {
      if (options[option] !== undefined) {
        throw new InvalidOptionError(
          option,
          'unset when `certificates` is a keyed provider (give it to createKeyedProvider)',
          options[option],
        );
      }
    }
    provider = certificates;
    owned = false;
  } else {
    throw new InvalidOptionError(
      'certificates',
      'a keyed provider of { key, cert } or a mint (servername, context) => credential',
      certificates,
    );
  }

  const onRefused = hook(reporter, 'onServernameRefused');
  const onFailure = hook(reporter, 'onHandshakeFailure');
  let closed = false;

  const handshake = (offered: string, callback: SniDone): void => {
    if (closed) {
      callback(new ProviderClosedError({ name }));
      return;
    }
    const servername = checkServername(offered, allowSingleLabel);
    if (typeof servername !== 'string') {
      const error = new ServernameInvalidError(describeServername(offered), servername.problem);
      onRefused?.({
        name,
        servername: error.servername,
        reason: 'invalid',
        problem: servername.problem,
      });
      callback(error);
      return;
    }

    const startedAt = onFailure === undefined ? 0 : now();
    const controller = new AbortController();
    const signal = controller.signal;
    const timer = globalThis.setTimeout(() => {
      controller.abort(new HandshakeTimeoutError(servername, handshakeTimeoutMs));
    }, handshakeTimeoutMs);
    (timer as { unref?: () => void }).unref?.();
    let settled = false;

    const succeed = (context: SecureContext): void => {
      if (settled) return;
      settled = true;
      globalThis.clearTimeout(timer);
      callback(null, context);
    };
    const fail = (error: unknown): void => {
      if (settled) return;
      settled = true;
      globalThis.clearTimeout(timer);
      onFailure?.({
        name,
        servername,
        code: errorCode(error),
        error,
        durationMs: now() - startedAt,
      });
      callback(error instanceof Error ? error : new Error(String(error), { cause: error }));
    };
    const refuse = (): void => {
      if (settled) return;
      settled = true;
      globalThis.clearTimeout(timer);
      onRefused?.({ name, servername, reason: 'not-allowed' });
      callback(new ServernameRefusedError(servername));
    };
    const serve = (credential: Credential<TlsCertificate>): void => {
      let entry: CachedSecureContext;
      let at: number;
      try {
        entry = contexts.get(credential.value);
        at = now();
      } catch (error) {
        fail(error);
        return;
      }
      if (at >= entry.notAfter) {
        // Never serve a leaf past its notAfter, even if the credential claims otherwise.
        provider.invalidate(servername, credential);
        fail(new CertificateExpiredError(servername, entry.notAfter));
        return;
      }
      if (at < entry.notBefore) {
        // The clock stepped back past the leaf's start: clients would refuse it too.
        provider.invalidate(servername, credential);
        fail(new CertificateNotYetValidError(servername, entry.notBefore));
        return;
      }
      succeed(entry.context);
    };
    const lookUp = (): void => {
      provider.getCredential(servername, { signal }).then(serve, fail);
    };

    if (allow === undefined) {
      lookUp();
      return;
    }
    let verdict: boolean | Promise<boolean>;
    try {
      verdict = allow(servername, { signal });
    } catch (error) {
      fail(error);
      return;
    }
    if (verdict === true) lookUp();
    else if (isThenable(verdict)) {
      raceSignal(verdict, signal).then((allowed) => (allowed === true ? lookUp() : refuse()), fail);
    } else refuse();
  };

  const close = (): void => {
    if (closed) return;
    closed = true;
    if (owned) provider.close();
  };
  Object.defineProperties(handshake, {
    provider: { value: provider, enumerable: true },
    close: { value: close },
    [(Symbol as { dispose?: symbol }).dispose ?? Symbol.for('Symbol.dispose')]: { value: close },
  });
  return handshake as SniCallback;
}

/**
 * Loads a minted certificate (so a bad one fails the mint), refuses a leaf that is not valid
 * yet, and clamps the credential's expiry to the leaf's.
 */
function loadMinted(
  servername: string,
  credential: Credential<TlsCertificate>,
  contexts: SecureContextCache,
  now: () => number,
): Credential<TlsCertificate> {
  if (typeof credential !== 'object' || credential === null) return credential; // core reports it
  const { value, expiresAt } = credential;
  if (value === undefined) return credential;
  const { notBefore, notAfter } = contexts.get(value);
  if (now() < notBefore) throw new CertificateNotYetValidError(servername, notBefore);
  if (Number.isNaN(notAfter)) return credential;
  if (expiresAt !== undefined && typeof expiresAt !== 'number') return credential; // core reports it
  if (expiresAt !== undefined && expiresAt <= notAfter) return credential;
  return { value, expiresAt: notAfter };
}

function isKeyedProvider(value: unknown): value is KeyedProvider<string, TlsCertificate> {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { getCredential?: unknown }).getCredential === 'function' &&
    typeof (value as { invalidate?: unknown }).invalidate === 'function'
  );
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    (typeof value === 'object' || typeof value === 'function') &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

/** The reporter's hook bound and made safe (a throw is swallowed), or undefined. */
function hook<H extends 'onServernameRefused' | 'onHandshakeFailure'>(
  reporter: TlsReporter | undefined,
  name: H,
): NonNullable<TlsReporter[H]> | undefined {
  const method = reporter?.[name];
  if (typeof method !== 'function') return undefined;
  return ((event: never) => {
    try {
      (method as (event: never) => void).call(reporter, event);
    } catch {
      // A reporter never changes what the handshake gets.
    }
  }) as NonNullable<TlsReporter[H]>;
}
