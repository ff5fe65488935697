/**
 * Regression tests for the contract breaks of @sluice/core 0.1.0 found with hostile but legal
 * input (issue 11): re-entrant reporter hooks, synchronous mints, hostile clocks and
 * thenables, eviction of keys callers wait on. One `describe` per defect, each test named
 * after the bug it pins. Every test here fails on 0.1.0.
 *
 * Error classes added since 0.1.0 are checked by `code`, so this file also runs against the
 * 0.1.0 sources (that is how each test was shown to fail there).
 */

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Credential } from '../src/credential.js';
import { createKeyedProvider } from '../src/keyed-provider.js';
import { poll } from '../src/poll.js';
import {
  createRefreshingProvider,
  type Mint,
  type RefreshingProvider,
  type RefreshingProviderOptions,
} from '../src/refreshing-provider.js';
import { deferred, flush, installClock, settle, type TestClock } from './support/fake-clock.js';
import { manualMint } from './support/manual-mint.js';
import { withoutUnhandled } from './support/unhandled.js';

const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

let clock: TestClock;
beforeEach(() => {
  clock = installClock();
});
afterEach(() => {
  clock.uninstall();
});

/** An eager provider whose first mint returned `token-1` for an hour; `later` mints follow. */
async function started(
  options: Partial<RefreshingProviderOptions<string>> = {},
): Promise<{ provider: RefreshingProvider<string> } & ReturnType<typeof manualMint<string>>> {
  const m = manualMint<string>();
  const pending = createRefreshingProvider<string>({ mint: m.mint, random: () => 0, ...options });
  m.last().deferred.resolve({ value: 'token-1', expiresAt: Date.now() + HOUR });
  return { provider: await pending, ...m };
}

/** Calls `call` and reports whether it threw synchronously, or what it returned. */
function callSafely<R>(call: () => R): { threw: unknown } | { returned: R } {
  try {
    return { returned: call() };
  } catch (error) {
    return { threw: error };
  }
}

const codeOf = (error: unknown): unknown => (error as { code?: unknown } | null)?.code;

describe('defect 1: re-entrant reporter hooks', () => {
  it('an onRefreshStart hook that calls get() in the due window never makes the outer get() throw', async () => {
    let inner: Promise<string> | undefined;
    let provider!: RefreshingProvider<string>;
    const setup = await started({
      reporter: {
        onRefreshStart: () => {
          inner = provider.get();
        },
      },
    });
    provider = setup.provider;
    await clock.tickAsync(0.8 * HOUR); // due: the next get starts a background refresh
    const outer = callSafely(() => provider.get());
    expect(outer).not.toHaveProperty('threw');
    expect(await (outer as { returned: Promise<string> }).returned).toBe('token-1');
    expect(await inner).toBe('token-1');
    expect(setup.calls).toHaveLength(2); // the eager mint and ONE background refresh
    provider.close();
  });

  it('an onRefreshStart hook that calls refresh() joins the mint that is starting, never a second one', async () => {
    let provider!: RefreshingProvider<string>;
    let inner: Promise<Credential<string>> | undefined;
    const m = manualMint<string>();
    provider = await createRefreshingProvider<string>({
      mint: m.mint,
      lazy: true,
      reporter: {
        onRefreshStart: () => {
          inner ??= provider.refresh();
        },
      },
    });
    const outer = callSafely(() => provider.get());
    expect(outer).not.toHaveProperty('threw');
    expect(m.calls).toHaveLength(1);
    m.last().deferred.resolve({ value: 'token-1', expiresAt: Date.now() + HOUR });
    expect(await (outer as { returned: Promise<string> }).returned).toBe('token-1');
    expect((await inner)?.value).toBe('token-1');
    provider.close();
  });

  it('an onBreakerStateChange hook that calls get() when the breaker goes half-open leaves ONE probe', async () => {
    const m = manualMint<string>();
    let provider!: RefreshingProvider<string>;
    const inner: Array<Promise<unknown>> = [];
    provider = await createRefreshingProvider<string>({
      mint: m.mint,
      lazy: true,
      breaker: { failureThreshold: 1, cooldownMs: MINUTE },
      reporter: {
        onBreakerStateChange: (event) => {
          if (event.to === 'half-open') inner.push(settle(provider.get()));
        },
      },
    });
    const first = settle(provider.get());
    m.last().deferred.reject(new Error('issuer down'));
    await first;
    await clock.tickAsync(MINUTE);
    const probe = callSafely(() => provider.get());
    expect(probe).not.toHaveProperty('threw');
    expect(m.calls).toHaveLength(2); // one probe, joined by the hook's call
    m.last().deferred.resolve({ value: 'token-2', expiresAt: Date.now() + HOUR });
    expect(await (probe as { returned: Promise<string> }).returned).toBe('token-2');
    expect(await Promise.all(inner)).toEqual([{ ok: true, value: 'token-2' }]);
    provider.close();
  });

  it("with schedule: 'timer', a hook that calls get() during a timer-driven refresh never throws out of the timer", async () => {
    let provider!: RefreshingProvider<string>;
    const unhandled = await withoutUnhandled(async () => {
      const setup = await started({
        schedule: 'timer',
        reporter: {
          onRefreshStart: (event) => {
            if (event.reason === 'proactive') void provider.get();
          },
        },
      });
      provider = setup.provider;
      await clock.tickAsync(0.8 * HOUR); // the refresh timer fires; a throw would surface here
      expect(setup.calls).toHaveLength(2);
      setup.last().deferred.resolve({ value: 'token-2', expiresAt: Date.now() + HOUR });
      await flush();
      expect(await provider.get()).toBe('token-2');
      provider.close();
    });
    expect(unhandled).toEqual([]);
  });
});

