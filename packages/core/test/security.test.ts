/**
 * Security properties: a credential value never prints (errors, stacks, snapshots, reporter
 * events, util.inspect, JSON); options are copied at construction; every invalid option is
 * refused naming the option (fuzzed); keyed providers have no prototype-pollution keys.
 */

import { inspect } from 'node:util';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Credential } from '../src/credential.js';
import { InvalidOptionError, isSluiceError } from '../src/errors.js';
import { createKeyedProvider, type KeyedProviderOptions } from '../src/keyed-provider.js';
import {
  buildRefreshingProvider,
  createRefreshingProvider,
  type MintContext,
  type RefreshingProviderOptions,
} from '../src/refreshing-provider.js';
import type { Reporter } from '../src/reporter.js';
import { deferred, flush, installClock, settle, type TestClock } from './support/fake-clock.js';

const SECRET = 'sk_live_SENTINEL_7f3a9c1e5b2d4680';
const HOUR = 3_600_000;
const MAX_DELAY_MS = 2_147_483_647;

let clock: TestClock;
beforeEach(() => {
  clock = installClock();
});
afterEach(() => {
  clock.uninstall();
});

/** Everything a careless logger could print about a value. */
function printed(value: unknown): string {
  const parts = [
    inspect(value, { showHidden: true, depth: Number.POSITIVE_INFINITY, getters: true }),
    safeJson(value),
  ];
  if (value instanceof Error) parts.push(String(value), value.message, value.stack ?? '');
  return parts.join('\n');
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? '';
  } catch (error) {
    return `unserialisable: ${String(error)}`;
  }
}

function recordingReporter(): { reporter: Reporter; events: unknown[] } {
  const events: unknown[] = [];
  const record = (hook: string) => (event: object) => {
    events.push({ hook, ...event });
  };
  return {
    events,
    reporter: {
      onRefreshStart: record('start'),
      onRefreshSuccess: record('success'),
      onRefreshFailure: record('failure'),
      onBreakerStateChange: record('breaker'),
      onCoalesced: record('coalesced'),
    },
  };
}

describe('secrets never print', () => {
  it('no error Sluice raises carries the credential value, in its message, stack, inspect or JSON', async () => {
    const errors: unknown[] = [];
    const collect = async (promise: Promise<unknown>) => {
      const outcome = await settle(promise);
      if (!outcome.ok) errors.push(outcome.error);
    };
    const hang = deferred<Credential<string>>();
    const payloads: Array<() => unknown> = [
      () => ({ value: SECRET, expiresAt: Date.now() - 1 }), // MintedCredentialExpiredError
      () => ({ value: SECRET, expiresAt: Number.NaN }), // InvalidCredentialError
      () => ({ value: SECRET, expiresAt: SECRET }),
      () => ({ value: SECRET, expiresAt: new Date() }),
      () => SECRET, // not an object
      () => hang.promise, // MintTimeoutError
    ];
    let next = 0;
    const provider = await createRefreshingProvider<string>({
      lazy: true,
      name: 'billing',
      mintTimeoutMs: 1_000,
      breaker: { failureThreshold: payloads.length, cooldownMs: 60_000 },
      mint: () => (payloads[next++] as () => Credential<string>)(),
    });
    for (let i = 0; i < payloads.length - 1; i++) await collect(provider.get());
    const timedOut = collect(provider.get());
    await clock.tickAsync(1_000);
    await timedOut;
    await collect(provider.get()); // BreakerOpenError, the last mint error as cause
    provider.close();
    await collect(provider.get()); // ProviderClosedError
    // InvalidOptionError echoing a secret passed in the wrong place.
    for (const bad of [
      { schedule: SECRET },
      { name: { SECRET } },
      { now: SECRET },
      { mint: SECRET },
    ]) {
      try {
        buildRefreshingProvider({
          mint: () => ({ value: 'x' }),
          ...bad,
        } as RefreshingProviderOptions<string>);
      } catch (error) {
        errors.push(error);
      }
    }
    const keyed = createKeyedProvider<unknown, string>({ mint: () => ({ value: SECRET }) });
    await collect(keyed.get({ SECRET })); // a non-string key without keyOf
    keyed.close();

    const codes = new Set(errors.map((e) => (isSluiceError(e) ? e.code : 'foreign')));
    expect(codes).toEqual(
      new Set([
        'SLUICE_MINTED_CREDENTIAL_EXPIRED',
        'SLUICE_INVALID_CREDENTIAL',
        'SLUICE_MINT_TIMEOUT',
        'SLUICE_BREAKER_OPEN',
        'SLUICE_PROVIDER_CLOSED',
        'SLUICE_INVALID_OPTION',
      ]),
    );
    for (const error of errors) expect(printed(error)).not.toContain(SECRET);
  });

  it('snapshot(), JSON.stringify and util.inspect of providers and snapshots never contain it', async () => {
    const provider = await createRefreshingProvider<string>({
      mint: () => ({ value: SECRET, expiresAt: Date.now() + HOUR }),
    });
    const keyed = createKeyedProvider<string, string>({
      mint: () => ({ value: SECRET, expiresAt: Date.now() + HOUR }),
    });
    expect(await keyed.get('tenant')).toBe(SECRET);
    expect(await provider.get()).toBe(SECRET);
    for (const value of [provider, provider.snapshot(), keyed, keyed.snapshot('tenant')]) {
      expect(printed(value)).not.toContain(SECRET);
    }
    provider.close();
    keyed.close();
  });

  it('no reporter event in any hook carries it', async () => {
    const { reporter, events } = recordingReporter();
    let fail = false;
    const provider = await createRefreshingProvider<string>({
      reporter,
      breaker: { failureThreshold: 1, cooldownMs: 1_000 },
      mint: () => {
        if (fail) return Promise.reject(new Error('issuer down'));
        return { value: SECRET, expiresAt: Date.now() + HOUR };
      },
    });
    await clock.tickAsync(0.9 * HOUR);
    fail = true;
    expect(await provider.get()).toBe(SECRET); // due: served, background refresh fails
    await flush();
    await clock.tickAsync(1_000);
    fail = false;
    await provider.refresh(); // half-open probe succeeds
    const keyed = createKeyedProvider<string, string>({
      reporter,
      mint: () => ({ value: SECRET, expiresAt: Date.now() + HOUR }),
    });
    await keyed.get('tenant');
    const hooks = new Set(events.map((e) => (e as { hook: string }).hook));
    expect(hooks).toEqual(new Set(['start', 'success', 'failure', 'breaker', 'coalesced']));
    expect(printed(events)).not.toContain(SECRET);
    provider.close();
    keyed.close();
  });
});

