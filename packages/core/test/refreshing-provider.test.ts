import { inspect } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Credential } from '../src/credential.js';
import {
  BreakerOpenError,
  InvalidCredentialError,
  isSluiceError,
  MintedCredentialExpiredError,
  MintTimeoutError,
  ProviderClosedError,
} from '../src/errors.js';
import {
  createRefreshingProvider,
  type RefreshingProvider,
  type RefreshingProviderOptions,
} from '../src/refreshing-provider.js';
import type { Reporter } from '../src/reporter.js';
import { flush, installClock, START, settle, type TestClock } from './support/fake-clock.js';
import { manualMint } from './support/manual-mint.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

let clock: TestClock;
beforeEach(() => {
  clock = installClock();
});
afterEach(() => {
  clock.uninstall();
});

/** A provider whose eager first mint returned `value` living `lifetimeMs`. */
async function started(
  options: Partial<RefreshingProviderOptions<string>> = {},
  lifetimeMs = HOUR,
  value = 'token-1',
) {
  const m = manualMint<string>();
  const pending = createRefreshingProvider<string>({ mint: m.mint, random: () => 0, ...options });
  m.last().deferred.resolve({ value, expiresAt: Date.now() + lifetimeMs });
  const provider = await pending;
  return { provider, ...m };
}

/** A reporter that records every event as [hook, event]. */
function recordingReporter() {
  const events: Array<[string, Record<string, unknown>]> = [];
  const record =
    (hook: string) =>
    (event: object): void => {
      events.push([hook, { ...event }]);
    };
  const reporter: Reporter = {
    onRefreshStart: record('start'),
    onRefreshSuccess: record('success'),
    onRefreshFailure: record('failure'),
    onBreakerStateChange: record('breaker'),
    onCoalesced: record('coalesced'),
    onInvalidateRefused: record('invalidateRefused'),
    onKeyDropped: record('keyDropped'),
    onBreakerRefused: record('breakerRefused'),
  };
  return {
    reporter,
    events,
    of: (hook: string) => events.filter(([h]) => h === hook).map(([, e]) => e),
  };
}

describe('1. serving a valid credential', () => {
  it('serves the cached credential without minting while it is fresh', async () => {
    const { provider, calls } = await started();
    for (let i = 0; i < 100; i++) expect(await provider.get()).toBe('token-1');
    await clock.tickAsync(0.79 * HOUR);
    expect(await provider.get()).toBe('token-1');
    expect(calls).toHaveLength(1);
  });

  it('past the due point serves the cached credential and starts ONE background refresh the caller does not wait for', async () => {
    const { provider, calls, last } = await started();
    await clock.tickAsync(0.8 * HOUR);
    // The refresh mint stays pending, yet every caller is served at once.
    const served = await Promise.all(Array.from({ length: 50 }, () => provider.get()));
    expect(new Set(served)).toEqual(new Set(['token-1']));
    expect(calls).toHaveLength(2);
    expect(last().context.reason).toBe('proactive');
    expect(last().context.previous?.value).toBe('token-1');
    last().deferred.resolve({ value: 'token-2', expiresAt: Date.now() + HOUR });
    await flush();
    expect(await provider.get()).toBe('token-2');
    expect(calls).toHaveLength(2);
  });
});

describe('2. the due point', () => {
  it('is issuedAt + lifetime x (refreshAt - jitter x sample), the sample drawn once per credential', async () => {
    let draws = 0;
    const { provider, calls } = await started({
      random: () => {
        draws += 1;
        return 0.5;
      },
    });
    expect(provider.snapshot().refreshDueAt).toBe(START + 0.75 * HOUR);
    await clock.tickAsync(0.75 * HOUR - 1);
    await provider.get();
    expect(calls).toHaveLength(1);
    await clock.tickAsync(1);
    await provider.get();
    expect(calls).toHaveLength(2);
    expect(draws).toBe(1);
  });

  it('is never later than refreshFloorMs before expiry', async () => {
    const { provider } = await started({}, 100_000);
    expect(provider.snapshot().refreshDueAt).toBe(START + 70_000);
  });

  it('is never earlier than the issue time', async () => {
    // A 10 s credential against a 30 s floor is due at once (then delayed by the loop guard).
    const { provider } = await started({ minRefreshIntervalMs: 0 }, 10_000);
    expect(provider.snapshot().refreshDueAt).toBe(START);
  });

  it('never refreshes a credential without expiry', async () => {
    const m = manualMint<string>();
    const pending = createRefreshingProvider<string>({ mint: m.mint });
    m.last().deferred.resolve({ value: 'forever' });
    const provider = await pending;
    await clock.tickAsync(10 * 365 * 24 * HOUR);
    expect(await provider.get()).toBe('forever');
    expect(m.calls).toHaveLength(1);
    expect(provider.snapshot()).toMatchObject({
      expiresAt: null,
      refreshDueAt: null,
      status: 'fresh',
    });
  });
});

