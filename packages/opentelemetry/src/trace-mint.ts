/**
 * Tracing for the mint: a `sluice.refresh` span around each call, active while the mint runs
 * so the token endpoint's HTTP span (from any OpenTelemetry HTTP instrumentation) is its child.
 */

import {
  type Attributes,
  type Context,
  context as contextApi,
  isSpanContextValid,
  type Link,
  type Span,
  SpanKind,
  SpanStatusCode,
  type Tracer,
  type TracerProvider,
  trace,
} from '@opentelemetry/api';
import {
  type Credential,
  checkKnownKeys,
  errorCode,
  errorType,
  InvalidOptionError,
  type KeyedMint,
  labelValue,
  type Mint,
  type MintContext,
  mintTraitsOf,
  withMintTraits,
} from '@sluice/core';
import { OTEL_ATTRIBUTES as A, INSTRUMENTATION_SCOPE, REFRESH_SPAN_NAME } from './names.js';
import type { OpenTelemetryReporter } from './opentelemetry-reporter.js';
import { type OpenSpan, type RefreshSpans, refreshSpansOf } from './refresh-spans.js';
import { VERSION } from './version.js';

/** Options of {@link traceMint}. */
export interface TraceMintOptions {
  /**
   * The provider's `name`, recorded as `sluice.provider.name` on the span. Give it the same
   * value as the provider's `name` option.
   * @default 'sluice' (core's default provider name)
   */
  name?: string;
  /**
   * Where the tracer comes from (the tracer is `@sluice/opentelemetry`).
   * @default the global tracer provider (`trace.getTracerProvider()`), read once here
   */
  tracerProvider?: TracerProvider;
  /**
   * `false`: the span is a child of the caller that triggered the mint (the first `get()` that
   * found no valid credential, or the `get()` that found it due). `true`: the span starts its
   * own trace and links to that caller, so one slow token endpoint does not stretch the
   * caller's trace and a refresh shared by many requests is one trace of its own.
   * @default false
   */
  root?: boolean;
  /**
   * The provider's reporter from {@link createOpenTelemetryReporter}: pairs the span with
   * the provider's `onCoalesced` event, which records `sluice.refresh.waiter_count` (callers
   * that waited on this mint) on the span. The span then ends when core reports the outcome
   * (just after the mint settles) instead of as the mint settles. Two providers with the same
   * `name` minting the same key at once get no count, and their spans end on the next
   * macrotask.
   * @default none (no waiter count on the span)
   */
  reporter?: OpenTelemetryReporter;
}

/** Options of {@link traceKeyedMint}. */
export interface TraceKeyedMintOptions<K> extends TraceMintOptions {
  /**
   * Records the key as `sluice.key` on the span (span attributes do not create metric series,
   * but keys may still be sensitive: a tenant, a hostname).
   * @default false
   */
  includeKey?: boolean;
  /**
   * Turns a key into its string form, as the keyed provider does: recorded as `sluice.key`
   * (with `includeKey`) and used to match the span with the reporter's events (with
   * `reporter`). Pass the keyed provider's own `keyOf`.
   * @default keys that are strings as they are, others as `String(key)`
   */
  keyOf?: (key: K) => string;
}

/** The keys of {@link TraceMintOptions}: any other is refused (`UnknownOptionError`). */
const TRACE_MINT_KEYS: readonly string[] = Object.freeze(
  Object.keys({
    name: true,
    tracerProvider: true,
    root: true,
    reporter: true,
  } satisfies Record<keyof TraceMintOptions, true>),
);

/**
 * Wraps a mint so each call runs in a `sluice.refresh` span (kind internal) with
 * `sluice.provider.name` and `sluice.refresh.reason`. The span is active while the mint runs,
 * so spans the mint starts (the token endpoint's HTTP client span) are its children. It ends
 * when the mint settles, or when core aborts the mint's signal (timeout, `close()`): a failure
 * sets status `ERROR`, `error.type` (the error's code, else its name) and an `exception`
 * event with `exception.type` only (never the message or stack, which can carry secrets).
 * A tracer that throws (in `startSpan`, `end`, `setAttribute`, `setStatus`,
 * `recordException`) never changes what the mint's callers get. A synchronous mint stays
 * synchronous. The traced mint keeps the traits of `mint` (core's `withMintTraits`), so
 * `@sluice/redis`'s `wrap()` treats it as it treats `mint`. With the `reporter` option the span also
 * gets `sluice.refresh.waiter_count`; see `docs/observability.md` for why waiters are a
 * count and not links.
 *
 * @throws {InvalidOptionError} `SLUICE_INVALID_OPTION` naming the bad option.
 * @example
 * ```ts
 * const tokens = await createRefreshingProvider({
 *   name: 'billing-api',
 *   mint: traceMint(async ({ signal }) => fetchToken(signal), { name: 'billing-api' }),
 * });
 * ```
 */
