/**
 * The fault matrix: one named test per way the mint, the clock, the reporter, a caller or the
 * owner can misbehave, and what callers get in each case. Fake timers only.
 */

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Credential } from '../src/credential.js';
import {
  InvalidCredentialError,
  MintedCredentialExpiredError,
  MintTimeoutError,
  ProviderClosedError,
} from '../src/errors.js';
import { createKeyedProvider, type KeyedProviderOptions } from '../src/keyed-provider.js';
import {
  createRefreshingProvider,
  type MintContext,
  type RefreshingProviderOptions,
} from '../src/refreshing-provider.js';
import type { Reporter } from '../src/reporter.js';
import {
  type Deferred,
  deferred,
  flush,
  installClock,
  START,
  settle,
  type TestClock,
} from './support/fake-clock.js';
import { manualMint } from './support/manual-mint.js';

const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

let clock: TestClock;
beforeEach(() => {
  clock = installClock();
});
afterEach(() => {
  clock.uninstall();
});

/** An eager provider whose first mint returned `token-1` for an hour. */
async function started(options: Partial<RefreshingProviderOptions<string>> = {}) {
  const m = manualMint();
  const pending = createRefreshingProvider<string>({ mint: m.mint, random: () => 0, ...options });
  m.last().deferred.resolve({ value: 'token-1', expiresAt: Date.now() + HOUR });
  const provider = await pending;
  return { provider, ...m };
}

/** A lazy provider around an arbitrary mint. */
function lazy(
  mint: RefreshingProviderOptions<string>['mint'],
  options: Partial<RefreshingProviderOptions<string>> = {},
) {
  return createRefreshingProvider<string>({ mint, lazy: true, random: () => 0, ...options });
}

function throwingReporter(): { reporter: Reporter; calls: string[] } {
  const calls: string[] = [];
  const hook = (name: string) => () => {
    calls.push(name);
    throw new Error(`reporter ${name} broke`);
  };
  return {
    calls,
    reporter: {
      onRefreshStart: hook('start'),
      onRefreshSuccess: hook('success'),
      onRefreshFailure: hook('failure'),
      onBreakerStateChange: hook('breaker'),
      onCoalesced: hook('coalesced'),
    },
  };
}

async function expectNoTimers(): Promise<void> {
  await flush();
  expect(clock.countTimers()).toBe(0);
}

