import {
  type Credential,
  createKeyedProvider,
  createRefreshingProvider,
  InvalidOptionError,
  isSluiceError,
  type MintContext,
} from '@sluice/core';
import { register as globalRegistry, Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { sampleLabels, sampleValue } from '../../../test/support/metrics-endpoint.js';
import {
  createPrometheusReporter,
  MetricAlreadyRegisteredError,
  PROMETHEUS_METRIC_NAMES as N,
  type PrometheusReporter,
} from '../src/index.js';

const START = 1_700_000_000_000;

/** A clock the test moves by hand. */
function manualClock(start = START) {
  let now = start;
  return {
    now: () => now,
    advance(ms: number) {
      now += ms;
    },
  };
}

interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(error: unknown): void;
}
function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** A mint whose every call waits on a deferred the test settles. */
function manualMint() {
  const calls: { context: MintContext<string>; deferred: Deferred<Credential<string>> }[] = [];
  const mint = (context: MintContext<string>) => {
    const d = deferred<Credential<string>>();
    calls.push({ context, deferred: d });
    return d.promise;
  };
  const last = () => {
    const call = calls.at(-1);
    if (call === undefined) throw new Error('no mint call yet');
    return call;
  };
  return { mint, calls, last };
}

const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

let reporters: PrometheusReporter[] = [];
function reporterFor(
  registry: Registry,
  options: { includeKey?: boolean; now?: () => number } = {},
) {
  const reporter = createPrometheusReporter({ registry, ...options });
  reporters.push(reporter);
  return reporter;
}
afterEach(() => {
  for (const reporter of reporters) reporter.unregister();
  reporters = [];
});

