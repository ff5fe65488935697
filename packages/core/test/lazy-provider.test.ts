import { describe, expect, it } from 'vitest';
import { createLazyProvider, InvalidOptionError } from '../src/index.js';

describe('createLazyProvider', () => {
  it('returns the provider synchronously and mints on the first get, once for concurrent callers', async () => {
    let mints = 0;
    const provider = createLazyProvider({
      mint: async ({ reason }) => {
        mints += 1;
        return { value: `token-${mints}-${reason}`, expiresAt: Date.now() + 60_000 };
      },
    });
    expect(typeof provider.get).toBe('function');
    expect(mints).toBe(0);
    expect(provider.snapshot().status).toBe('empty');
    const values = await Promise.all([provider.get(), provider.get(), provider.get()]);
    expect(values).toEqual(['token-1-initial', 'token-1-initial', 'token-1-initial']);
    expect(mints).toBe(1);
    provider.close();
  });

  it('validates options eagerly with InvalidOptionError', () => {
    expect(() => createLazyProvider({ mint: 'nope' as never })).toThrow(InvalidOptionError);
    expect(() => createLazyProvider({ mint: () => ({ value: 1 }), refreshAt: 2 })).toThrow(
      /refreshAt/,
    );
  });
});