describe('fault matrix: the mint misbehaves', () => {
  it('a mint that throws synchronously fails every caller of the tick with that error, once for the breaker', async () => {
    const boom = new Error('sync boom');
    const provider = await lazy(() => {
      throw boom;
    });
    const outcomes = await Promise.all([settle(provider.get()), settle(provider.getCredential())]);
    expect(outcomes).toEqual([
      { ok: false, error: boom },
      { ok: false, error: boom },
    ]);
    expect(outcomes.every((o) => !o.ok && o.error === boom)).toBe(true);
    expect(provider.snapshot()).toMatchObject({
      mintInFlight: false,
      breaker: { failures: 1 },
      lastError: { code: null, message: 'sync boom', at: START },
    });
    provider.close();
    await expectNoTimers();
  });

  it('a mint that returns a credential synchronously (not a promise) is accepted', async () => {
    const provider = await lazy(() => ({ value: 'sync-token', expiresAt: Date.now() + HOUR }));
    expect(await provider.get()).toBe('sync-token');
    expect(provider.peek()).toEqual({ value: 'sync-token', expiresAt: START + HOUR });
    expect(clock.countTimers()).toBe(0); // the flight's timeout was cleared at once
    provider.close();
  });

  it('a mint that returns a number synchronously fails with InvalidCredentialError', async () => {
    const provider = await lazy(() => 42 as unknown as Credential<string>);
    const outcome = await settle(provider.get());
    expect(outcome.ok).toBe(false);
    expect((outcome as { error: unknown }).error).toBeInstanceOf(InvalidCredentialError);
    expect(provider.snapshot().lastError?.code).toBe('SLUICE_INVALID_CREDENTIAL');
    provider.close();
  });

  it.each([
    ['undefined', undefined, 'undefined'],
    ['a string', 'upstream said no', 'upstream said no'],
    ['a frozen object', Object.freeze({ reason: 'frozen', code: 'E_FROZEN' }), '[object Object]'],
  ])(
    'a mint rejecting with %s gives every waiter exactly that value; lastError stays printable',
    async (_label, thrown, message) => {
      const { mint, last } = manualMint();
      const provider = await lazy(mint);
      const waits = Array.from({ length: 5 }, () => settle(provider.get()));
      last().deferred.reject(thrown);
      const outcomes = await Promise.all(waits);
      for (const o of outcomes) {
        expect(o.ok).toBe(false);
        expect(Object.is((o as { error: unknown }).error, thrown)).toBe(true);
      }
      const snapshot = provider.snapshot();
      expect(snapshot.lastError?.message).toBe(message);
      expect(snapshot.lastError?.code).toBe(
        thrown !== null && typeof thrown === 'object' ? 'E_FROZEN' : null,
      );
      expect(() => JSON.stringify(snapshot)).not.toThrow();
      provider.close();
    },
  );

  it('a mint rejecting with an object whose message getter throws leaves the snapshot printable', async () => {
    const hostile = {
      get message(): string {
        throw new Error('no');
      },
    };
    const provider = await lazy(() => Promise.reject(hostile));
    const outcome = await settle(provider.get());
    expect(outcome).toEqual({ ok: false, error: hostile });
    expect(provider.snapshot().lastError?.message).toBe('unprintable error');
    provider.close();
  });

  it('a mint that hangs forever fails at exactly mintTimeoutMs: waiters released, signal aborted, breaker counts', async () => {
    const { mint, last } = manualMint();
    const provider = await lazy(mint, { mintTimeoutMs: 5_000 });
    const waits = Array.from({ length: 3 }, () => settle(provider.get()));
    const signal = last().context.signal;
    await clock.tickAsync(4_999);
    expect(provider.snapshot()).toMatchObject({ mintInFlight: true, waiters: 3 });
    expect(signal.aborted).toBe(false);
    await clock.tickAsync(1);
    const outcomes = await Promise.all(waits);
    const error = (outcomes[0] as { error: unknown }).error;
    expect(error).toBeInstanceOf(MintTimeoutError);
    expect((error as MintTimeoutError).timeoutMs).toBe(5_000);
    expect(outcomes.every((o) => !o.ok && o.error === error)).toBe(true);
    expect(signal.aborted).toBe(true);
    expect(signal.reason).toBe(error);
    expect(provider.snapshot()).toMatchObject({
      mintInFlight: false,
      breaker: { failures: 1 },
      lastError: { code: 'SLUICE_MINT_TIMEOUT', at: START + 5_000 },
    });
    provider.close();
    await expectNoTimers();
  });

  it('a mint resolving after its signal was aborted is discarded: nothing cached, the next call mints again', async () => {
    const { mint, calls, last } = manualMint();
    const provider = await lazy(mint, { mintTimeoutMs: 5_000 });
    const first = settle(provider.get());
    await clock.tickAsync(5_000);
    expect((await first).ok).toBe(false);
    expect(last().context.signal.aborted).toBe(true);
    last().deferred.resolve({ value: 'too-late', expiresAt: Date.now() + HOUR });
    await flush();
    expect(provider.peek()).toBeUndefined();
    expect(provider.snapshot().status).toBe('empty');
    const second = provider.get();
    expect(calls).toHaveLength(2);
    last().deferred.resolve({ value: 'fresh', expiresAt: Date.now() + HOUR });
    expect(await second).toBe('fresh');
    provider.close();
  });

  it.each([
    ['NaN', Number.NaN],
    ['Infinity', Number.POSITIVE_INFINITY],
    ['a string', '1700000000000'],
    ['a Date', new Date(START + HOUR)],
  ])(
    'expiresAt as %s fails with InvalidCredentialError, describing the shape only',
    async (_label, expiresAt) => {
      const provider = await lazy(
        () => ({ value: 'secret-value', expiresAt }) as unknown as Credential<string>,
      );
      const outcome = await settle(provider.get());
      const error = (outcome as { error: unknown }).error;
      expect(error).toBeInstanceOf(InvalidCredentialError);
      expect(String((error as Error).message)).not.toContain('secret-value');
      expect(provider.peek()).toBeUndefined();
      provider.close();
    },
  );

  it('expiresAt in the past fails with MintedCredentialExpiredError and nothing is cached', async () => {
    const provider = await lazy(() => ({ value: 'old', expiresAt: Date.now() - 1 }));
    const outcome = await settle(provider.get());
    const error = (outcome as { error: unknown }).error;
    expect(error).toBeInstanceOf(MintedCredentialExpiredError);
    expect(error).toMatchObject({ expiresAt: START - 1, now: START });
    expect(provider.peek()).toBeUndefined();
    provider.close();
  });

  it('expiresAt 1 ms ahead is served once, then the next call waits for a new mint', async () => {
    let n = 0;
    const provider = await lazy(() => ({ value: `short-${++n}`, expiresAt: Date.now() + 1 }));
    expect(await provider.get()).toBe('short-1');
    await clock.tickAsync(1);
    expect(provider.peek()).toBeUndefined();
    expect(await provider.get()).toBe('short-2');
    provider.close();
  });

  it('a lifetime shorter than refreshFloorMs is due at once, but the loop guard spaces refreshes by minRefreshIntervalMs', async () => {
    const { mint, calls, last } = manualMint();
    const provider = await lazy(mint, { refreshFloorMs: 30_000, minRefreshIntervalMs: 5_000 });
    const first = provider.get();
    last().deferred.resolve({ value: 'brief-1', expiresAt: Date.now() + 20_000 });
    expect(await first).toBe('brief-1');
    expect(provider.snapshot().refreshDueAt).toBe(START + 5_000);
    for (let i = 0; i < 10; i++) {
      await clock.tickAsync(400);
      expect(await provider.get()).toBe('brief-1');
    }
    expect(calls).toHaveLength(1); // 4 s in: no refresh yet despite being inside the floor
    await clock.tickAsync(1_000);
    expect(await provider.get()).toBe('brief-1'); // due: served and refreshed in the background
    expect(calls).toHaveLength(2);
    expect(last().context.reason).toBe('proactive');
    provider.close();
  });
});