describe('hook-driven metrics', () => {
  it('counts a successful mint and observes its duration in seconds on the provider clock', async () => {
    const registry = new Registry();
    const clock = manualClock();
    const metrics = reporterFor(registry, { now: clock.now });
    const { mint, last } = manualMint();
    const started = createRefreshingProvider({
      name: 'billing',
      mint,
      now: clock.now,
      reporter: metrics,
    });
    clock.advance(250);
    last().deferred.resolve({ value: 't1', expiresAt: clock.now() + 60_000 });
    const provider = await started;
    metrics.observe(provider);
    const text = await registry.metrics();
    expect(sampleValue(text, N.refreshes, { name: 'billing', reason: 'initial' })).toBe(1);
    expect(
      sampleValue(text, `${N.duration}_sum`, {
        name: 'billing',
        reason: 'initial',
        result: 'success',
      }),
    ).toBeCloseTo(0.25, 9);
    expect(
      sampleValue(text, `${N.duration}_bucket`, {
        name: 'billing',
        reason: 'initial',
        result: 'success',
        le: '0.1',
      }),
    ).toBe(0);
    expect(
      sampleValue(text, `${N.duration}_bucket`, {
        name: 'billing',
        reason: 'initial',
        result: 'success',
        le: '0.25',
      }),
    ).toBe(1);
    expect(sampleValue(text, N.lastSuccess, { name: 'billing' })).toBe((START + 250) / 1000);
    expect(sampleLabels(text, N.failures)).toEqual([]);
    provider.close();
  });

  it('counts failures by error code, falls back to the error name, and never uses the message', async () => {
    const registry = new Registry();
    const metrics = reporterFor(registry);
    const errors: unknown[] = [
      Object.assign(new Error('connect ECONNREFUSED 10.0.0.7:443'), { code: 'ECONNREFUSED' }),
      new TypeError('fetch failed for https://idp.example/tenant/42'),
      'a thrown string',
      Object.assign(new Error('odd'), { code: 'has spaces and /slashes/' }),
    ];
    let i = 0;
    const provider = await createRefreshingProvider({
      name: 'idp',
      lazy: true,
      breaker: { failureThreshold: 100 },
      mint: () => {
        throw errors[i++];
      },
      reporter: metrics,
    });
    for (let n = 0; n < errors.length; n += 1) await provider.refresh().catch(() => {});
    const text = await registry.metrics();
    const types = sampleLabels(text, N.failures).map((labels) => labels.error_type);
    expect(types.sort()).toEqual(['ECONNREFUSED', 'Error', 'TypeError', '_OTHER']);
    expect(sampleValue(text, N.refreshes, { name: 'idp', reason: 'forced' })).toBe(4);
    expect(
      sampleValue(text, `${N.duration}_count`, {
        name: 'idp',
        reason: 'forced',
        result: 'failure',
      }),
    ).toBe(4);
    expect(text).not.toContain('10.0.0.7');
    expect(text).not.toContain('tenant/42');
    provider.close();
  });

  it('counts breaker transitions with from and to', async () => {
    const registry = new Registry();
    const clock = manualClock();
    const metrics = reporterFor(registry);
    let fail = true;
    const provider = await createRefreshingProvider({
      name: 'flaky',
      lazy: true,
      now: clock.now,
      breaker: { failureThreshold: 2, cooldownMs: 1_000 },
      mint: () => {
        if (fail) throw new Error('down');
        return { value: 'ok', expiresAt: clock.now() + 60_000 };
      },
      reporter: metrics,
    });
    await provider.refresh().catch(() => {});
    await provider.refresh().catch(() => {});
    clock.advance(1_000);
    fail = false;
    await provider.get();
    const text = await registry.metrics();
    const t = (from: string, to: string) =>
      sampleValue(text, N.breakerTransitions, { name: 'flaky', from, to });
    expect(t('closed', 'open')).toBe(1);
    expect(t('open', 'half-open')).toBe(1);
    expect(t('half-open', 'closed')).toBe(1);
    provider.close();
  });

  it('observes how many callers shared one mint', async () => {
    const registry = new Registry();
    const metrics = reporterFor(registry);
    const { mint, last } = manualMint();
    const provider = await createRefreshingProvider({
      name: 'shared',
      lazy: true,
      mint,
      reporter: metrics,
    });
    const waiting = [provider.get(), provider.get(), provider.get()];
    last().deferred.resolve({ value: 'v', expiresAt: Date.now() + 60_000 });
    await Promise.all(waiting);
    const text = await registry.metrics();
    expect(sampleValue(text, `${N.waiters}_sum`, { name: 'shared', reason: 'initial' })).toBe(3);
    expect(
      sampleValue(text, `${N.waiters}_bucket`, { name: 'shared', reason: 'initial', le: '2' }),
    ).toBe(0);
    expect(
      sampleValue(text, `${N.waiters}_bucket`, { name: 'shared', reason: 'initial', le: '5' }),
    ).toBe(1);
    provider.close();
  });

  it('counts a refresh but observes no duration when the event carries a non-finite one', async () => {
    const registry = new Registry();
    const metrics = reporterFor(registry, { now: () => Number.NaN });
    metrics.onRefreshSuccess?.({
      name: 'nan',
      reason: 'initial',
      durationMs: Number.NaN,
      remainingLifetimeSeconds: 10,
    });
    metrics.onCoalesced?.({ name: 'nan', reason: 'initial', waiters: Number.NaN, ok: true });
    const text = await registry.metrics();
    expect(sampleValue(text, N.refreshes, { name: 'nan', reason: 'initial' })).toBe(1);
    expect(sampleLabels(text, `${N.duration}_count`)).toEqual([]);
    expect(sampleLabels(text, `${N.waiters}_count`)).toEqual([]);
    expect(sampleLabels(text, N.lastSuccess)).toEqual([]);
  });
});

