import { describe, expect, it } from 'vitest';
import { resolveCoordination } from '../../src/coordination/options.js';
import { createFleetCoordinator } from '../../src/index.js';
import { MemoryStore } from '../support/memory-store.js';

const id = () => 'generated';

describe('coordination options', () => {
  it('documents its defaults: lease 5 s, mint timeout 15 s, command timeout 250 ms, refreshAt 0.8, ...', () => {
    const resolved = resolveCoordination({}, 'sluice:', id);
    expect(resolved).toMatchObject({
      namespace: 'sluice:',
      leaseMs: 5_000,
      mintTimeoutMs: 15_000,
      commandTimeoutMs: 250,
      connectTimeoutMs: 2_000,
      refreshAt: 0.8,
      poll: { initialDelayMs: 200, maxDelayMs: 2_000 },
      failureBackoff: { initialDelayMs: 1_000, maxDelayMs: 60_000 },
      storeBreaker: { failureThreshold: 3, cooldownMs: 5_000 },
      instanceId: 'generated',
      keyring: undefined,
    });
    expect(Object.isFrozen(resolved)).toBe(true);
  });

  it.each([
    ['leaseMs', { leaseMs: 5 }],
    ['leaseMs', { leaseMs: 1.5 }],
    ['mintTimeoutMs', { mintTimeoutMs: 0 }],
    ['commandTimeoutMs', { commandTimeoutMs: Number.NaN }],
    ['connectTimeoutMs', { connectTimeoutMs: -1 }],
    ['refreshAt', { refreshAt: 0 }],
    ['refreshAt', { refreshAt: 1.5 }],
    ['poll', { poll: 'fast' }],
    ['poll.initialDelayMs', { poll: { initialDelayMs: 0 } }],
    ['poll.maxDelayMs', { poll: { initialDelayMs: 500, maxDelayMs: 100 } }],
    ['failureBackoff.maxDelayMs', { failureBackoff: { initialDelayMs: 500, maxDelayMs: 100 } }],
    ['storeBreaker.failureThreshold', { storeBreaker: { failureThreshold: 0 } }],
    ['codec', { codec: { encode: () => '' } }],
    ['reporter', { reporter: [] }],
    ['reporter.onAdopted', { reporter: { onAdopted: 'yes' } }],
    ['now', { now: 5 }],
    ['random', { random: 'r' }],
    ['timers.clearTimeout', { timers: { setTimeout: () => 0 } }],
    ['instanceId', { instanceId: '' }],
    ['encryption.keys', { encryption: { keys: [] } }],
  ])('refuses a bad %s with InvalidOptionError naming it', (option, options) => {
    expect(() => resolveCoordination(options as never, '', id)).toThrow(
      expect.objectContaining({ code: 'SLUICE_INVALID_OPTION', option }),
    );
  });

  it('createFleetCoordinator refuses a store that does not implement the contract, naming the missing operation', () => {
    const store = new MemoryStore() as unknown as Record<string, unknown>;
    const { time: _time, ...partial } = Object.fromEntries(
      [
        'loadOrLease',
        'renew',
        'store',
        'fail',
        'release',
        'time',
        'watch',
        'connection',
        'whenUp',
        'close',
      ].map((m) => [m, (store[m] as () => unknown).bind(store)]),
    );
    expect(() => createFleetCoordinator({ store: partial as never })).toThrow(
      expect.objectContaining({ option: 'store.time' }),
    );
    expect(() => createFleetCoordinator(null as never)).toThrow(
      expect.objectContaining({ option: 'options' }),
    );
  });

  it('wrap and wrapKeyed refuse an empty name, a mint that is not a function and a bad keyOf', async () => {
    const coordinator = createFleetCoordinator({ store: new MemoryStore() });
    expect(() => coordinator.wrap('', () => ({ value: 1 }))).toThrow(
      expect.objectContaining({ option: 'name' }),
    );
    expect(() => coordinator.wrap('a', 'mint' as never)).toThrow(
      expect.objectContaining({ option: 'mint' }),
    );
    expect(() => coordinator.wrapKeyed('a', () => ({ value: 1 }), { keyOf: 1 as never })).toThrow(
      expect.objectContaining({ option: 'keyOf' }),
    );
    expect(() => coordinator.wrap('a', () => ({ value: 1 }), { codec: {} as never })).toThrow(
      expect.objectContaining({ option: 'codec' }),
    );
    const keyed = coordinator.wrapKeyed<{ id: number }, number>('a', () => ({ value: 1 }));
    await expect(
      keyed({ id: 1 }, { signal: new AbortController().signal, reason: 'initial' }),
    ).rejects.toMatchObject({
      option: 'key',
    });
    await coordinator.close();
  });

  it('leaseMs below commandTimeoutMs is refused with an InvalidOptionError naming both', () => {
    let thrown: unknown;
    try {
      resolveCoordination({ leaseMs: 100, commandTimeoutMs: 250 }, '', () => 'id');
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toMatchObject({ code: 'SLUICE_INVALID_OPTION', option: 'leaseMs' });
    expect((thrown as Error).message).toContain('commandTimeoutMs');
    expect((thrown as Error).message).toContain('250');
    expect(() =>
      resolveCoordination({ leaseMs: 250, commandTimeoutMs: 250 }, '', () => 'id'),
    ).not.toThrow();
  });
});
