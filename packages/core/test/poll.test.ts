import FakeTimers, { type Clock } from '@sinonjs/fake-timers';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InvalidOptionError, MaxWaitError } from '../src/errors.js';
import {
  jitterDelayMs,
  type PollAttemptContext,
  type PollOptions,
  type PollResult,
  poll,
  pollDelayMs,
} from '../src/poll.js';

const START = 1_700_000_000_000;
let clock: Clock;

beforeEach(() => {
  clock = FakeTimers.withGlobal(globalThis).install({
    now: START,
    toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date', 'performance'],
  });
});

afterEach(() => {
  clock.uninstall();
});

/** Observes a promise with handlers attached at once, so no rejection is ever unhandled. */
function track<T>(promise: Promise<T>) {
  const state: { settled: boolean; value?: T; error?: unknown } = { settled: false };
  promise.then(
    (value) => Object.assign(state, { settled: true, value }),
    (error: unknown) => Object.assign(state, { settled: true, error }),
  );
  return state;
}

/** An attempt that stays pending (with a numbered error) until attempt `doneAt`, recording calls. */
function scripted(doneAt = Number.POSITIVE_INFINITY) {
  const calls: { at: number; context: PollAttemptContext }[] = [];
  const errors: Error[] = [];
  const attempt = async (context: PollAttemptContext): Promise<PollResult<string>> => {
    calls.push({ at: Date.now(), context });
    if (context.attempt >= doneAt) return { status: 'done', value: `value ${context.attempt}` };
    const error = new Error(`503 on attempt ${context.attempt}`);
    errors.push(error);
    return { status: 'pending', error };
  };
  return { attempt, calls, errors };
}

/** An attempt that never settles, keeping its signal for inspection. */
function hanging() {
  const signals: AbortSignal[] = [];
  const attempt = ({ signal }: PollAttemptContext) => {
    signals.push(signal);
    return new Promise<PollResult<string>>(() => {});
  };
  return { attempt, signals };
}

const DEFAULT_BASES_MS = [5_000, 15_000, 45_000, 135_000, 300_000, 300_000, 300_000];

describe('pollDelayMs', () => {
  it('follows 5 s, 15 s, 45 s, 135 s, then 300 s with the defaults', () => {
    expect(DEFAULT_BASES_MS.map((_, index) => pollDelayMs(index))).toEqual(DEFAULT_BASES_MS);
  });

  it('stays at the cap once the exponential overflows', () => {
    expect(pollDelayMs(10_000)).toBe(300_000);
    expect(pollDelayMs(10_000, { initialDelayMs: 0 })).toBe(0);
  });

  it('never decreases, never exceeds maxDelayMs and starts at min(initialDelayMs, maxDelayMs)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 1_000_000 }),
        fc.double({ min: 1, max: 10, noNaN: true }),
        fc.integer({ min: 0, max: 1_000_000 }),
        fc.nat(2_000),
        (initialDelayMs, multiplier, maxDelayMs, index) => {
          const options = { initialDelayMs, multiplier, maxDelayMs };
          const delay = pollDelayMs(index, options);
          expect(delay).toBeGreaterThanOrEqual(0);
          expect(delay).toBeLessThanOrEqual(maxDelayMs);
          expect(pollDelayMs(index + 1, options)).toBeGreaterThanOrEqual(delay);
          expect(pollDelayMs(0, options)).toBe(Math.min(initialDelayMs, maxDelayMs));
        },
      ),
    );
  });

  it.each([-1, 1.5, Number.NaN])(
    'rejects the wait index %s naming pollDelayMs.waitIndex',
    (index) => {
      expect(() => pollDelayMs(index)).toThrow(
        expect.objectContaining({ code: 'SLUICE_INVALID_OPTION', option: 'pollDelayMs.waitIndex' }),
      );
    },
  );

  it('rejects a bad schedule option naming it under pollDelayMs', () => {
    expect(() => pollDelayMs(0, { multiplier: 0.5 })).toThrow(
      expect.objectContaining({ option: 'pollDelayMs.multiplier' }),
    );
  });
});