describe('options are copied at construction', () => {
  it('mutating every option afterwards, nested breaker and reporter methods included, changes nothing', async () => {
    const seen: string[] = [];
    const reporter: Reporter = {
      onRefreshStart: () => seen.push('original-start'),
      onRefreshFailure: () => seen.push('original-failure'),
    };
    const breaker = { failureThreshold: 1, cooldownMs: 60_000 };
    const mintCalls: string[] = [];
    const options: RefreshingProviderOptions<string> = {
      name: 'original',
      lazy: true,
      mint: (context: MintContext<string>) => {
        mintCalls.push(`original-${context.reason}`);
        return Promise.reject(new Error('down'));
      },
      breaker,
      reporter,
      mintTimeoutMs: 5_000,
      refreshAt: 0.8,
      jitter: 0,
      refreshFloorMs: 30_000,
      minRefreshIntervalMs: 5_000,
      schedule: 'on-access',
      now: () => Date.now(),
      random: () => 0,
    };
    const provider = await createRefreshingProvider(options);
    const mutable = options as unknown as Record<string, unknown>;
    Object.assign(mutable, {
      name: 'mutated',
      lazy: false,
      mint: () => {
        mintCalls.push('mutated');
        return { value: 'mutated', expiresAt: Date.now() + HOUR };
      },
      mintTimeoutMs: 1,
      refreshAt: 0.01,
      jitter: 0.01,
      refreshFloorMs: 0,
      minRefreshIntervalMs: 0,
      schedule: 'timer',
      now: () => 0,
      random: () => 0.99,
    });
    breaker.failureThreshold = 1_000;
    breaker.cooldownMs = 0;
    reporter.onRefreshStart = () => seen.push('mutated-start');
    reporter.onBreakerStateChange = () => seen.push('mutated-breaker');

    const failure = await settle(provider.get());
    expect(failure.ok).toBe(false);
    expect(mintCalls).toEqual(['original-initial']);
    expect(seen).toEqual(['original-start', 'original-failure']);
    const snapshot = provider.snapshot();
    expect(snapshot.name).toBe('original');
    expect(snapshot.breaker).toEqual({ state: 'open', failures: 1, retryAfterMs: 60_000 });
    expect(snapshot.lastError?.at).toBe(Date.now()); // the original clock, not () => 0
    expect(clock.countTimers()).toBe(0); // still 'on-access': no refresh timer armed
    provider.close();
  });

  it('a keyed provider copies its options too (keyOf, maxKeys, breakerScope, mint)', async () => {
    const options: KeyedProviderOptions<{ id: string }, string> = {
      keyOf: (key) => key.id,
      maxKeys: 2,
      breakerScope: 'per-key',
      mint: (key) => ({ value: `original-${key.id}`, expiresAt: Date.now() + HOUR }),
    };
    const keyed = createKeyedProvider(options);
    Object.assign(options, {
      keyOf: () => 'same',
      maxKeys: 1,
      breakerScope: 'shared',
      mint: () => ({ value: 'mutated', expiresAt: Date.now() + HOUR }),
    });
    expect(await keyed.get({ id: 'a' })).toBe('original-a');
    expect(await keyed.get({ id: 'b' })).toBe('original-b');
    expect(keyed.size).toBe(2);
    keyed.close();
  });
});