describe('fault matrix: the wall clock steps (NTP) and the process sleeps', () => {
  it('a step back of an hour: the credential is served, treated as due and refreshed in the background', async () => {
    const { provider, calls, last } = await started();
    clock.setSystemTime(START - HOUR);
    expect(provider.snapshot().status).toBe('due');
    expect(await provider.get()).toBe('token-1');
    expect(calls).toHaveLength(2);
    expect(last().context.reason).toBe('proactive');
    expect(await provider.get()).toBe('token-1'); // joins nothing, starts nothing more
    expect(calls).toHaveLength(2);
    last().deferred.resolve({ value: 'token-2', expiresAt: Date.now() + HOUR });
    await flush();
    expect(await provider.get()).toBe('token-2');
    expect(provider.snapshot().status).toBe('fresh');
    provider.close();
  });

  it('a step forward of a day: callers wait for a mint and never get the expired credential', async () => {
    const { provider, calls, last } = await started();
    clock.setSystemTime(START + DAY);
    expect(provider.peek()).toBeUndefined();
    const waits = [provider.get(), provider.getCredential()];
    expect(calls).toHaveLength(2);
    expect(last().context.reason).toBe('expired');
    expect(last().context.previous?.value).toBe('token-1');
    last().deferred.resolve({ value: 'token-2', expiresAt: Date.now() + HOUR });
    const [value, credential] = await Promise.all(waits);
    expect(value).toBe('token-2');
    expect((credential as Credential<string>).expiresAt).toBe(START + DAY + HOUR);
    provider.close();
  });

  it('a step forward while a mint hangs does not move its timeout: it still fires mintTimeoutMs after it started', async () => {
    const { provider, last } = await started({ mintTimeoutMs: 5_000 });
    clock.setSystemTime(START + DAY);
    const wait = settle(provider.get());
    clock.setSystemTime(START + 2 * DAY);
    await clock.tickAsync(4_999);
    expect(last().context.signal.aborted).toBe(false);
    await clock.tickAsync(1);
    expect((await wait).ok).toBe(false);
    expect(last().context.signal.aborted).toBe(true);
    provider.close();
  });

  it('the process sleeps past expiry: the refresh timer fires late and callers get a fresh mint, not the expired one', async () => {
    const { provider, calls, last } = await started({ schedule: 'timer' });
    expect(clock.countTimers()).toBe(1); // the refresh timer, due at 0.8 h
    clock.jump(2 * HOUR); // asleep: no timer fired on the way, they fire late at once
    await flush();
    expect(calls).toHaveLength(2);
    expect(last().context.reason).toBe('expired');
    expect(provider.peek()).toBeUndefined();
    const wait = provider.get();
    expect(calls).toHaveLength(2); // joins the timer's mint
    last().deferred.resolve({ value: 'token-2', expiresAt: Date.now() + HOUR });
    expect(await wait).toBe('token-2');
    provider.close();
    await expectNoTimers();
  });

  it('the process sleeps past expiry with on-access refresh: the first call after waking waits for a fresh mint', async () => {
    const { provider, calls, last } = await started();
    clock.setSystemTime(START + 2 * HOUR);
    await clock.tickAsync(0);
    const wait = provider.get();
    expect(calls).toHaveLength(2);
    last().deferred.resolve({ value: 'token-2', expiresAt: Date.now() + HOUR });
    expect(await wait).toBe('token-2');
    provider.close();
  });
});

