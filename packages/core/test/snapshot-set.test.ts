import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createKeyedProvider } from '../src/keyed-provider.js';
import { createRefreshingProvider } from '../src/refreshing-provider.js';
import { createSnapshotSet } from '../src/snapshot-set.js';
import { flush, installClock, type TestClock } from './support/fake-clock.js';

const HOUR = 3_600_000;
let clock: TestClock;
beforeEach(() => {
  clock = installClock();
});
afterEach(() => {
  clock.uninstall();
});

describe('createSnapshotSet', () => {
  it('reads single providers and every key of keyed ones, without credential values', async () => {
    const single = await createRefreshingProvider<string>({
      name: 'single',
      mint: () => ({ value: 'secret-a', expiresAt: Date.now() + HOUR }),
    });
    const keyed = createKeyedProvider<string, string>({
      name: 'keyed',
      mint: (key) => ({ value: `secret-${key}`, expiresAt: Date.now() + HOUR }),
    });
    await keyed.get('x');
    await keyed.get('y');
    const set = createSnapshotSet();
    set.add(single);
    const stop = set.add(keyed);
    const read = set.read();
    expect(read.map((entry) => [entry.snapshot.name, entry.key])).toEqual([
      ['single', undefined],
      ['keyed', 'x'],
      ['keyed', 'y'],
    ]);
    expect(JSON.stringify(read.map((entry) => entry.snapshot))).not.toContain('secret');
    stop();
    await flush();
    expect(set.read()).toHaveLength(1);
    single.close();
    keyed.close();
  });

  it('reads each provider once per synchronous pass, afresh on the next', async () => {
    let reads = 0;
    const provider = {
      snapshot: () => {
        reads += 1;
        return { status: 'fresh' } as never;
      },
    };
    const set = createSnapshotSet();
    set.add(provider);
    const first = set.read();
    expect(set.read()).toBe(first); // the same pass: one read
    await flush();
    set.read();
    expect(reads).toBe(2);
  });

  it('leaves out a provider whose snapshot throws, and forgets a closed one', async () => {
    const closed = await createRefreshingProvider<string>({
      mint: () => ({ value: 'v', expiresAt: Date.now() + HOUR }),
    });
    closed.close();
    const set = createSnapshotSet();
    set.add({
      snapshot: () => {
        throw new Error('clock broke');
      },
    });
    set.add(closed);
    expect(set.read()).toEqual([]);
    expect(set.providers.size).toBe(1);
  });

  it('refuses something that is not a provider, naming the option', () => {
    const set = createSnapshotSet();
    expect(() => set.add({} as never, 'observe.provider')).toThrow(
      expect.objectContaining({ code: 'SLUICE_INVALID_OPTION', option: 'observe.provider' }),
    );
  });
});
