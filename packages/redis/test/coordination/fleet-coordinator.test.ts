/**
 * The protocol's timing paths, deterministic: fake timers and the in-memory store (the same
 * contract as Redis, with operations the test can hold or fail).
 */

import type { Credential, MintContext } from '@sluice/core';
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

function setup(
  options: Parameters<typeof createFleetCoordinator>[0] extends infer O ? Partial<O> : never = {},
) {
  const events = recordingReporter();
  coordinator = createFleetCoordinator({
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
