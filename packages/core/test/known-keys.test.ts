import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import {
  checkKnownKeys,
  createKeyedProvider,
  createRefreshingProvider,
  credentialFromExpiresIn,
  InvalidOptionError,
  isSluiceError,
  nearestKey,
  POLICY_OPTION_KEYS,
  poll,
  type RefreshPolicyOptions,
  UnknownOptionError,
} from '../src/index.js';

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

const mint = () => ({ value: 'v', expiresAt: Date.now() + 60_000 });

describe('checkKnownKeys', () => {
  it('refuses a misspelt provider option, naming it and the option it meant', async () => {
    const error = await rejection(
      createRefreshingProvider({ mint, lazy: true, refershAt: 0.5 } as never),
    );
    expect(error).toBeInstanceOf(UnknownOptionError);
    expect(error).toBeInstanceOf(InvalidOptionError);
    expect(isSluiceError(error, 'SLUICE_INVALID_OPTION')).toBe(true);
    expect((error as UnknownOptionError).option).toBe('refershAt');
    expect((error as UnknownOptionError).suggestion).toBe('refreshAt');
    expect((error as Error).message).toBe('unknown option `refershAt`; did you mean `refreshAt`?');
  });

  it('names the path of a nested unknown key (breaker.cooldown)', () => {
    const error = thrown(() =>
      createKeyedProvider({ mint, breaker: { cooldown: 1_000 } } as never),
    ) as UnknownOptionError;
    expect(error.option).toBe('breaker.cooldown');
    expect(error.suggestion).toBe('cooldownMs');
  });

  it('never echoes the value of an unknown key, which may be a secret', async () => {
    const secret = 'sk_live_4f9a8b7c6d5e';
    const error = (await rejection(
      createRefreshingProvider({ mint, lazy: true, clientSecret: secret } as never),
    )) as Error;
    for (const rendering of [error.message, JSON.stringify(error), inspect(error, { depth: 9 })]) {
      expect(rendering).not.toContain(secret);
      expect(rendering).not.toContain(secret.slice(0, 8));
    }
  });

  it('lists the valid keys when nothing is close', () => {
    const error = thrown(() => checkKnownKeys({ zzz: 1 }, ['now', 'skewSeconds'], 'x')) as Error;
    expect(error.message).toBe('unknown option `x.zzz`; the options here are `now`, `skewSeconds`');
  });

  it('refuses symbol keys and undefined-valued keys, ignores non-enumerable ones and non-objects', () => {
    expect(() => checkKnownKeys({ [Symbol('s')]: 1 }, ['a'], '')).toThrow(UnknownOptionError);
    expect(() => checkKnownKeys({ b: undefined }, ['a'], '')).toThrow(/unknown option `b`/);
    const hidden = Object.defineProperty({}, 'hidden', { value: 1, enumerable: false });
    expect(() => checkKnownKeys(hidden, ['a'], '')).not.toThrow();
    expect(() => checkKnownKeys(undefined, ['a'], '')).not.toThrow();
    expect(() => checkKnownKeys('str', ['a'], '')).not.toThrow();
  });

  it('covers poll, startSweep and credentialFromExpiresIn options', async () => {
    await expect(
      poll(async () => ({ status: 'done' as const, value: 1 }), {
        maxWaitMs: 1_000,
        maxWait: 5,
      } as never),
    ).rejects.toThrow(/unknown option `poll.maxWait`; did you mean `maxWaitMs`\?/);
    expect(() => credentialFromExpiresIn('t', 60, { skew: 5 } as never)).toThrow(
      /`credentialFromExpiresIn.skew`; did you mean `skewSeconds`/,
    );
    const keyed = createKeyedProvider({ mint });
    expect(() => keyed.startSweep({ intervalMs: 1_000, interval: 5 } as never)).toThrow(
      /startSweep.interval/,
    );
    keyed.close();
  });
});

describe('nearestKey', () => {
  it.each([
    ['refershAt', 'refreshAt'],
    ['RefreshAt', 'refreshAt'],
    ['mintTimeout', 'mintTimeoutMs'],
    ['kid', 'keyId'],
    ['jiter', 'jitter'],
  ])('suggests %s -> %s', (typo, meant) => {
    expect(nearestKey(typo, ['refreshAt', 'mintTimeoutMs', 'keyId', 'jitter'])).toBe(meant);
  });

  it('suggests nothing for an unrelated key', () => {
    expect(nearestKey('database', ['refreshAt', 'jitter'])).toBeUndefined();
  });
});

describe('POLICY_OPTION_KEYS', () => {
  it('is public and lists exactly the keys of RefreshPolicyOptions (adapters build their known lists from it)', () => {
    // A key added to RefreshPolicyOptions without a place here fails to compile.
    const every: Record<keyof RefreshPolicyOptions, true> = {
      refreshAt: true,
      jitter: true,
      refreshFloorMs: true,
      breaker: true,
      mintTimeoutMs: true,
      minRefreshIntervalMs: true,
      schedule: true,
      now: true,
      random: true,
      timers: true,
      reporter: true,
      name: true,
    };
    expect([...POLICY_OPTION_KEYS].sort()).toEqual(Object.keys(every).sort());
    expect(Object.isFrozen(POLICY_OPTION_KEYS)).toBe(true);
  });
});