describe('2b. refreshAfter: the credential says when to refresh it', () => {
  const DAY = 24 * HOUR;

  it.each([0, 0.5, 0.999])(
    'Azure-like: a 24 h credential with refreshAfter at 12 h is refreshed between 12 h and 13.2 h, not at 19 h (jitter sample %s)',
    async (r) => {
      let mints = 0;
      const mintedAt: number[] = [];
      const provider = await createRefreshingProvider<string>({
        mint: () => {
          mints++;
          mintedAt.push(Date.now());
          return {
            value: `t${mints}`,
            expiresAt: Date.now() + DAY,
            refreshAfter: Date.now() + DAY / 2,
          };
        },
        random: () => r,
      });
      for (let minute = 1; minute <= 14 * 60; minute++) {
        await clock.tickAsync(MINUTE);
        await provider.get();
      }
      expect(mints).toBe(2);
      const refreshedAfterMs = (mintedAt[1] as number) - START;
      expect(refreshedAfterMs).toBeGreaterThanOrEqual(12 * HOUR);
      expect(refreshedAfterMs).toBeLessThanOrEqual(13.2 * HOUR + MINUTE);
      expect(refreshedAfterMs).toBeLessThan(19 * HOUR);
    },
  );

  /**
   * A metadata server (EC2 IMDS, ECS, GCE, Azure IMDS): it hands out the same credential
   * (same value, same expiresAt) until `leadMs` before its 1 h expiry, then a new 1 h one.
   */
  function metadataServer(leadMs: number, announce: boolean) {
    let generation = 1;
    let expiresAt = START + HOUR;
    let handedBack = 0;
    const calls: number[] = [];
    const mint = () => {
      const now = Date.now();
      calls.push(now);
      if (now >= expiresAt - leadMs) {
        generation++;
        expiresAt = now + HOUR;
      } else if (calls.length > 1) {
        handedBack++;
      }
      const credential = { value: `cred-${generation}`, expiresAt };
      return announce ? { ...credential, refreshAfter: expiresAt - leadMs } : credential;
    };
    return { mint, calls, handedBack: () => handedBack };
  }

  async function getEverySecondFor(provider: RefreshingProvider<string>, ms: number) {
    for (let t = 0; t < ms; t += 1_000) {
      await clock.tickAsync(1_000);
      await provider.get();
    }
  }

  it.each([0, 0.5, 0.999])(
    'metadata-server simulation: a source announcing its rotation with refreshAfter costs at most 4 calls over 3 h of get() every second (7 before; jitter sample %s)',
    async (r) => {
      const server = metadataServer(5 * MINUTE, true);
      const provider = await createRefreshingProvider({ mint: server.mint, random: () => r });
      await getEverySecondFor(provider, 3 * HOUR);
      expect(server.calls.length).toBeLessThanOrEqual(4);
      // One call per rotation: none was made before the source rotates.
      expect(server.handedBack()).toBe(0);
    },
  );

  it('kept-credential rule: a metadata server that hands back its credential until 1 min before expiry costs at most 2 calls per credential, never a chain of early refreshes (10 before)', async () => {
    const server = metadataServer(MINUTE, false);
    const provider = await createRefreshingProvider({ mint: server.mint, random: () => 0 });
    await getEverySecondFor(provider, 3 * HOUR);
    // 0, 48 min (handed back), 59.5 min (the floor: new), and so on for each credential.
    expect(server.calls.map((t) => (t - START) / MINUTE)).toEqual([
      0, 48, 59.5, 107.5, 119, 167, 178.5,
    ]);
  });

  it('kept-credential rule: after a credential handed back unchanged, the next attempt is at the floor before expiry', async () => {
    const expiresAt = START + HOUR;
    let mints = 0;
    const provider = await createRefreshingProvider<string>({
      mint: () => {
        mints++;
        return { value: 'same', expiresAt };
      },
      random: () => 0,
    });
    await clock.tickAsync(48 * MINUTE);
    await provider.get();
    await flush();
    expect(mints).toBe(2);
    expect(provider.snapshot().refreshDueAt).toBe(expiresAt - 30_000);
  });

  it('a refreshAfter in the past makes the credential due at once: it is served, and refreshed after the refresh-loop guard', async () => {
    let mints = 0;
    const provider = await createRefreshingProvider<string>({
      mint: () => {
        mints++;
        return { value: `t${mints}`, expiresAt: Date.now() + HOUR, refreshAfter: 0 };
      },
    });
    expect(provider.snapshot()).toMatchObject({ refreshDueAt: START + 5_000, status: 'fresh' });
    expect(await provider.get()).toBe('t1');
    await clock.tickAsync(5_000);
    expect(await provider.get()).toBe('t1');
    await flush();
    expect(mints).toBe(2);
    expect(await provider.get()).toBe('t2');
  });

  it('a refreshAfter after expiresAt is clamped: due at the floor before expiry', async () => {
    const provider = await createRefreshingProvider<string>({
      mint: () => ({ value: 'v', expiresAt: Date.now() + HOUR, refreshAfter: Date.now() + DAY }),
      random: () => 0.9,
    });
    expect(provider.snapshot().refreshDueAt).toBe(START + HOUR - 30_000);
  });

  it('a credential without expiry is refreshed at its refreshAfter', async () => {
    let mints = 0;
    const provider = await createRefreshingProvider<string>({
      mint: () => {
        mints++;
        return { value: `t${mints}`, refreshAfter: Date.now() + HOUR };
      },
      random: () => 0,
    });
    expect(provider.snapshot()).toMatchObject({ expiresAt: null, refreshDueAt: START + HOUR });
    await clock.tickAsync(HOUR);
    await provider.get();
    await flush();
    expect(mints).toBe(2);
  });

  it('a refreshAfter that is not a finite number fails the mint with InvalidCredentialError naming the field; a valid cached credential is still served', async () => {
    const { provider, last } = await started();
    await clock.tickAsync(0.8 * HOUR);
    expect(await provider.get()).toBe('token-1');
    last().deferred.resolve({
      value: 'token-2',
      expiresAt: Date.now() + HOUR,
      refreshAfter: Number.NaN,
    });
    await flush();
    expect(await provider.get()).toBe('token-1');
    expect(provider.snapshot().lastError).toMatchObject({ code: 'SLUICE_INVALID_CREDENTIAL' });
    expect(provider.snapshot().lastError?.message).toContain('`refreshAfter`');
    expect(provider.snapshot().lastError?.message).not.toContain('token-2');
  });
});

describe('3. waiting for a mint (single-flight)', () => {
  it('all concurrent callers on an expired credential join ONE mint and get its value', async () => {
    const { provider, calls, last } = await started();
    await clock.tickAsync(HOUR);
    const waiters = Array.from({ length: 1000 }, () => provider.get());
    expect(calls).toHaveLength(2);
    expect(last().context.reason).toBe('expired');
    last().deferred.resolve({ value: 'token-2', expiresAt: Date.now() + HOUR });
    expect(new Set(await Promise.all(waiters))).toEqual(new Set(['token-2']));
    expect(calls).toHaveLength(2);
  });

  it('every waiter of a failed mint gets the SAME error object and nobody retries', async () => {
    const { provider, calls, last } = await started();
    await clock.tickAsync(HOUR);
    const outcomes = Array.from({ length: 1000 }, () => settle(provider.get()));
    const failure = new Error('issuer down');
    last().deferred.reject(failure);
    const results = await Promise.all(outcomes);
    expect(results.every((r) => !r.ok && r.error === failure)).toBe(true);
    await clock.tickAsync(10_000);
    expect(calls).toHaveLength(2);
  });

  it('a caller arriving after a failed mint starts the next cohort with one new mint', async () => {
    const { provider, calls, last } = await started();
    await clock.tickAsync(HOUR);
    const first = settle(provider.get());
    last().deferred.reject(new Error('once'));
    await first;
    const second = Promise.all([provider.get(), provider.get()]);
    expect(calls).toHaveLength(3);
    last().deferred.resolve({ value: 'token-3', expiresAt: Date.now() + HOUR });
    expect(await second).toEqual(['token-3', 'token-3']);
  });

  it('an invalidated credential is awaited from a mint with reason "invalidated"', async () => {
    const { provider, calls, last } = await started();
    expect(provider.invalidate()).toBe(true);
    expect(provider.peek()).toBeUndefined();
    const waiting = provider.get();
    expect(calls).toHaveLength(2);
    expect(last().context.reason).toBe('invalidated');
    last().deferred.resolve({ value: 'token-2', expiresAt: Date.now() + HOUR });
    expect(await waiting).toBe('token-2');
  });

  it('a lazy provider mints on first use with reason "initial"', async () => {
    const m = manualMint<string>();
    const provider = await createRefreshingProvider<string>({ mint: m.mint, lazy: true });
    expect(m.calls).toHaveLength(0);
    const both = Promise.all([provider.get(), provider.getCredential()]);
    expect(m.calls).toHaveLength(1);
    expect(m.last().context.reason).toBe('initial');
    m.last().deferred.resolve({ value: 'token-1', expiresAt: Date.now() + HOUR });
    const [value, credential] = await both;
    expect(value).toBe('token-1');
    expect(credential).toEqual({ value: 'token-1', expiresAt: START + HOUR });
  });

  it('a late 401 burst for a replaced token causes no second mint', async () => {
    const { provider, calls, last } = await started();
    const stale = await provider.getCredential();
    expect(provider.invalidate(stale)).toBe(true);
    const next = provider.get();
    last().deferred.resolve({ value: 'token-2', expiresAt: Date.now() + HOUR });
    expect(await next).toBe('token-2');
    // 1,000 requests that had carried token-1 now come back with 401s.
    let dropped = 0;
    for (let i = 0; i < 1000; i++)
      if (provider.invalidate(i % 2 === 0 ? 'token-1' : stale)) dropped++;
    expect(dropped).toBe(0);
    expect(await provider.get()).toBe('token-2');
    expect(calls).toHaveLength(2);
  });

  it('refresh() forces a mint and joins the one already in flight', async () => {
    const { provider, calls, last } = await started();
    const a = provider.refresh();
    const b = provider.refresh();
    expect(calls).toHaveLength(2);
    expect(last().context.reason).toBe('forced');
    last().deferred.resolve({ value: 'token-2', expiresAt: Date.now() + HOUR });
    expect((await a).value).toBe('token-2');
    expect(await b).toBe(await a);
  });
});

