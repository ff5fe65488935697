import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  deferred,
  flush,
  installClock,
  settle,
  type TestClock,
} from '../../../core/test/support/fake-clock.js';
import { safeReporter } from '../../src/coordination/reporter.js';
import { StoreGuard } from '../../src/coordination/store-guard.js';
import { TimerSet } from '../../src/coordination/timer-set.js';
import { recordingReporter } from '../support/fleet.js';

let clock: TestClock;
beforeEach(() => {
  clock = installClock();
});
afterEach(() => clock.uninstall());

function guard(
  connection: () => 'up' | 'down' | 'connecting' = () => 'up',
  whenUp = () => Promise.resolve(),
) {
  const events = recordingReporter();
  const timers = new TimerSet(undefined);
  const g = new StoreGuard(
    100,
    1_000,
    { failureThreshold: 3, cooldownMs: 5_000 },
    safeReporter(events.reporter),
    timers,
    { connection, whenUp },
  );
  return { g, events, timers };
}

describe('the store guard', () => {
  it('fails an operation after commandTimeoutMs with StoreTimeoutError, and hands the late answer to onLate', async () => {
    const { g, timers } = guard();
    const answer = deferred<string>();
    const late: string[] = [];
    const run = settle(
      g.run(
        'loadOrLease',
        () => answer.promise,
        (value) => late.push(value),
      ),
    );
    await clock.tickAsync(100);
    expect(await run).toMatchObject({
      ok: false,
      error: { code: 'SLUICE_FLEET_STORE_TIMEOUT', operation: 'loadOrLease', timeoutMs: 100 },
    });
    answer.resolve('granted');
    await flush();
    expect(late).toEqual(['granted']);
    expect(timers.size).toBe(0);
  });

  it('opens after failureThreshold failures: then refuses without calling the store, until one probe after the cooldown', async () => {
    const { g, events } = guard();
    let calls = 0;
    const failing = () => {
      calls++;
      return Promise.reject(new Error('READONLY'));
    };
    for (let i = 0; i < 3; i++) await settle(g.run('store', failing));
    expect(g.state).toBe('unavailable');
    expect(events.of('storeState')).toEqual([
      {
        from: 'available',
        to: 'unavailable',
        error: expect.objectContaining({ errorCode: 'READONLY', name: 'StoreCommandError' }),
      },
    ]);
    expect(await settle(g.run('store', failing))).toMatchObject({
      ok: false,
      error: { code: 'SLUICE_FLEET_STORE_UNAVAILABLE' },
    });
    expect(calls).toBe(3);
    await clock.tickAsync(5_000);
    const probe = deferred<string>();
    const probing = g.run('store', () => probe.promise);
    expect(g.state).toBe('probing');
    expect(await settle(g.run('store', failing))).toMatchObject({ ok: false }); // one probe at a time
    expect(calls).toBe(3);
    probe.resolve('ok');
    expect(await probing).toBe('ok');
    expect(g.state).toBe('available');
  });

  it('a resync (reconnect) lets the next operation probe at once instead of after the cooldown', async () => {
    const { g } = guard();
    for (let i = 0; i < 3; i++) await settle(g.run('store', () => Promise.reject(new Error('x'))));
    expect(g.state).toBe('unavailable');
    g.resync();
    expect(await g.run('store', () => Promise.resolve('back'))).toBe('back');
    expect(g.state).toBe('available');
  });

  it('a store known to be down fails at once, and a store still connecting is waited for at most connectTimeoutMs', async () => {
    let state: 'up' | 'down' | 'connecting' = 'down';
    const up = deferred<void>();
    const { g } = guard(
      () => state,
      () => up.promise,
    );
    let calls = 0;
    const op = () => {
      calls++;
      return Promise.resolve('done');
    };
    expect(await settle(g.run('x', op))).toMatchObject({
      ok: false,
      error: { message: expect.stringContaining('not connected') },
    });
    state = 'connecting';
    const waiting = g.run('x', op);
    await clock.tickAsync(999);
    expect(calls).toBe(0);
    up.resolve();
    expect(await waiting).toBe('done');
    const never = deferred<void>();
    const { g: other } = guard(
      () => 'connecting',
      () => never.promise,
    );
    const timedOut = settle(other.run('x', op));
    await clock.tickAsync(1_000);
    expect(await timedOut).toMatchObject({
      ok: false,
      error: { code: 'SLUICE_FLEET_STORE_UNAVAILABLE' },
    });
  });

  it('a per-key data error (WRONGTYPE) is reported but never counts towards the store breaker', async () => {
    const { g, events } = guard();
    const wrongType = () =>
      Promise.reject(
        Object.assign(
          new Error('WRONGTYPE Operation against a key holding the wrong kind of value'),
          {
            name: 'ReplyError',
            command: { name: 'evalsha', args: ['sha', 3, 'k1', 'k2', 'k3', 'the-secret-token'] },
          },
        ),
      );
    for (let i = 0; i < 10; i++) await settle(g.run('loadOrLease', wrongType));
    expect(g.state).toBe('available');
    expect(events.count('storeState')).toBe(0);
    const reported = events.of('storeError');
    expect(reported).toHaveLength(10);
    expect(reported[0]?.error).toMatchObject({
      code: 'SLUICE_FLEET_STORE_COMMAND_FAILED',
      errorCode: 'WRONGTYPE',
      command: 'evalsha',
      perKey: true,
    });
  });

  it('store errors are sanitised before any hook or caller sees them: name, message, code and command name, never the arguments', async () => {
    const { g, events } = guard();
    const secret = 'the-secret-token-0123456789';
    const readonly = Object.assign(
      new Error("READONLY You can't write against a read only replica."),
      {
        name: 'ReplyError',
        command: { name: 'evalsha', args: ['sha', 3, 'k1', 'k2', 'k3', secret] },
        args: [secret],
      },
    );
    const outcomes = [];
    for (let i = 0; i < 4; i++)
      outcomes.push(await settle(g.run('store', () => Promise.reject(readonly))));
    const { inspect } = await import('node:util');
    const rendered = [
      inspect(events.events, { depth: 20, showHidden: true }),
      inspect(outcomes, { depth: 20, showHidden: true }),
      JSON.stringify(events.events),
    ].join('\n');
    expect(rendered).not.toContain(secret);
    expect(rendered).not.toContain(secret.slice(0, 8));
    expect(events.of('storeError')[0]?.error).toMatchObject({
      errorName: 'ReplyError',
      errorCode: 'READONLY',
      command: 'evalsha',
    });
  });
});
