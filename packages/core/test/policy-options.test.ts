import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidOptionError } from '../src/errors.js';
import { resolvePolicy } from '../src/policy-options.js';
import { createRefreshingProvider } from '../src/refreshing-provider.js';

const mint = () => ({ value: 'v', expiresAt: Date.now() + 3_600_000 });

describe('policy options', () => {
  it('defaults to refreshAt 0.8, jitter 0.1, floor 30 s, breaker 5/60 s with retry hints capped at 300 s, mint timeout 30 s, loop guard 5 s, on-access', () => {
    const policy = resolvePolicy({});
    expect(policy.timing).toEqual({
      refreshAt: 0.8,
      jitter: 0.1,
      refreshFloorMs: 30_000,
      minRefreshIntervalMs: 5_000,
    });
    expect(policy.breaker).toEqual({
      failureThreshold: 5,
      cooldownMs: 60_000,
      maxRetryAfterMs: 300_000,
    });
    expect(policy.mintTimeoutMs).toBe(30_000);
    expect(policy.schedule).toBe('on-access');
    expect(policy.name).toBe('sluice');
  });

  it.each([
    ['refreshAt', { refreshAt: 0 }],
    ['refreshAt', { refreshAt: 1.5 }],
    ['refreshAt', { refreshAt: Number.NaN }],
    ['jitter', { jitter: -0.1 }],
    ['jitter', { refreshAt: 0.5, jitter: 0.6 }],
    ['refreshFloorMs', { refreshFloorMs: -1 }],
    ['refreshFloorMs', { refreshFloorMs: 1.5 }],
    ['breaker', { breaker: 5 }],
    ['breaker', { breaker: null }],
    ['breaker.failureThreshold', { breaker: { failureThreshold: 0 } }],
    ['breaker.cooldownMs', { breaker: { cooldownMs: Number.POSITIVE_INFINITY } }],
    ['breaker.maxRetryAfterMs', { breaker: { maxRetryAfterMs: -1 } }],
    ['breaker.maxRetryAfterMs', { breaker: { maxRetryAfterMs: 1.5 } }],
    ['breaker.maxRetryAfterMs', { breaker: { maxRetryAfterMs: 2 ** 31 } }],
    ['breaker.maxRetryAfterMs', { breaker: { maxRetryAfterMs: '300000' } }],
    ['breaker.maxRetryAfterMs', { breaker: { maxRetryAfterMs: null } }],
    ['mintTimeoutMs', { mintTimeoutMs: 0 }],
    ['mintTimeoutMs', { mintTimeoutMs: 2 ** 31 }],
    ['minRefreshIntervalMs', { minRefreshIntervalMs: '5000' }],
    ['schedule', { schedule: 'cron' }],
    ['now', { now: 5 }],
    ['random', { random: 'Math.random' }],
    ['reporter', { reporter: 'console' }],
    ['reporter', { reporter: [() => {}] }],
    ['reporter.onRefreshStart', { reporter: { onRefreshStart: 'log' } }],
    ['reporter.onKeyDropped', { reporter: { onKeyDropped: {} } }],
    ['breaker', { breaker: [5, 60_000] }],
    ['timers', { timers: [] }],
    ['timers.setTimeout', { timers: { clearTimeout: () => {} } }],
    ['name', { name: 7 }],
  ])('rejects a bad %s with InvalidOptionError naming it', (option, bad) => {
    try {
      resolvePolicy(bad as never);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidOptionError);
      expect((error as InvalidOptionError).option).toBe(option);
      expect((error as Error).message).toContain(`\`${option}\``);
    }
  });

  it('createRefreshingProvider rejects a missing mint and a non-boolean lazy', async () => {
    await expect(createRefreshingProvider({} as never)).rejects.toMatchObject({ option: 'mint' });
    await expect(createRefreshingProvider({ mint, lazy: 'yes' } as never)).rejects.toMatchObject({
      option: 'lazy',
    });
  });

  it('copies the options: mutating them after construction changes nothing', async () => {
    const options = { mint, breaker: { failureThreshold: 2, cooldownMs: 1000 }, name: 'before' };
    const provider = await createRefreshingProvider(options);
    options.breaker.failureThreshold = 1;
    options.name = 'after';
    options.mint = () => {
      throw new Error('swapped');
    };
    expect(provider.snapshot().name).toBe('before');
    expect(await provider.refresh()).toMatchObject({ value: 'v' });
    provider.close();
  });

  it('property: any numeric option value is either accepted or refused with InvalidOptionError naming it', () => {
    const names = [
      'refreshAt',
      'jitter',
      'refreshFloorMs',
      'mintTimeoutMs',
      'minRefreshIntervalMs',
    ] as const;
    fc.assert(
      fc.property(
        fc.constantFrom(...names),
        fc.oneof(fc.double(), fc.integer(), fc.constant(null), fc.string(), fc.boolean()),
        (name, value) => {
          try {
            resolvePolicy({ [name]: value } as never);
          } catch (error) {
            expect(error).toBeInstanceOf(InvalidOptionError);
            expect((error as InvalidOptionError).option).toBe(name);
          }
        },
      ),
      { numRuns: 1_000 },
    );
  });
});
