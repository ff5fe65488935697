import { describe, expect, it } from 'vitest';
import { raceSignal } from '../src/race-signal.js';
import { deferred, settle } from './support/fake-clock.js';

/** An AbortController whose signal counts its live 'abort' listeners. */
function countingController() {
  const controller = new AbortController();
  const { signal } = controller;
  let live = 0;
  let added = 0;
  const add = signal.addEventListener.bind(signal);
  const remove = signal.removeEventListener.bind(signal);
  signal.addEventListener = ((type: string, fn: () => void, options?: AddEventListenerOptions) => {
    live++;
    added++;
    add(type, fn, options);
  }) as typeof signal.addEventListener;
  signal.removeEventListener = ((type: string, fn: () => void) => {
    live--;
    remove(type, fn);
  }) as typeof signal.removeEventListener;
  return { controller, signal, live: () => live, added: () => added };
}

describe('raceSignal', () => {
  it('returns the shared promise itself when there is no signal', () => {
    const shared = Promise.resolve(1);
    expect(raceSignal(shared, undefined)).toBe(shared);
  });

  it('registers ONE listener for many waiters on one signal and removes it when the last settles', async () => {
    const work = deferred<string>();
    const { signal, live, added } = countingController();
    const waits = Array.from({ length: 1_000 }, () => raceSignal(work.promise, signal));
    expect(added()).toBe(1);
    work.resolve('done');
    expect(new Set(await Promise.all(waits))).toEqual(new Set(['done']));
    expect(live()).toBe(0);
  });

  it("an abort releases every waiter of that signal with its reason, and no one else's", async () => {
    const work = deferred<string>();
    const a = countingController();
    const b = countingController();
    const onA = Array.from({ length: 5 }, () => settle(raceSignal(work.promise, a.signal)));
    const onB = settle(raceSignal(work.promise, b.signal));
    const reason = new Error('gave up');
    a.controller.abort(reason);
    expect(await Promise.all(onA)).toEqual(
      Array.from({ length: 5 }, () => ({ ok: false, error: reason })),
    );
    work.resolve('done');
    expect(await onB).toEqual({ ok: true, value: 'done' });
    expect(a.live()).toBe(0);
    expect(b.live()).toBe(0);
  });

  it('keeps the listener while some waiters remain, then drops it', async () => {
    const first = deferred<string>();
    const second = deferred<string>();
    const { signal, live } = countingController();
    const w1 = raceSignal(first.promise, signal);
    const w2 = raceSignal(second.promise, signal);
    first.resolve('1');
    await w1;
    expect(live()).toBe(1);
    second.resolve('2');
    await w2;
    expect(live()).toBe(0);
  });

  it('rejects at once when the signal is already aborted, adding no listener', async () => {
    const { controller, signal, added } = countingController();
    controller.abort(new Error('early'));
    await expect(raceSignal(new Promise(() => {}), signal)).rejects.toThrow('early');
    expect(added()).toBe(0);
  });
});

describe('raceSignal on an already aborted signal', () => {
  it('handles the rejection of the promise it no longer waits for (no unhandled rejection)', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const controller = new AbortController();
      const reason = new Error('caller gave up');
      controller.abort(reason);
      let rejectLater!: (error: unknown) => void;
      const work = new Promise<never>((_resolve, reject) => {
        rejectLater = reject;
      });
      await expect(raceSignal(work, controller.signal)).rejects.toBe(reason);
      rejectLater(new Error('the read failed after the caller left'));
      await new Promise((resolve) => setTimeout(resolve, 0));
      await new Promise((resolve) => setImmediate(resolve));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});
