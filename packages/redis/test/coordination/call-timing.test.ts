import { isSluiceError } from '@sluice/core';
import { describe, expect, it } from 'vitest';
import {
  callTiming,
  checkRoom,
  FALLBACK_MINT_TIMEOUT_MS,
} from '../../src/coordination/call-timing.js';

describe('call timing: the waits derived from the provider', () => {
  it("with no coordinator mintTimeoutMs, a follower waits half the provider's mintTimeoutMs and the leader renews for all of it", () => {
    expect(callTiming(5_000, undefined, 30_000)).toEqual({ waitMs: 15_000, renewForMs: 30_000 });
    // The case the old fixed defaults broke: a provider lowered to 5 s.
    expect(callTiming(5_000, undefined, 5_000)).toEqual({ waitMs: 2_500, renewForMs: 5_000 });
  });

  it('the local fallback always fires before the provider gives up, leaving it room for a mint', () => {
    for (const provider of [1, 10, 999, 5_000, 30_000, 2_147_483_647]) {
      const { waitMs } = callTiming(5_000, undefined, provider);
      expect(waitMs).toBeLessThan(provider);
      expect(provider - waitMs).toBeGreaterThanOrEqual(provider / 2);
    }
  });

  it('a mint called without a provider (no mintTimeoutMs in its context) keeps the documented fallback', () => {
    for (const missing of [undefined, Number.NaN, -1, 0, '30000']) {
      expect(callTiming(5_000, undefined, missing)).toEqual({
        waitMs: 5_000 + FALLBACK_MINT_TIMEOUT_MS,
        renewForMs: FALLBACK_MINT_TIMEOUT_MS,
      });
    }
  });

  it('an explicit mintTimeoutMs that leaves the provider room is used as given', () => {
    expect(callTiming(5_000, 15_000, 30_000)).toEqual({ waitMs: 20_000, renewForMs: 15_000 });
    expect(callTiming(1_000, 2_000, undefined)).toEqual({ waitMs: 3_000, renewForMs: 2_000 });
  });

  it('coordinator refuses a mintTimeoutMs that leaves the provider no room, naming both values', () => {
    let caught: unknown;
    try {
      callTiming(5_000, 15_000, 5_000);
    } catch (error) {
      caught = error;
    }
    expect(isSluiceError(caught) && caught.code).toBe('SLUICE_INVALID_OPTION');
    const message = (caught as Error).message;
    expect((caught as { option?: string }).option).toBe('mintTimeoutMs');
    expect(message).toContain('5000 + 15000 = 20000 ms');
    expect(message).toContain("provider's mintTimeoutMs (5000 ms)");
    expect(message).toContain('unset');
  });

  it('names the largest mintTimeoutMs that fits', () => {
    expect(() => checkRoom(5_000, 16_000, 30_000)).toThrow(/at most 15000 ms/);
    expect(() => checkRoom(5_000, 15_000, 30_000)).not.toThrow();
  });
});
