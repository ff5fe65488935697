import { afterEach, describe, expect, it, vi } from 'vitest';
import { randomId } from '../../src/coordination/fleet-shared.js';

afterEach(() => {
  vi.restoreAllMocks();
});

describe('randomId', () => {
  it('gives 128 fresh bits as 32 hex characters per id, distinct across pool refills', () => {
    const ids = Array.from({ length: 1_000 }, () => randomId());
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{32}$/);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('draws from the CSPRNG once per 256 ids, not once per id (the mint path pays no call per token)', () => {
    const spy = vi.spyOn(globalThis.crypto, 'getRandomValues');
    for (let i = 0; i < 1_024; i++) randomId();
    expect(spy.mock.calls.length).toBeGreaterThanOrEqual(4);
    expect(spy.mock.calls.length).toBeLessThanOrEqual(5);
  });
});
