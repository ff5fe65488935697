import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Credential } from '../src/credential.js';
import { BreakerOpenError, InvalidOptionError, ProviderClosedError } from '../src/errors.js';
import { createKeyedProvider, type KeyedProviderOptions } from '../src/keyed-provider.js';
import type { MintContext } from '../src/refreshing-provider.js';
import type { Reporter } from '../src/reporter.js';
import {
  type Deferred,
  deferred,
  flush,
  installClock,
  settle,
  type TestClock,
} from './support/fake-clock.js';

const HOUR = 3_600_000;
let clock: TestClock;
beforeEach(() => {
  clock = installClock();
});
afterEach(() => {
  clock.uninstall();
});

interface KeyedCall {
  readonly key: string;
  readonly context: MintContext<string>;
  readonly deferred: Deferred<Credential<string>>;
}

function keyed(options: Partial<KeyedProviderOptions<string, string>> = {}) {
  const calls: KeyedCall[] = [];
  let running = 0;
  let maxRunning = 0;
  const provider = createKeyedProvider<string, string>({
    mint: (key, context) => {
      const d = deferred<Credential<string>>();
      calls.push({ key, context, deferred: d });
      running++;
      maxRunning = Math.max(maxRunning, running);
      const done = () => {
        running--;
      };
      d.promise.then(done, done);
      return d.promise;
    },
    random: () => 0,
    ...options,
  });
  const resolve = (key: string, value = `${key}-token`, lifetimeMs = HOUR) => {
    const call = [...calls].reverse().find((c) => c.key === key);
    if (call === undefined) throw new Error(`no mint for ${key}`);
    call.deferred.resolve({ value, expiresAt: Date.now() + lifetimeMs });
  };
  const reject = (key: string, error: unknown) => {
    const call = [...calls].reverse().find((c) => c.key === key);
    if (call === undefined) throw new Error(`no mint for ${key}`);
    call.deferred.reject(error);
  };
  return { provider, calls, resolve, reject, maxRunning: () => maxRunning };
}

describe('keyed provider: per-key policy', () => {
  it('creates nothing until a key is used, then mints ONE per key for concurrent callers', async () => {
    const { provider, calls, resolve } = keyed();
    expect(provider.size).toBe(0);
    const a = Array.from({ length: 50 }, () => provider.get('a'));
    const b = Array.from({ length: 50 }, () => provider.get('b'));
    expect(calls.map((c) => c.key)).toEqual(['a', 'b']);
    expect(calls[0]?.context.reason).toBe('initial');
    resolve('a');
    resolve('b');
    expect(new Set(await Promise.all(a))).toEqual(new Set(['a-token']));
    expect(new Set(await Promise.all(b))).toEqual(new Set(['b-token']));
    expect(provider.size).toBe(2);
  });

  it("a key's failure goes to that key's waiters only, the same error object to each", async () => {
    const { provider, resolve, reject } = keyed();
    const a = Array.from({ length: 10 }, () => settle(provider.get('a')));
    const b = provider.get('b');
    const failure = new Error('a failed');
    reject('a', failure);
    resolve('b');
    expect((await Promise.all(a)).every((r) => !r.ok && r.error === failure)).toBe(true);
    expect(await b).toBe('b-token');
  });

  it('refreshes a due key in the background while serving it', async () => {
    const { provider, calls, resolve } = keyed();
    const first = provider.get('a');
    resolve('a');
    await first;
    await clock.tickAsync(0.8 * HOUR);
    expect(await provider.get('a')).toBe('a-token');
    expect(calls.at(-1)?.context.reason).toBe('proactive');
    resolve('a', 'a-token-2');
    await flush();
    expect(await provider.get('a')).toBe('a-token-2');
  });

  it('invalidate(key, rejected) ignores a replaced credential; refresh(key) forces one mint', async () => {
    const { provider, calls, resolve } = keyed();
    const first = provider.get('a');
    resolve('a');
    await first;
    expect(provider.invalidate('a', 'old-token')).toBe(false);
    expect(provider.invalidate('missing')).toBe(false);
    const forced = provider.refresh('a');
    expect(calls.at(-1)?.context.reason).toBe('forced');
    resolve('a', 'a-token-2');
    expect((await forced).value).toBe('a-token-2');
    expect(provider.peek('a')?.value).toBe('a-token-2');
  });
});

