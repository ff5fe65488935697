import { readFileSync } from 'node:fs';
import { metrics as metricsApi } from '@opentelemetry/api';
import {
  AggregationTemporality,
  DataPointType,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';
import { createKeyedProvider, createRefreshingProvider, InvalidOptionError } from '@sluice/core';
import { describe, expect, it } from 'vitest';
import {
  OTEL_ATTRIBUTES as A,
  createOpenTelemetryReporter,
  DURATION_BUCKETS_SECONDS,
  OTEL_METRIC_NAMES as M,
} from '../src/index.js';
import { VERSION } from '../src/version.js';
import { createMetrics } from './support/otel.js';

const START = 1_700_000_000_000;

function manualClock(start = START) {
  let now = start;
  return {
    now: () => now,
    advance(ms: number) {
      now += ms;
    },
  };
}

function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('sluice.refresh.duration', () => {
  it('records seconds on the provider clock with name and reason, and no error.type on success', async () => {
    const { meterProvider, histogram, collect } = createMetrics();
    const clock = manualClock();
    const telemetry = createOpenTelemetryReporter({ meterProvider });
    const minted = deferred<{ value: string; expiresAt: number }>();
    const started = createRefreshingProvider({
      name: 'billing',
      now: clock.now,
      mint: () => minted.promise,
      reporter: telemetry,
    });
    clock.advance(1_500);
    minted.resolve({ value: 't', expiresAt: clock.now() + 60_000 });
    const provider = await started;
    const [point, ...rest] = await histogram(M.refreshDuration);
    expect(rest).toEqual([]);
    expect(point?.attributes).toEqual({
      [A.providerName]: 'billing',
      [A.refreshReason]: 'initial',
    });
    expect(point?.value.sum).toBeCloseTo(1.5, 9);
    expect(point?.value.count).toBe(1);
    expect(point?.value.buckets.boundaries).toEqual(DURATION_BUCKETS_SECONDS);
    const descriptor = (await collect()).find(
      (m) => m.descriptor.name === M.refreshDuration,
    )?.descriptor;
    expect(descriptor?.unit).toBe('s');
    provider.close();
  });

  it('adds error.type (code, else error name) on failures only', async () => {
    const { meterProvider, histogram } = createMetrics();
    const telemetry = createOpenTelemetryReporter({ meterProvider });
    const errors: unknown[] = [
      Object.assign(new Error('socket hang up at 10.1.2.3'), { code: 'ECONNRESET' }),
      new RangeError('bad'),
      42,
    ];
    let i = 0;
    const provider = await createRefreshingProvider({
      name: 'idp',
      lazy: true,
      breaker: { failureThreshold: 100 },
      mint: () => {
        throw errors[i++];
      },
      reporter: telemetry,
    });
    for (const _ of errors) await provider.refresh().catch(() => {});
    const points = await histogram(M.refreshDuration);
    expect(points.map((p) => p.attributes[A.errorType]).sort()).toEqual([
      'ECONNRESET',
      'RangeError',
      '_OTHER',
    ]);
    for (const p of points) expect(p.attributes[A.refreshReason]).toBe('forced');
    provider.close();
  });
});

describe('sluice.refresh.waiters and sluice.breaker.transitions', () => {
  it('records how many callers shared one mint', async () => {
    const { meterProvider, histogram } = createMetrics();
    const telemetry = createOpenTelemetryReporter({ meterProvider });
    const minted = deferred<{ value: string }>();
    const provider = await createRefreshingProvider({
      name: 'shared',
      lazy: true,
      mint: () => minted.promise,
      reporter: telemetry,
    });
    const callers = [provider.get(), provider.get(), provider.get(), provider.get()];
    minted.resolve({ value: 'v' });
    await Promise.all(callers);
    const [point] = await histogram(M.refreshWaiters);
    expect(point?.value.sum).toBe(4);
    expect(point?.value.count).toBe(1);
    expect(point?.attributes).toEqual({ [A.providerName]: 'shared', [A.refreshReason]: 'initial' });
    provider.close();
  });

  it('counts transitions with the previous and the new state', async () => {
    const { meterProvider, points } = createMetrics();
    const clock = manualClock();
    const telemetry = createOpenTelemetryReporter({ meterProvider });
    let fail = true;
    const provider = await createRefreshingProvider({
      name: 'flaky',
      lazy: true,
      now: clock.now,
      breaker: { failureThreshold: 1, cooldownMs: 500 },
      mint: () => {
        if (fail) throw new Error('down');
        return { value: 'ok' };
      },
      reporter: telemetry,
    });
    await provider.refresh().catch(() => {});
    clock.advance(500);
    fail = false;
    await provider.get();
    const seen = (await points(M.breakerTransitions)).map(
      (p) => `${p.attributes[A.breakerPreviousState]}->${p.attributes[A.breakerState]}=${p.value}`,
    );
    expect(seen.sort()).toEqual(['closed->open=1', 'half-open->closed=1', 'open->half-open=1']);
    provider.close();
  });
});

describe('observable instruments', () => {
  it('reports one sluice.breaker.status series per state, read from the snapshot', async () => {
    const { meterProvider, points } = createMetrics();
    const telemetry = createOpenTelemetryReporter({ meterProvider });
    const provider = await createRefreshingProvider({
      name: 'b',
      lazy: true,
      breaker: { failureThreshold: 1, cooldownMs: 60_000 },
      mint: () => {
        throw new Error('down');
      },
      reporter: telemetry,
    });
    telemetry.observe(provider);
    const byState = async () =>
      Object.fromEntries(
        (await points(M.breakerStatus)).map((p) => [p.attributes[A.breakerState], p.value]),
      );
    expect(await byState()).toEqual({ closed: 1, open: 0, 'half-open': 0 });
    await provider.refresh().catch(() => {});
    expect(await byState()).toEqual({ closed: 0, open: 1, 'half-open': 0 });
    provider.close();
    // A closed provider is in no state: its series drop to 0 (the SDK keeps exporting them).
    expect(await byState()).toEqual({ closed: 0, open: 0, 'half-open': 0 });
  });

  it('reports the remaining lifetime in seconds, negative once expired, absent when never expiring', async () => {
    const { meterProvider, points } = createMetrics();
    const clock = manualClock();
    const telemetry = createOpenTelemetryReporter({ meterProvider, now: clock.now });
    const fail = false;
    const provider = await createRefreshingProvider({
      name: 'api',
      now: clock.now,
      mint: () => {
        if (fail) throw new Error('down');
        return { value: 'v', expiresAt: clock.now() + 90_000 };
      },
      reporter: telemetry,
    });
    const eternal = await createRefreshingProvider({
      name: 'eternal',
      mint: () => ({ value: 'v' }),
    });
    telemetry.observe(provider);
    telemetry.observe(eternal);
    const lifetime = async () =>
      (await points(M.remainingLifetime)).map((p) => [p.attributes[A.providerName], p.value]);
    expect(await lifetime()).toEqual([['api', 90]]);
    clock.advance(100_000);
    expect(await lifetime()).toEqual([['api', -10]]);
    provider.close();
    eternal.close();
  });

  it('aggregates a keyed provider without sluice.key: shortest lifetime, keys counted per state', async () => {
    const { meterProvider, points } = createMetrics();
    const clock = manualClock();
    const telemetry = createOpenTelemetryReporter({ meterProvider, now: clock.now });
    const life: Record<string, number> = { a: 30_000, b: 5_000 };
    const keyed = createKeyedProvider<string, string>({
      name: 'tenants',
      now: clock.now,
      breaker: { failureThreshold: 1 },
      mint: (key) => {
        if (key === 'down') throw new Error('down');
        return { value: key, expiresAt: clock.now() + (life[key] ?? 1) };
      },
      reporter: telemetry,
    });
    telemetry.observe(keyed);
    await keyed.get('a');
    await keyed.get('b');
    await keyed.get('down').catch(() => {});
    const lifetimes = await points(M.remainingLifetime);
    expect(lifetimes.map((p) => [p.attributes, p.value])).toEqual([
      [{ [A.providerName]: 'tenants' }, 5],
    ]);
    const states = Object.fromEntries(
      (await points(M.breakerStatus)).map((p) => [p.attributes[A.breakerState], p.value]),
    );
    expect(states).toEqual({ closed: 2, open: 1, 'half-open': 0 });
    keyed.close();
  });

  it('with includeKey reports the observable instruments per key; a dropped key leaves them (delta temporality)', async () => {
    const { meterProvider, points, histogram, collect } = createMetrics(
      AggregationTemporality.DELTA,
    );
    const telemetry = createOpenTelemetryReporter({ meterProvider, includeKey: true });
    const keyed = createKeyedProvider<string, string>({
      name: 'hosts',
      mint: (key) => ({ value: key, expiresAt: Date.now() + 60_000 }),
      reporter: telemetry,
    });
    telemetry.observe(keyed);
    await keyed.get('a.example');
    await keyed.get('b.example');
    const keysOf = async (name: string) =>
      [...new Set((await points(name)).map((p) => p.attributes[A.key]))].sort();
    expect((await histogram(M.refreshDuration)).map((p) => p.attributes[A.key])).toEqual([
      undefined,
    ]);
    expect(await keysOf(M.remainingLifetime)).toEqual(['a.example', 'b.example']);
    expect(await keysOf(M.breakerStatus)).toEqual(['a.example', 'b.example']);
    keyed.delete('a.example');
    const after = await collect();
    const pointsOf = (name: string) =>
      after.find((m) => m.descriptor.name === name)?.dataPoints ?? [];
    expect(pointsOf(M.remainingLifetime).map((p) => p.attributes[A.key])).toEqual(['b.example']);
    // The dropped key is reported once more, in no state (as a delta: closed goes 1 -> 0).
    const status = pointsOf(M.breakerStatus);
    expect(status.filter((p) => p.attributes[A.key] === 'a.example').map((p) => p.value)).toEqual([
      -1, 0, 0,
    ]);
    expect(await keysOf(M.breakerStatus)).toEqual(['b.example']);
    keyed.close();
  });

  it('never sets sluice.key by default', async () => {
    const { meterProvider, collect } = createMetrics();
    const telemetry = createOpenTelemetryReporter({ meterProvider });
    const keyed = createKeyedProvider<string, string>({
      name: 'hosts',
      mint: (key) => ({ value: key, expiresAt: Date.now() + 60_000 }),
      reporter: telemetry,
    });
    telemetry.observe(keyed);
    await Promise.all([keyed.get('a'), keyed.get('b'), keyed.get('b')]);
    for (const metric of await collect()) {
      for (const point of metric.dataPoints)
        expect(point.attributes, metric.descriptor.name).not.toHaveProperty(A.key);
    }
    keyed.close();
  });

  it('skips a provider whose snapshot throws and a clock that throws, without failing the collection', async () => {
    const { meterProvider, points } = createMetrics(AggregationTemporality.DELTA);
    let clockThrows = false;
    const telemetry = createOpenTelemetryReporter({
      meterProvider,
      now: () => {
        if (clockThrows) throw new Error('clock');
        return Date.now();
      },
    });
    const good = await createRefreshingProvider({
      name: 'good',
      mint: () => ({ value: 'v', expiresAt: Date.now() + 60_000 }),
    });
    telemetry.observe({
      snapshot() {
        throw new Error('boom');
      },
    });
    telemetry.observe(good);
    expect((await points(M.breakerStatus)).length).toBe(3);
    clockThrows = true;
    expect(await points(M.remainingLifetime)).toEqual([]);
    expect((await points(M.breakerStatus)).length).toBe(3);
    good.close();
  });

  it('shutdown stops observing and ignores later events', async () => {
    const { meterProvider, points, histogram } = createMetrics();
    const telemetry = createOpenTelemetryReporter({ meterProvider });
    const provider = await createRefreshingProvider({
      name: 'p',
      mint: () => ({ value: 'v' }),
      reporter: telemetry,
    });
    telemetry.observe(provider);
    expect((await points(M.breakerStatus)).length).toBe(3);
    telemetry.shutdown();
    telemetry.shutdown();
    await provider.refresh();
    expect((await points(M.breakerStatus)).map((p) => p.value)).toEqual([1, 0, 0]); // frozen by the SDK
    expect((await histogram(M.refreshDuration))[0]?.value.count).toBe(1); // the initial mint only
    provider.close();
  });
});

describe('setup', () => {
  it('uses the global meter provider by default', async () => {
    const { meterProvider, histogram } = createMetrics();
    metricsApi.setGlobalMeterProvider(meterProvider);
    try {
      const telemetry = createOpenTelemetryReporter();
      telemetry.onRefreshSuccess?.({
        name: 'g',
        reason: 'initial',
        durationMs: 5,
        remainingLifetimeSeconds: 1,
      });
      expect((await histogram(M.refreshDuration))[0]?.attributes[A.providerName]).toBe('g');
    } finally {
      metricsApi.disable();
    }
  });

  it('exports through InMemoryMetricExporter with the instrumentation scope and version', async () => {
    const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
    const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 });
    const meterProvider = new MeterProvider({ readers: [reader] });
    const telemetry = createOpenTelemetryReporter({ meterProvider });
    telemetry.onRefreshFailure?.({
      name: 'x',
      reason: 'expired',
      durationMs: 30_000,
      error: new Error('t'),
      code: 'SLUICE_MINT_TIMEOUT',
      cachedRemainingLifetimeSeconds: undefined,
    });
    await reader.forceFlush();
    const [exported] = exporter.getMetrics();
    const scope = exported?.scopeMetrics[0];
    expect(scope?.scope).toMatchObject({ name: '@sluice/opentelemetry', version: VERSION });
    const metric = scope?.metrics.find((m) => m.descriptor.name === M.refreshDuration);
    expect(metric?.dataPointType).toBe(DataPointType.HISTOGRAM);
    expect(metric?.dataPoints[0]?.attributes).toEqual({
      [A.providerName]: 'x',
      [A.refreshReason]: 'expired',
      [A.errorType]: 'SLUICE_MINT_TIMEOUT',
    });
    await meterProvider.shutdown();
  });

  it('reports the package version as the scope version', () => {
    const manifest = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
    expect(VERSION).toBe(manifest.version);
  });

  it.each([
    ['options', null],
    ['meterProvider', {}],
    ['includeKey', 1],
    ['now', 'soon'],
  ])('rejects a bad %s with InvalidOptionError naming it', (option, value) => {
    const options = option === 'options' ? value : { [option]: value };
    let caught: unknown;
    try {
      createOpenTelemetryReporter(options as never);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(InvalidOptionError);
    expect((caught as InvalidOptionError).option).toBe(option);
  });

  it('refuses to observe something that is not a provider', () => {
    const telemetry = createOpenTelemetryReporter({ meterProvider: createMetrics().meterProvider });
    expect(() => telemetry.observe(42 as never)).toThrow(/observe\.provider/);
  });
});