describe('4. cancellation and the mint timeout', () => {
  it("a caller's abort rejects only its own wait with signal.reason; the mint and other waiters go on", async () => {
    const { provider, calls, last } = await started();
    await clock.tickAsync(HOUR);
    const controller = new AbortController();
    const aborted = settle(provider.get({ signal: controller.signal }));
    const others = Array.from({ length: 99 }, () => provider.get());
    const reason = new Error('caller gave up');
    controller.abort(reason);
    expect(await aborted).toEqual({ ok: false, error: reason });
    expect(last().context.signal.aborted).toBe(false);
    last().deferred.resolve({ value: 'token-2', expiresAt: Date.now() + HOUR });
    expect(new Set(await Promise.all(others))).toEqual(new Set(['token-2']));
    expect(calls).toHaveLength(2);
  });

  it('an already aborted signal rejects at once, even for a fresh credential', async () => {
    const { provider } = await started();
    const controller = new AbortController();
    controller.abort(new Error('too late'));
    await expect(provider.get({ signal: controller.signal })).rejects.toThrow('too late');
    await expect(provider.getCredential({ signal: controller.signal })).rejects.toThrow('too late');
  });

  it('removes every abort listener it added once the wait ends', async () => {
    const { provider, last } = await started();
    await clock.tickAsync(HOUR);
    const controller = new AbortController();
    let live = 0;
    const signal = controller.signal;
    const add = signal.addEventListener.bind(signal);
    const remove = signal.removeEventListener.bind(signal);
    signal.addEventListener = ((type: string, fn: () => void, opts?: AddEventListenerOptions) => {
      live++;
      add(type, fn, opts);
    }) as typeof signal.addEventListener;
    signal.removeEventListener = ((type: string, fn: () => void) => {
      live--;
      remove(type, fn);
    }) as typeof signal.removeEventListener;
    const waits = Array.from({ length: 10 }, () => provider.get({ signal }));
    expect(live).toBe(1); // one listener per signal, however many waiters share it
    last().deferred.resolve({ value: 'token-2', expiresAt: Date.now() + HOUR });
    await Promise.all(waits);
    expect(live).toBe(0);
  });

  it('aborts the mint at mintTimeoutMs: every waiter and the breaker see MintTimeoutError', async () => {
    const { reporter, of } = recordingReporter();
    const { provider, last } = await started({ mintTimeoutMs: 5_000, reporter });
    await clock.tickAsync(HOUR);
    const outcomes = Array.from({ length: 10 }, () => settle(provider.get()));
    const mintSignal = last().context.signal;
    await clock.tickAsync(5_000);
    const results = await Promise.all(outcomes);
    const error = (results[0] as { error: unknown }).error;
    expect(error).toBeInstanceOf(MintTimeoutError);
    expect(results.every((r) => !r.ok && r.error === error)).toBe(true);
    expect(mintSignal.aborted).toBe(true);
    expect(mintSignal.reason).toBe(error);
    expect(provider.snapshot().breaker.failures).toBe(1);
    expect(of('failure')).toHaveLength(1);
  });

  it('a mint that resolves after its timeout never overwrites the credential installed since', async () => {
    const { provider, calls } = await started({ mintTimeoutMs: 5_000 });
    await clock.tickAsync(HOUR);
    const first = settle(provider.get());
    await clock.tickAsync(5_000);
    expect((await first).ok).toBe(false);
    const second = provider.get();
    calls[2]?.deferred.resolve({ value: 'newer', expiresAt: Date.now() + HOUR });
    expect(await second).toBe('newer');
    calls[1]?.deferred.resolve({ value: 'late', expiresAt: Date.now() + 2 * HOUR });
    await flush();
    expect(await provider.get()).toBe('newer');
    expect(provider.peek()?.value).toBe('newer');
  });
});

describe('5. failed background refreshes', () => {
  it('never surface while the cached credential is valid; reported, counted, retried on the next due access', async () => {
    const { reporter, of } = recordingReporter();
    const { provider, calls, last } = await started({ reporter });
    await clock.tickAsync(0.8 * HOUR);
    expect(await provider.get()).toBe('token-1');
    const failure = new Error('503');
    last().deferred.reject(failure);
    await flush();
    expect(of('failure')).toEqual([
      expect.objectContaining({
        reason: 'proactive',
        error: failure,
        cachedRemainingLifetimeSeconds: 0.2 * 3600,
      }),
    ]);
    expect(provider.snapshot().breaker).toMatchObject({ state: 'closed', failures: 1 });
    expect(await provider.get()).toBe('token-1');
    expect(calls).toHaveLength(3);
    expect(last().context.reason).toBe('proactive');
  });
});

