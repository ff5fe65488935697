/**
 * A dependency-free smoke suite of @sluice/core's key behaviours, for every runtime: Node,
 * Bun and Deno (`deno run --allow-read`). It imports the built ESM bundle and uses only Web
 * APIs (no `node:` imports, no test framework), with an injected `now` so time moves only
 * when a test says so. Prints one line per test and then `N passed, N failed`; exits 1 on a
 * failure.
 *
 * Usage: build core first (`pnpm build`), then
 *   node test/runtimes/smoke.mjs
 *   bun test/runtimes/smoke.mjs
 *   deno run --allow-read test/runtimes/smoke.mjs
 */

import {
  BreakerOpenError,
  createKeyedProvider,
  createRefreshingProvider,
  isSluiceError,
  MaxWaitError,
  ProviderClosedError,
  poll,
} from '../../packages/core/dist/index.js';

const START = 1_700_000_000_000;

/** A clock the test moves by hand. */
function manualClock(start = START) {
  let t = start;
  return {
    now: () => t,
    advance(ms) {
      t += ms;
    },
  };
}

function deferred() {
  let resolve;
  let reject;
  const promise = new Promise((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Lets pending promise chains run. */
async function flush(rounds = 20) {
  for (let i = 0; i < rounds; i++) await Promise.resolve();
}

function assert(condition, message) {
  if (!condition) throw new Error(`assertion failed: ${message}`);
}

function equal(actual, expected, message) {
  if (!Object.is(actual, expected)) {
    throw new Error(`${message}: expected ${String(expected)}, got ${String(actual)}`);
  }
}

/** Resolves with the rejection reason of `promise`; fails if it fulfils. */
async function rejection(promise) {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection, but the promise fulfilled');
}

/** The policy every test uses unless it says otherwise: exact due points, no jitter. */
const EXACT = { jitter: 0, refreshFloorMs: 0, minRefreshIntervalMs: 0 };

const tests = [];
function test(name, body) {
  tests.push({ name, body });
}

test('serves the cached credential without minting again', async () => {
  const clock = manualClock();
  let mints = 0;
  const provider = await createRefreshingProvider({
    ...EXACT,
    now: clock.now,
    mint: () => {
      mints += 1;
      return { value: `token-${mints}`, expiresAt: clock.now() + 10_000 };
    },
  });
  for (let i = 0; i < 1_000; i++) {
    clock.advance(1);
    equal(await provider.get(), 'token-1', 'served value');
  }
  equal(mints, 1, 'mints');
  provider.close();
});

test('refreshes in the background at the due point and serves the old credential meanwhile', async () => {
  const clock = manualClock();
  let mints = 0;
  const pending = [];
  const provider = await createRefreshingProvider({
    ...EXACT,
    refreshAt: 0.8,
    now: clock.now,
    mint: () => {
      mints += 1;
      const credential = { value: `token-${mints}`, expiresAt: clock.now() + 1_000 };
      if (mints === 1) return credential;
      const gate = deferred();
      pending.push(() => gate.resolve(credential));
      return gate.promise;
    },
  });
  clock.advance(799);
  equal(await provider.get(), 'token-1', 'value just before the due point');
  equal(mints, 1, 'no mint before the due point');
  clock.advance(1);
  equal(await provider.get(), 'token-1', 'value at the due point (served while refreshing)');
  equal(mints, 2, 'one background mint at the due point');
  equal(await provider.get(), 'token-1', 'still the old value while the refresh runs');
  equal(mints, 2, 'no second mint while one is in flight');
  pending[0]();
  await flush();
  equal(await provider.get(), 'token-2', 'new value once the refresh lands');
  provider.close();
});

test('a cohort of 1000 waiters shares one mint', async () => {
  const clock = manualClock();
  let mints = 0;
  const gate = deferred();
  const provider = await createRefreshingProvider({
    ...EXACT,
    lazy: true,
    now: clock.now,
    mint: () => {
      mints += 1;
      return gate.promise;
    },
  });
  const waiters = Array.from({ length: 1_000 }, () => provider.get());
  equal(mints, 1, 'mints started');
  equal(provider.snapshot().mintInFlight, true, 'mint in flight');
  gate.resolve({ value: 'shared', expiresAt: clock.now() + 60_000 });
  const values = await Promise.all(waiters);
  equal(mints, 1, 'mints after the cohort settled');
  assert(
    values.every((value) => value === 'shared'),
    'every waiter got the minted value',
  );
  provider.close();
});

test('every waiter of a failed mint receives the same error object', async () => {
  const clock = manualClock();
  const gate = deferred();
  const provider = await createRefreshingProvider({
    ...EXACT,
    lazy: true,
    now: clock.now,
    mint: () => gate.promise,
  });
  const waiters = Array.from({ length: 100 }, () => rejection(provider.get()));
  const failure = new Error('issuer unavailable');
  gate.reject(failure);
  const errors = await Promise.all(waiters);
  assert(
    errors.every((error) => error === failure),
    'all waiters rejected with the identical error object',
  );
  provider.close();
});

test("one caller's abort ends only its own wait, never the shared mint", async () => {
  const clock = manualClock();
  const gate = deferred();
  let mintSignal;
  const provider = await createRefreshingProvider({
    ...EXACT,
    lazy: true,
    now: clock.now,
    mint: ({ signal }) => {
      mintSignal = signal;
      return gate.promise;
    },
  });
  const controller = new AbortController();
  const aborted = rejection(provider.get({ signal: controller.signal }));
  const patient = provider.get();
  const reason = new Error('caller gave up');
  controller.abort(reason);
  equal(await aborted, reason, "aborted caller's rejection is signal.reason");
  equal(mintSignal.aborted, false, 'mint signal not aborted by a waiter');
  equal(provider.snapshot().mintInFlight, true, 'mint still in flight');
  gate.resolve({ value: 'token', expiresAt: clock.now() + 60_000 });
  equal(await patient, 'token', 'the other waiter still gets the value');
  const already = new AbortController();
  already.abort(reason);
  equal(
    await rejection(provider.get({ signal: already.signal })),
    reason,
    'an already aborted signal rejects at once',
  );
  provider.close();
});

test('breaker opens, fails fast with BreakerOpenError, admits one probe after the cooldown, closes', async () => {
  const clock = manualClock();
  let mints = 0;
  let healthy = false;
  const outage = new Error('issuer down');
  const provider = await createRefreshingProvider({
    ...EXACT,
    lazy: true,
    now: clock.now,
    breaker: { failureThreshold: 2, cooldownMs: 1_000 },
    mint: () => {
      mints += 1;
      if (!healthy) throw outage;
      return { value: 'recovered', expiresAt: clock.now() + 60_000 };
    },
  });
  equal(await rejection(provider.get()), outage, 'first failure');
  equal(await rejection(provider.get()), outage, 'second failure');
  equal(provider.snapshot().breaker.state, 'open', 'breaker state after the threshold');
  const refused = await rejection(provider.get());
  assert(refused instanceof BreakerOpenError, 'refusal is a BreakerOpenError');
  assert(isSluiceError(refused, 'SLUICE_BREAKER_OPEN'), 'refusal has code SLUICE_BREAKER_OPEN');
  equal(refused.retryAfterMs, 1_000, 'retryAfterMs');
  equal(refused.cause, outage, 'refusal cause is the last mint error');
  equal(mints, 2, 'no mint while open');
  clock.advance(1_000);
  healthy = true;
  equal(await provider.get(), 'recovered', 'the probe mints');
  equal(mints, 3, 'exactly one probe');
  equal(provider.snapshot().breaker.state, 'closed', 'breaker closed after the probe');
  provider.close();
});

test('keyed provider evicts the least recently used key past maxKeys', async () => {
  const clock = manualClock();
  const minted = [];
  const keyed = createKeyedProvider({
    ...EXACT,
    now: clock.now,
    maxKeys: 3,
    mint: (key) => {
      minted.push(key);
      return { value: `token-for-${key}`, expiresAt: clock.now() + 60_000 };
    },
  });
  for (const key of ['a', 'b', 'c']) equal(await keyed.get(key), `token-for-${key}`, key);
  await keyed.get('a'); // a is now the most recently used; b is the least
  await keyed.get('d');
  equal(keyed.size, 3, 'size after the fourth key');
  equal(keyed.peek('b'), undefined, 'b was evicted');
  equal(keyed.peek('a')?.value, 'token-for-a', 'a kept');
  await keyed.get('b');
  equal(minted.join(','), 'a,b,c,d,b', 'mint order (b minted again after eviction)');
  keyed.close();
  equal(keyed.size, 0, 'size after close');
  assert(
    (await rejection(keyed.get('a'))) instanceof ProviderClosedError,
    'closed keyed provider rejects with ProviderClosedError',
  );
});

test('poll retries pending attempts with tiny delays and honours its deadline', async () => {
  let attempts = 0;
  const value = await poll(
    () => {
      attempts += 1;
      return attempts < 3 ? { status: 'pending' } : { status: 'done', value: 'issued' };
    },
    { initialDelayMs: 1, multiplier: 2, maxDelayMs: 4, jitter: 0, maxWaitMs: 5_000 },
  );
  equal(value, 'issued', 'poll value');
  equal(attempts, 3, 'attempts');
  const transient = new Error('HTTP 503');
  const late = await rejection(
    poll(() => ({ status: 'pending', error: transient }), {
      initialDelayMs: 1,
      multiplier: 1,
      maxDelayMs: 1,
      jitter: 0,
      maxWaitMs: 20,
    }),
  );
  assert(late instanceof MaxWaitError, 'deadline rejects with MaxWaitError');
  equal(late.cause, transient, 'MaxWaitError cause is the last transient error');
});

test('close rejects waiters with ProviderClosedError, aborts the mint and refuses later calls', async () => {
  const clock = manualClock();
  let mintSignal;
  const provider = await createRefreshingProvider({
    ...EXACT,
    lazy: true,
    now: clock.now,
    mint: ({ signal }) => {
      mintSignal = signal;
      return new Promise(() => {}); // a hung issuer
    },
  });
  const waiting = rejection(provider.get());
  provider.close();
  const error = await waiting;
  assert(error instanceof ProviderClosedError, 'waiter rejects with ProviderClosedError');
  equal(error.code, 'SLUICE_PROVIDER_CLOSED', 'error code');
  equal(mintSignal.aborted, true, 'mint signal aborted by close');
  assert(
    (await rejection(provider.get())) instanceof ProviderClosedError,
    'get after close rejects with ProviderClosedError',
  );
  equal(provider.snapshot().status, 'closed', 'snapshot status');
  provider.close(); // idempotent
});

test('a hook that calls back into the provider never breaks the call that caused it', async () => {
  const clock = manualClock();
  let provider;
  let inner;
  let mints = 0;
  provider = await createRefreshingProvider({
    ...EXACT,
    now: clock.now,
    reporter: {
      onRefreshStart: (event) => {
        if (event.reason === 'proactive') inner = provider.get();
      },
    },
    mint: () => {
      mints += 1;
      return { value: `token-${mints}`, expiresAt: clock.now() + 1_000 };
    },
  });
  clock.advance(800); // due
  const outer = provider.get();
  assert(outer instanceof Promise, 'get() returns a promise');
  equal(await outer, 'token-1', 'the outer call is served the cached token');
  equal(await inner, 'token-1', "the hook's call is served too");
  await flush();
  equal(mints, 2, 'one background refresh');
  provider.close();
});

test('a synchronous mint failure reaches every caller of the tick from ONE mint', async () => {
  let mints = 0;
  const boom = new Error('sync');
  const provider = await createRefreshingProvider({
    lazy: true,
    mint: () => {
      mints += 1;
      throw boom;
    },
  });
  const errors = await Promise.all([1, 2, 3, 4, 5].map(() => rejection(provider.get())));
  equal(mints, 1, 'one mint');
  assert(
    errors.every((error) => error === boom),
    'the same error to every caller',
  );
  provider.close();
});

test('a clock that reads NaN or throws fails the call with InvalidClockError, never serving', async () => {
  let mode = 'ok';
  const provider = await createRefreshingProvider({
    now: () => {
      if (mode === 'nan') return Number.NaN;
      if (mode === 'throw') throw new Error('clock broke');
      return START;
    },
    mint: () => ({ value: 'token', expiresAt: START + 60_000 }),
  });
  for (const bad of ['nan', 'throw']) {
    mode = bad;
    const result = provider.get();
    assert(result instanceof Promise, `${bad}: get() returns a promise`);
    const error = await rejection(result);
    assert(isSluiceError(error, 'SLUICE_INVALID_CLOCK'), `${bad}: InvalidClockError`);
  }
  mode = 'ok';
  equal(await provider.get(), 'token', 'served again once the clock reads');
  provider.close();
});

function runtimeName() {
  if (globalThis.Deno !== undefined) return `deno ${globalThis.Deno.version.deno}`;
  if (globalThis.Bun !== undefined) return `bun ${globalThis.Bun.version}`;
  const node = globalThis.process?.versions?.node;
  return node === undefined ? 'unknown runtime' : `node ${node}`;
}

function exit(code) {
  if (globalThis.Deno !== undefined) globalThis.Deno.exit(code);
  globalThis.process?.exit(code);
}

let passed = 0;
let failed = 0;
console.log(`# @sluice/core smoke suite on ${runtimeName()}`);
for (const { name, body } of tests) {
  try {
    await body();
    passed += 1;
    console.log(`ok - ${name}`);
  } catch (error) {
    failed += 1;
    console.log(`not ok - ${name}`);
    console.log(`  ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  }
}
console.log(`${passed} passed, ${failed} failed`);
exit(failed === 0 ? 0 : 1);