describe('defect 2: close() from inside a hook', () => {
  it('close() in onRefreshStart fails the waiters with ProviderClosedError and caches nothing', async () => {
    const m = manualMint<string>();
    let provider!: RefreshingProvider<string>;
    provider = await createRefreshingProvider<string>({
      mint: m.mint,
      lazy: true,
      reporter: { onRefreshStart: () => provider.close() },
    });
    const waiter = settle(provider.get());
    // Whatever the mint was given, its signal is aborted and its late result is discarded.
    for (const call of m.calls) {
      expect(call.context.signal.aborted).toBe(true);
      call.deferred.resolve({ value: 'late-token', expiresAt: Date.now() + HOUR });
    }
    const outcome = await waiter;
    expect(outcome.ok).toBe(false);
    expect(codeOf((outcome as { error: unknown }).error)).toBe('SLUICE_PROVIDER_CLOSED');
    await flush();
    expect(provider.peek()).toBeUndefined();
    expect(await settle(provider.get())).toMatchObject({
      ok: false,
      error: { code: 'SLUICE_PROVIDER_CLOSED' },
    });
    expect(provider.snapshot().status).toBe('closed');
  });
});

describe('defect 3: get() returning undefined', () => {
  it('a hook that invalidates in the due window cannot make get() return undefined', async () => {
    let provider!: RefreshingProvider<string>;
    const setup = await started({
      reporter: { onRefreshStart: () => provider.invalidate() },
    });
    provider = setup.provider;
    await clock.tickAsync(0.8 * HOUR);
    const result = callSafely(() => provider.get());
    expect(result).not.toHaveProperty('threw');
    const returned = (result as { returned: unknown }).returned;
    expect(returned).toBeInstanceOf(Promise);
    expect(await returned).toBe('token-1'); // valid when the call was made
    provider.close();
  });

  it('a synchronous mint that closes the provider cannot make getCredential() return undefined', async () => {
    let provider!: RefreshingProvider<string>;
    let calls = 0;
    const mint: Mint<string> = () => {
      calls += 1;
      if (calls === 1) return { value: 'token-1', expiresAt: Date.now() + HOUR };
      provider.close();
      return { value: 'token-2', expiresAt: Date.now() + HOUR };
    };
    provider = await createRefreshingProvider<string>({ mint, random: () => 0 });
    await clock.tickAsync(0.8 * HOUR);
    const result = callSafely(() => provider.getCredential());
    const returned = (result as { returned: unknown }).returned;
    expect(returned).toBeInstanceOf(Promise);
    expect((await (returned as Promise<Credential<string>>)).value).toBe('token-1');
    expect(provider.peek()).toBeUndefined();
  });
});

