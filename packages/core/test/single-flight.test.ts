import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SingleFlight } from '../src/single-flight.js';
import { deferred, flush, installClock, settle, type TestClock } from './support/fake-clock.js';

let clock: TestClock;
beforeEach(() => {
  clock = installClock();
});
afterEach(() => {
  clock.uninstall();
});

const TIMEOUT = { timeoutMs: 1_000, timeoutError: () => new Error('timed out') };

function settlement() {
  const log: string[] = [];
  return {
    log,
    settlement: {
      onSuccess: (raw: unknown, waiters: number) => {
        log.push(`success:${String(raw)}:${waiters}`);
        return `accepted(${String(raw)})`;
      },
      onFailure: (error: unknown, waiters: number) => {
        log.push(`failure:${(error as Error).message}:${waiters}`);
      },
    },
  };
}

describe('SingleFlight', () => {
  it('runs one work item; joiners share its promise and are counted', async () => {
    const flight = new SingleFlight<string>();
    const work = deferred<string>();
    const { log, settlement: s } = settlement();
    const started = flight.start(() => work.promise, s, TIMEOUT);
    const joined = [flight.join(), flight.join(), flight.join()];
    expect(joined.every((p) => p === started)).toBe(true);
    expect(flight.waiters).toBe(3);
    work.resolve('v');
    expect(await started).toBe('accepted(v)');
    expect(log).toEqual(['success:v:3']);
    expect(flight.inFlight).toBe(false);
    expect(flight.join()).toBeUndefined();
  });

  it('refuses to start a second flight while one runs', () => {
    const flight = new SingleFlight<string>();
    flight.start(() => new Promise(() => {}), settlement().settlement, TIMEOUT);
    expect(() => flight.start(() => 'x', settlement().settlement, TIMEOUT)).toThrow(
      /already running/,
    );
    flight.abort(new Error('cleanup'));
  });

  it('fails every joiner with the same error object', async () => {
    const flight = new SingleFlight<string>();
    const work = deferred<string>();
    const { log, settlement: s } = settlement();
    flight.start(() => work.promise, s, TIMEOUT);
    const outcomes = [settle(flight.join()!), settle(flight.join()!)];
    const error = new Error('boom');
    work.reject(error);
    const results = await Promise.all(outcomes);
    expect(results).toEqual([
      { ok: false, error },
      { ok: false, error },
    ]);
    expect(log).toEqual(['failure:boom:2']);
  });

  it('times out: aborts the work signal with the timeout error, and discards the late result', async () => {
    const flight = new SingleFlight<string>();
    const work = deferred<string>();
    const { log, settlement: s } = settlement();
    let signal: AbortSignal | undefined;
    const started = settle(
      flight.start(
        (sig) => {
          signal = sig;
          return work.promise;
        },
        s,
        TIMEOUT,
      ),
    );
    await clock.tickAsync(1_000);
    const outcome = await started;
    expect(outcome.ok).toBe(false);
    expect(signal?.aborted).toBe(true);
    expect(signal?.reason).toBe((outcome as { error: unknown }).error);
    work.resolve('late');
    await flush();
    expect(log).toEqual(['failure:timed out:0']);
    expect(clock.countTimers()).toBe(0);
  });

  it('a failed flight with no joiner raises no unhandled rejection', async () => {
    const flight = new SingleFlight<string>();
    const unhandled: unknown[] = [];
    const listener = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', listener);
    try {
      flight.start(
        () => Promise.reject(new Error('nobody listens')),
        settlement().settlement,
        TIMEOUT,
      );
      await new Promise((resolve) => setImmediate(resolve));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', listener);
    }
  });

  it('a synchronous throw and a synchronous value settle the flight like a promise would', async () => {
    const flight = new SingleFlight<string>();
    const thrown = settle(
      flight.start(
        () => {
          throw new Error('sync');
        },
        settlement().settlement,
        TIMEOUT,
      ),
    );
    expect(await thrown).toMatchObject({ ok: false });
    expect(await flight.start(() => 'plain', settlement().settlement, TIMEOUT)).toBe(
      'accepted(plain)',
    );
    expect(clock.countTimers()).toBe(0);
  });

  it('onSuccess throwing turns the flight into a failure for every joiner', async () => {
    const flight = new SingleFlight<string>();
    const failures: unknown[] = [];
    const rejecting = new Error('invalid');
    const p = flight.start(
      () => Promise.resolve('raw'),
      {
        onSuccess: () => {
          throw rejecting;
        },
        onFailure: (e) => failures.push(e),
      },
      TIMEOUT,
    );
    await expect(p).rejects.toBe(rejecting);
    expect(failures).toEqual([rejecting]);
  });

  it('abort fails the flight at once with the reason and aborts the work signal', async () => {
    const flight = new SingleFlight<string>();
    let signal: AbortSignal | undefined;
    const p = settle(
      flight.start(
        (sig) => {
          signal = sig;
          return new Promise<string>(() => {});
        },
        settlement().settlement,
        TIMEOUT,
      ),
    );
    const reason = new Error('closed');
    flight.abort(reason);
    expect(await p).toEqual({ ok: false, error: reason });
    expect(signal?.reason).toBe(reason);
    expect(clock.countTimers()).toBe(0);
  });
});
