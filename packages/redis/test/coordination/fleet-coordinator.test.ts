/**
 * The protocol's timing paths, deterministic: fake timers and the in-memory store (the same
 * contract as Redis, with operations the test can hold or fail).
 */

import { type Credential, createRefreshingProvider, type MintContext } from '@sluice/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  deferred,
  flush,
  installClock,
  settle as settlePromise,
  type TestClock,
} from '../../../core/test/support/fake-clock.js';
import { createFleetCoordinator, type FleetCoordinator } from '../../src/index.js';
import { recordingReporter } from '../support/fleet.js';
import { MemoryStore } from '../support/memory-store.js';
import { mulberry32 } from '../support/prng.js';

let clock: TestClock;
let store: MemoryStore;
let coordinator: FleetCoordinator | undefined;
beforeEach(() => {
  clock = installClock();
  store = new MemoryStore();
});
afterEach(async () => {
  await coordinator?.close();
  coordinator = undefined;
  clock.uninstall();
});

function context(reason: MintContext<string>['reason'] = 'initial', signal?: AbortSignal) {
  return { signal: signal ?? new AbortController().signal, reason } as MintContext<string>;
}

type SetupOptions = Parameters<typeof createFleetCoordinator>[0] extends infer O
  ? { [K in keyof O]?: O[K] | undefined }
  : never;

function setup(options: SetupOptions = {}) {
  const events = recordingReporter();
  coordinator = createFleetCoordinator(<Parameters<typeof createFleetCoordinator>[0]>{
    store,
    reporter: events.reporter,
    leaseMs: 900,
    mintTimeoutMs: 3_000,
    commandTimeoutMs: 100,
    poll: { initialDelayMs: 100, maxDelayMs: 400 },
    random: () => 0.5,
    ...options,
  });
  return { coordinator, events };
}

/** Settles what a wrapped mint returned (a promise or a credential). */
const settle = <T>(result: T | Promise<T>) => settlePromise(Promise.resolve(result));

const token = (value: string, lifetimeMs = 60_000): Credential<string> => ({
  value,
  expiresAt: Date.now() + lifetimeMs,
});