describe('jitterDelayMs', () => {
  it('keeps every wait within ±jitter of its base', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0, max: 1e9, noNaN: true }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (base, jitter, r) => {
          const wait = jitterDelayMs(base, jitter, r);
          expect(wait).toBeGreaterThanOrEqual(base * (1 - jitter));
          expect(wait).toBeLessThanOrEqual(base * (1 + jitter));
        },
      ),
    );
  });

  it('maps random 0 to the low bound and 0.5 to the base', () => {
    expect(jitterDelayMs(5_000, 0.2, 0)).toBe(4_000);
    expect(jitterDelayMs(5_000, 0.2, 0.5)).toBe(5_000);
  });
});

describe('poll: schedule', () => {
  it('resolves with the value of a first attempt that is done, without waiting', async () => {
    const { attempt, calls } = scripted(1);
    await expect(poll(attempt)).resolves.toBe('value 1');
    expect(calls.map((call) => call.at)).toEqual([START]);
    expect(Date.now()).toBe(START);
    expect(clock.countTimers()).toBe(0);
  });

  it('waits exactly 5 s, 15 s, 45 s, 135 s, 300 s, 300 s between pending attempts with jitter 0', async () => {
    const { attempt, calls } = scripted(7);
    const result = track(poll(attempt, { jitter: 0, maxWaitMs: 3_600_000 }));
    let elapsedMs = 0;
    for (const [index, waitMs] of DEFAULT_BASES_MS.slice(0, 6).entries()) {
      await clock.tickAsync(waitMs - 1);
      expect(calls).toHaveLength(index + 1);
      await clock.tickAsync(1);
      elapsedMs += waitMs;
      expect(calls).toHaveLength(index + 2);
      expect(calls[index + 1]?.at).toBe(START + elapsedMs);
    }
    expect(result).toEqual({ settled: true, value: 'value 7' });
    expect(calls.map((call) => call.context.attempt)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(clock.countTimers()).toBe(0);
  });

  it('keeps every jittered wait within ±20% of its base for any random sequence', async () => {
    const unit = fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true });
    await fc.assert(
      fc.asyncProperty(fc.array(unit, { minLength: 6, maxLength: 6 }), async (draws) => {
        const { attempt, calls } = scripted(7);
        let next = 0;
        const random = () => draws[next++] ?? 0.5;
        const result = track(poll(attempt, { maxWaitMs: 3_600_000, random }));
        await clock.tickAsync(3_600_000);
        expect(result.settled && result.value).toBe('value 7');
        for (const [index, base] of DEFAULT_BASES_MS.slice(0, 6).entries()) {
          const waitMs = (calls[index + 1]?.at ?? 0) - (calls[index]?.at ?? 0);
          expect(waitMs).toBeGreaterThanOrEqual(base * 0.8);
          expect(waitMs).toBeLessThanOrEqual(base * 1.2);
        }
      }),
      { numRuns: 40 },
    );
  });

  it('reads Math.random when it waits, not when the module loaded', async () => {
    const original = Math.random;
    Math.random = () => 0;
    try {
      const { attempt, calls } = scripted(2);
      const result = track(poll(attempt));
      await clock.tickAsync(3_999);
      expect(calls).toHaveLength(1);
      await clock.tickAsync(1);
      expect(result).toEqual({ settled: true, value: 'value 2' });
    } finally {
      Math.random = original;
    }
  });
});

describe('poll: permanent failures', () => {
  it.each([
    [
      'throws',
      (error: Error) => () => {
        throw error;
      },
    ],
    ['rejects', (error: Error) => () => Promise.reject(error)],
  ])('ends at once with the same error when an attempt %s', async (_, make) => {
    const failure = new Error('404 order not found');
    const fail = make(failure);
    let calls = 0;
    const attempt = (): PollResult<string> | Promise<PollResult<string>> => {
      calls += 1;
      return calls === 1 ? { status: 'pending' } : fail();
    };
    const result = track(poll(attempt, { jitter: 0 }));
    await clock.tickAsync(5_000);
    expect(result.error).toBe(failure);
    await clock.tickAsync(600_000);
    expect(calls).toBe(2);
    expect(clock.countTimers()).toBe(0);
  });

  it('rejects with a TypeError when an attempt resolves to something that is not a result', async () => {
    const attempt = async () => ({ status: 'maybe' }) as unknown as PollResult<string>;
    await expect(poll(attempt)).rejects.toBeInstanceOf(TypeError);
    expect(clock.countTimers()).toBe(0);
  });
});