describe('defect 4: a thenable whose then getter throws', () => {
  const hostile = (error: Error) => ({
    // biome-ignore lint/suspicious/noThenProperty: a hostile thenable is what this test feeds
    get then(): never {
      throw error;
    },
  });

  it('get() never throws and serves the valid credential; the mint fails at once, not at the timeout', async () => {
    const boom = new Error('then getter');
    let calls = 0;
    const provider = await createRefreshingProvider<string>({
      random: () => 0,
      mint: () => {
        calls += 1;
        if (calls === 1) return { value: 'token-1', expiresAt: Date.now() + HOUR };
        return hostile(boom) as unknown as Credential<string>;
      },
    });
    await clock.tickAsync(0.8 * HOUR);
    const result = callSafely(() => provider.get());
    expect(result).not.toHaveProperty('threw');
    expect(await (result as { returned: Promise<string> }).returned).toBe('token-1');
    await flush();
    expect(provider.snapshot()).toMatchObject({
      mintInFlight: false,
      lastError: { message: 'then getter' },
    });
    provider.close();
  });

  it('in a keyed sweep it is no unhandled rejection, and the sweep keeps running', async () => {
    const boom = new Error('then getter');
    let calls = 0;
    const unhandled = await withoutUnhandled(async () => {
      const keyed = createKeyedProvider<string, string>({
        random: () => 0.5,
        mint: () => {
          calls += 1;
          if (calls === 1) return { value: 'token-1', expiresAt: Date.now() + HOUR };
          return hostile(boom) as unknown as Credential<string>;
        },
      });
      await keyed.get('a');
      keyed.startSweep({ intervalMs: MINUTE, jitter: 0 });
      await clock.tickAsync(HOUR); // the key falls due, then expires: every sweep retries it
      expect(calls).toBeGreaterThan(2); // the sweep ran again after the hostile thenable
      keyed.close();
    });
    expect(unhandled).toEqual([]);
  });
});

describe('defect 5: a synchronous mint failure is shared with every caller of the tick', () => {
  const cases: Array<[string, () => unknown, string | undefined]> = [
    [
      'a mint that throws synchronously',
      () => {
        throw new Error('sync throw');
      },
      undefined,
    ],
    ['a mint that returns null synchronously', () => null, 'SLUICE_INVALID_CREDENTIAL'],
    [
      'a mint that returns an already expired credential synchronously',
      () => ({ value: 'stale', expiresAt: Date.now() - 1 }),
      'SLUICE_MINTED_CREDENTIAL_EXPIRED',
    ],
  ];
  for (const [name, body, code] of cases) {
    it(`${name}: 5 concurrent callers cause ONE mint and get the same error`, async () => {
      let calls = 0;
      const provider = await createRefreshingProvider<string>({
        lazy: true,
        mint: () => {
          calls += 1;
          return body() as Credential<string>;
        },
      });
      const outcomes = await Promise.all(Array.from({ length: 5 }, () => settle(provider.get())));
      expect(calls).toBe(1);
      const errors = outcomes.map((o) => (o.ok ? undefined : o.error));
      expect(new Set(errors).size).toBe(1);
      if (code !== undefined) expect(codeOf(errors[0])).toBe(code);
      expect(provider.snapshot().breaker.failures).toBe(1);
      provider.close();
    });
  }
});