describe('6. the circuit breaker', () => {
  async function openBreaker(options: Partial<RefreshingProviderOptions<string>> = {}) {
    const rec = recordingReporter();
    const env = await started({
      breaker: { failureThreshold: 3, cooldownMs: MINUTE },
      reporter: rec.reporter,
      ...options,
    });
    await clock.tickAsync(0.8 * HOUR);
    const failures: Error[] = [];
    for (let i = 0; i < 3; i++) {
      expect(await env.provider.get()).toBe('token-1');
      const failure = new Error(`failure ${i + 1}`);
      failures.push(failure);
      env.last().deferred.reject(failure);
      await flush();
    }
    return { ...env, ...rec, failures };
  }

  it('opens at failureThreshold; a valid credential is still served and no mint is attempted', async () => {
    const { provider, calls, of } = await openBreaker();
    expect(provider.snapshot().breaker.state).toBe('open');
    expect(of('breaker')).toEqual([
      expect.objectContaining({ from: 'closed', to: 'open', failures: 3, retryAfterMs: MINUTE }),
    ]);
    for (let i = 0; i < 100; i++) expect(await provider.get()).toBe('token-1');
    expect(calls).toHaveLength(4);
  });

  it('rejects at once with BreakerOpenError (retryAfterMs, last mint error as cause) once the credential has expired', async () => {
    const { provider, calls, failures } = await openBreaker({
      breaker: { failureThreshold: 3, cooldownMs: HOUR },
    });
    await clock.tickAsync(0.2 * HOUR);
    const outcome = await settle(provider.get());
    expect(outcome.ok).toBe(false);
    const error = (outcome as { error: unknown }).error;
    expect(error).toBeInstanceOf(BreakerOpenError);
    expect(isSluiceError(error, 'SLUICE_BREAKER_OPEN')).toBe(true);
    expect((error as BreakerOpenError).retryAfterMs).toBe(0.8 * HOUR);
    expect((error as BreakerOpenError).cause).toBe(failures[2]);
    expect(calls).toHaveLength(4);
  });

  it('onBreakerRefused: reported once per caller refused with BreakerOpenError (name, retryAfterMs), never while a valid credential is served', async () => {
    const { provider, of } = await openBreaker({
      name: 'api',
      breaker: { failureThreshold: 3, cooldownMs: HOUR },
    });
    for (let i = 0; i < 10; i++) expect(await provider.get()).toBe('token-1');
    expect(of('breakerRefused')).toEqual([]);
    await clock.tickAsync(0.2 * HOUR);
    const refused = await Promise.all([
      settle(provider.get()),
      settle(provider.getCredential()),
      settle(provider.refresh()),
    ]);
    for (const outcome of refused) {
      expect(outcome.ok === false && outcome.error).toBeInstanceOf(BreakerOpenError);
    }
    expect(of('breakerRefused')).toEqual([
      { name: 'api', retryAfterMs: 0.8 * HOUR },
      { name: 'api', retryAfterMs: 0.8 * HOUR },
      { name: 'api', retryAfterMs: 0.8 * HOUR },
    ]);
  });

  it('onBreakerRefused that throws or rejects changes nothing: callers still get the same BreakerOpenError', async () => {
    for (const onBreakerRefused of [
      () => {
        throw new Error('reporter bug');
      },
      () => Promise.reject(new Error('async reporter bug')),
    ]) {
      const { provider, calls } = await openBreaker({
        breaker: { failureThreshold: 3, cooldownMs: HOUR },
        reporter: { onBreakerRefused },
      });
      await clock.tickAsync(0.2 * HOUR);
      const outcome = await settle(provider.get());
      expect(outcome.ok === false && outcome.error).toBeInstanceOf(BreakerOpenError);
      expect((outcome as { error: BreakerOpenError }).error.retryAfterMs).toBe(0.8 * HOUR);
      expect(calls).toHaveLength(4);
      provider.close();
    }
  });

  it('after the cooldown admits ONE half-open probe that callers join; success closes it', async () => {
    const { provider, calls, last, of } = await openBreaker();
    await clock.tickAsync(0.2 * HOUR);
    const waiters = Array.from({ length: 20 }, () => provider.get());
    expect(calls).toHaveLength(5);
    expect(provider.snapshot().breaker.state).toBe('half-open');
    last().deferred.resolve({ value: 'token-2', expiresAt: Date.now() + HOUR });
    expect(new Set(await Promise.all(waiters))).toEqual(new Set(['token-2']));
    expect(provider.snapshot().breaker).toEqual({ state: 'closed', failures: 0, retryAfterMs: 0 });
    expect(of('breaker').map((e) => `${e.from}>${e.to}`)).toEqual([
      'closed>open',
      'open>half-open',
      'half-open>closed',
    ]);
  });

  it('a failed probe re-opens the breaker for a fresh cooldown', async () => {
    const { provider, calls, last } = await openBreaker();
    await clock.tickAsync(0.2 * HOUR);
    const probe = settle(provider.get());
    last().deferred.reject(new Error('still down'));
    expect((await probe).ok).toBe(false);
    expect(provider.snapshot().breaker).toMatchObject({ state: 'open', retryAfterMs: MINUTE });
    await clock.tickAsync(MINUTE - 1);
    await expect(provider.get()).rejects.toBeInstanceOf(BreakerOpenError);
    expect(calls).toHaveLength(5);
    await clock.tickAsync(1);
    const next = provider.get();
    expect(calls).toHaveLength(6);
    last().deferred.resolve({ value: 'token-3', expiresAt: Date.now() + HOUR });
    expect(await next).toBe('token-3');
  });
});

describe('6b. failures relayed from elsewhere (countsTowardsBreaker: false)', () => {
  function relayed(message: string): Error {
    return Object.assign(new Error(message), { countsTowardsBreaker: false });
  }

  it('reach every waiter and onRefreshFailure unchanged but never count towards or open the breaker', async () => {
    const rec = recordingReporter();
    const { provider, calls, last } = await started(
      { breaker: { failureThreshold: 2, cooldownMs: MINUTE }, reporter: rec.reporter },
      MINUTE,
    );
    await clock.tickAsync(MINUTE); // expired: every get() waits for a mint
    for (let i = 0; i < 10; i++) {
      const waiters = [settle(provider.get()), settle(provider.get())];
      const error = relayed(`relayed ${i}`);
      last().deferred.reject(error);
      for (const outcome of await Promise.all(waiters)) {
        expect(outcome).toEqual({ ok: false, error });
      }
    }
    expect(calls).toHaveLength(11);
    expect(provider.snapshot().breaker).toEqual({ state: 'closed', failures: 0, retryAfterMs: 0 });
    expect(provider.snapshot().lastError).toMatchObject({ message: 'relayed 9' });
    expect(rec.of('failure')).toHaveLength(10);
    expect(rec.of('breaker')).toEqual([]);
  });

  it('leave the count of real failures where it was: two real failures still open a threshold-2 breaker around them', async () => {
    const { provider, last } = await started(
      { breaker: { failureThreshold: 2, cooldownMs: MINUTE } },
      MINUTE,
    );
    await clock.tickAsync(MINUTE);
    const fail = async (error: unknown) => {
      const waiter = settle(provider.get());
      last().deferred.reject(error);
      await waiter;
    };
    await fail(new Error('real 1'));
    await fail(relayed('relayed'));
    expect(provider.snapshot().breaker).toMatchObject({ state: 'closed', failures: 1 });
    await fail(new Error('real 2'));
    expect(provider.snapshot().breaker).toMatchObject({ state: 'open', failures: 2 });
  });

  it('a relayed failure of the half-open probe hands the probe back: the breaker stays open with its cooldown over, and the next caller probes at once', async () => {
    const { provider, calls, last } = await started(
      { breaker: { failureThreshold: 1, cooldownMs: MINUTE } },
      MINUTE,
    );
    await clock.tickAsync(MINUTE);
    const opened = settle(provider.get());
    last().deferred.reject(new Error('real'));
    await opened;
    expect(provider.snapshot().breaker.state).toBe('open');
    await clock.tickAsync(MINUTE);
    const probe = settle(provider.get());
    expect(provider.snapshot().breaker.state).toBe('half-open');
    last().deferred.reject(relayed('relayed'));
    await probe;
    expect(provider.snapshot().breaker).toMatchObject({ state: 'open', retryAfterMs: 0 });
    const next = provider.get();
    expect(calls).toHaveLength(4);
    last().deferred.resolve({ value: 'token-2', expiresAt: Date.now() + MINUTE });
    expect(await next).toBe('token-2');
  });

  it('count as usual when the property is anything but false, or its getter throws', async () => {
    const { provider, last } = await started(
      { breaker: { failureThreshold: 3, cooldownMs: MINUTE } },
      MINUTE,
    );
    await clock.tickAsync(MINUTE);
    const hostile = Object.defineProperty(new Error('hostile'), 'countsTowardsBreaker', {
      get() {
        throw new Error('getter throws');
      },
    });
    for (const error of [Object.assign(new Error('zero'), { countsTowardsBreaker: 0 }), hostile]) {
      const waiter = settle(provider.get());
      last().deferred.reject(error);
      expect(await waiter).toEqual({ ok: false, error });
    }
    const waiter = settle(provider.get());
    last().deferred.reject('a string');
    await waiter;
    expect(provider.snapshot().breaker).toMatchObject({ state: 'open', failures: 3 });
  });
});