describe('keyed provider: bounds', () => {
  it('evicts the least recently used key past maxKeys', async () => {
    const { provider, resolve } = keyed({ maxKeys: 3 });
    for (const key of ['a', 'b', 'c']) {
      const p = provider.get(key);
      resolve(key);
      await p;
    }
    await provider.get('a'); // a is now the most recently used
    const d = provider.get('d');
    resolve('d');
    await d;
    expect(provider.size).toBe(3);
    expect(provider.peek('b')).toBeUndefined();
    expect(provider.peek('a')?.value).toBe('a-token');
    expect(provider.peek('c')?.value).toBe('c-token');
  });

  it('drops a key unused for idleTtlMs, so its next use mints again', async () => {
    const { provider, calls, resolve } = keyed({ idleTtlMs: 60_000 });
    const p = provider.get('a');
    resolve('a');
    await p;
    await clock.tickAsync(59_999);
    expect(provider.peek('a')).toBeDefined();
    await provider.get('a');
    await clock.tickAsync(60_000);
    expect(provider.peek('a')).toBeUndefined();
    expect(provider.size).toBe(0);
    const again = provider.get('a');
    expect(calls).toHaveLength(2);
    resolve('a');
    await again;
  });

  it('stays bounded by maxKeys under a stream of distinct keys', async () => {
    const provider = createKeyedProvider<string, string>({
      mint: (key) => ({ value: key, expiresAt: Date.now() + HOUR }),
      maxKeys: 100,
    });
    for (let i = 0; i < 5_000; i++) await provider.get(`host-${i}.example`);
    expect(provider.size).toBe(100);
    expect(provider.peek('host-4999.example')?.value).toBe('host-4999.example');
    expect(provider.peek('host-0.example')).toBeUndefined();
    provider.close();
  });

  it('delete(key) aborts its in-flight mint: waiters get ProviderClosedError', async () => {
    const { provider, calls } = keyed();
    const waiting = settle(provider.get('a'));
    expect(provider.delete('a')).toBe(true);
    expect(provider.delete('a')).toBe(false);
    const outcome = await waiting;
    expect(outcome.ok === false && outcome.error).toBeInstanceOf(ProviderClosedError);
    expect(calls[0]?.context.signal.aborted).toBe(true);
    expect(provider.size).toBe(0);
  });
});