export function traceMint<T>(mint: Mint<T>, options: TraceMintOptions = {}): Mint<T> {
  if (typeof mint !== 'function') {
    throw new InvalidOptionError('mint', 'a function (context) => credential', mint);
  }
  checkKnownKeys(options, TRACE_MINT_KEYS, 'traceMint');
  const settings = checkOptions(options);
  return keepTraits(mint, (context: MintContext<T>) =>
    runInSpan(settings, context, undefined, undefined, () => mint(context)),
  );
}

/**
 * As {@link traceMint}, for a keyed provider's mint `(key, context)`; the key is recorded as
 * `sluice.key` only with `includeKey`.
 *
 * @throws {InvalidOptionError} `SLUICE_INVALID_OPTION` naming the bad option.
 * @example
 * ```ts
 * const tokens = createKeyedProvider<string, string>({
 *   name: 'tenants',
 *   mint: traceKeyedMint((tenant, { signal }) => fetchToken(tenant, signal), { name: 'tenants' }),
 * });
 * ```
 */
export function traceKeyedMint<K, T>(
  mint: KeyedMint<K, T>,
  options: TraceKeyedMintOptions<K> = {},
): KeyedMint<K, T> {
  if (typeof mint !== 'function') {
    throw new InvalidOptionError('mint', 'a function (key, context) => credential', mint);
  }
  checkKnownKeys(options, [...TRACE_MINT_KEYS, 'includeKey', 'keyOf'], 'traceKeyedMint');
  const settings = checkOptions(options);
  const { includeKey = false, keyOf } = options;
  if (typeof includeKey !== 'boolean') {
    throw new InvalidOptionError('includeKey', 'a boolean', includeKey);
  }
  if (keyOf !== undefined && typeof keyOf !== 'function') {
    throw new InvalidOptionError('keyOf', 'a function', keyOf);
  }
  return keepTraits(mint, (key: K, context: MintContext<T>) => {
    let keyString: string | undefined;
    if (includeKey || settings.spans !== undefined) {
      try {
        keyString = keyOf === undefined ? String(key) : keyOf(key);
      } catch {
        keyString = undefined; // core has already turned this key into a string; never fail here
      }
    }
    const recorded = includeKey ? keyString : undefined;
    return runInSpan(settings, context, recorded, keyString, () => mint(key, context));
  });
}

/**
 * The traced mint carries the traits of the mint it wraps (`withMintTraits`: its codec, or
 * why its credentials cannot be shared), so a coordinator wrapping the traced mint, such as
 * `@sluice/redis`'s `wrap()`, still stores an OAuth token faithfully and still refuses a
 * DPoP-bound one.
 */
function keepTraits<F extends (...args: never[]) => unknown>(inner: unknown, traced: F): F {
  const traits = mintTraitsOf(inner);
  return traits === undefined ? traced : withMintTraits(traced, traits);
}

interface Settings {
  readonly tracer: Tracer;
  readonly name: string;
  readonly root: boolean;
  /** The paired reporter's open spans, to receive the waiter count. */
  readonly spans: RefreshSpans | undefined;
}

type MintResult<T> = Promise<Credential<T>> | Credential<T>;

function isThenable(value: unknown): boolean {
  try {
    return (
      ((typeof value === 'object' && value !== null) || typeof value === 'function') &&
      typeof (value as { then?: unknown }).then === 'function'
    );
  } catch {
    return true; // a `then` getter that throws: let Promise adoption report it
  }
}

/** Runs `action` on the span, swallowing what a broken tracer throws. */
function safely(action: () => unknown): void {
  try {
    action();
  } catch {
    // Telemetry never changes what callers get: a tracer that throws loses its span data.
  }
}

/** The span around one mint, or `undefined` when the tracer cannot start one. */
function startSpan(
  settings: Settings,
  parent: Context,
  reason: string,
  key: string | undefined,
): Span | undefined {
  try {
    const attributes: Attributes = {
      [A.providerName]: labelValue(settings.name),
      [A.refreshReason]: reason,
    };
    if (key !== undefined) attributes[A.key] = labelValue(key);
    if (!settings.root) {
      return settings.tracer.startSpan(
        REFRESH_SPAN_NAME,
        { kind: SpanKind.INTERNAL, attributes },
        parent,
      );
    }
    const caller = trace.getSpanContext(parent);
    const links: Link[] =
      caller !== undefined && isSpanContextValid(caller) ? [{ context: caller }] : [];
    return settings.tracer.startSpan(
      REFRESH_SPAN_NAME,
      { kind: SpanKind.INTERNAL, attributes, root: true, links },
      parent,
    );
  } catch {
    return undefined;
  }
}

/**
 * Calls the mint inside `active`. The context manager is telemetry too: if it throws before
 * the mint runs, the mint runs outside it; after, the mint's own outcome stands.
 */
