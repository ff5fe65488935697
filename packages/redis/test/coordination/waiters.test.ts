import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { installClock, settle, type TestClock } from '../../../core/test/support/fake-clock.js';
import { TimerSet } from '../../src/coordination/timer-set.js';
import { Waiters } from '../../src/coordination/waiters.js';

let clock: TestClock;
beforeEach(() => {
  clock = installClock();
});
afterEach(() => clock.uninstall());

describe('waiting followers', () => {
  it('a notification wakes only the followers of its credential; the poll timer wakes the others', async () => {
    const timers = new TimerSet(undefined);
    const waiters = new Waiters(timers);
    const signal = new AbortController().signal;
    const a = waiters.wait('a', 1_000, signal);
    const b = waiters.wait('b', 1_000, signal);
    expect(waiters.size).toBe(2);
    waiters.notify('a');
    expect(await a).toBe('notification');
    await clock.tickAsync(1_000);
    expect(await b).toBe('poll');
    expect(waiters.size).toBe(0);
    expect(timers.size).toBe(0);
  });

  it('a resync wakes everyone; close wakes everyone with closed, and later waits resolve closed at once', async () => {
    const waiters = new Waiters(new TimerSet(undefined));
    const signal = new AbortController().signal;
    const both = [waiters.wait('a', 1_000, signal), waiters.wait('b', 1_000, signal)];
    waiters.resync();
    expect(await Promise.all(both)).toEqual(['resync', 'resync']);
    const pending = waiters.wait('a', 1_000, signal);
    waiters.close();
    expect(await pending).toBe('closed');
    expect(await waiters.wait('a', 1_000, signal)).toBe('closed');
  });

  it('an abort rejects with signal.reason and removes its listener and timer', async () => {
    const timers = new TimerSet(undefined);
    const waiters = new Waiters(timers);
    const controller = new AbortController();
    let listeners = 0;
    const add = controller.signal.addEventListener.bind(controller.signal);
    const remove = controller.signal.removeEventListener.bind(controller.signal);
    controller.signal.addEventListener = ((...args: Parameters<typeof add>) => {
      listeners++;
      add(...args);
    }) as typeof add;
    controller.signal.removeEventListener = ((...args: Parameters<typeof remove>) => {
      listeners--;
      remove(...args);
    }) as typeof remove;
    const waiting = settle(waiters.wait('a', 1_000, controller.signal));
    expect(listeners).toBe(1);
    const reason = new Error('gave up');
    controller.abort(reason);
    expect(await waiting).toEqual({ ok: false, error: reason });
    expect(listeners).toBe(0);
    expect(timers.size).toBe(0);
    expect(await settle(waiters.wait('a', 1_000, controller.signal))).toEqual({
      ok: false,
      error: reason,
    });
  });
});
