import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  context,
  propagation,
  SpanKind,
  SpanStatusCode,
  type Tracer,
  type TracerProvider,
  trace,
} from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import {
  type Credential,
  createKeyedProvider,
  createRefreshingProvider,
  InvalidOptionError,
  type Timers,
} from '@sluice/core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  OTEL_ATTRIBUTES as A,
  createOpenTelemetryReporter,
  REFRESH_SPAN_NAME,
  traceKeyedMint,
  traceMint,
} from '../src/index.js';
import {
  createMetrics,
  createTracing,
  installContextManager,
  parentSpanId,
} from './support/otel.js';

let uninstall: () => void;
beforeAll(() => {
  uninstall = installContextManager();
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
});
afterAll(() => {
  propagation.disable();
  uninstall();
});

let tracing = createTracing();
afterEach(async () => {
  await tracing.tracerProvider.shutdown();
  tracing = createTracing();
});

/** Runs `fn` inside a span named `name` (the caller that triggers a mint) and ends it. */
async function inSpan<T>(tracer: Tracer, name: string, fn: () => Promise<T>): Promise<T> {
  return tracer.startActiveSpan(name, async (span) => {
    try {
      return await fn();
    } finally {
      span.end();
    }
  });
}

/** Timers the test fires by hand: the mint timeout never depends on real time. */
function manualTimers() {
  const pending = new Map<number, () => void>();
  let next = 1;
  const timers: Timers = {
    setTimeout(callback) {
      pending.set(next, callback);
      return next++;
    },
    clearTimeout(handle) {
      pending.delete(handle as number);
    },
  };
  const fireAll = () => {
    for (const [id, callback] of [...pending]) {
      pending.delete(id);
      callback();
    }
  };
  return { timers, fireAll };
}