describe('keyed provider: breaker scope', () => {
  it("'per-key': one key's failures never open another key's breaker", async () => {
    const { provider, resolve, reject } = keyed({
      breaker: { failureThreshold: 2, cooldownMs: 60_000 },
    });
    for (let i = 0; i < 2; i++) {
      const p = settle(provider.get('a'));
      reject('a', new Error('a down'));
      await p;
    }
    expect(provider.snapshot('a')?.breaker.state).toBe('open');
    await expect(provider.get('a')).rejects.toBeInstanceOf(BreakerOpenError);
    const b = provider.get('b');
    resolve('b');
    expect(await b).toBe('b-token');
  });

  it("'shared': failures of different keys open ONE breaker and every key fails fast without a mint", async () => {
    const { provider, calls, reject } = keyed({
      breakerScope: 'shared',
      breaker: { failureThreshold: 2, cooldownMs: 60_000 },
    });
    for (const key of ['a', 'b']) {
      const p = settle(provider.get(key));
      reject(key, new Error(`${key} down`));
      await p;
    }
    const c = await settle(provider.get('c'));
    expect(c.ok === false && c.error).toBeInstanceOf(BreakerOpenError);
    expect(calls).toHaveLength(2);
  });

  it("'shared': onBreakerRefused carries the refused key, once per refused caller", async () => {
    const refused: Array<[string | undefined, number]> = [];
    const { provider, reject } = keyed({
      name: 'tenants',
      breakerScope: 'shared',
      breaker: { failureThreshold: 2, cooldownMs: 60_000 },
      reporter: { onBreakerRefused: (e) => refused.push([e.key, e.retryAfterMs]) },
    });
    for (const key of ['a', 'b']) {
      const p = settle(provider.get(key));
      reject(key, new Error(`${key} down`));
      await p;
    }
    expect(refused).toEqual([]);
    await settle(provider.get('c'));
    await settle(provider.get('c'));
    await settle(provider.get('d'));
    expect(refused).toEqual([
      ['c', 60_000],
      ['c', 60_000],
      ['d', 60_000],
    ]);
  });

  it("'shared': failures relayed from elsewhere (countsTowardsBreaker: false) reach the key's waiters but never open the shared breaker", async () => {
    const { provider, calls, reject, resolve } = keyed({
      breakerScope: 'shared',
      breaker: { failureThreshold: 1, cooldownMs: 60_000 },
    });
    for (const key of ['a', 'b', 'c']) {
      const p = settle(provider.get(key));
      const error = Object.assign(new Error(`${key} relayed`), { countsTowardsBreaker: false });
      reject(key, error);
      expect(await p).toEqual({ ok: false, error });
    }
    expect(provider.snapshot('a')?.breaker).toMatchObject({ state: 'closed', failures: 0 });
    const d = provider.get('d');
    expect(calls).toHaveLength(4);
    resolve('d');
    expect(await d).toBe('d-token');
  });

  it("'shared': one key's retry hint (a 429 with retryAfterMs) holds every key's mints back until the issuer's time", async () => {
    const { provider, calls, reject } = keyed({ breakerScope: 'shared' });
    const a = settle(provider.get('a'));
    reject('a', Object.assign(new Error('429'), { retryAfterMs: 120_000 }));
    await a;
    await clock.tickAsync(20_000);
    const b = await settle(provider.get('b'));
    expect(b.ok === false && b.error).toBeInstanceOf(BreakerOpenError);
    expect((b as { error: BreakerOpenError }).error.retryAfterMs).toBe(100_000);
    expect(calls).toHaveLength(1);
    await clock.tickAsync(100_000);
    provider.get('b').catch(() => {});
    expect(calls).toHaveLength(2);
  });

  it("'shared': after the cooldown ONE key probes; the others fail fast until the probe closes the breaker", async () => {
    const { provider, calls, resolve, reject } = keyed({
      breakerScope: 'shared',
      breaker: { failureThreshold: 1, cooldownMs: 60_000 },
    });
    const first = settle(provider.get('a'));
    reject('a', new Error('down'));
    await first;
    await clock.tickAsync(60_000);
    const probe = provider.get('a');
    const other = await settle(provider.get('b'));
    expect(other.ok === false && other.error).toMatchObject({
      code: 'SLUICE_BREAKER_OPEN',
      retryAfterMs: 0,
    });
    expect(calls).toHaveLength(2);
    resolve('a');
    expect(await probe).toBe('a-token');
    const b = provider.get('b');
    resolve('b');
    expect(await b).toBe('b-token');
  });

  it("'shared': deleting the key that holds the probe lets another key probe at once", async () => {
    const { provider, calls, resolve, reject } = keyed({
      breakerScope: 'shared',
      breaker: { failureThreshold: 1, cooldownMs: 60_000 },
    });
    const first = settle(provider.get('a'));
    reject('a', new Error('down'));
    await first;
    await clock.tickAsync(60_000);
    const probe = settle(provider.get('a'));
    provider.delete('a');
    await probe;
    const b = provider.get('b');
    expect(calls).toHaveLength(3);
    resolve('b');
    expect(await b).toBe('b-token');
  });
});