describe('poll: deadline', () => {
  it('rejects at exactly maxWaitMs with MaxWaitError whose cause is the last transient error', async () => {
    const { attempt, calls, errors } = scripted();
    const result = track(poll(attempt, { jitter: 0 }));
    await clock.tickAsync(599_999);
    expect(result.settled).toBe(false);
    await clock.tickAsync(1);
    expect(result.error).toBeInstanceOf(MaxWaitError);
    const error = result.error as MaxWaitError;
    expect(error.code).toBe('SLUICE_MAX_WAIT');
    expect(error.maxWaitMs).toBe(600_000);
    expect(error.attempts).toBe(6);
    expect(error.cause).toBe(errors.at(-1));
    expect(calls.map((call) => call.at - START)).toEqual([
      0, 5_000, 20_000, 65_000, 200_000, 500_000,
    ]);
    expect(clock.countTimers()).toBe(0);
  });

  it('keeps the last transient error as cause when later pending results carry none', async () => {
    const transient = new Error('HTTP 503');
    let n = 0;
    const attempt = () => {
      n += 1;
      return n === 1
        ? { status: 'pending' as const, error: transient }
        : { status: 'pending' as const };
    };
    const result = track(poll(attempt, { jitter: 0, maxWaitMs: 60_000 }));
    await clock.tickAsync(60_000);
    expect(n).toBeGreaterThan(1);
    expect((result.error as MaxWaitError).cause).toBe(transient);
  });

  it('never sleeps past the deadline and never starts an attempt at or after it', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 200_000 }),
        fc.integer({ min: 1_000, max: 60_000 }),
        fc.double({ min: 1, max: 4, noNaN: true }),
        fc.double({ min: 0, max: 0.99, noNaN: true }),
        async (maxWaitMs, initialDelayMs, multiplier, jitter) => {
          const start = Date.now();
          const { attempt, calls } = scripted();
          const options = { maxWaitMs, initialDelayMs, multiplier, jitter };
          const result = track(poll(attempt, options));
          await clock.tickAsync(maxWaitMs - 1);
          expect(result.settled).toBe(false);
          await clock.tickAsync(1);
          expect(result.error).toBeInstanceOf(MaxWaitError);
          expect(calls.every((call) => call.at < start + maxWaitMs)).toBe(true);
          expect(clock.countTimers()).toBe(0);
        },
      ),
      { numRuns: 40 },
    );
  });

  it('aborts the signal of an attempt still running at the deadline and rejects without it', async () => {
    const { attempt: pendingOnce, errors } = scripted();
    const stuck = hanging();
    const attempt = (context: PollAttemptContext) =>
      context.attempt === 1 ? pendingOnce(context) : stuck.attempt(context);
    const result = track(poll(attempt, { jitter: 0, maxWaitMs: 10_000 }));
    await clock.tickAsync(9_999);
    expect(stuck.signals[0]?.aborted).toBe(false);
    await clock.tickAsync(1);
    expect(result.error).toBeInstanceOf(MaxWaitError);
    expect((result.error as MaxWaitError).attempts).toBe(2);
    expect((result.error as MaxWaitError).cause).toBe(errors[0]);
    expect(stuck.signals[0]?.aborted).toBe(true);
    expect(stuck.signals[0]?.reason).toBe(result.error);
    expect(clock.countTimers()).toBe(0);
  });

  it.each([
    ['rejects with its own error', () => Promise.reject(new Error('socket hang up'))],
    ['resolves done', () => Promise.resolve({ status: 'done', value: 'too late' } as const)],
  ])(
    'rejects with MaxWaitError even when an attempt aborted by the deadline later %s',
    async (_, late) => {
      const { attempt: pendingOnce } = scripted();
      const attempt = (context: PollAttemptContext) =>
        context.attempt === 1
          ? pendingOnce(context)
          : new Promise<PollResult<string>>((resolve, reject) => {
              context.signal.addEventListener('abort', () => {
                late().then(resolve, reject);
              });
            });
      const result = track(poll(attempt, { jitter: 0, maxWaitMs: 6_000 }));
      await clock.tickAsync(6_000);
      await clock.tickAsync(0);
      expect(result.error).toBeInstanceOf(MaxWaitError);
      expect(clock.countTimers()).toBe(0);
    },
  );
});