function callIn<T>(active: Context | undefined, call: () => MintResult<T>): MintResult<T> {
  if (active === undefined) return call();
  let outcome: { threw: boolean; value: unknown } | undefined;
  const run = (): MintResult<T> => {
    try {
      const value = call();
      outcome = { threw: false, value };
      return value;
    } catch (error) {
      outcome = { threw: true, value: error };
      throw error;
    }
  };
  try {
    return contextApi.with(active, run);
  } catch {
    if (outcome === undefined) return call(); // the context manager failed before the mint ran
    if (outcome.threw) throw outcome.value;
    return outcome.value as MintResult<T>;
  }
}

function runInSpan<T>(
  settings: Settings,
  mintContext: MintContext<T>,
  key: string | undefined,
  spanKey: string | undefined,
  call: () => MintResult<T>,
): MintResult<T> {
  const parent = contextApi.active();
  const span = startSpan(settings, parent, mintContext.reason, key);
  if (span === undefined) return call(); // a tracer that throws: the mint runs untraced
  let active: Context | undefined;
  try {
    active = trace.setSpan(parent, span);
  } catch {
    active = undefined;
  }

  // The outcome is recorded once: the first of settled, threw, or signal aborted. Unpaired,
  // the span ends then. Paired with a reporter, it ends when core reports `onCoalesced` for
  // it (which also sets the waiter count), or on a fallback macrotask when no event can be
  // matched to it (a closed provider, two same-named providers minting at once). Every call
  // on the span is guarded: a tracer that throws never changes the mint's outcome.
  const signal = mintContext.signal;
  let settled = false;
  let ended = false;
  let fallback: unknown;
  let unregister: (() => void) | undefined;
  const end = (): void => {
    if (ended) return;
    ended = true;
    if (fallback !== undefined) clearTimeout(fallback as Parameters<typeof clearTimeout>[0]);
    unregister?.();
    safely(() => span.end());
  };
  const open: OpenSpan = { span, settled: false, end };
  unregister = settings.spans?.add(settings.name, spanKey, open);
  const settle = (failed: boolean, error: unknown): void => {
    if (settled) return;
    settled = true;
    signal.removeEventListener('abort', onAbort);
    if (failed) markFailed(span, error);
    if (unregister === undefined) {
      end();
      return;
    }
    open.settled = true;
    const timer = setTimeout(end, 0) as { unref?: () => void };
    timer.unref?.();
    fallback = timer;
  };
  const onAbort = (): void => settle(true, signal.reason);
  if (signal.aborted) onAbort();
  else signal.addEventListener('abort', onAbort, { once: true });

  let result: MintResult<T>;
  try {
    result = callIn(active, call);
  } catch (error) {
    settle(true, error);
    throw error;
  }
  if (!isThenable(result)) {
    settle(false, undefined);
    return result;
  }
  return Promise.resolve(result).then(
    (credential) => {
      settle(false, undefined);
      return credential;
    },
    (error: unknown) => {
      settle(true, error);
      throw error;
    },
  );
}

/**
 * Marks the span failed: `error.type`, status `ERROR` with the type as its message, and an
 * `exception` event that records the type only (`exception.type`: the error's code, else
 * its name, else `_OTHER`). The error's message and stack are never recorded: an issuer's
 * error text or a URL can carry a secret, and a span is exported outside the process.
 */
function markFailed(span: Span, error: unknown): void {
  const type = errorType(error, errorCode(error));
  safely(() => span.setAttribute(A.errorType, type));
  safely(() => span.setStatus({ code: SpanStatusCode.ERROR, message: type }));
  safely(() => span.recordException({ name: type }));
}

function checkOptions(options: TraceMintOptions): Settings {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidOptionError('options', 'an object', options);
  }
  const { name = 'sluice', tracerProvider = trace.getTracerProvider(), root = false } = options;
  if (typeof name !== 'string') throw new InvalidOptionError('name', 'a string', name);
  if (
    typeof tracerProvider !== 'object' ||
    tracerProvider === null ||
    typeof tracerProvider.getTracer !== 'function'
  ) {
    throw new InvalidOptionError(
      'tracerProvider',
      'an OpenTelemetry TracerProvider',
      tracerProvider,
    );
  }
  if (typeof root !== 'boolean') throw new InvalidOptionError('root', 'a boolean', root);
  const { reporter } = options;
  const spans = reporter === undefined ? undefined : refreshSpansOf(reporter);
  if (reporter !== undefined && spans === undefined) {
    throw new InvalidOptionError(
      'reporter',
      'a reporter made by createOpenTelemetryReporter',
      reporter,
    );
  }
  return { tracer: tracerProvider.getTracer(INSTRUMENTATION_SCOPE, VERSION), name, root, spans };
}