// ------------------------------------------------------------------ invalid options, fuzzed

type Check = (value: unknown) => boolean;

const isInt =
  (min: number, max: number): Check =>
  (v) =>
    typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max;
const isFn: Check = (v) => typeof v === 'function';
const isObject: Check = (v) => typeof v === 'object' && v !== null;

/** Whether `value` is a valid value of each option; `undefined` (the default) always is. */
const POLICY_OPTIONS: Record<string, Check> = {
  refreshAt: (v) => typeof v === 'number' && v > 0 && v <= 1, // the default jitter shrinks to min(0.1, refreshAt)
  jitter: (v) => typeof v === 'number' && v >= 0 && v <= 0.8, // <= default refreshAt
  refreshFloorMs: isInt(0, MAX_DELAY_MS),
  minRefreshIntervalMs: isInt(0, MAX_DELAY_MS),
  mintTimeoutMs: isInt(1, MAX_DELAY_MS),
  breaker: (v) => {
    if (!isObject(v)) return false;
    const { failureThreshold, cooldownMs } = v as {
      failureThreshold?: unknown;
      cooldownMs?: unknown;
    };
    return (
      (failureThreshold === undefined || isInt(1, 1_000_000)(failureThreshold)) &&
      (cooldownMs === undefined || isInt(0, MAX_DELAY_MS)(cooldownMs))
    );
  },
  schedule: (v) => v === 'on-access' || v === 'timer',
  now: isFn,
  random: isFn,
  reporter: isObject,
  name: (v) => typeof v === 'string',
};
const SINGLE_OPTIONS: Record<string, Check> = {
  ...POLICY_OPTIONS,
  mint: isFn,
  lazy: (v) => typeof v === 'boolean',
};
const KEYED_OPTIONS: Record<string, Check> = {
  ...POLICY_OPTIONS,
  mint: isFn,
  keyOf: isFn,
  maxKeys: isInt(1, 100_000_000),
  idleTtlMs: isInt(1, MAX_DELAY_MS),
  breakerScope: (v) => v === 'per-key' || v === 'shared',
};

/** fc.anything plus the near misses the validators must catch. */
const optionValue = fc.oneof(
  fc.anything(),
  fc.constantFrom(
    null,
    Number.NaN,
    Number.POSITIVE_INFINITY,
    -1,
    0,
    0.5,
    1.5,
    MAX_DELAY_MS + 1,
    '5000',
    'timer ',
    true,
    [],
    new Date(),
    Symbol('opt'),
    10n,
    { failureThreshold: null },
    { failureThreshold: 0 },
    { cooldownMs: -1 },
  ),
);

function expectRefusal(build: () => unknown, option: string): void {
  let thrown: unknown;
  try {
    build();
  } catch (error) {
    thrown = error;
  }
  expect(thrown, `option ${option} should be refused`).toBeInstanceOf(InvalidOptionError);
  const error = thrown as InvalidOptionError;
  expect(error.option === option || error.option.startsWith(`${option}.`), error.message).toBe(
    true,
  );
  expect(error.message).toContain(`\`${error.option}\``);
}