describe('keyed provider: shared breaker with refresh timers', () => {
  it("a key's refresh timer never spins while another key holds the shared probe", async () => {
    const { provider, calls, resolve, reject } = keyed({
      breakerScope: 'shared',
      schedule: 'timer',
      breaker: { failureThreshold: 1, cooldownMs: 60_000 },
      minRefreshIntervalMs: 0,
    });
    for (const key of ['a', 'b']) {
      const p = provider.get(key);
      resolve(key, `${key}-token`, 100_000);
      await p;
    }
    const failed = settle(provider.refresh('a'));
    reject('a', new Error('down'));
    await failed;
    await clock.tickAsync(60_000);
    const probe = provider.refresh('a'); // a holds the probe; b's timer fires meanwhile
    const before = calls.length;
    const fired = { count: 0 };
    const original = globalThis.setTimeout;
    globalThis.setTimeout = ((fn: () => void, ms: number) => {
      fired.count++;
      return original(fn, ms);
    }) as typeof setTimeout;
    try {
      await clock.tickAsync(15_000); // b falls due at 70 s (floor 30 s of 100 s); watch 5 s past
    } finally {
      globalThis.setTimeout = original;
    }
    expect(fired.count).toBeLessThan(20);
    expect(calls.length).toBe(before);
    resolve('a');
    await probe;
    provider.close();
  });
});

describe('keyed provider: keys', () => {
  it('refuses a non-string key without keyOf, naming the problem', async () => {
    const provider = createKeyedProvider<unknown, string>({ mint: () => ({ value: 'v' }) });
    const error = await provider.get(42).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidOptionError);
    expect((error as InvalidOptionError).option).toBe('key');
    expect(() => provider.peek({})).toThrow(InvalidOptionError);
  });

  it('uses keyOf to turn keys into strings, and refuses a keyOf that returns none', async () => {
    const minted: string[] = [];
    const provider = createKeyedProvider<{ tenant: string; audience: string }, string>({
      mint: (key) => {
        minted.push(`${key.tenant}/${key.audience}`);
        return { value: `token for ${key.tenant}` };
      },
      keyOf: (key) => `${key.tenant}\u0000${key.audience}`,
    });
    await provider.get({ tenant: 't1', audience: 'billing' });
    await provider.get({ tenant: 't1', audience: 'billing' });
    await provider.get({ tenant: 't2', audience: 'billing' });
    expect(minted).toEqual(['t1/billing', 't2/billing']);
    const bad = createKeyedProvider<object, string>({
      mint: () => ({ value: 'v' }),
      keyOf: () => 5 as unknown as string,
    });
    await expect(bad.get({})).rejects.toMatchObject({ option: 'keyOf(key)' });
  });

  it('treats __proto__, constructor and toString as ordinary keys', async () => {
    const provider = createKeyedProvider<string, string>({
      mint: (key) => ({ value: `v:${key}` }),
    });
    for (const key of ['__proto__', 'constructor', 'toString', 'hasOwnProperty']) {
      expect(await provider.get(key)).toBe(`v:${key}`);
    }
    expect(provider.size).toBe(4);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(provider.snapshot('__proto__')?.key).toBe('__proto__');
  });
});