describe('the protocol under fake timers', () => {
  it('a lease granted after its loadOrLease timed out is released as soon as the late answer arrives', async () => {
    const { coordinator, events } = setup();
    let release!: () => void;
    store.gate = new Promise<void>((resolve) => (release = resolve));
    const minted = coordinator.wrap<string>('api', () => token('local'))(context());
    await clock.tickAsync(100);
    expect(await minted).toMatchObject({ value: 'local' });
    expect(events.of('fallback')[0]).toMatchObject({ reason: 'store-unavailable' });
    expect(store.leases.size).toBe(0); // the held operation has not run yet
    store.gate = undefined;
    release();
    await flush();
    await clock.tickAsync(0);
    expect(store.calls).toContain('release');
    expect(store.leases.size).toBe(0);
  });

  it('the leader renews its lease every leaseMs / 3 while its mint runs, and stops renewing after mintTimeoutMs', async () => {
    const { coordinator } = setup();
    const gate = deferred<Credential<string>>();
    const minted = coordinator.wrap<string>('api', () => gate.promise)(context());
    await clock.tickAsync(0);
    expect(store.leases.size).toBe(1);
    await clock.tickAsync(2_999);
    const renewals = store.calls.filter((c) => c === 'renew').length;
    expect(renewals).toBe(9); // every 300 ms for 3 s
    expect(store.leases.size).toBe(1);
    await clock.tickAsync(3_000);
    expect(store.calls.filter((c) => c === 'renew').length).toBe(9); // none past 3 s
    expect(store.holder('api')).toBeUndefined(); // lapsed: a follower may take over
    gate.resolve(token('late'));
    expect(await minted).toMatchObject({ value: 'late' });
  });

  it('a follower that has waited leaseMs + mintTimeoutMs for a lease mints locally (reported), then offers its token to the store', async () => {
    const { coordinator, events } = setup();
    store.leases.set('api', { token: 'someone-else', until: Date.now() + 1_000_000 });
    const minted = settle(coordinator.wrap<string>('api', () => token('mine'))(context()));
    await clock.tickAsync(3_899);
    expect(events.count('fallback')).toBe(0);
    await clock.tickAsync(1);
    expect(await minted).toMatchObject({ ok: true, value: { value: 'mine' } });
    expect(events.of('fallback')).toEqual([{ name: 'api', reason: 'wait-exceeded' }]);
    await clock.tickAsync(0);
    expect(store.records.get('api')).toBeDefined();
  });

  it("a follower whose notification is lost re-reads on its poll and adopts the leader's token", async () => {
    const { coordinator: follower, events } = setup();
    const leaderCoordinator = createFleetCoordinator({ store, commandTimeoutMs: 100 });
    const gate = deferred<Credential<string>>();
    const leading = leaderCoordinator.wrap<string>('api', () => gate.promise)(context());
    await clock.tickAsync(0);
    const following = follower.wrap<string>('api', () => token('never'))(context());
    await clock.tickAsync(0);
    const restore = store.silence();
    gate.resolve(token('shared'));
    expect(await leading).toMatchObject({ value: 'shared' });
    await clock.tickAsync(100); // the first poll
    expect(await following).toMatchObject({ value: 'shared' });
    expect(events.of('woken')).toEqual([{ name: 'api', by: 'poll' }]);
    restore();
    await leaderCoordinator.close();
  });

  it('a resync (a reconnect) wakes every waiting follower to re-read', async () => {
    const { coordinator, events } = setup({ poll: { initialDelayMs: 10_000, maxDelayMs: 10_000 } });
    store.leases.set('api', { token: 'other', until: Date.now() + 500 });
    const following = coordinator.wrap<string>('api', () => token('mine'))(context());
    await clock.tickAsync(0);
    expect(coordinator.snapshot().waiting).toBe(1);
    await clock.tickAsync(500); // the other lease lapses, but nobody tells the follower
    store.reconnect();
    expect(await following).toMatchObject({ value: 'mine' });
    expect(events.of('woken')).toEqual([{ name: 'api', by: 'resync' }]);
  });

  it('while the first connection is being made, an operation waits for it (at most connectTimeoutMs), then falls back', async () => {
    store.connectionState = 'connecting';
    const { coordinator, events } = setup({ connectTimeoutMs: 1_000 });
    const first = coordinator.wrap<string>('api', () => token('a'))(context());
    await clock.tickAsync(999);
    store.reconnect();
    await clock.tickAsync(0);
    expect(await first).toMatchObject({ value: 'a' });
    expect(events.count('fallback')).toBe(0);
    expect(store.records.has('api')).toBe(true);

    store.connectionState = 'connecting';
    const second = coordinator.wrap<string>('other', () => token('b'))(context());
    await clock.tickAsync(1_000);
    expect(await second).toMatchObject({ value: 'b' });
    expect(events.of('fallback')[0]).toMatchObject({
      reason: 'store-unavailable',
      error: { code: 'SLUICE_FLEET_STORE_UNAVAILABLE' },
    });
  });

  it('a known-down store fails fast: no timeout is paid, the mint falls back at once', async () => {
    store.connectionState = 'down';
    const { coordinator, events } = setup();
    expect(await coordinator.wrap<string>('api', () => token('a'))(context())).toMatchObject({
      value: 'a',
    });
    expect(store.calls).toEqual([]);
    expect(events.of('fallback')[0]).toMatchObject({ reason: 'store-unavailable' });
  });

  it('a leader whose provider closes mid-mint releases its lease and records no failure', async () => {
    const { coordinator } = setup();
    const controller = new AbortController();
    const minted = settle(
      coordinator.wrap<string>('api', ({ signal }) => {
        return new Promise<Credential<string>>((_, reject) =>
          signal.addEventListener('abort', () => reject(signal.reason)),
        );
      })(context('initial', controller.signal)),
    );
    await clock.tickAsync(0);
    expect(store.leases.size).toBe(1);
    controller.abort(Object.assign(new Error('closed'), { code: 'SLUICE_PROVIDER_CLOSED' }));
    expect((await minted).ok).toBe(false);
    await clock.tickAsync(0);
    expect(store.leases.size).toBe(0);
    expect(store.calls).not.toContain('fail');
    expect(store.failures.size).toBe(0);
  });

  it("a waiting follower's abort rejects with signal.reason at once and leaves no waiter or timer behind", async () => {
    const { coordinator } = setup();
    store.leases.set('api', { token: 'other', until: Date.now() + 100_000 });
    const controller = new AbortController();
    const following = settle(
      coordinator.wrap<string>('api', () => token('x'))(context('initial', controller.signal)),
    );
    await clock.tickAsync(0);
    expect(coordinator.snapshot().waiting).toBe(1);
    const reason = new Error('caller gave up');
    controller.abort(reason);
    expect(await following).toEqual({ ok: false, error: reason });
    expect(coordinator.snapshot()).toMatchObject({ waiting: 0, timers: 0 });
  });

  it('close() releases the leases it holds, ends every wait, and leaves no timer', async () => {
    const { coordinator } = setup();
    const gate = deferred<Credential<string>>();
    const leading = coordinator.wrap<string>('api', () => gate.promise)(context());
    store.leases.set('other', { token: 'foreign', until: Date.now() + 100_000 });
    const following = coordinator.wrap<string>('other', () => token('local'))(context());
    await clock.tickAsync(0);
    expect(coordinator.snapshot()).toMatchObject({ leasesHeld: 1, waiting: 1 });
    await coordinator.close();
    expect(coordinator.snapshot()).toMatchObject({
      closed: true,
      leasesHeld: 0,
      waiting: 0,
      timers: 0,
    });
    expect(store.leases.has('api')).toBe(false);
    expect(store.closed).toBe(true);
    expect(await following).toMatchObject({ value: 'local' }); // woken by close: local policy
    gate.resolve(token('leader'));
    expect(await leading).toMatchObject({ value: 'leader' });
    expect(store.records.has('api')).toBe(false); // nothing stored after close
  });

  it('a refresh never adopts a stored token that expires no later than the one it replaces: it mints instead', async () => {
    const { coordinator, events } = setup();
    store.records.set('api', {
      id: 'stored',
      expiresAt: Date.now() + 30_000,
      dueAt: Date.now() + 24_000,
      generation: '1',
      keyId: '',
      payload: '"older"',
    });
    const previous = { value: 'minted-while-redis-was-away', expiresAt: Date.now() + 50_000 };
    const minted = await coordinator.wrap<string>('api', () => token('newer', 120_000))({
      signal: new AbortController().signal,
      reason: 'proactive',
      previous,
    });
    expect(minted.value).toBe('newer');
    expect(events.count('adopted')).toBe(0);
    expect(JSON.parse(store.records.get('api')?.payload ?? 'null')).toBe('newer');
  });

  it('a leader whose store fails keeps its token and offers it to the store once it is reachable again', async () => {
    const { coordinator } = setup();
    const gate = deferred<Credential<string>>();
    const leading = coordinator.wrap<string>('api', () => gate.promise)(context());
    await clock.tickAsync(0);
    store.failNext = new Error('connection lost');
    gate.resolve(token('kept'));
    expect(await leading).toMatchObject({ value: 'kept' });
    expect(store.records.has('api')).toBe(false);
    store.connectionState = 'down';
    store.reconnect(); // back: the pending token is offered
    await clock.tickAsync(0);
    expect(JSON.parse(store.records.get('api')?.payload ?? 'null')).toBe('kept');
  });

  it('a caller whose token expired adopts a stored token that is due but still valid rather than get the failure window', async () => {
    const { coordinator, events } = setup();
    store.records.set('api', {
      id: 'fleet-token',
      expiresAt: Date.now() + 10_000,
      dueAt: Date.now() - 1_000, // due: the fleet's refresh of it is failing
      generation: '1',
      keyId: '',
      payload: '"still-valid"',
    });
    store.failures.set('api', {
      retryAt: Date.now() + 30_000,
      failures: 2,
      failers: ['a', 'b'],
      keyId: '',
      payload: '{"name":"IssuerError","message":"HTTP 503"}',
      until: Date.now() + 60_000,
    });
    const expired = { value: 'mine', expiresAt: Date.now() - 1 };
    const adopted = await coordinator.wrap<string>('api', () => token('never'))({
      signal: new AbortController().signal,
      reason: 'expired',
      previous: expired,
    });
    expect(adopted.value).toBe('still-valid');
    expect(adopted.refreshAfter).toBeUndefined(); // its due point passed: the provider's policy decides
    expect(events.count('relayed')).toBe(0);
  });

  it('an adopted token keeps its remaining lifetime on a skewed instance clock, rounded early, never late', async () => {
    const skewMs = 45 * 60_000;
    const { coordinator: behind } = setup({ now: () => Date.now() - skewMs });
    const ahead = createFleetCoordinator({ store, now: () => Date.now() + skewMs });
    const leader = await ahead.wrap<string>('api', () => ({
      value: 't',
      expiresAt: Date.now() + skewMs + 60_000, // one minute left, on the fast clock
    }))(context());
    expect(leader.value).toBe('t');
    const adopted = await behind.wrap<string>('api', () => token('never'))(context());
    const left = (adopted.expiresAt as number) - (Date.now() - skewMs);
    expect(left).toBeLessThanOrEqual(60_000);
    expect(left).toBeGreaterThan(59_000);
    await ahead.close();
  });
});