describe('every invalid option value is refused with InvalidOptionError naming the option', () => {
  const mint = () => ({ value: 'x', expiresAt: Date.now() + HOUR });

  it('createRefreshingProvider: fuzzed over every option with arbitrary values', () => {
    fc.assert(
      fc.property(fc.constantFrom(...Object.keys(SINGLE_OPTIONS)), optionValue, (option, value) => {
        fc.pre(value !== undefined && !(SINGLE_OPTIONS[option] as Check)(value));
        expectRefusal(
          () =>
            buildRefreshingProvider({ mint, [option]: value } as RefreshingProviderOptions<string>),
          option,
        );
      }),
      { numRuns: 2_000 },
    );
  });

  it('createKeyedProvider: fuzzed over every option with arbitrary values', () => {
    fc.assert(
      fc.property(fc.constantFrom(...Object.keys(KEYED_OPTIONS)), optionValue, (option, value) => {
        fc.pre(value !== undefined && !(KEYED_OPTIONS[option] as Check)(value));
        expectRefusal(
          () =>
            createKeyedProvider({ mint, [option]: value } as KeyedProviderOptions<string, string>),
          option,
        );
      }),
      { numRuns: 2_000 },
    );
  });

  it('null is refused like any other wrong type, for every option (null is not "use the default")', () => {
    const accepted: string[] = [];
    const refuses = (label: string, build: () => unknown): void => {
      try {
        build();
        accepted.push(label);
      } catch (error) {
        expect(error, label).toBeInstanceOf(InvalidOptionError);
        expect((error as InvalidOptionError).option.startsWith(label.split(' ')[1] as string)).toBe(
          true,
        );
      }
    };
    for (const option of Object.keys(SINGLE_OPTIONS)) {
      refuses(`single ${option}`, () =>
        buildRefreshingProvider({
          mint,
          [option]: null,
        } as unknown as RefreshingProviderOptions<string>),
      );
    }
    for (const option of Object.keys(KEYED_OPTIONS)) {
      refuses(`keyed ${option}`, () =>
        createKeyedProvider({ mint, [option]: null } as unknown as KeyedProviderOptions<
          string,
          string
        >),
      );
    }
    for (const field of ['failureThreshold', 'cooldownMs']) {
      refuses(`single breaker.${field}`, () =>
        buildRefreshingProvider({
          mint,
          breaker: { [field]: null },
        } as unknown as RefreshingProviderOptions<string>),
      );
    }
    expect(accepted, 'options that silently accept null').toEqual([]);
  });

  it('the async factory rejects (never throws synchronously) with the same error', async () => {
    const pending = createRefreshingProvider({ mint, mintTimeoutMs: 0 });
    await expect(pending).rejects.toMatchObject({
      code: 'SLUICE_INVALID_OPTION',
      option: 'mintTimeoutMs',
    });
  });
});

describe('keyed providers have no magic keys', () => {
  const MAGIC = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf'] as const;

  it('treats __proto__, constructor, toString, hasOwnProperty and valueOf as ordinary keys; Object.prototype is untouched', async () => {
    const before = Object.getOwnPropertyNames(Object.prototype).sort();
    const descriptors = Object.getOwnPropertyDescriptors(Object.prototype);
    const keyed = createKeyedProvider<string, string>({
      mint: (key) => ({ value: `token-for-${key}`, expiresAt: Date.now() + HOUR }),
    });
    for (const key of MAGIC) expect(await keyed.get(key)).toBe(`token-for-${key}`);
    expect(keyed.size).toBe(MAGIC.length);
    for (const key of MAGIC) {
      expect(keyed.peek(key)?.value).toBe(`token-for-${key}`);
      expect(keyed.snapshot(key)).toMatchObject({ key, status: 'fresh' });
    }
    expect(keyed.snapshot('isPrototypeOf')).toBeUndefined();
    expect(keyed.invalidate('__proto__')).toBe(true);
    expect(keyed.peek('__proto__')).toBeUndefined();
    expect(keyed.delete('constructor')).toBe(true);
    expect(keyed.delete('constructor')).toBe(false);
    expect(keyed.size).toBe(MAGIC.length - 1);
    keyed.close();
    expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(before);
    expect(Object.getOwnPropertyDescriptors(Object.prototype)).toEqual(descriptors);
    expect(({} as Record<string, unknown>).cell).toBeUndefined();
    expect(Object.getPrototypeOf({})).toBe(Object.prototype);
  });

  it('the same holds with keyOf mapping objects onto magic strings', async () => {
    const keyed = createKeyedProvider<{ k: string }, string>({
      keyOf: (key) => key.k,
      mint: (key) => ({ value: `token-for-${key.k}`, expiresAt: Date.now() + HOUR }),
    });
    for (const k of MAGIC) expect(await keyed.get({ k })).toBe(`token-for-${k}`);
    expect(keyed.size).toBe(MAGIC.length);
    keyed.close();
    expect(Object.prototype.toString.call([])).toBe('[object Array]');
  });
});