describe('snapshot gauges', () => {
  it('exposes expiry and refresh-due timestamps read from the snapshot at scrape time', async () => {
    const registry = new Registry();
    const clock = manualClock();
    const metrics = reporterFor(registry);
    let expiresAt = START + 100_000;
    const provider = await createRefreshingProvider({
      name: 'api',
      now: clock.now,
      random: () => 0,
      jitter: 0,
      refreshFloorMs: 0,
      mint: () => ({ value: 'v', expiresAt }),
      reporter: metrics,
    });
    metrics.observe(provider);
    let text = await registry.metrics();
    expect(sampleValue(text, N.expiration, { name: 'api' })).toBe((START + 100_000) / 1000);
    expect(sampleValue(text, N.refreshDue, { name: 'api' })).toBe((START + 80_000) / 1000);
    clock.advance(10_000);
    expiresAt = clock.now() + 100_000;
    await provider.refresh();
    text = await registry.metrics();
    expect(sampleValue(text, N.expiration, { name: 'api' })).toBe((START + 110_000) / 1000);
    provider.close();
  });

  it('leaves out the expiry of a credential that never expires and of an empty provider', async () => {
    const registry = new Registry();
    const metrics = reporterFor(registry);
    const eternal = await createRefreshingProvider({
      name: 'eternal',
      mint: () => ({ value: 'v' }),
      reporter: metrics,
    });
    const empty = await createRefreshingProvider({
      name: 'empty',
      lazy: true,
      mint: () => ({ value: 'v' }),
    });
    metrics.observe(eternal);
    metrics.observe(empty);
    const text = await registry.metrics();
    expect(sampleLabels(text, N.expiration)).toEqual([]);
    expect(sampleLabels(text, N.refreshDue)).toEqual([]);
    // The breaker series exist for both: observed providers always report their state.
    expect(sampleValue(text, N.breakerState, { name: 'empty', state: 'closed' })).toBe(1);
    eternal.close();
    empty.close();
  });

  it('reports all three breaker states, 1 for the current one and 0 for the others', async () => {
    const registry = new Registry();
    const metrics = reporterFor(registry);
    const provider = await createRefreshingProvider({
      name: 'b',
      lazy: true,
      breaker: { failureThreshold: 1, cooldownMs: 60_000 },
      mint: () => {
        throw new Error('down');
      },
      reporter: metrics,
    });
    metrics.observe(provider);
    const state = (text: string, s: string) =>
      sampleValue(text, N.breakerState, { name: 'b', state: s });
    let text = await registry.metrics();
    expect([state(text, 'closed'), state(text, 'open'), state(text, 'half-open')]).toEqual([
      1, 0, 0,
    ]);
    await provider.refresh().catch(() => {});
    text = await registry.metrics();
    expect([state(text, 'closed'), state(text, 'open'), state(text, 'half-open')]).toEqual([
      0, 1, 0,
    ]);
    provider.close();
  });

  it('stops reporting a closed provider and an unobserved one', async () => {
    const registry = new Registry();
    const metrics = reporterFor(registry);
    const a = await createRefreshingProvider({
      name: 'a',
      mint: () => ({ value: 'v', expiresAt: Date.now() + 60_000 }),
    });
    const b = await createRefreshingProvider({
      name: 'b',
      mint: () => ({ value: 'v', expiresAt: Date.now() + 60_000 }),
    });
    const unobserveA = metrics.observe(a);
    metrics.observe(b);
    let text = await registry.metrics();
    expect(
      sampleLabels(text, N.expiration)
        .map((l) => l.name)
        .sort(),
    ).toEqual(['a', 'b']);
    unobserveA();
    unobserveA();
    b.close();
    text = await registry.metrics();
    expect(sampleLabels(text, N.expiration)).toEqual([]);
    expect(sampleLabels(text, N.breakerState)).toEqual([]);
    a.close();
  });

  it('leaves out a provider whose snapshot throws, and keeps scraping the others', async () => {
    const registry = new Registry();
    const metrics = reporterFor(registry);
    const good = await createRefreshingProvider({
      name: 'good',
      mint: () => ({ value: 'v', expiresAt: Date.now() + 60_000 }),
    });
    metrics.observe({
      snapshot() {
        throw new Error('clock exploded');
      },
    });
    metrics.observe(good);
    const text = await registry.metrics();
    expect(sampleValue(text, N.breakerState, { name: 'good', state: 'closed' })).toBe(1);
    good.close();
  });

  it('aggregates a keyed provider without the key label: earliest expiry, keys per breaker state', async () => {
    const registry = new Registry();
    const clock = manualClock();
    const metrics = reporterFor(registry);
    const lifetimes: Record<string, number> = { a: 30_000, b: 10_000, c: 50_000 };
    const keyed = createKeyedProvider<string, string>({
      name: 'tenants',
      now: clock.now,
      breaker: { failureThreshold: 1 },
      mint: (key) => {
        if (key === 'down') throw new Error('down');
        return { value: key, expiresAt: clock.now() + (lifetimes[key] ?? 0) };
      },
      reporter: metrics,
    });
    metrics.observe(keyed);
    await Promise.all(['a', 'b', 'c'].map((k) => keyed.get(k)));
    await keyed.get('down').catch(() => {});
    const text = await registry.metrics();
    expect(sampleLabels(text, N.expiration)).toEqual([{ name: 'tenants' }]);
    expect(sampleValue(text, N.expiration, { name: 'tenants' })).toBe((START + 10_000) / 1000);
    expect(sampleValue(text, N.breakerState, { name: 'tenants', state: 'closed' })).toBe(3);
    expect(sampleValue(text, N.breakerState, { name: 'tenants', state: 'open' })).toBe(1);
    expect(sampleValue(text, N.breakerState, { name: 'tenants', state: 'half-open' })).toBe(0);
    expect(text).not.toMatch(/key="/);
    keyed.close();
  });
});

describe('the key label', () => {
  it('is absent by default, and with includeKey is only on the per-key state gauges', async () => {
    const registry = new Registry();
    const metrics = reporterFor(registry, { includeKey: true });
    const keyed = createKeyedProvider<string, string>({
      name: 'hosts',
      mint: (key) => ({ value: key, expiresAt: Date.now() + 60_000 }),
      reporter: metrics,
    });
    metrics.observe(keyed);
    await keyed.get('a.example');
    const text = await registry.metrics();
    for (const name of [N.lastSuccess, N.expiration, N.refreshDue, N.breakerState]) {
      const sets = sampleLabels(text, name);
      expect(sets.length, name).toBeGreaterThan(0);
      for (const labels of sets) expect(labels.key, name).toBe('a.example');
    }
    for (const name of [N.refreshes, `${N.duration}_count`, `${N.waiters}_count`]) {
      const sets = sampleLabels(text, name);
      expect(sets.length, name).toBeGreaterThan(0);
      for (const labels of sets) expect(labels, name).not.toHaveProperty('key');
    }
    keyed.close();
  });

  it("cardinality regression: includeKey gives at most 6 series per key over a key's life (failures, breaker transitions, refusals, every reason), counters and histograms aggregated by name", async () => {
    const registry = new Registry();
    const clock = manualClock();
    const metrics = reporterFor(registry, { includeKey: true, now: clock.now });
    const failing = new Set<string>();
    const keyed = createKeyedProvider<string, string>({
      name: 'tenants',
      now: clock.now,
      breaker: { failureThreshold: 1, cooldownMs: 1_000 },
      mint: (key) => {
        if (failing.has(key)) throw Object.assign(new Error('down'), { code: `E_${key}` });
        return { value: key, expiresAt: clock.now() + 10_000 };
      },
      reporter: metrics,
    });
    metrics.observe(keyed);
    const keys = Array.from({ length: 20 }, (_, i) => `tenant-${i}`);
    for (const key of keys) {
      await keyed.get(key); // initial
      keyed.invalidate(key);
      await keyed.get(key); // invalidated
      failing.add(key);
      await keyed.refresh(key).catch(() => {}); // forced failure, breaker opens
    }
    clock.advance(10_000); // every credential has expired
    for (const key of keys) await keyed.get(key).catch(() => {}); // refused or half-open probe
    for (const key of keys) await keyed.get(key).catch(() => {});
    for (const key of keys) failing.delete(key);
    clock.advance(1_000);
    for (const key of keys) await keyed.get(key); // probe succeeds: expired reason
    const text = await registry.metrics();
    const perKey = new Map<string, number>();
    for (const line of text.split('\n')) {
      if (line.startsWith('#')) continue;
      const key = /key="([^"]*)"/.exec(line)?.[1];
      if (key !== undefined) perKey.set(key, (perKey.get(key) ?? 0) + 1);
    }
    expect([...perKey.keys()].sort()).toEqual([...keys].sort());
    for (const [key, count] of perKey) expect(count, key).toBeLessThanOrEqual(6);
    expect(sampleValue(text, N.breakerRefusals, { name: 'tenants' })).toBeGreaterThan(0);
    keyed.close();
  });

  it.each([
    ['lru', { maxKeys: 1 }],
    ['idle', { idleTtlMs: 1_000 }],
    ['deleted', {}],
  ] as const)('removes every series of a key the provider drops (%s)', async (reason, extra) => {
    const registry = new Registry();
    const clock = manualClock();
    const metrics = reporterFor(registry, { includeKey: true });
    let failNext = false;
    const keyed = createKeyedProvider<string, string>({
      name: 'hosts',
      now: clock.now,
      breaker: { failureThreshold: 1 },
      mint: (key) => {
        if (failNext) throw Object.assign(new Error('x'), { code: 'EX' });
        return { value: key, expiresAt: clock.now() + 60_000 };
      },
      reporter: metrics,
      ...extra,
    });
    metrics.observe(keyed);
    await keyed.get('old');
    failNext = true;
    await keyed.refresh('old').catch(() => {}); // a failure and a breaker transition for 'old'
    failNext = false;
    let text = await registry.metrics();
    expect(text).toContain('key="old"');
    if (reason === 'lru') await keyed.get('new');
    if (reason === 'idle') {
      clock.advance(1_000);
      await keyed.get('new');
    }
    if (reason === 'deleted') expect(keyed.delete('old')).toBe(true);
    text = await registry.metrics();
    expect(text).not.toContain('key="old"');
    keyed.close();
  });
});