describe("the fleet's due point travels with the credential (refreshAfter)", () => {
  /** A context for a refresh of `previous`. */
  const refresh = (
    previous: Credential<string>,
    reason: MintContext<string>['reason'] = 'proactive',
  ): MintContext<string> => ({ signal: new AbortController().signal, reason, previous });

  it("the leader and every adopter get the fleet's due point as refreshAfter, never before the store's", async () => {
    const { coordinator: leaderSide } = setup();
    const other = createFleetCoordinator({ store, commandTimeoutMs: 100 });
    const mintedAt = Date.now();
    const leader = await leaderSide.wrap<string>('api', () => token('tok-1', 60_000))(context());
    clock.tick(10_000);
    const adopter = await other.wrap<string>('api', () => token('never'))(context());
    const storedDue = store.records.get('api')?.dueAt as number;
    expect(storedDue).toBe(mintedAt + 57_000); // 0.95 of the lifetime: the default
    expect(leader).toMatchObject({ value: 'tok-1', refreshAfter: storedDue });
    expect(adopter).toMatchObject({ value: 'tok-1', refreshAfter: storedDue });
    await other.close();
  });

  it("a replica asked at 50 % of the lifetime adopts the fleet's token instead of minting", async () => {
    const { coordinator: leaderSide, events } = setup();
    const replica = createFleetCoordinator({ store, commandTimeoutMs: 100 });
    let mints = 0;
    const mint = () => token(`tok-${++mints}`, 60_000);
    const first = await leaderSide.wrap<string>('api', mint)(context());
    const held = await replica.wrap<string>('api', mint)(context());
    clock.tick(30_000); // the replica's own (jittered, or fallback) due point says refresh
    const again = await replica.wrap<string>('api', mint)(refresh(held));
    expect(again).toEqual(held); // same value, expiry and due point: nothing minted
    const leaderAgain = await leaderSide.wrap<string>('api', mint)(refresh(first));
    expect(leaderAgain.value).toBe('tok-1');
    expect(mints).toBe(1);
    expect(events.count('leased')).toBe(1);
    await replica.close();
  });

  it("once the fleet's due point has come, a proactive refresh mints (it never takes back a due token)", async () => {
    const { coordinator } = setup();
    let mints = 0;
    const mint = () => token(`tok-${++mints}`, 60_000);
    const held = await coordinator.wrap<string>('api', mint)(context());
    clock.tick(57_000);
    const next = await coordinator.wrap<string>('api', mint)(refresh(held));
    expect(next.value).toBe('tok-2');
    expect(mints).toBe(2);
  });

  it('a replica due while another holds the lease waits for its token instead of taking back its own due one', async () => {
    const { coordinator: leaderSide } = setup();
    const replica = createFleetCoordinator({ store, commandTimeoutMs: 100 });
    const gate = deferred<Credential<string>>();
    let mints = 0;
    const first = await leaderSide.wrap<string>('api', () => token(`tok-${++mints}`, 60_000))(
      context(),
    );
    const held = await replica.wrap<string>('api', () => token('never'))(context());
    clock.tick(58_000);
    const leading = leaderSide.wrap<string>('api', () => gate.promise)(refresh(first));
    await clock.tickAsync(0);
    const waiting = replica.wrap<string>('api', () => token('never'))(refresh(held));
    await clock.tickAsync(0);
    expect(replica.snapshot().waiting).toBe(1);
    gate.resolve(token('tok-2', 60_000));
    expect((await leading).value).toBe('tok-2');
    expect((await waiting).value).toBe('tok-2');
    expect(mints).toBe(1);
    await replica.close();
  });

  it("the issuer's own refreshAfter is the fleet's due point", async () => {
    const { coordinator } = setup();
    const other = createFleetCoordinator({ store, commandTimeoutMs: 100 });
    const issuerDue = Date.now() + 30_000;
    const leader = await coordinator.wrap<string>('api', () => ({
      ...token('tok-1', 60_000),
      refreshAfter: issuerDue,
    }))(context());
    expect(store.records.get('api')?.dueAt).toBe(issuerDue);
    expect(leader.refreshAfter).toBe(issuerDue);
    const adopted = await other.wrap<string>('api', () => token('never'))(context());
    expect(adopted.refreshAfter).toBe(issuerDue);
    await other.close();
  });

  it("the coordinator's refreshAt sets the fleet's due point, whatever the providers' own", async () => {
    const { coordinator } = setup({ refreshAt: 0.5 });
    const leader = await coordinator.wrap<string>('api', () => token('tok-1', 60_000))(context());
    expect(leader.refreshAfter).toBe(Date.now() + 30_000);
  });
});