describe("6c. retry hints: a mint error carrying retryAfterMs (the issuer's Retry-After)", () => {
  /** What a 429 or 503 with `Retry-After: 120` looks like from an HTTP mint. */
  function tooManyRequests(retryAfterMs: unknown = 120_000): Error {
    return Object.assign(new Error('429 Too Many Requests'), { status: 429, retryAfterMs });
  }

  it('Retry-After is honoured: a 429 with retryAfterMs 120000 costs exactly 1 mint, none until 120 s, and callers are told the time left', async () => {
    const m = manualMint<string>();
    const provider = await createRefreshingProvider<string>({ mint: m.mint, lazy: true });
    const first = settle(provider.get());
    const error = tooManyRequests();
    m.last().deferred.reject(error);
    expect(await first).toEqual({ ok: false, error });
    expect(provider.snapshot().breaker).toEqual({
      state: 'open',
      failures: 1,
      retryAfterMs: 120_000,
    });
    for (let elapsed = 0; elapsed < 120_000; elapsed += 1_000) {
      const outcome = await settle(provider.get());
      expect(outcome.ok).toBe(false);
      const refused = (outcome as { error: unknown }).error as BreakerOpenError;
      expect(refused).toBeInstanceOf(BreakerOpenError);
      expect(refused.retryAfterMs).toBe(120_000 - elapsed);
      expect(refused.cause).toBe(error);
      await clock.tickAsync(1_000);
    }
    expect(m.calls).toHaveLength(1);
    // At 120 s: one half-open probe, as usual.
    const probe = provider.get();
    expect(m.calls).toHaveLength(2);
    expect(provider.snapshot().breaker.state).toBe('half-open');
    m.last().deferred.resolve({ value: 'token-1', expiresAt: Date.now() + HOUR });
    expect(await probe).toBe('token-1');
    expect(provider.snapshot().breaker).toEqual({ state: 'closed', failures: 0, retryAfterMs: 0 });
  });

  it('a valid cached credential is still served during the hinted window, with no upstream mint', async () => {
    const { provider, calls, last } = await started();
    await clock.tickAsync(0.8 * HOUR);
    expect(await provider.get()).toBe('token-1');
    last().deferred.reject(tooManyRequests(240_000));
    await flush();
    for (let elapsed = 0; elapsed < 240_000; elapsed += 1_000) {
      expect(await provider.get()).toBe('token-1');
      await clock.tickAsync(1_000);
    }
    expect(calls).toHaveLength(2);
    expect(await provider.get()).toBe('token-1');
    expect(calls).toHaveLength(3); // the window is over: the background refresh is the probe
  });

  it('the hint is capped by breaker.maxRetryAfterMs (300000 ms by default)', async () => {
    for (const [breaker, expected] of [
      [{}, 300_000],
      [{ maxRetryAfterMs: 30_000 }, 30_000],
    ] as const) {
      const m = manualMint<string>();
      const provider = await createRefreshingProvider<string>({
        mint: m.mint,
        lazy: true,
        breaker,
      });
      const first = settle(provider.get());
      m.last().deferred.reject(tooManyRequests(86_400_000));
      await first;
      expect(provider.snapshot().breaker.retryAfterMs).toBe(expected);
      await clock.tickAsync(expected);
      provider.get().catch(() => {});
      expect(m.calls).toHaveLength(2);
      provider.close();
    }
  });

  it('breaker.maxRetryAfterMs: 0 ignores retry hints', async () => {
    const m = manualMint<string>();
    const provider = await createRefreshingProvider<string>({
      mint: m.mint,
      lazy: true,
      breaker: { maxRetryAfterMs: 0 },
    });
    const first = settle(provider.get());
    m.last().deferred.reject(tooManyRequests());
    await first;
    expect(provider.snapshot().breaker).toMatchObject({ state: 'closed', failures: 1 });
  });

  it.each([
    ['-5', -5],
    ['0', 0],
    ['NaN', Number.NaN],
    ['Infinity', Number.POSITIVE_INFINITY],
    ['a string', '120000'],
  ])(
    'a retryAfterMs that is %s gives no hint (a malformed Retry-After is not 0)',
    async (_, bad) => {
      const m = manualMint<string>();
      const provider = await createRefreshingProvider<string>({ mint: m.mint, lazy: true });
      const first = settle(provider.get());
      m.last().deferred.reject(tooManyRequests(bad));
      await first;
      expect(provider.snapshot().breaker).toEqual({
        state: 'closed',
        failures: 1,
        retryAfterMs: 0,
      });
      provider.get().catch(() => {});
      expect(m.calls).toHaveLength(2);
    },
  );

  it('reads the hint defensively: an inherited retryAfterMs counts, a throwing getter gives no hint', async () => {
    class RateLimited extends Error {
      get retryAfterMs(): number {
        return 60_000;
      }
    }
    const throwing = Object.defineProperty(new Error('hostile'), 'retryAfterMs', {
      get() {
        throw new Error('getter throws');
      },
    });
    const m = manualMint<string>();
    const provider = await createRefreshingProvider<string>({ mint: m.mint, lazy: true });
    const hostile = settle(provider.get());
    m.last().deferred.reject(throwing);
    expect(await hostile).toEqual({ ok: false, error: throwing });
    expect(provider.snapshot().breaker).toMatchObject({ state: 'closed', failures: 1 });
    const inherited = settle(provider.get());
    m.last().deferred.reject(new RateLimited('slow down'));
    await inherited;
    expect(provider.snapshot().breaker).toMatchObject({ state: 'open', retryAfterMs: 60_000 });
  });

  it('a relayed failure (countsTowardsBreaker: false) with a hint leaves the local breaker closed: the relaying coordinator enforces the window, and a fleet that recovers early is adopted at once', async () => {
    const m = manualMint<string>();
    const provider = await createRefreshingProvider<string>({ mint: m.mint, lazy: true });
    const relayed = Object.assign(tooManyRequests(90_000), { countsTowardsBreaker: false });
    const first = settle(provider.get());
    m.last().deferred.reject(relayed);
    expect(await first).toEqual({ ok: false, error: relayed });
    expect(provider.snapshot().breaker).toEqual({ state: 'closed', failures: 0, retryAfterMs: 0 });
    // Another instance's mint succeeds 1 s later: the next caller gets its credential.
    await clock.tickAsync(1_000);
    const next = provider.get();
    expect(m.calls).toHaveLength(2);
    m.last().deferred.resolve({ value: 'fleet-token', expiresAt: Date.now() + HOUR });
    expect(await next).toBe('fleet-token');
  });

  it('a hint shorter than the cooldown never shortens an opening at the failure threshold', async () => {
    const m = manualMint<string>();
    const provider = await createRefreshingProvider<string>({
      mint: m.mint,
      lazy: true,
      breaker: { failureThreshold: 1, cooldownMs: MINUTE },
    });
    const first = settle(provider.get());
    m.last().deferred.reject(tooManyRequests(1_000));
    await first;
    expect(provider.snapshot().breaker.retryAfterMs).toBe(MINUTE);
  });

  it("with schedule 'timer', the refresh timer waits out the hinted window", async () => {
    const { provider, calls, last } = await started({ schedule: 'timer' });
    await clock.tickAsync(0.8 * HOUR);
    expect(calls).toHaveLength(2);
    last().deferred.reject(tooManyRequests(200_000));
    await flush();
    await clock.tickAsync(199_999);
    expect(calls).toHaveLength(2);
    await clock.tickAsync(1);
    expect(calls).toHaveLength(3);
    expect(await provider.get()).toBe('token-1');
  });

  it('reports the hinted window in onBreakerStateChange', async () => {
    const rec = recordingReporter();
    const m = manualMint<string>();
    const provider = await createRefreshingProvider<string>({
      mint: m.mint,
      lazy: true,
      reporter: rec.reporter,
    });
    const first = settle(provider.get());
    m.last().deferred.reject(tooManyRequests());
    await first;
    expect(rec.of('breaker')).toEqual([
      expect.objectContaining({ from: 'closed', to: 'open', failures: 1, retryAfterMs: 120_000 }),
    ]);
  });
});