describe('poll: cancellation', () => {
  it('rejects with signal.reason when the caller aborts during a wait, leaving no timers', async () => {
    const controller = new AbortController();
    const { attempt, calls } = scripted();
    const result = track(poll(attempt, { signal: controller.signal }));
    await clock.tickAsync(2_000);
    const reason = new Error('shutting down');
    controller.abort(reason);
    await clock.tickAsync(0);
    expect(result.error).toBe(reason);
    expect(clock.countTimers()).toBe(0);
    await clock.tickAsync(600_000);
    expect(calls).toHaveLength(1);
  });

  it('aborts the running attempt with the caller reason and rejects without waiting for it', async () => {
    const controller = new AbortController();
    const stuck = hanging();
    const result = track(poll(stuck.attempt, { signal: controller.signal }));
    await clock.tickAsync(1_000);
    const reason = new Error('request cancelled');
    controller.abort(reason);
    await clock.tickAsync(0);
    expect(result.error).toBe(reason);
    expect(stuck.signals[0]?.aborted).toBe(true);
    expect(stuck.signals[0]?.reason).toBe(reason);
    expect(clock.countTimers()).toBe(0);
  });

  it('rejects with the reason of an already-aborted signal without calling the attempt', async () => {
    const reason = new Error('already gone');
    const { attempt, calls } = scripted();
    await expect(poll(attempt, { signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
    expect(calls).toHaveLength(0);
    expect(clock.countTimers()).toBe(0);
  });
});

describe('poll: options', () => {
  const invalid: [keyof PollOptions, unknown][] = [
    ['initialDelayMs', -1],
    ['initialDelayMs', Number.NaN],
    ['initialDelayMs', '5000'],
    ['multiplier', 0.5],
    ['multiplier', Number.POSITIVE_INFINITY],
    ['maxDelayMs', -1],
    ['maxDelayMs', Number.POSITIVE_INFINITY],
    ['jitter', -0.1],
    ['jitter', 1],
    ['maxWaitMs', 0],
    ['maxWaitMs', Number.POSITIVE_INFINITY],
    ['maxWaitMs', 2 ** 31],
    ['signal', {}],
    ['signal', { aborted: false, addEventListener: () => {} }], // no removeEventListener
    ['signal', null],
    ['timers', null],
    ['now', 'Date.now'],
    ['random', 0.5],
  ];

  it.each(invalid)(
    'rejects %s = %s with InvalidOptionError naming poll.%s',
    async (option, value) => {
      const { attempt, calls } = scripted();
      const error = await poll(attempt, { [option]: value } as PollOptions).catch(
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(InvalidOptionError);
      expect((error as InvalidOptionError).option).toBe(`poll.${option}`);
      expect(calls).toHaveLength(0);
    },
  );

  it('rejects an attempt that is not a function naming poll.attempt', async () => {
    const error = await poll('fetch' as never).catch((e: unknown) => e);
    expect((error as InvalidOptionError).option).toBe('poll.attempt');
  });

  it('rejects with InvalidClockError when now() throws or returns no finite number, at any reading', async () => {
    for (const now of [() => Number.NaN, () => '1700000000000' as unknown as number]) {
      const { attempt, calls } = scripted();
      const error = await poll(attempt, { now }).catch((e: unknown) => e);
      expect((error as { code?: string }).code).toBe('SLUICE_INVALID_CLOCK');
      expect(calls).toHaveLength(0);
    }
    const broke = new Error('clock broke');
    const error = await poll(scripted().attempt, {
      now: () => {
        throw broke;
      },
    }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'SLUICE_INVALID_CLOCK', cause: broke });
  });

  it('schedules its waits and deadline through injected timers', async () => {
    const delays: number[] = [];
    const timers = {
      setTimeout: (callback: () => void, delayMs: number) => {
        delays.push(delayMs);
        return globalThis.setTimeout(callback, delayMs);
      },
      clearTimeout: (handle: unknown) => globalThis.clearTimeout(handle as never),
    };
    const { attempt } = scripted(3);
    const state = track(poll(attempt, { jitter: 0, maxWaitMs: 60_000, timers }));
    await clock.tickAsync(20_000);
    expect(state).toMatchObject({ settled: true, value: 'value 3' });
    // Each attempt's deadline guard, then the 5 s and 15 s waits between them.
    expect(delays).toEqual([60_000, 5_000, 55_000, 15_000, 40_000]);
  });

  it('rejects naming poll.random when random() returns a value outside [0, 1)', async () => {
    const { attempt } = scripted();
    const error = await poll(attempt, { random: () => 1 }).catch((e: unknown) => e);
    expect((error as InvalidOptionError).option).toBe('poll.random');
    expect(clock.countTimers()).toBe(0);
  });
});