describe('registry', () => {
  it('registers in the global registry by default and removes itself on unregister', async () => {
    const metrics = createPrometheusReporter();
    try {
      expect(globalRegistry.getSingleMetric(N.refreshes)).toBeDefined();
      expect(() => createPrometheusReporter()).toThrow(MetricAlreadyRegisteredError);
    } finally {
      metrics.unregister();
    }
    expect(globalRegistry.getSingleMetric(N.refreshes)).toBeUndefined();
  });

  it('never registers default process metrics', async () => {
    const registry = new Registry();
    reporterFor(registry);
    const names = registry
      .getMetricsAsArray()
      .map((metric) => (metric as unknown as { name: string }).name);
    expect(names.sort()).toEqual(Object.values(N).sort());
    expect(globalRegistry.getSingleMetric('process_cpu_user_seconds_total')).toBeUndefined();
  });

  it('refuses a second reporter for one registry with a clear, typed error', () => {
    const registry = new Registry();
    reporterFor(registry);
    let caught: unknown;
    try {
      createPrometheusReporter({ registry });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(MetricAlreadyRegisteredError);
    expect(isSluiceError(caught, 'SLUICE_PROMETHEUS_ALREADY_REGISTERED')).toBe(true);
    expect((caught as MetricAlreadyRegisteredError).metric).toBe(N.refreshes);
    expect(String((caught as Error).message)).toMatch(
      /one Sluice Prometheus reporter per registry/,
    );
  });

  it('lets a new reporter take over a registry after unregister, and ignores the old one', async () => {
    const registry = new Registry();
    const first = createPrometheusReporter({ registry });
    first.unregister();
    first.unregister();
    const second = reporterFor(registry);
    first.onRefreshSuccess?.({
      name: 'old',
      reason: 'initial',
      durationMs: 1,
      remainingLifetimeSeconds: 1,
    });
    second.onRefreshSuccess?.({
      name: 'new',
      reason: 'initial',
      durationMs: 1,
      remainingLifetimeSeconds: 1,
    });
    const text = await registry.metrics();
    expect(sampleLabels(text, N.refreshes)).toEqual([{ name: 'new', reason: 'initial' }]);
  });

  it('a second registry gets its own independent metrics', async () => {
    const one = new Registry();
    const two = new Registry();
    const a = reporterFor(one);
    reporterFor(two);
    a.onRefreshSuccess?.({
      name: 'x',
      reason: 'initial',
      durationMs: 1,
      remainingLifetimeSeconds: 1,
    });
    expect(sampleValue(await one.metrics(), N.refreshes, { name: 'x', reason: 'initial' })).toBe(1);
    expect(sampleLabels(await two.metrics(), N.refreshes)).toEqual([]);
  });
});

describe('options', () => {
  it.each([
    ['options', null],
    ['registry', {}],
    ['includeKey', 'yes'],
    ['now', 42],
  ])('rejects a bad %s with InvalidOptionError naming it', (option, value) => {
    const options = option === 'options' ? value : { [option]: value };
    let caught: unknown;
    try {
      createPrometheusReporter(options as never);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(InvalidOptionError);
    expect((caught as InvalidOptionError).option).toBe(option);
  });

  it('refuses to observe something that is not a provider', () => {
    const metrics = reporterFor(new Registry());
    expect(() => metrics.observe({} as never)).toThrow(InvalidOptionError);
    expect(() => metrics.observe(null as never)).toThrow(/observe\.provider/);
  });
});

describe('with core', () => {
  it('survives a reporter that calls back into the provider from its hooks', async () => {
    const registry = new Registry();
    const metrics = reporterFor(registry);
    const { mint, last } = manualMint();
    let provider: Awaited<ReturnType<typeof createRefreshingProvider<string>>> | undefined;
    const reentrant = {
      onRefreshSuccess: () => {
        provider?.snapshot();
        provider?.peek();
      },
    };
    const { combineReporters } = await import('@sluice/core');
    provider = await createRefreshingProvider({
      name: 're',
      lazy: true,
      mint,
      reporter: combineReporters(reentrant, metrics),
    });
    metrics.observe(provider);
    const got = provider.get();
    last().deferred.resolve({ value: 'v', expiresAt: Date.now() + 60_000 });
    await got;
    await flush();
    expect(
      sampleValue(await registry.metrics(), N.refreshes, { name: 're', reason: 'initial' }),
    ).toBe(1);
    provider.close();
  });

  it('removes the series of a key that a hook deletes while its refresh is being reported', async () => {
    const registry = new Registry();
    const metrics = reporterFor(registry, { includeKey: true });
    const { combineReporters } = await import('@sluice/core');
    let keyed: ReturnType<typeof createKeyedProvider<string, string>> | undefined;
    const deleter = {
      onRefreshSuccess: (event: { key?: string }) => {
        if (event.key === 'doomed') keyed?.delete('doomed');
      },
    };
    keyed = createKeyedProvider<string, string>({
      name: 'hosts',
      mint: (key) => ({ value: key, expiresAt: Date.now() + 60_000 }),
      reporter: combineReporters(deleter, metrics),
    });
    metrics.observe(keyed);
    await keyed.get('kept');
    await keyed.get('doomed');
    await flush();
    const text = await registry.metrics();
    expect(keyed.keys()).toEqual(['kept']);
    expect(text).toContain('key="kept"');
    expect(text).not.toContain('key="doomed"');
    keyed.close();
  });
});

describe('series removed on close()', () => {
  it("regression: sluice_last_refresh_success_timestamp_seconds{name} is gone after the provider's close(), so time() - last_success never fires for it", async () => {
    const registry = new Registry();
    const metrics = reporterFor(registry);
    const provider = await createRefreshingProvider({
      name: 'billing',
      mint: () => ({ value: 'v', expiresAt: Date.now() + 60_000 }),
      reporter: metrics,
    });
    metrics.observe(provider);
    let text = await registry.metrics();
    expect(sampleLabels(text, N.lastSuccess)).toEqual([{ name: 'billing' }]);
    provider.close();
    text = await registry.metrics();
    expect(sampleLabels(text, N.lastSuccess)).toEqual([]);
    expect(text).not.toMatch(/^sluice_(credential|last|breaker_state)\S*\{name="billing"/m);
  });

  it("regression: a keyed provider's close() removes every per-key series (includeKey)", async () => {
    const registry = new Registry();
    const metrics = reporterFor(registry, { includeKey: true });
    const keyed = createKeyedProvider<string, string>({
      name: 'hosts',
      breaker: { failureThreshold: 1 },
      mint: (key) => {
        if (key === 'down') throw new Error('down');
        return { value: key, expiresAt: Date.now() + 60_000 };
      },
      reporter: metrics,
    });
    metrics.observe(keyed);
    await Promise.all(['a', 'b', 'c'].map((key) => keyed.get(key)));
    await keyed.get('down').catch(() => {});
    await keyed.get('down').catch(() => {});
    let text = await registry.metrics();
    expect(text).toContain('key="a"');
    expect(text).toContain('key="down"');
    keyed.close();
    text = await registry.metrics();
    expect(text).not.toMatch(/key="/);
    for (const name of [N.lastSuccess, N.expiration, N.refreshDue, N.breakerState]) {
      expect(sampleLabels(text, name), name).toEqual([]);
    }
  });

  it('serves the state gauges through getMetricsAsJSON as well, and survives resetMetrics()', async () => {
    const registry = new Registry();
    const metrics = reporterFor(registry, { includeKey: true });
    const keyed = createKeyedProvider<string, string>({
      name: 'hosts',
      mint: (key) => ({ value: key, expiresAt: Date.now() + 60_000 }),
      reporter: metrics,
    });
    metrics.observe(keyed);
    await keyed.get('a');
    registry.resetMetrics();
    const json = await registry.getMetricsAsJSON();
    const expiry = json.find((m) => m.name === N.expiration);
    expect(expiry?.type).toBe('gauge');
    expect(expiry?.values.map((v) => v.labels)).toEqual([{ name: 'hosts', key: 'a' }]);
    const states = json.find((m) => m.name === N.breakerState)?.values ?? [];
    expect(states.map((v) => [v.labels.state, v.value])).toEqual([
      ['closed', 1],
      ['open', 0],
      ['half-open', 0],
    ]);
    keyed.close();
  });

  it('keeps the last success of a provider that is observed after its first mint', async () => {
    const registry = new Registry();
    const clock = manualClock();
    const metrics = reporterFor(registry, { now: clock.now });
    const provider = await createRefreshingProvider({
      name: 'late',
      now: clock.now,
      mint: () => ({ value: 'v', expiresAt: clock.now() + 60_000 }),
      reporter: metrics,
    });
    expect(sampleLabels(await registry.metrics(), N.lastSuccess)).toEqual([]); // not observed
    metrics.observe(provider);
    expect(sampleValue(await registry.metrics(), N.lastSuccess, { name: 'late' })).toBe(
      START / 1000,
    );
    provider.close();
  });
});

describe('breaker refusals', () => {
  it('regression: counts callers refused while the breaker is open in sluice_breaker_refusals_total{name}', async () => {
    const registry = new Registry();
    const metrics = reporterFor(registry);
    const provider = await createRefreshingProvider({
      name: 'idp',
      lazy: true,
      breaker: { failureThreshold: 1, cooldownMs: 60_000 },
      mint: () => {
        throw new Error('down');
      },
      reporter: metrics,
    });
    await provider.get().catch(() => {}); // the failure that opens the breaker
    for (let i = 0; i < 5; i++) await provider.get().catch(() => {});
    const text = await registry.metrics();
    expect(sampleValue(text, N.breakerRefusals, { name: 'idp' })).toBe(5);
    expect(sampleValue(text, N.refreshes, { name: 'idp', reason: 'initial' })).toBe(1);
    provider.close();
  });
});

describe('lone surrogates', () => {
  it('regression: names and keys with lone surrogates give well-formed, distinct label values (not one U+FFFD series)', async () => {
    const registry = new Registry();
    const metrics = reporterFor(registry, { includeKey: true });
    const names = ['tenant-\uD800', 'tenant-\uFFFD', 'tenant-\\uD800', 'tenant-\uDC00x'];
    const providers = [];
    for (const name of names) {
      const provider = await createRefreshingProvider({
        name,
        mint: () => ({ value: 'v', expiresAt: Date.now() + 60_000 }),
        reporter: metrics,
      });
      metrics.observe(provider);
      providers.push(provider);
    }
    const keyed = createKeyedProvider<string, string>({
      name: 'keys',
      mint: (key) => ({ value: key, expiresAt: Date.now() + 60_000 }),
      reporter: metrics,
    });
    metrics.observe(keyed);
    await keyed.get('k-\uDBFF');
    await keyed.get('k-\uFFFD');
    // What a scraper receives: the exposition encoded as UTF-8 on the wire.
    const wire = Buffer.from(await registry.metrics(), 'utf8').toString('utf8');
    const expiries = sampleLabels(wire, N.expiration);
    const providerNames = expiries.map((l) => l.name).filter((n) => n?.startsWith('tenant-'));
    expect(new Set(providerNames).size).toBe(names.length);
    const keyLabels = expiries.filter((l) => l.name === 'keys').map((l) => l.key);
    expect(new Set(keyLabels).size).toBe(2);
    expect(
      sampleLabels(wire, N.refreshes).filter((l) => l.name?.startsWith('tenant-')),
    ).toHaveLength(4);
    expect(providerNames).toContain('tenant-\\uD800');
    for (const provider of providers) provider.close();
    keyed.close();
  });
});