describe('waits derived from the provider, and takeover bounded by the lease', () => {
  const withTimeout = (mintTimeoutMs: number, signal?: AbortSignal): MintContext<string> => ({
    signal: signal ?? new AbortController().signal,
    reason: 'initial',
    mintTimeoutMs,
  });

  it("with no coordinator mintTimeoutMs, a follower mints locally after half its provider's mintTimeoutMs", async () => {
    const { coordinator, events } = setup({ mintTimeoutMs: undefined });
    store.leases.set('api', { token: 'someone-else', until: Date.now() + 1_000_000 });
    const minted = settle(coordinator.wrap<string>('api', () => token('mine'))(withTimeout(5_000)));
    await clock.tickAsync(2_499);
    expect(events.count('fallback')).toBe(0);
    await clock.tickAsync(1);
    expect(await minted).toMatchObject({ ok: true, value: { value: 'mine' } });
    expect(events.of('fallback')).toEqual([{ name: 'api', reason: 'wait-exceeded' }]);
  });

  it('coordinator refuses a mintTimeoutMs that leaves the provider no room, naming both values', async () => {
    const { coordinator } = setup({ leaseMs: 5_000, mintTimeoutMs: 15_000 });
    let mints = 0;
    const wrapped = coordinator.wrap<string>('api', () => token(`t${++mints}`));
    const refused = settle(wrapped(withTimeout(5_000)));
    expect(await refused).toMatchObject({
      ok: false,
      error: { code: 'SLUICE_INVALID_OPTION', option: 'mintTimeoutMs' },
    });
    const { error } = (await refused) as { error: Error };
    expect(error.message).toContain('5000 + 15000 = 20000 ms');
    expect(error.message).toContain("the provider's mintTimeoutMs (5000 ms)");
    expect(mints).toBe(0);
    expect(store.calls).toEqual([]); // refused before anything reached the store
    // A provider with room is served as before.
    expect(await wrapped(withTimeout(30_000))).toMatchObject({ value: 't1' });
  });

  it("an eager provider's construction rejects when the coordinator's mintTimeoutMs leaves it no room, naming both values", async () => {
    const { coordinator } = setup({ leaseMs: 5_000, mintTimeoutMs: 15_000 });
    const creating = createRefreshingProvider<string>({
      mint: coordinator.wrap<string>('api', () => token('never')),
      mintTimeoutMs: 5_000,
    });
    await expect(creating).rejects.toMatchObject({
      code: 'SLUICE_INVALID_OPTION',
      option: 'mintTimeoutMs',
      message: expect.stringContaining("provider's mintTimeoutMs (5000 ms)"),
    });
  });

  it('the leader stops renewing its lease once its provider aborts the mint, so a follower can take over', async () => {
    const { coordinator } = setup({ mintTimeoutMs: undefined });
    const controller = new AbortController();
    const gate = deferred<Credential<string>>();
    const leading = settle(
      coordinator.wrap<string>('api', () => gate.promise)(withTimeout(60_000, controller.signal)),
    );
    await clock.tickAsync(600);
    const renewals = store.calls.filter((c) => c === 'renew').length;
    expect(renewals).toBe(2);
    controller.abort(new Error('provider timed out'));
    await clock.tickAsync(3_000);
    expect(store.calls.filter((c) => c === 'renew').length).toBe(renewals);
    expect(store.holder('api')).toBeUndefined();
    gate.reject(new Error('aborted'));
    await leading;
  });

  it("a waiter takes over within the lease's remaining TTL, not on its poll", async () => {
    const { coordinator, events } = setup({ poll: { initialDelayMs: 60_000, maxDelayMs: 60_000 } });
    store.leases.set('api', { token: 'crashed-leader', until: Date.now() + 1_000 });
    let mints = 0;
    const following = coordinator.wrap<string>('api', () => token(`t${++mints}`))(context());
    await clock.tickAsync(0);
    await clock.tickAsync(1_000); // the lease lapses; nobody publishes anything
    expect(mints).toBe(0);
    await clock.tickAsync(12); // 2 ms after the lapse + at most 10 ms of spread
    expect(mints).toBe(1);
    expect(await following).toMatchObject({ value: 't1' });
    expect(events.of('woken')).toEqual([{ name: 'api', by: 'lease' }]);
    expect(events.count('leased')).toBe(1);
  });

  it('a waiter on a live leader that renews its lease reads no more often than its poll (defaults: 5 s lease, 2 s poll cap)', async () => {
    const { coordinator: follower, events } = setup({
      leaseMs: 5_000,
      mintTimeoutMs: undefined,
      poll: { initialDelayMs: 200, maxDelayMs: 2_000 },
    });
    const leaderSide = createFleetCoordinator({ store, commandTimeoutMs: 100 });
    const gate = deferred<Credential<string>>();
    const leading = leaderSide.wrap<string>('api', () => gate.promise)(withTimeout(30_000));
    await clock.tickAsync(0);
    const following = follower.wrap<string>('api', () => token('never'))(withTimeout(30_000));
    await clock.tickAsync(12_000); // a slow mint
    const wakes = events.of('woken').map((event) => (event as { by: string }).by);
    expect(wakes.length).toBeGreaterThan(0);
    expect(new Set(wakes)).toEqual(new Set(['poll']));
    gate.resolve(token('slow'));
    expect((await following).value).toBe('slow');
    await leading;
    await leaderSide.close();
  });
});