describe('7. invalid minted credentials', () => {
  it.each([
    ['no value', { expiresAt: START + HOUR }],
    ['NaN expiresAt', { value: 'x', expiresAt: Number.NaN }],
    ['Infinity expiresAt', { value: 'x', expiresAt: Number.POSITIVE_INFINITY }],
    ['a string expiresAt', { value: 'x', expiresAt: '1700000000000' }],
    ['a Date expiresAt', { value: 'x', expiresAt: new Date(START + HOUR) }],
    ['not an object', 'just-a-token'],
    ['null', null],
  ])('%s is a mint failure with InvalidCredentialError', async (_label, minted) => {
    const mint = () => Promise.resolve(minted as unknown as Credential<string>);
    const error = await createRefreshingProvider({ mint }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidCredentialError);
    expect(String((error as Error).message)).not.toContain('just-a-token');
  });

  it('an already expired credential is a mint failure with MintedCredentialExpiredError', async () => {
    const mint = () => ({ value: 'x', expiresAt: START - 1 });
    await expect(createRefreshingProvider({ mint })).rejects.toBeInstanceOf(
      MintedCredentialExpiredError,
    );
  });

  it('a credential expiring 1 ms ahead is accepted', async () => {
    const mint = () => ({ value: 'x', expiresAt: Date.now() + 1 });
    const provider = await createRefreshingProvider({ mint });
    expect(provider.peek()?.value).toBe('x');
  });
});

describe('8. the refresh-loop guard', () => {
  it('when the issuer keeps returning the same credential inside the floor window, refreshes at most every minRefreshIntervalMs', async () => {
    let mints = 0;
    const expiresAt = START + 100_000; // due at 70 s (30 s floor)
    const provider = await createRefreshingProvider({
      mint: () => {
        mints++;
        return { value: 'same', expiresAt };
      },
      random: () => 0,
      minRefreshIntervalMs: 5_000,
    });
    await clock.tickAsync(70_000);
    // From 70 s to 99.9 s the credential is due at once after every mint; accessed every 100 ms.
    for (let t = 70_000; t < 99_900; t += 100) {
      expect(await provider.get()).toBe('same');
      await clock.tickAsync(100);
    }
    // Without the guard this would be ~300 mints; with it, one per 5 s.
    expect(mints - 1).toBeGreaterThanOrEqual(5);
    expect(mints - 1).toBeLessThanOrEqual(6);
  });

  it('a credential shorter-lived than the floor is not refreshed again before minRefreshIntervalMs', async () => {
    let mints = 0;
    const provider = await createRefreshingProvider({
      mint: () => {
        mints++;
        return { value: `t${mints}`, expiresAt: Date.now() + 10_000 };
      },
    });
    await provider.get();
    await clock.tickAsync(4_999);
    await provider.get();
    expect(mints).toBe(1);
    await clock.tickAsync(1);
    await provider.get();
    expect(mints).toBe(2);
  });
});