describe('fault matrix: a reporter throws in every hook', () => {
  it('callers get exactly what they would without a reporter, through success, failure and the breaker', async () => {
    const { reporter, calls: hooks } = throwingReporter();
    const { provider, last } = await started({
      reporter,
      breaker: { failureThreshold: 1, cooldownMs: MINUTE },
    });
    await clock.tickAsync(HOUR);
    const boom = new Error('down');
    const failed = settle(provider.get());
    last().deferred.reject(boom);
    expect(await failed).toEqual({ ok: false, error: boom });
    expect(provider.snapshot().breaker.state).toBe('open');
    await clock.tickAsync(MINUTE);
    const probe = provider.get();
    last().deferred.resolve({ value: 'token-2', expiresAt: Date.now() + HOUR });
    expect(await probe).toBe('token-2');
    expect(new Set(hooks)).toEqual(
      new Set(['start', 'success', 'failure', 'breaker', 'coalesced']),
    );
    provider.close();
  });
});

describe("fault matrix: a caller's signal", () => {
  it('already aborted: rejects with its reason at once and starts no mint', async () => {
    const { mint, calls } = manualMint();
    const provider = await lazy(mint);
    const reason = new Error('gave up early');
    const controller = new AbortController();
    controller.abort(reason);
    for (const call of [
      () => provider.get({ signal: controller.signal }),
      () => provider.getCredential({ signal: controller.signal }),
      () => provider.refresh({ signal: controller.signal }),
    ]) {
      expect(await settle<unknown>(call())).toEqual({ ok: false, error: reason });
    }
    expect(calls).toHaveLength(0);
    provider.close();
  });

  it('aborting before the mint starts (inside onRefreshStart) rejects that caller only; the mint goes on', async () => {
    const controller = new AbortController();
    const reason = new Error('aborted before the mint ran');
    const { mint, calls, last } = manualMint();
    const provider = await lazy(mint, {
      reporter: { onRefreshStart: () => controller.abort(reason) },
    });
    const aborted = settle(provider.get({ signal: controller.signal }));
    const other = provider.get();
    expect(calls).toHaveLength(1);
    expect(await aborted).toEqual({ ok: false, error: reason });
    expect(last().context.signal.aborted).toBe(false);
    last().deferred.resolve({ value: 'token', expiresAt: Date.now() + HOUR });
    expect(await other).toBe('token');
    provider.close();
  });

  it('aborting during the mint rejects that caller only; the others and the cache get the result', async () => {
    const { mint, last } = manualMint();
    const provider = await lazy(mint);
    const controller = new AbortController();
    const reason = new Error('caller timeout');
    const aborted = settle(provider.get({ signal: controller.signal }));
    const other = provider.get();
    controller.abort(reason);
    expect(await aborted).toEqual({ ok: false, error: reason });
    expect(last().context.signal.aborted).toBe(false);
    last().deferred.resolve({ value: 'token', expiresAt: Date.now() + HOUR });
    expect(await other).toBe('token');
    expect(provider.peek()?.value).toBe('token');
    provider.close();
  });

  it('aborting after the mint resolved changes nothing: the caller keeps the value', async () => {
    const { mint, last } = manualMint();
    const provider = await lazy(mint);
    const controller = new AbortController();
    const wait = settle(provider.get({ signal: controller.signal }));
    last().deferred.resolve({ value: 'token', expiresAt: Date.now() + HOUR });
    await flush();
    controller.abort(new Error('too late'));
    expect(await wait).toEqual({ ok: true, value: 'token' });
    provider.close();
  });
});