describe('the mint path makes no extra round trip', () => {
  it('a refresh of a token the store refused (the stored one expires no earlier) goes straight to the lease: one loadOrLease, not two', async () => {
    const { coordinator } = setup();
    const expiresAt = Date.now() + 60_000; // second-granular expiries: equal within a second
    let serial = 0;
    const wrapped = coordinator.wrap<string>('api', () => ({ value: `t${++serial}`, expiresAt }));
    const signal = new AbortController().signal;
    const first = await wrapped({ signal, reason: 'initial' });
    const second = await wrapped({ signal, reason: 'forced', previous: first });
    expect(second.value).toBe('t2'); // refused (same expiry), handed out all the same
    store.calls.length = 0;
    const third = await wrapped({ signal, reason: 'forced', previous: second });
    expect(third.value).toBe('t3');
    expect(store.calls.filter((call) => call === 'loadOrLease')).toHaveLength(1);
  });
});

describe('a fleet that needs no tuning', () => {
  it("core's default policy and no coordinator timing options: 20 providers make at most 1.1 mints per lifetime", async () => {
    const lifetimeMs = 10 * 60_000;
    let mints = 0;
    const mint = () => token(`tok-${++mints}`, lifetimeMs);
    const coordinators = Array.from({ length: 20 }, () => createFleetCoordinator({ store }));
    const providers = await Promise.all(
      coordinators.map((fleet, i) =>
        createRefreshingProvider<string>({
          name: 'api',
          mint: fleet.wrap<string>('api', mint),
          random: mulberry32(i + 1), // core's defaults otherwise: refreshAt 0.8, jitter 0.1
        }),
      ),
    );
    expect(mints).toBe(1);
    const lifetimes = 10;
    for (let second = 0; second < (lifetimes * lifetimeMs) / 1_000; second++) {
      await clock.tickAsync(1_000);
      await Promise.all(providers.map((provider) => provider.get()));
    }
    // The fleet refreshes at its due point (0.95 of the lifetime): 10 / 0.95 = 10.5 mints.
    expect(mints - 1).toBeLessThanOrEqual(1.1 * lifetimes);
    expect(mints - 1).toBeGreaterThanOrEqual(lifetimes);
    for (const provider of providers) provider.close();
    await Promise.all(coordinators.map((fleet) => fleet.close()));
  });
});