describe('keyed provider: sweep', () => {
  it('refreshes due keys on a jittered interval with at most `concurrency` mints at once', async () => {
    const { provider, calls, resolve, maxRunning } = keyed({ random: () => 0 });
    const keys = Array.from({ length: 10 }, (_, i) => `k${i}`);
    for (const key of keys) {
      const p = provider.get(key);
      resolve(key);
      await p;
    }
    const sweep = provider.startSweep({ intervalMs: 60_000, jitter: 0.1, concurrency: 3 });
    // Every key falls due at 48 min; sweeps run every 54 s (random 0 => -10%), the 54th at 48.6 min.
    await clock.tickAsync(0.8 * HOUR + 36_000);
    const refreshes = calls.filter((c) => c.context.reason === 'proactive');
    expect(refreshes).toHaveLength(3);
    for (const key of keys) {
      const pending = calls.filter((c) => c.key === key && c.context.reason === 'proactive');
      if (pending.length > 0) resolve(key, `${key}-2`);
    }
    await flush(50);
    expect(calls.filter((c) => c.context.reason === 'proactive').length).toBeGreaterThan(3);
    while (calls.filter((c) => c.context.reason === 'proactive').length < 10) {
      for (const c of calls)
        c.deferred.resolve({ value: `${c.key}-2`, expiresAt: Date.now() + HOUR });
      await flush(50);
    }
    for (const c of calls)
      c.deferred.resolve({ value: `${c.key}-2`, expiresAt: Date.now() + HOUR });
    await flush(50);
    expect(maxRunning()).toBe(3);
    expect(keys.every((key) => provider.peek(key)?.value === `${key}-2`)).toBe(true);
    sweep.stop();
    expect(clock.countTimers()).toBe(0);
  });

  it('sweeps on an interval spread by ±jitter', async () => {
    let sample = 0.999;
    const intervals: number[] = [];
    const provider = createKeyedProvider<string, string>({
      mint: () => ({ value: 'v' }),
      random: () => sample,
    });
    const originalSetTimeout = globalThis.setTimeout;
    globalThis.setTimeout = ((fn: () => void, ms: number) => {
      intervals.push(ms);
      return originalSetTimeout(fn, ms);
    }) as typeof setTimeout;
    try {
      const sweep = provider.startSweep({ intervalMs: 10_000, jitter: 0.1 });
      sample = 0;
      await clock.tickAsync(10_998);
      sweep.stop();
    } finally {
      globalThis.setTimeout = originalSetTimeout;
    }
    expect(intervals[0]).toBeCloseTo(10_998, 6);
    expect(intervals[1]).toBe(9_000);
  });

  it('leaves no timer after close, and close rejects later calls', async () => {
    const { provider, resolve } = keyed({ schedule: 'timer' });
    const p = provider.get('a');
    resolve('a');
    await p;
    provider.startSweep({ intervalMs: 1_000 });
    expect(clock.countTimers()).toBe(2);
    provider.close();
    provider.close();
    expect(clock.countTimers()).toBe(0);
    await expect(provider.get('a')).rejects.toBeInstanceOf(ProviderClosedError);
    expect(provider.size).toBe(0);
  });

  it('rejects bad sweep options', () => {
    const { provider } = keyed();
    expect(() => provider.startSweep({ intervalMs: 0 })).toThrow(/startSweep.intervalMs/);
    expect(() => provider.startSweep({ intervalMs: 10, jitter: 1 })).toThrow(/startSweep.jitter/);
    expect(() => provider.startSweep({ intervalMs: 10, concurrency: 0 })).toThrow(
      /startSweep.concurrency/,
    );
  });
});

describe('keyed provider: telemetry and options', () => {
  it('reporter events carry the key', async () => {
    const keys: Array<string | undefined> = [];
    const reporter: Reporter = { onRefreshSuccess: (e) => keys.push(e.key) };
    const provider = createKeyedProvider<string, string>({
      mint: () => ({ value: 'v' }),
      reporter,
    });
    await provider.get('example.com');
    expect(keys).toEqual(['example.com']);
  });

  it.each([
    ['maxKeys', { maxKeys: 0 }],
    ['idleTtlMs', { idleTtlMs: -1 }],
    ['breakerScope', { breakerScope: 'global' }],
    ['keyOf', { keyOf: 'id' }],
    ['mint', { mint: undefined }],
  ])('refuses a bad %s with InvalidOptionError', (option, bad) => {
    expect(() => createKeyedProvider({ mint: () => ({ value: 'v' }), ...bad } as never)).toThrow(
      expect.objectContaining({ option }),
    );
  });
});