describe('fault matrix: close()', () => {
  it('during a mint: waiters get ProviderClosedError, the mint signal aborts, a late result is discarded', async () => {
    const { mint, last } = manualMint();
    const provider = await lazy(mint);
    const waits = [settle(provider.get()), settle(provider.refresh())];
    provider.close();
    const outcomes = await Promise.all(waits);
    const error = (outcomes[0] as { error: unknown }).error;
    expect(error).toBeInstanceOf(ProviderClosedError);
    expect(outcomes.every((o) => !o.ok && o.error === error)).toBe(true);
    expect(last().context.signal.aborted).toBe(true);
    last().deferred.resolve({ value: 'late', expiresAt: Date.now() + HOUR });
    await flush();
    expect(provider.peek()).toBeUndefined();
    expect(provider.snapshot()).toMatchObject({
      status: 'closed',
      lastError: null,
      breaker: { failures: 0 },
    });
    await expectNoTimers();
  });

  it('during waits with signals: every wait ends with ProviderClosedError and no abort listener is left', async () => {
    const { mint } = manualMint();
    const provider = await lazy(mint);
    const controller = new AbortController();
    let listeners = 0;
    const signal = controller.signal;
    const add = signal.addEventListener.bind(signal);
    const remove = signal.removeEventListener.bind(signal);
    signal.addEventListener = ((...args: Parameters<typeof add>) => {
      listeners++;
      add(...args);
    }) as typeof add;
    signal.removeEventListener = ((...args: Parameters<typeof remove>) => {
      listeners--;
      remove(...args);
    }) as typeof remove;
    const waits = Array.from({ length: 4 }, () => settle(provider.get({ signal })));
    expect(listeners).toBeGreaterThan(0); // one per signal or one per waiter: either way removed below
    provider.close();
    for (const o of await Promise.all(waits)) {
      expect((o as { error: unknown }).error).toBeInstanceOf(ProviderClosedError);
    }
    expect(listeners).toBe(0);
    await expectNoTimers();
  });

  it('twice: idempotent, and every later call rejects with ProviderClosedError', async () => {
    const { provider } = await started({ schedule: 'timer' });
    provider.close();
    provider.close();
    provider[Symbol.dispose]();
    for (const call of [
      () => provider.get(),
      () => provider.getCredential(),
      () => provider.refresh(),
    ]) {
      const o = await settle<unknown>(call());
      expect((o as { error: unknown }).error).toBeInstanceOf(ProviderClosedError);
    }
    expect(provider.invalidate()).toBe(false);
    expect(provider.peek()).toBeUndefined();
    expect(provider.snapshot().status).toBe('closed');
    await expectNoTimers();
  });
});