describe('defect 6: a hostile injected clock', () => {
  it('a clock returning NaN never gets an expired credential served', async () => {
    let reading = Date.now();
    const { provider } = await started({ now: () => reading });
    await clock.tickAsync(2 * HOUR); // the cached credential has expired by now
    reading = Number.NaN;
    const outcome = await settle(provider.get());
    expect(outcome.ok).toBe(false);
    expect(codeOf((outcome as { error: unknown }).error)).toBe('SLUICE_INVALID_CLOCK');
    provider.close();
  });

  it('a clock that throws makes get() reject, never throw synchronously', async () => {
    let broken = false;
    const boom = new Error('clock broke');
    const { provider } = await started({
      now: () => {
        if (broken) throw boom;
        return Date.now();
      },
    });
    broken = true;
    const result = callSafely(() => provider.get());
    expect(result).not.toHaveProperty('threw');
    const outcome = await settle((result as { returned: Promise<string> }).returned);
    expect(outcome).toMatchObject({
      ok: false,
      error: { code: 'SLUICE_INVALID_CLOCK', cause: boom },
    });
    provider.close();
  });

  it('a clock that throws as a mint lands fails its waiters with a clear error, records it, and leaves no unhandled rejection', async () => {
    let broken = false;
    const m = manualMint<string>();
    const unhandled = await withoutUnhandled(async () => {
      const provider = await createRefreshingProvider<string>({
        mint: m.mint,
        lazy: true,
        now: () => {
          if (broken) throw new Error('clock broke');
          return Date.now();
        },
      });
      const waiter = settle(provider.get());
      broken = true;
      m.last().deferred.resolve({ value: 'token-1', expiresAt: Date.now() + HOUR });
      const outcome = await waiter;
      expect(outcome).toMatchObject({ ok: false, error: { code: 'SLUICE_INVALID_CLOCK' } });
      broken = false;
      expect(provider.snapshot().lastError).toMatchObject({ code: 'SLUICE_INVALID_CLOCK' });
      provider.close();
    });
    expect(unhandled).toEqual([]);
  });

  it('a clock that throws inside the mint-timeout timer does not crash: waiters get MintTimeoutError', async () => {
    let broken = false;
    const m = manualMint<string>();
    const unhandled = await withoutUnhandled(async () => {
      const provider = await createRefreshingProvider<string>({
        mint: m.mint,
        lazy: true,
        mintTimeoutMs: 5 * SECOND,
        now: () => {
          if (broken) throw new Error('clock broke');
          return Date.now();
        },
      });
      const waiter = settle(provider.get());
      broken = true;
      await clock.tickAsync(5 * SECOND); // a throw in the timer would surface here
      expect(await waiter).toMatchObject({ ok: false, error: { code: 'SLUICE_MINT_TIMEOUT' } });
      broken = false;
      expect(provider.snapshot().breaker.failures).toBe(1);
      provider.close();
    });
    expect(unhandled).toEqual([]);
  });

  it('poll() checks every clock reading: a later NaN fails the poll instead of ignoring maxWaitMs', async () => {
    let readings = 0;
    const polling = settle(
      poll(() => ({ status: 'pending' as const }), {
        initialDelayMs: SECOND,
        maxWaitMs: 10 * SECOND,
        jitter: 0,
        now: () => (++readings <= 2 ? Date.now() : Number.NaN),
      }),
    );
    await clock.tickAsync(20 * SECOND);
    const outcome = await polling;
    expect(outcome.ok).toBe(false);
    expect(codeOf((outcome as { error: unknown }).error)).toBe('SLUICE_INVALID_CLOCK');
  });
});

describe('defect 7: async reporter hooks', () => {
  it('a hook returning a rejected promise is swallowed like a throw: no unhandled rejection', async () => {
    const unhandled = await withoutUnhandled(async () => {
      const { provider, last } = await started({
        reporter: {
          onRefreshStart: () => Promise.reject(new Error('async hook')),
          onRefreshSuccess: async () => {
            throw new Error('async hook');
          },
        },
      });
      await clock.tickAsync(0.8 * HOUR);
      expect(await provider.get()).toBe('token-1');
      last().deferred.resolve({ value: 'token-2', expiresAt: Date.now() + HOUR });
      await flush();
      expect(await provider.get()).toBe('token-2');
      provider.close();
    });
    expect(unhandled).toEqual([]);
  });
});

describe('defect 8: startSweep timer overflow', () => {
  it('a long intervalMs with jitter never turns into a 1 ms sweep', async () => {
    let calls = 0;
    const keyed = createKeyedProvider<string, string>({
      random: () => 0.99,
      mint: () => {
        calls += 1;
        return { value: `token-${calls}`, expiresAt: Date.now() + 2 * SECOND };
      },
    });
    await keyed.get('a');
    keyed.startSweep({ intervalMs: 2_147_483_647, jitter: 0.5 });
    await clock.tickAsync(10 * SECOND); // the key is due and expired, but no sweep is due yet
    expect(calls).toBe(1);
    keyed.close();
  });

  it('a random() outside [0, 1) is clamped for the sweep too: a negative one never makes it spin', async () => {
    let calls = 0;
    const keyed = createKeyedProvider<string, string>({
      random: () => -5,
      mint: () => {
        calls += 1;
        return { value: `token-${calls}`, expiresAt: Date.now() + 2 * SECOND };
      },
    });
    await keyed.get('a');
    keyed.startSweep({ intervalMs: MINUTE, jitter: 0.5 });
    await clock.tickAsync(29 * SECOND); // under the shortest jittered interval, 30 s
    expect(calls).toBe(1);
    keyed.close();
  });
});