describe('regressions (issue 14)', () => {
  it('cardinality: with includeKey, sluice.key is only on the observable state instruments; histograms and counters are aggregated by name', async () => {
    const { meterProvider, collect } = createMetrics();
    const telemetry = createOpenTelemetryReporter({ meterProvider, includeKey: true });
    const keyed = createKeyedProvider<string, string>({
      name: 'tenants',
      breaker: { failureThreshold: 1, cooldownMs: 60_000 },
      mint: (key) => {
        if (key.startsWith('down')) throw Object.assign(new Error('down'), { code: 'E_DOWN' });
        return { value: key, expiresAt: Date.now() + 60_000 };
      },
      reporter: telemetry,
    });
    telemetry.observe(keyed);
    const keys = Array.from({ length: 10 }, (_, i) => `tenant-${i}`);
    for (const key of keys) {
      await keyed.get(key);
      await keyed.get(`down-${key}`).catch(() => {});
      await keyed.get(`down-${key}`).catch(() => {}); // refused
    }
    const perKey = new Map<string, number>();
    for (const metric of await collect()) {
      const keyed = metric.dataPoints.filter((p) => p.attributes[A.key] !== undefined);
      if ([M.breakerStatus, M.remainingLifetime].includes(metric.descriptor.name as never)) {
        expect(keyed.length, metric.descriptor.name).toBeGreaterThan(0);
      } else {
        expect(keyed, metric.descriptor.name).toEqual([]);
      }
      for (const point of keyed) {
        const key = String(point.attributes[A.key]);
        perKey.set(key, (perKey.get(key) ?? 0) + 1);
      }
    }
    for (const [key, count] of perKey) expect(count, key).toBeLessThanOrEqual(4);
    keyed.close();
    telemetry.shutdown();
  });

  it('breaker refusals: counts callers refused while the breaker is open in sluice.breaker.refusals', async () => {
    const { meterProvider, points } = createMetrics();
    const telemetry = createOpenTelemetryReporter({ meterProvider });
    const provider = await createRefreshingProvider({
      name: 'idp',
      lazy: true,
      breaker: { failureThreshold: 1, cooldownMs: 60_000 },
      mint: () => {
        throw new Error('down');
      },
      reporter: telemetry,
    });
    await provider.get().catch(() => {});
    for (let i = 0; i < 4; i++) await provider.get().catch(() => {});
    const refusals = await points(M.breakerRefusals);
    expect(refusals.map((p) => [p.attributes, p.value])).toEqual([
      [{ [A.providerName]: 'idp' }, 4],
    ]);
    provider.close();
    telemetry.shutdown();
  });

  it('close(): a closed single and keyed provider leave every observable instrument (delta temporality)', async () => {
    const { meterProvider, collect } = createMetrics(AggregationTemporality.DELTA);
    const telemetry = createOpenTelemetryReporter({ meterProvider, includeKey: true });
    const single = await createRefreshingProvider({
      name: 'single',
      mint: () => ({ value: 'v', expiresAt: Date.now() + 60_000 }),
      reporter: telemetry,
    });
    const keyed = createKeyedProvider<string, string>({
      name: 'keyed',
      mint: (key) => ({ value: key, expiresAt: Date.now() + 60_000 }),
      reporter: telemetry,
    });
    telemetry.observe(single);
    telemetry.observe(keyed);
    await keyed.get('a');
    await keyed.get('b');
    const names = async (metric: string) =>
      [
        ...new Set(
          ((await collect()).find((m) => m.descriptor.name === metric)?.dataPoints ?? []).map(
            (p) => p.attributes[A.providerName],
          ),
        ),
      ].sort();
    expect(await names(M.remainingLifetime)).toEqual(['keyed', 'single']);
    single.close();
    keyed.close();
    await collect(); // the closing collection reports the breaker groups once more, in no state
    expect(await names(M.remainingLifetime)).toEqual([]);
    expect(await names(M.breakerStatus)).toEqual([]);
    telemetry.shutdown();
  });

  it('close() under cumulative temporality: the breaker status of a closed provider drops to 0 in every state', async () => {
    const { meterProvider, points } = createMetrics();
    const telemetry = createOpenTelemetryReporter({ meterProvider });
    const provider = await createRefreshingProvider({
      name: 'api',
      mint: () => ({ value: 'v', expiresAt: Date.now() + 60_000 }),
      reporter: telemetry,
    });
    telemetry.observe(provider);
    expect((await points(M.breakerStatus)).map((p) => p.value)).toEqual([1, 0, 0]);
    provider.close();
    expect((await points(M.breakerStatus)).map((p) => p.value)).toEqual([0, 0, 0]);
    telemetry.shutdown();
  });

  it('lone surrogates: provider names and keys give well-formed, distinct attribute values', async () => {
    const { meterProvider, collect } = createMetrics();
    const telemetry = createOpenTelemetryReporter({ meterProvider, includeKey: true });
    const providers = [];
    for (const name of ['tenant-\uD800', 'tenant-\uFFFD']) {
      const provider = await createRefreshingProvider({
        name,
        mint: () => ({ value: 'v', expiresAt: Date.now() + 60_000 }),
        reporter: telemetry,
      });
      telemetry.observe(provider);
      providers.push(provider);
    }
    const keyed = createKeyedProvider<string, string>({
      name: 'k',
      mint: (key) => ({ value: key, expiresAt: Date.now() + 60_000 }),
      reporter: telemetry,
    });
    telemetry.observe(keyed);
    await keyed.get('\uDBFF');
    await keyed.get('\uFFFD');
    const wire = (value: unknown) => Buffer.from(String(value), 'utf8').toString('utf8');
    const metrics = await collect();
    for (const metric of metrics) {
      for (const point of metric.dataPoints) {
        for (const value of Object.values(point.attributes)) expect(wire(value)).toBe(value);
      }
    }
    const lifetimes = metrics.find((m) => m.descriptor.name === M.remainingLifetime)?.dataPoints;
    const names = (lifetimes ?? []).map((p) => String(p.attributes[A.providerName]));
    expect(new Set(names.filter((n) => n.startsWith('tenant-'))).size).toBe(2);
    const keys = (lifetimes ?? []).filter((p) => p.attributes[A.providerName] === 'k');
    expect(new Set(keys.map((p) => p.attributes[A.key])).size).toBe(2);
    const durations = metrics.find((m) => m.descriptor.name === M.refreshDuration)?.dataPoints;
    const durationNames = (durations ?? []).map((p) => String(p.attributes[A.providerName]));
    expect(new Set(durationNames.filter((n) => n.startsWith('tenant-'))).size).toBe(2);
    for (const provider of providers) provider.close();
    keyed.close();
    telemetry.shutdown();
  });
});