describe('fault matrix: a keyed provider, per key', () => {
  function keyed(options: Partial<KeyedProviderOptions<string, string>> = {}) {
    const calls: Array<{
      key: string;
      context: MintContext<string>;
      deferred: Deferred<Credential<string>>;
    }> = [];
    const provider = createKeyedProvider<string, string>({
      mint: (key, context) => {
        const d = deferred<Credential<string>>();
        calls.push({ key, context, deferred: d });
        return d.promise;
      },
      random: () => 0,
      ...options,
    });
    const lastFor = (key: string) => {
      const call = calls.filter((c) => c.key === key).at(-1);
      if (call === undefined) throw new Error(`no mint for ${key}`);
      return call;
    };
    return { provider, calls, lastFor };
  }

  it('a key whose mint throws synchronously fails only that key', async () => {
    const boom = new Error('sync boom');
    const provider = createKeyedProvider<string, string>({
      mint: (key) => {
        if (key === 'bad') throw boom;
        return { value: `${key}-token`, expiresAt: Date.now() + HOUR };
      },
    });
    expect(await settle(provider.get('bad'))).toEqual({ ok: false, error: boom });
    expect(await provider.get('good')).toBe('good-token');
    expect(provider.snapshot('good')?.breaker.failures).toBe(0);
    provider.close();
  });

  it('a key whose mint hangs fails at mintTimeoutMs; another key is served meanwhile', async () => {
    const { provider, lastFor } = keyed({ mintTimeoutMs: 5_000 });
    const hanging = settle(provider.get('slow'));
    const fast = provider.get('fast');
    lastFor('fast').deferred.resolve({ value: 'fast-token', expiresAt: Date.now() + HOUR });
    expect(await fast).toBe('fast-token');
    await clock.tickAsync(5_000);
    expect(((await hanging) as { error: unknown }).error).toBeInstanceOf(MintTimeoutError);
    expect(lastFor('slow').context.signal.aborted).toBe(true);
    provider.close();
    await expectNoTimers();
  });

  it('a key whose mint returns an already expired or malformed credential fails that key only', async () => {
    const { provider, lastFor } = keyed();
    const expired = settle(provider.get('a'));
    const malformed = settle(provider.get('b'));
    lastFor('a').deferred.resolve({ value: 'x', expiresAt: Date.now() - 1 });
    lastFor('b').deferred.resolve({ value: 'y', expiresAt: Number.NaN });
    expect(((await expired) as { error: unknown }).error).toBeInstanceOf(
      MintedCredentialExpiredError,
    );
    expect(((await malformed) as { error: unknown }).error).toBeInstanceOf(InvalidCredentialError);
    provider.close();
  });

  it('a step forward of a day: every key waits for its own mint, never the expired credential', async () => {
    const { provider, calls, lastFor } = keyed();
    for (const key of ['a', 'b']) {
      const wait = provider.get(key);
      lastFor(key).deferred.resolve({ value: `${key}-1`, expiresAt: Date.now() + HOUR });
      await wait;
    }
    clock.setSystemTime(START + DAY);
    const waits = [provider.get('a'), provider.get('a'), provider.get('b')];
    expect(calls).toHaveLength(4);
    lastFor('a').deferred.resolve({ value: 'a-2', expiresAt: Date.now() + HOUR });
    lastFor('b').deferred.resolve({ value: 'b-2', expiresAt: Date.now() + HOUR });
    expect(await Promise.all(waits)).toEqual(['a-2', 'a-2', 'b-2']);
    provider.close();
  });

  it("a caller's abort during a key's mint rejects that caller only", async () => {
    const { provider, lastFor } = keyed();
    const controller = new AbortController();
    const reason = new Error('caller gave up');
    const aborted = settle(provider.get('a', { signal: controller.signal }));
    const other = provider.get('a');
    controller.abort(reason);
    expect(await aborted).toEqual({ ok: false, error: reason });
    lastFor('a').deferred.resolve({ value: 'a-token', expiresAt: Date.now() + HOUR });
    expect(await other).toBe('a-token');
    provider.close();
  });

  it('a reporter throwing in every hook never changes what a key serves', async () => {
    const { reporter, calls: hooks } = throwingReporter();
    const { provider, lastFor } = keyed({ reporter, breaker: { failureThreshold: 1 } });
    const failed = settle(provider.get('a'));
    const boom = new Error('down');
    lastFor('a').deferred.reject(boom);
    expect(await failed).toEqual({ ok: false, error: boom });
    const ok = provider.get('b');
    lastFor('b').deferred.resolve({ value: 'b-token', expiresAt: Date.now() + HOUR });
    expect(await ok).toBe('b-token');
    expect(hooks).toContain('breaker');
    provider.close();
  });

  it('delete(key) and close() during a mint: waiters get ProviderClosedError; close twice is idempotent', async () => {
    const { provider, lastFor } = keyed();
    const deleted = settle(provider.get('a'));
    const closed = settle(provider.get('b'));
    expect(provider.delete('a')).toBe(true);
    expect(((await deleted) as { error: unknown }).error).toBeInstanceOf(ProviderClosedError);
    provider.close();
    provider.close();
    expect(((await closed) as { error: unknown }).error).toBeInstanceOf(ProviderClosedError);
    expect(lastFor('b').context.signal.aborted).toBe(true);
    lastFor('b').deferred.resolve({ value: 'late', expiresAt: Date.now() + HOUR });
    await flush();
    expect(provider.peek('b')).toBeUndefined();
    expect(((await settle(provider.get('c'))) as { error: unknown }).error).toBeInstanceOf(
      ProviderClosedError,
    );
    expect(provider.size).toBe(0);
    await expectNoTimers();
  });
});