describe('traceMint', () => {
  it('makes the token endpoint HTTP span a child of sluice.refresh, itself a child of the caller', async () => {
    // A real token endpoint on loopback that records the trace context it receives.
    const received: IncomingHttpHeaders[] = [];
    const server = createServer((request, response) => {
      received.push(request.headers);
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ access_token: 'abc', expires_in: 3600 }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/token`;
    const tracer = tracing.tracerProvider.getTracer('test');
    try {
      const mint = async ({ signal }: { signal: AbortSignal }): Promise<Credential<string>> => {
        await new Promise((resolve) => setImmediate(resolve)); // an async hop before the call
        return tracer.startActiveSpan('POST /token', { kind: SpanKind.CLIENT }, async (span) => {
          const headers: Record<string, string> = {};
          propagation.inject(context.active(), headers);
          const res = await fetch(url, { method: 'POST', headers, signal });
          const json = (await res.json()) as { access_token: string; expires_in: number };
          span.end();
          return { value: json.access_token, expiresAt: Date.now() + json.expires_in * 1000 };
        });
      };
      const tokens = await createRefreshingProvider({
        name: 'billing-api',
        lazy: true,
        mint: traceMint(mint, { name: 'billing-api', tracerProvider: tracing.tracerProvider }),
      });
      await inSpan(tracer, 'GET /invoices', () => tokens.get());
      tokens.close();
    } finally {
      server.close();
    }
    const [caller] = tracing.spans('GET /invoices');
    const [refresh] = tracing.spans(REFRESH_SPAN_NAME);
    const [http] = tracing.spans('POST /token');
    expect(refresh?.kind).toBe(SpanKind.INTERNAL);
    expect(refresh?.attributes).toEqual({
      [A.providerName]: 'billing-api',
      [A.refreshReason]: 'initial',
    });
    expect(refresh?.status.code).not.toBe(SpanStatusCode.ERROR);
    expect(parentSpanId(refresh!)).toBe(caller?.spanContext().spanId);
    expect(refresh?.spanContext().traceId).toBe(caller?.spanContext().traceId);
    expect(parentSpanId(http!)).toBe(refresh?.spanContext().spanId);
    // The token endpoint saw the client span as its parent, in the caller's trace.
    const traceparent = String(received[0]?.traceparent);
    expect(traceparent).toBe(
      `00-${caller?.spanContext().traceId}-${http?.spanContext().spanId}-01`,
    );
  });

  it('with root: true starts its own trace with a link to the caller', async () => {
    const tracer = tracing.tracerProvider.getTracer('test');
    const tokens = await createRefreshingProvider({
      name: 'p',
      lazy: true,
      mint: traceMint(async () => ({ value: 'v' }), {
        name: 'p',
        root: true,
        tracerProvider: tracing.tracerProvider,
      }),
    });
    await inSpan(tracer, 'request', () => tokens.get());
    tokens.close();
    const [caller] = tracing.spans('request');
    const [refresh] = tracing.spans(REFRESH_SPAN_NAME);
    expect(parentSpanId(refresh!)).toBeUndefined();
    expect(refresh?.spanContext().traceId).not.toBe(caller?.spanContext().traceId);
    expect(refresh?.links.map((l) => l.context.spanId)).toEqual([caller?.spanContext().spanId]);
  });

  it('with root: true and no caller span has no link', async () => {
    const tokens = await createRefreshingProvider({
      name: 'p',
      mint: traceMint(() => ({ value: 'v' }), {
        root: true,
        tracerProvider: tracing.tracerProvider,
      }),
    });
    tokens.close();
    const [refresh] = tracing.spans(REFRESH_SPAN_NAME);
    expect(refresh?.links).toEqual([]);
    expect(refresh?.attributes[A.providerName]).toBe('sluice');
  });

  it('is a child of the caller that found the credential due (background refresh)', async () => {
    const tracer = tracing.tracerProvider.getTracer('test');
    let now = 1_700_000_000_000;
    let minted = 0;
    const tokens = await createRefreshingProvider({
      name: 'p',
      now: () => now,
      jitter: 0,
      refreshFloorMs: 0,
      mint: traceMint(
        async () => {
          minted += 1;
          return { value: `v${minted}`, expiresAt: now + 10_000 };
        },
        { name: 'p', tracerProvider: tracing.tracerProvider },
      ),
    });
    now += 9_000; // due (80%), still valid
    await inSpan(tracer, 'request', () => tokens.get());
    await new Promise((resolve) => setImmediate(resolve));
    tokens.close();
    const proactive = tracing
      .spans(REFRESH_SPAN_NAME)
      .find((s) => s.attributes[A.refreshReason] === 'proactive');
    const [caller] = tracing.spans('request');
    expect(proactive).toBeDefined();
    expect(parentSpanId(proactive!)).toBe(caller?.spanContext().spanId);
  });

  it('marks a failed mint: status ERROR, error.type from the code, the exception recorded', async () => {
    const tokens = await createRefreshingProvider({
      name: 'p',
      lazy: true,
      mint: traceMint(
        async () => {
          throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
        },
        { name: 'p', tracerProvider: tracing.tracerProvider },
      ),
    });
    await expect(tokens.get()).rejects.toThrow('ECONNREFUSED');
    tokens.close();
    const [refresh] = tracing.spans(REFRESH_SPAN_NAME);
    expect(refresh?.status).toEqual({ code: SpanStatusCode.ERROR, message: 'ECONNREFUSED' });
    expect(refresh?.attributes[A.errorType]).toBe('ECONNREFUSED');
    expect(refresh?.events.map((e) => e.name)).toEqual(['exception']);
  });

  it('recordException records the error type only: no message, no stack, so a secret in an error never reaches a span', async () => {
    const secret = 'sk_live_SENTINEL_0123456789abcdef';
    const tokens = await createRefreshingProvider({
      name: 'p',
      lazy: true,
      mint: traceMint(
        async () => {
          throw Object.assign(new Error(`invalid_client: client_secret=${secret}`), {
            code: 'SLUICE_OAUTH_TOKEN_ENDPOINT',
          });
        },
        { name: 'p', tracerProvider: tracing.tracerProvider },
      ),
    });
    await expect(tokens.get()).rejects.toThrow(secret);
    tokens.close();
    const [refresh] = tracing.spans(REFRESH_SPAN_NAME);
    expect(refresh?.events).toHaveLength(1);
    expect(refresh?.events[0]?.attributes).toEqual({
      'exception.type': 'SLUICE_OAUTH_TOKEN_ENDPOINT',
    });
    const rendered = JSON.stringify({
      attributes: refresh?.attributes,
      events: refresh?.events,
      status: refresh?.status,
    });
    expect(rendered).not.toContain(secret.slice(0, 8));
  });

  it('ends the span with SLUICE_MINT_TIMEOUT when core times the mint out, though it never settles', async () => {
    const { timers, fireAll } = manualTimers();
    const tokens = await createRefreshingProvider({
      name: 'p',
      lazy: true,
      timers,
      mint: traceMint(() => new Promise<Credential<string>>(() => {}), {
        tracerProvider: tracing.tracerProvider,
      }),
    });
    const waiting = tokens.get();
    const rejected = expect(waiting).rejects.toMatchObject({ code: 'SLUICE_MINT_TIMEOUT' });
    expect(tracing.spans(REFRESH_SPAN_NAME)).toEqual([]);
    fireAll();
    await rejected;
    const [refresh] = tracing.spans(REFRESH_SPAN_NAME);
    expect(refresh?.attributes[A.errorType]).toBe('SLUICE_MINT_TIMEOUT');
    tokens.close();
  });

  it('ends the span with SLUICE_PROVIDER_CLOSED when the provider closes mid-mint', async () => {
    const tokens = await createRefreshingProvider({
      name: 'p',
      lazy: true,
      mint: traceMint(() => new Promise<Credential<string>>(() => {}), {
        tracerProvider: tracing.tracerProvider,
      }),
    });
    const waiting = tokens.get().catch((error: unknown) => error);
    tokens.close();
    expect(await waiting).toMatchObject({ code: 'SLUICE_PROVIDER_CLOSED' });
    expect(tracing.spans(REFRESH_SPAN_NAME).map((s) => s.attributes[A.errorType])).toEqual([
      'SLUICE_PROVIDER_CLOSED',
    ]);
  });

  it('keeps a synchronous mint synchronous, returning and throwing alike', () => {
    const signal = new AbortController().signal;
    const credential = { value: 'sync' };
    const ok = traceMint(() => credential, { tracerProvider: tracing.tracerProvider });
    expect(ok({ signal, reason: 'forced' })).toBe(credential);
    const boom = new Error('sync boom');
    const bad = traceMint(
      () => {
        throw boom;
      },
      { tracerProvider: tracing.tracerProvider },
    );
    expect(() => bad({ signal, reason: 'forced' })).toThrow(boom);
    expect(tracing.spans(REFRESH_SPAN_NAME).map((s) => s.status.code)).toEqual([
      SpanStatusCode.UNSET,
      SpanStatusCode.ERROR,
    ]);
  });

  it('adopts a thenable and reports one whose then getter throws as a failure', async () => {
    const signal = new AbortController().signal;
    const thenable = traceMint(
      () =>
        ({
          // biome-ignore lint/suspicious/noThenProperty: a hostile-but-legal thenable
          then(resolve: (value: Credential<string>) => void) {
            resolve({ value: 'from-thenable' });
          },
        }) as unknown as Promise<Credential<string>>,
      { tracerProvider: tracing.tracerProvider },
    );
    await expect(thenable({ signal, reason: 'forced' })).resolves.toEqual({
      value: 'from-thenable',
    });
    const hostile = traceMint(
      () => {
        const value = {};
        Object.defineProperty(value, 'then', {
          get() {
            throw new Error('then getter');
          },
        });
        return value as Promise<Credential<string>>;
      },
      { tracerProvider: tracing.tracerProvider },
    );
    await expect(hostile({ signal, reason: 'forced' })).rejects.toThrow('then getter');
    expect(tracing.spans(REFRESH_SPAN_NAME).map((s) => s.status.code)).toEqual([
      SpanStatusCode.UNSET,
      SpanStatusCode.ERROR,
    ]);
  });

  it('uses the global tracer provider by default', async () => {
    trace.setGlobalTracerProvider(tracing.tracerProvider);
    try {
      const mint = traceMint(() => ({ value: 'v' }));
      mint({ signal: new AbortController().signal, reason: 'initial' });
      expect(tracing.spans(REFRESH_SPAN_NAME)).toHaveLength(1);
    } finally {
      trace.disable();
    }
  });

  it.each([
    ['options', null],
    ['name', 7],
    ['tracerProvider', {}],
    ['root', 'yes'],
  ])('rejects a bad %s with InvalidOptionError naming it', (option, value) => {
    const options = option === 'options' ? value : { [option]: value };
    let caught: unknown;
    try {
      traceMint(() => ({ value: 'v' }), options as never);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(InvalidOptionError);
    expect((caught as InvalidOptionError).option).toBe(option);
  });

  it('rejects a mint that is not a function', () => {
    expect(() => traceMint(undefined as never)).toThrow(InvalidOptionError);
    expect(() => traceKeyedMint('x' as never)).toThrow(InvalidOptionError);
  });
});

describe('traceKeyedMint', () => {
  it('records sluice.key only with includeKey, through keyOf', async () => {
    const make = (includeKey: boolean) =>
      createKeyedProvider<{ tenant: string }, string>({
        name: 'tenants',
        keyOf: (k) => k.tenant,
        mint: traceKeyedMint((key) => ({ value: key.tenant }), {
          name: 'tenants',
          includeKey,
          keyOf: (k) => k.tenant,
          tracerProvider: tracing.tracerProvider,
        }),
      });
    const plain = make(false);
    await plain.get({ tenant: 'acme' });
    const keyed = make(true);
    await keyed.get({ tenant: 'globex' });
    plain.close();
    keyed.close();
    expect(tracing.spans(REFRESH_SPAN_NAME).map((s) => s.attributes[A.key])).toEqual([
      undefined,
      'globex',
    ]);
  });

  it('never fails the mint when keyOf throws, and leaves the key out', async () => {
    const mint = traceKeyedMint<string, string>((key) => ({ value: key }), {
      includeKey: true,
      keyOf: () => {
        throw new Error('keyOf');
      },
      tracerProvider: tracing.tracerProvider,
    });
    expect(mint('k', { signal: new AbortController().signal, reason: 'initial' })).toEqual({
      value: 'k',
    });
    expect(tracing.spans(REFRESH_SPAN_NAME)[0]?.attributes).not.toHaveProperty(A.key);
  });

  it.each([
    ['includeKey', 1],
    ['keyOf', 'k'],
  ])('rejects a bad %s with InvalidOptionError naming it', (option, value) => {
    let caught: unknown;
    try {
      traceKeyedMint(() => ({ value: 'v' }), { [option]: value } as never);
    } catch (error) {
      caught = error;
    }
    expect((caught as InvalidOptionError).option).toBe(option);
  });
});

describe('the waiter count on the span (traced mint paired with the reporter)', () => {
  const paired = () =>
    createOpenTelemetryReporter({ meterProvider: createMetrics().meterProvider });

  function deferred<T>() {
    let resolve!: (value: T) => void;
    let reject!: (error: unknown) => void;
    const promise = new Promise<T>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    return { promise, resolve, reject };
  }

  it('records how many callers waited on the mint, then ends the span', async () => {
    const reporter = paired();
    const minted = deferred<Credential<string>>();
    const tokens = await createRefreshingProvider({
      name: 'p',
      lazy: true,
      reporter,
      mint: traceMint(() => minted.promise, {
        name: 'p',
        reporter,
        tracerProvider: tracing.tracerProvider,
      }),
    });
    const callers = [tokens.get(), tokens.get(), tokens.get()];
    expect(tracing.spans(REFRESH_SPAN_NAME)).toEqual([]);
    minted.resolve({ value: 'v' });
    await Promise.all(callers);
    const [refresh] = tracing.spans(REFRESH_SPAN_NAME);
    expect(refresh?.attributes[A.waiterCount]).toBe(3);
    tokens.close();
  });

  it('records the count on a failed and on a timed-out mint', async () => {
    const reporter = paired();
    const { timers, fireAll } = manualTimers();
    let hang = false;
    const tokens = await createRefreshingProvider({
      name: 'p',
      lazy: true,
      timers,
      reporter,
      breaker: { failureThreshold: 100 },
      mint: traceMint(
        () => {
          if (hang) return new Promise<Credential<string>>(() => {});
          return Promise.reject(new Error('no'));
        },
        { name: 'p', reporter, tracerProvider: tracing.tracerProvider },
      ),
    });
    await Promise.allSettled([tokens.get(), tokens.get()]);
    hang = true;
    const waiting = Promise.allSettled([tokens.get(), tokens.get(), tokens.get(), tokens.get()]);
    fireAll();
    await waiting;
    await new Promise((resolve) => setImmediate(resolve));
    const spans = tracing.spans(REFRESH_SPAN_NAME);
    expect(spans.map((s) => [s.attributes[A.errorType], s.attributes[A.waiterCount]])).toEqual([
      ['Error', 2],
      ['SLUICE_MINT_TIMEOUT', 4],
    ]);
    tokens.close();
  });

  it('records the count of a synchronous mint (core adopts it a tick later, so the factory waits)', async () => {
    const reporter = paired();
    const tokens = await createRefreshingProvider({
      name: 'sync',
      reporter,
      mint: traceMint(() => ({ value: 'v' }), {
        name: 'sync',
        reporter,
        tracerProvider: tracing.tracerProvider,
      }),
    });
    await new Promise((resolve) => setImmediate(resolve));
    expect(tracing.spans(REFRESH_SPAN_NAME)[0]?.attributes[A.waiterCount]).toBe(1);
    tokens.close();
  });

  it('counts per key for a keyed provider', async () => {
    const reporter = paired();
    const gates = new Map<string, ReturnType<typeof deferred<Credential<string>>>>();
    const keyed = createKeyedProvider<string, string>({
      name: 'tenants',
      reporter,
      mint: traceKeyedMint(
        (key) => {
          const gate = deferred<Credential<string>>();
          gates.set(key, gate);
          return gate.promise;
        },
        { name: 'tenants', reporter, tracerProvider: tracing.tracerProvider },
      ),
    });
    const waits = [keyed.get('a'), keyed.get('b'), keyed.get('b')];
    gates.get('b')?.resolve({ value: 'b' });
    gates.get('a')?.resolve({ value: 'a' });
    await Promise.all(waits);
    expect(
      tracing
        .spans(REFRESH_SPAN_NAME)
        .map((s) => s.attributes[A.waiterCount])
        .sort(),
    ).toEqual([1, 2]);
    keyed.close();
  });

  it('records nothing on a span while another provider with the same name mints (ambiguous)', async () => {
    const reporter = paired();
    const gates: Array<ReturnType<typeof deferred<Credential<string>>>> = [];
    const make = () =>
      createRefreshingProvider({
        name: 'twin',
        lazy: true,
        reporter,
        mint: traceMint(
          () => {
            const gate = deferred<Credential<string>>();
            gates.push(gate);
            return gate.promise;
          },
          { name: 'twin', reporter, tracerProvider: tracing.tracerProvider },
        ),
      });
    const [one, two] = await Promise.all([make(), make()]);
    const waits = [one.get(), two.get(), two.get()];
    for (const gate of gates) gate.resolve({ value: 'v' });
    await Promise.all(waits);
    await new Promise((resolve) => setTimeout(resolve, 0)); // after the unmatched span's fallback
    // Both were open when each settled: neither span can be told apart, so neither is counted.
    expect(tracing.spans(REFRESH_SPAN_NAME).map((s) => s.attributes[A.waiterCount])).toEqual([
      undefined,
      undefined,
    ]);
    one.close();
    two.close();
  });

  it('records nothing without the reporter option', async () => {
    const tokens = await createRefreshingProvider({
      name: 'p',
      reporter: paired(),
      mint: traceMint(async () => ({ value: 'v' }), {
        name: 'p',
        tracerProvider: tracing.tracerProvider,
      }),
    });
    expect(tracing.spans(REFRESH_SPAN_NAME)[0]?.attributes).not.toHaveProperty(A.waiterCount);
    tokens.close();
  });

  it('refuses a reporter this package did not make', () => {
    let caught: unknown;
    try {
      traceMint(() => ({ value: 'v' }), { reporter: {} as never });
    } catch (error) {
      caught = error;
    }
    expect((caught as InvalidOptionError).option).toBe('reporter');
  });
});

/** A tracer whose every span method named in `throwing` throws, as does `startSpan` if listed. */
function throwingTracerProvider(throwing: ReadonlySet<string>) {
  const fail = (what: string) => {
    throw new Error(`tracer bug in ${what}`);
  };
  const span = {
    spanContext: () => ({
      traceId: '0'.repeat(31) + '1',
      spanId: '0'.repeat(15) + '1',
      traceFlags: 1,
    }),
    setAttribute: () => (throwing.has('setAttribute') ? fail('setAttribute') : span),
    setAttributes: () => span,
    addEvent: () => span,
    addLink: () => span,
    addLinks: () => span,
    setStatus: () => (throwing.has('setStatus') ? fail('setStatus') : span),
    updateName: () => span,
    end: () => (throwing.has('end') ? fail('end') : undefined),
    isRecording: () => true,
    recordException: () => (throwing.has('recordException') ? fail('recordException') : undefined),
  };
  const tracer = {
    startSpan: () => (throwing.has('startSpan') ? fail('startSpan') : span),
    startActiveSpan: () => fail('startActiveSpan'),
  };
  return { getTracer: () => tracer } as unknown as TracerProvider;
}

describe('a tracer that throws (regression: telemetry never changes what callers get)', () => {
  const METHODS = ['startSpan', 'end', 'setAttribute', 'setStatus', 'recordException'] as const;

  it.each(METHODS)('%s throws: a minted credential still reaches every caller', async (method) => {
    const reporter = createOpenTelemetryReporter({ meterProvider: createMetrics().meterProvider });
    for (const paired of [false, true]) {
      let mints = 0;
      const tokens = await createRefreshingProvider({
        name: 'p',
        mint: traceMint(
          async () => {
            mints += 1;
            return { value: `token-${mints}`, expiresAt: Date.now() + 60_000 };
          },
          {
            name: 'p',
            tracerProvider: throwingTracerProvider(new Set([method])),
            ...(paired ? { reporter } : {}),
          },
        ),
        reporter,
      });
      expect(await tokens.get()).toBe('token-1');
      expect(mints).toBe(1);
      const sync = traceMint(() => ({ value: 'sync', expiresAt: Date.now() + 60_000 }), {
        tracerProvider: throwingTracerProvider(new Set([method])),
      });
      expect(sync({ reason: 'initial', signal: new AbortController().signal } as never)).toEqual({
        value: 'sync',
        expiresAt: expect.any(Number),
      });
      tokens.close();
    }
    reporter.shutdown();
  });

  it.each(METHODS)(
    "%s throws: callers get the issuer's error, not the tracer's",
    async (method) => {
      const issuerError = Object.assign(new Error('issuer says no'), { code: 'ISSUER_DOWN' });
      const tokens = await createRefreshingProvider({
        name: 'p',
        lazy: true,
        mint: traceMint(
          async () => {
            throw issuerError;
          },
          { name: 'p', tracerProvider: throwingTracerProvider(new Set([method])) },
        ),
      });
      await expect(tokens.get()).rejects.toBe(issuerError);
      const syncError = new Error('sync issuer error');
      const sync = traceMint(
        () => {
          throw syncError;
        },
        { tracerProvider: throwingTracerProvider(new Set([method])) },
      );
      expect(() =>
        sync({ reason: 'initial', signal: new AbortController().signal } as never),
      ).toThrow(syncError);
      tokens.close();
    },
  );

  it("every span method throwing at once: the outcome is still the mint's", async () => {
    const all = throwingTracerProvider(new Set(METHODS.filter((m) => m !== 'startSpan')));
    const tokens = await createRefreshingProvider({
      name: 'p',
      mint: traceMint(async () => ({ value: 'v', expiresAt: Date.now() + 60_000 }), {
        tracerProvider: all,
      }),
    });
    expect(await tokens.get()).toBe('v');
    tokens.close();
  });
});

describe('lone surrogates in span attributes', () => {
  it('regression: provider names and keys with lone surrogates are recorded well-formed and distinct', async () => {
    const names = ['tenant-\uD800', 'tenant-\uFFFD'];
    for (const name of names) {
      const tokens = await createRefreshingProvider({
        name,
        mint: traceMint(() => ({ value: 'v', expiresAt: Date.now() + 60_000 }), {
          name,
          tracerProvider: tracing.tracerProvider,
        }),
      });
      tokens.close();
    }
    const keyed = createKeyedProvider<string, string>({
      name: 'k',
      mint: traceKeyedMint((key) => ({ value: key, expiresAt: Date.now() + 60_000 }), {
        name: 'k',
        includeKey: true,
        tracerProvider: tracing.tracerProvider,
      }),
    });
    await keyed.get('\uDC00');
    await keyed.get('\uFFFD');
    keyed.close();
    const wire = (value: unknown) => Buffer.from(String(value), 'utf8').toString('utf8');
    const spans = tracing.spans(REFRESH_SPAN_NAME);
    const recordedNames = spans
      .map((span) => wire(span.attributes[A.providerName]))
      .filter((n) => n.startsWith('tenant-'));
    expect(new Set(recordedNames).size).toBe(2);
    const keys = spans.map((span) => span.attributes[A.key]).filter((k) => k !== undefined);
    expect(new Set(keys.map(wire)).size).toBe(2);
    for (const value of [...recordedNames, ...keys]) expect(wire(value)).toBe(value);
  });
});