describe('keyed provider: enumeration for metric backends', () => {
  it('keys() and snapshots() list the cached keys, least recently used first', async () => {
    const { provider, resolve } = keyed();
    const a = provider.get('a');
    const b = provider.get('b');
    resolve('a');
    resolve('b');
    await Promise.all([a, b]);
    await provider.get('a'); // a becomes the most recently used
    expect(provider.keys()).toEqual(['b', 'a']);
    const snapshots = provider.snapshots();
    expect(snapshots.map((s) => [s.key, s.status])).toEqual([
      ['b', 'fresh'],
      ['a', 'fresh'],
    ]);
    expect(JSON.stringify(snapshots)).not.toContain('-token');
    provider.close();
    expect(provider.keys()).toEqual([]);
  });

  it('reports every dropped key with its reason (lru, idle, deleted), and none on close', async () => {
    const dropped: Array<[string, string]> = [];
    const { provider, resolve } = keyed({
      maxKeys: 2,
      idleTtlMs: 10 * 60_000,
      reporter: { onKeyDropped: (e) => dropped.push([e.key, e.reason]) },
    });
    for (const key of ['a', 'b']) {
      const pending = provider.get(key);
      resolve(key);
      await pending;
    }
    const c = provider.get('c'); // evicts a (least recently used)
    resolve('c');
    await c;
    provider.delete('b');
    await clock.tickAsync(10 * 60_000);
    const d = provider.get('d'); // c has been idle for the TTL
    resolve('d');
    await d;
    provider.close();
    expect(dropped).toEqual([
      ['a', 'lru'],
      ['b', 'deleted'],
      ['c', 'idle'],
    ]);
  });
});

describe('keyed provider: the shared probe proves the issuer, not one bad name', () => {
  it("'shared': a key whose probe failed stands aside for one cooldown when another key waits", async () => {
    const { provider, calls, resolve, reject } = keyed({
      breakerScope: 'shared',
      breaker: { failureThreshold: 1, cooldownMs: 1_000 },
    });
    const refusal = new Error('name refused by the CA');
    // The issuer is fine, but it refuses one name forever.
    const bad = settle(provider.get('bad'));
    reject('bad', refusal);
    await bad; // the shared breaker opens
    await clock.tickAsync(1_000);
    const probe = settle(provider.get('bad')); // the bad name wins the first probe
    reject('bad', refusal);
    await probe; // re-opened for a cooldown
    const good = await settle(provider.get('good')); // refused meanwhile: it waits for a probe
    expect(good).toMatchObject({ ok: false, error: { code: 'SLUICE_BREAKER_OPEN' } });
    await clock.tickAsync(1_000);
    // The bad name asks first again, but stands aside: the waiting key gets the probe.
    expect(await settle(provider.get('bad'))).toMatchObject({
      ok: false,
      error: { code: 'SLUICE_BREAKER_OPEN', retryAfterMs: 1_000 },
    });
    const goodProbe = provider.get('good');
    resolve('good');
    expect(await goodProbe).toBe('good-token');
    expect(provider.snapshot('good')?.breaker.state).toBe('closed');
    expect(calls.map((c) => c.key)).toEqual(['bad', 'bad', 'good']);
    provider.close();
  });

  it("'shared': with nobody else waiting, the last prober probes again after the cooldown", async () => {
    const { provider, calls, reject } = keyed({
      breakerScope: 'shared',
      breaker: { failureThreshold: 1, cooldownMs: 1_000 },
    });
    for (let round = 0; round < 3; round++) {
      const outcome = settle(provider.get('only'));
      reject('only', new Error('down'));
      await outcome;
      await clock.tickAsync(1_000);
    }
    expect(calls).toHaveLength(3);
    provider.close();
  });
});