describe('9. hygiene: rejections, timers, reporters', () => {
  it('leaves no timer behind after close, with a mint in flight and the refresh timer armed', async () => {
    const { provider, last } = await started({ schedule: 'timer' });
    expect(clock.countTimers()).toBe(1);
    await clock.tickAsync(0.8 * HOUR);
    expect(clock.countTimers()).toBe(1); // the mint timeout
    const waiting = settle(provider.refresh());
    provider.close();
    expect(clock.countTimers()).toBe(0);
    const outcome = await waiting;
    expect(outcome.ok === false && outcome.error).toBeInstanceOf(ProviderClosedError);
    expect(last().context.signal.aborted).toBe(true);
  });

  it('a reporter that throws in every hook never changes what callers get', async () => {
    const boom = () => {
      throw new Error('reporter bug');
    };
    const reporter: Reporter = {
      onRefreshStart: boom,
      onRefreshSuccess: boom,
      onRefreshFailure: boom,
      onBreakerStateChange: boom,
      onCoalesced: boom,
    };
    const { provider, last } = await started({
      reporter,
      breaker: { failureThreshold: 1, cooldownMs: 1000 },
    });
    await clock.tickAsync(HOUR);
    const failing = settle(provider.get());
    last().deferred.reject(new Error('down'));
    expect((await failing).ok).toBe(false);
    await clock.tickAsync(1000);
    const probe = provider.get();
    last().deferred.resolve({ value: 'token-2', expiresAt: Date.now() + HOUR });
    expect(await probe).toBe('token-2');
  });

  it('raises no unhandled rejection when a background refresh nobody waits for fails', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const { provider, last } = await started();
      await clock.tickAsync(0.8 * HOUR);
      await provider.get();
      last().deferred.reject(new Error('background failure'));
      await flush(20);
      await new Promise((resolve) => setImmediate(resolve));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});

describe('peek', () => {
  it('never returns an expired credential and never starts a mint', async () => {
    const { provider, calls } = await started();
    expect(provider.peek()).toEqual({ value: 'token-1', expiresAt: START + HOUR });
    await clock.tickAsync(0.9 * HOUR);
    expect(provider.peek()?.value).toBe('token-1');
    await clock.tickAsync(0.1 * HOUR);
    expect(provider.peek()).toBeUndefined();
    expect(calls).toHaveLength(1);
  });
});

describe('close', () => {
  it('rejects waiters and every later call with ProviderClosedError; is idempotent and disposable', async () => {
    const { provider, last } = await started();
    await clock.tickAsync(HOUR);
    const waiting = settle(provider.get());
    provider.close();
    provider.close();
    const outcome = await waiting;
    expect(outcome.ok === false && isSluiceError(outcome.error, 'SLUICE_PROVIDER_CLOSED')).toBe(
      true,
    );
    last().deferred.resolve({ value: 'late', expiresAt: Date.now() + HOUR });
    await expect(provider.get()).rejects.toBeInstanceOf(ProviderClosedError);
    await expect(provider.getCredential()).rejects.toBeInstanceOf(ProviderClosedError);
    await expect(provider.refresh()).rejects.toBeInstanceOf(ProviderClosedError);
    expect(provider.peek()).toBeUndefined();
    expect(provider.invalidate()).toBe(false);
    expect(provider.snapshot().status).toBe('closed');
  });

  it('Symbol.dispose closes the provider', async () => {
    const { provider } = await started();
    provider[Symbol.dispose]();
    await expect(provider.get()).rejects.toBeInstanceOf(ProviderClosedError);
  });

  it('a provider whose first mint fails rejects at construction and leaves no timer', async () => {
    const failure = new Error('cannot mint');
    await expect(
      createRefreshingProvider({ mint: () => Promise.reject(failure), schedule: 'timer' }),
    ).rejects.toBe(failure);
    expect(clock.countTimers()).toBe(0);
  });
});

describe("schedule: 'timer'", () => {
  it('refreshes an idle provider at the due point', async () => {
    const { provider, calls, last } = await started({ schedule: 'timer' });
    await clock.tickAsync(0.8 * HOUR);
    expect(calls).toHaveLength(2);
    expect(last().context.reason).toBe('proactive');
    last().deferred.resolve({ value: 'token-2', expiresAt: Date.now() + HOUR });
    await flush();
    expect(provider.peek()?.value).toBe('token-2');
    expect(clock.countTimers()).toBe(1);
    provider.close();
  });

  it('after a failed timer refresh, tries again after minRefreshIntervalMs', async () => {
    const { provider, calls, last } = await started({
      schedule: 'timer',
      minRefreshIntervalMs: 10_000,
    });
    await clock.tickAsync(0.8 * HOUR);
    last().deferred.reject(new Error('down'));
    await flush();
    await clock.tickAsync(9_999);
    expect(calls).toHaveLength(2);
    await clock.tickAsync(1);
    expect(calls).toHaveLength(3);
    provider.close();
  });
});

describe('secrets never print', () => {
  const SECRET = 'sk_live_SENTINEL_0123456789';

  it('snapshot, JSON.stringify and util.inspect never contain the credential value', async () => {
    const { provider } = await started({}, HOUR, SECRET);
    const snapshot = provider.snapshot();
    expect(JSON.stringify(snapshot)).not.toContain(SECRET);
    expect(JSON.stringify(provider)).not.toContain(SECRET);
    expect(inspect(provider, { depth: 10, showHidden: true })).not.toContain(SECRET);
    expect(snapshot).toMatchObject({
      name: 'sluice',
      status: 'fresh',
      issuedAt: START,
      expiresAt: START + HOUR,
    });
  });

  it('reporter events never contain the credential value', async () => {
    const { reporter, events } = recordingReporter();
    const { provider, last } = await started({ reporter }, HOUR, SECRET);
    await clock.tickAsync(0.8 * HOUR);
    await provider.get();
    last().deferred.resolve({ value: `${SECRET}-2`, expiresAt: Date.now() + HOUR });
    await flush();
    expect(events.length).toBeGreaterThan(0);
    expect(inspect(events, { depth: 10 })).not.toContain(SECRET);
  });
});

describe('reporter events', () => {
  it('report start, success with the new remaining lifetime, and how many callers joined', async () => {
    const { reporter, of } = recordingReporter();
    const { provider, last } = await started({ reporter, name: 'billing' });
    await clock.tickAsync(HOUR);
    const waiters = Array.from({ length: 7 }, () => provider.get());
    await clock.tickAsync(250);
    last().deferred.resolve({ value: 'token-2', expiresAt: Date.now() + 30 * MINUTE });
    await Promise.all(waiters);
    expect(of('start').at(-1)).toEqual({ name: 'billing', reason: 'expired' });
    expect(of('success').at(-1)).toEqual({
      name: 'billing',
      reason: 'expired',
      durationMs: 250,
      remainingLifetimeSeconds: 1800,
    });
    expect(of('coalesced').at(-1)).toEqual({
      name: 'billing',
      reason: 'expired',
      waiters: 7,
      ok: true,
    });
  });
});

describe('types', () => {
  it('the provider satisfies the public interface', async () => {
    const { provider } = await started();
    const typed: RefreshingProvider<string> = provider;
    expect(typeof typed.get).toBe('function');
  });
});

describe('the invalidation guard (a resource server that rejects every token)', () => {
  it('a credential minted because of an invalidation cannot be invalidated again for minRefreshIntervalMs', async () => {
    const { reporter, of } = recordingReporter();
    const { provider, calls, last } = await started({ minRefreshIntervalMs: 5_000, reporter });
    expect(provider.invalidate('token-1')).toBe(true); // minted eagerly: dropped at once
    const next = provider.get();
    last().deferred.resolve({ value: 'token-2', expiresAt: Date.now() + HOUR });
    expect(await next).toBe('token-2');
    await clock.tickAsync(1_000);
    expect(provider.invalidate('token-2')).toBe(false); // minted for an invalidation 1 s ago
    expect(await provider.get()).toBe('token-2');
    expect(of('invalidateRefused')).toEqual([
      { name: 'sluice', credentialAgeMs: 1_000, retryAfterMs: 4_000 },
    ]);
    await clock.tickAsync(4_000);
    expect(provider.invalidate('token-2')).toBe(true);
    expect(calls).toHaveLength(2);
  });

  it('minRefreshIntervalMs: 0 turns the guard off', async () => {
    const { provider, last } = await started({ minRefreshIntervalMs: 0 });
    provider.invalidate();
    const next = provider.get();
    last().deferred.resolve({ value: 'token-2', expiresAt: Date.now() + HOUR });
    await next;
    expect(provider.invalidate('token-2')).toBe(true);
  });
});

describe('injected timers', () => {
  it('schedules the mint timeout and the refresh timer through the injected timers only', async () => {
    const scheduled: number[] = [];
    const pending = new Map<number, () => void>();
    let nextId = 1;
    const timers = {
      setTimeout: (callback: () => void, delayMs: number) => {
        const id = nextId++;
        scheduled.push(delayMs);
        pending.set(id, callback);
        return id;
      },
      clearTimeout: (id: unknown) => {
        pending.delete(id as number);
      },
    };
    const m = manualMint<string>();
    const creating = createRefreshingProvider<string>({
      mint: m.mint,
      random: () => 0,
      mintTimeoutMs: 1_234,
      schedule: 'timer',
      timers,
    });
    expect(scheduled).toEqual([1_234]);
    expect(clock.countTimers()).toBe(0); // nothing on the global timers
    m.last().deferred.resolve({ value: 'token-1', expiresAt: Date.now() + HOUR });
    const provider = await creating;
    expect(scheduled).toEqual([1_234, 0.8 * HOUR]);
    expect(pending.size).toBe(1); // the mint timeout was cleared; the refresh timer waits
    provider.close();
    expect(pending.size).toBe(0);
  });

  it('refuses timers that are not an object with setTimeout and clearTimeout', async () => {
    const m = manualMint<string>();
    for (const [timers, option] of [
      [null, 'timers'],
      [{ setTimeout: () => 1 }, 'timers.clearTimeout'],
      [{ clearTimeout: () => {} }, 'timers.setTimeout'],
    ] as const) {
      await expect(
        createRefreshingProvider<string>({ mint: m.mint, timers: timers as never }),
      ).rejects.toMatchObject({ code: 'SLUICE_INVALID_OPTION', option });
    }
  });
});

describe('cancelling the eager first mint', () => {
  it('rejects the factory with signal.reason and closes the provider, aborting the mint', async () => {
    const m = manualMint<string>();
    const controller = new AbortController();
    const creating = settle(
      createRefreshingProvider<string>({ mint: m.mint, signal: controller.signal }),
    );
    const reason = new Error('shutting down');
    controller.abort(reason);
    const outcome = await creating;
    expect(outcome).toEqual({ ok: false, error: reason });
    expect(m.last().context.signal.aborted).toBe(true);
    expect(clock.countTimers()).toBe(0);
  });

  it('refuses a signal that is not an AbortSignal', async () => {
    const m = manualMint<string>();
    await expect(
      createRefreshingProvider<string>({ mint: m.mint, signal: {} as AbortSignal }),
    ).rejects.toMatchObject({ code: 'SLUICE_INVALID_OPTION', option: 'signal' });
  });
});

describe('the mint timeout keeps the process alive only while a caller waits', () => {
  it('refs the timeout timer when a caller joins, unrefs it when the last one aborts', async () => {
    const handles: Array<{ refs: string[] }> = [];
    const timers = {
      setTimeout: (callback: () => void, delayMs: number) => {
        const handle = {
          refs: [] as string[],
          id: globalThis.setTimeout(callback, delayMs),
          ref() {
            this.refs.push('ref');
          },
          unref() {
            this.refs.push('unref');
          },
        };
        handles.push(handle);
        return handle;
      },
      clearTimeout: (handle: unknown) => globalThis.clearTimeout((handle as { id: never }).id),
    };
    const { provider, last } = await started({ timers });
    await clock.tickAsync(0.8 * HOUR);
    await provider.get(); // a background refresh: nobody waits, the timer stays unref'd
    const background = handles.at(-1) as { refs: string[] };
    expect(background.refs).toEqual(['unref']);
    last().deferred.resolve({ value: 'token-2', expiresAt: Date.now() + 10 * MINUTE });
    await flush();
    provider.invalidate();
    const controller = new AbortController();
    const waiting = settle(provider.get({ signal: controller.signal }));
    const awaited = handles.at(-1) as { refs: string[] };
    expect(awaited.refs).toEqual(['unref', 'ref']); // a caller waits on the deadline
    controller.abort(new Error('gave up'));
    await waiting;
    expect(awaited.refs).toEqual(['unref', 'ref', 'unref']); // nobody waits any more
    provider.close();
  });
});

describe('aborted waiters', () => {
  it('are released at once: neither snapshot().waiters nor onCoalesced counts them', async () => {
    const { reporter, of } = recordingReporter();
    const m = manualMint<string>();
    const provider = await createRefreshingProvider<string>({ mint: m.mint, lazy: true, reporter });
    const controllers = Array.from({ length: 5 }, () => new AbortController());
    const waiting = controllers.map((c) => settle(provider.get({ signal: c.signal })));
    const plain = provider.get();
    expect(provider.snapshot().waiters).toBe(6);
    for (const c of controllers.slice(0, 3)) c.abort(new Error('gave up'));
    expect(provider.snapshot().waiters).toBe(3);
    m.last().deferred.resolve({ value: 'token-1', expiresAt: Date.now() + HOUR });
    expect(await plain).toBe('token-1');
    const outcomes = await Promise.all(waiting);
    expect(outcomes.map((o) => o.ok)).toEqual([false, false, false, true, true]);
    expect(of('coalesced')).toEqual([{ name: 'sluice', reason: 'initial', waiters: 3, ok: true }]);
    provider.close();
  });
});

describe('per-call options are validated', () => {
  it.each([
    ['options', null],
    ['options', 'signal'],
    ['options', [1]],
    ['signal', { signal: null }],
    ['signal', { signal: {} }],
    ['signal', { signal: 'abort' }],
    ['signal', { signal: { aborted: false, addEventListener() {} } }],
  ])(
    '%s = %j is refused with InvalidOptionError, as a rejection, even with a fresh credential',
    async (option, bad) => {
      const { provider } = await started();
      const calls: Array<() => Promise<unknown>> = [
        () => provider.get(bad as never),
        () => provider.getCredential(bad as never),
        () => provider.refresh(bad as never),
      ];
      for (const call of calls) {
        const result = call();
        expect(result).toBeInstanceOf(Promise);
        const outcome = await settle(result);
        expect(outcome).toMatchObject({
          ok: false,
          error: { code: 'SLUICE_INVALID_OPTION', option },
        });
      }
      provider.close();
    },
  );
});

describe('a random() that misbehaves', () => {
  it('never turns a good mint into a failure: a throwing or non-finite random() samples 0', async () => {
    for (const random of [
      () => {
        throw new Error('no entropy');
      },
      () => Number.NaN,
    ]) {
      const m = manualMint<string>();
      const creating = createRefreshingProvider<string>({ mint: m.mint, random, jitter: 0.1 });
      m.last().deferred.resolve({ value: 'token-1', expiresAt: Date.now() + HOUR });
      const provider = await creating;
      expect(provider.snapshot()).toMatchObject({
        status: 'fresh',
        refreshDueAt: START + 0.8 * HOUR,
        lastError: null,
      });
      provider.close();
    }
  });
});

describe("schedule: 'timer' never mints in a tight loop", () => {
  it('with minRefreshIntervalMs 0 and 10 ms credentials, an idle provider mints at most once a second', async () => {
    let calls = 0;
    const provider = await createRefreshingProvider<string>({
      schedule: 'timer',
      minRefreshIntervalMs: 0,
      refreshFloorMs: 0,
      mint: () => {
        calls += 1;
        return { value: `token-${calls}`, expiresAt: Date.now() + 10 };
      },
    });
    await clock.tickAsync(10 * 1_000);
    expect(calls).toBeLessThanOrEqual(11); // the eager mint, then one per second at most
    expect(calls).toBeGreaterThan(5); // and it does keep refreshing
    provider.close();
  });
});