describe('defect 9: eviction never aborts a mint that callers wait on', () => {
  it('peek() of a key idle past idleTtlMs neither drops it nor fails the callers waiting on its mint', async () => {
    const mints: Array<ReturnType<typeof deferred<Credential<string>>>> = [];
    const keyed = createKeyedProvider<string, string>({
      idleTtlMs: SECOND,
      mintTimeoutMs: MINUTE,
      mint: () => {
        const d = deferred<Credential<string>>();
        mints.push(d);
        return d.promise;
      },
    });
    const waiter = settle(keyed.get('a'));
    await clock.tickAsync(2 * SECOND); // idle for the TTL while its mint runs
    keyed.peek('a');
    keyed.snapshot('a');
    keyed.invalidate('a');
    expect(keyed.size).toBe(1);
    mints[0]?.resolve({ value: 'token-a', expiresAt: Date.now() + HOUR });
    expect(await waiter).toEqual({ ok: true, value: 'token-a' });
    keyed.close();
  });

  it('a burst of more distinct keys than maxKeys never fails the callers of keys whose mints still run', async () => {
    const mints = new Map<string, ReturnType<typeof deferred<Credential<string>>>>();
    const keyed = createKeyedProvider<string, string>({
      maxKeys: 3,
      mint: (key) => {
        const d = deferred<Credential<string>>();
        mints.set(key, d);
        return d.promise;
      },
    });
    const waiters = ['a', 'b', 'c', 'd', 'e'].map((key) => [key, settle(keyed.get(key))] as const);
    await flush();
    // The first three keys keep their mints; the burst past maxKeys is refused instead.
    expect([...mints.keys()]).toEqual(['a', 'b', 'c']);
    for (const key of ['a', 'b', 'c']) {
      expect(mints.get(key)?.promise).toBeDefined();
      mints.get(key)?.resolve({ value: `token-${key}`, expiresAt: Date.now() + HOUR });
    }
    const outcomes = Object.fromEntries(
      await Promise.all(waiters.map(async ([key, outcome]) => [key, await outcome] as const)),
    );
    expect(outcomes.a).toEqual({ ok: true, value: 'token-a' });
    expect(outcomes.b).toEqual({ ok: true, value: 'token-b' });
    expect(outcomes.c).toEqual({ ok: true, value: 'token-c' });
    for (const key of ['d', 'e']) {
      expect(outcomes[key]).toMatchObject({ ok: false, error: { code: 'SLUICE_KEYS_BUSY' } });
    }
    // Once a key is no longer waited on, a new key evicts it as usual.
    const next = keyed.get('f');
    mints.get('f')?.resolve({ value: 'token-f', expiresAt: Date.now() + HOUR });
    expect(await next).toBe('token-f');
    expect(keyed.size).toBe(3);
    keyed.close();
  });
});

describe('defect 10: idleTtlMs on a quiet keyed provider with the timer schedule', () => {
  it('a key used once is dropped when idle, so it stops being refreshed in the background', async () => {
    let calls = 0;
    const keyed = createKeyedProvider<string, string>({
      schedule: 'timer',
      idleTtlMs: 10 * MINUTE,
      random: () => 0,
      mint: () => {
        calls += 1;
        return { value: `token-${calls}`, expiresAt: Date.now() + 5 * MINUTE };
      },
    });
    await keyed.get('a');
    await clock.tickAsync(24 * HOUR); // a quiet day
    expect(calls).toBeLessThanOrEqual(4); // 0.1.0: one refresh every 4 minutes, all day
    expect(keyed.size).toBe(0);
    keyed.close();
  });
});

describe('defect 11: close() keeps the last value reachable', () => {
  it('after close(), the provider holds no reference to the last minted value', async () => {
    const { setFlagsFromString } = await import('node:v8');
    const { runInNewContext } = await import('node:vm');
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    let ref: WeakRef<object> | undefined;
    const m = manualMint<object>();
    const provider = await createRefreshingProvider<object>({ mint: m.mint, lazy: true });
    await (async () => {
      const waiter = provider.get(); // a waiter derives the value promise of the flight
      const value = { secret: 'token' };
      ref = new WeakRef(value);
      m.last().deferred.resolve({ value, expiresAt: Date.now() + HOUR });
      await waiter;
    })();
    provider.close();
    m.calls.length = 0; // the test's own references go
    await new Promise((resolve) => setImmediate(resolve));
    gc();
    await new Promise((resolve) => setImmediate(resolve));
    gc();
    expect(ref?.deref()).toBeUndefined();
    expect(provider).toBeInstanceOf(Object); // the provider itself is still alive
  });
});
