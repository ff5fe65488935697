/**
 * Testing code that uses @sluice/core with fake timers. docs/testing.md quotes this file;
 * docs-sync.test.ts fails when a snippet there no longer matches the code here.
 */

// #region setup
import FakeTimers, { type Clock } from '@sinonjs/fake-timers';
import {
  BreakerOpenError,
  type Credential,
  createRefreshingProvider,
  credentialFromExpiresIn,
  type MintContext,
  type MintReason,
} from '@sluice/core';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

const START = Date.UTC(2030, 0, 1); // fixed and far from 0
const HOUR_MS = 3_600_000;

/** A stand-in for the token endpoint: one-hour tokens, a record of why each mint ran. */
function fakeIssuer() {
  const issuer = {
    reasons: [] as MintReason[],
    minted: 0,
    down: false,
    mint: async ({ reason }: MintContext<string>): Promise<Credential<string>> => {
      issuer.reasons.push(reason);
      if (issuer.down) throw new Error('issuer unavailable');
      issuer.minted += 1;
      return credentialFromExpiresIn(`token-${issuer.minted}`, 3600);
    },
  };
  return issuer;
}
// #endregion setup

describe('with @sinonjs/fake-timers', () => {
  // #region install
  let clock: Clock;

  beforeEach(() => {
    clock = FakeTimers.install({
      now: START,
      // Never fake queueMicrotask or nextTick: promises must keep settling.
      toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date', 'performance'],
    });
  });

  afterEach(() => {
    clock.uninstall();
  });
  // #endregion install

  // #region due-point
  it('refreshes an idle provider at the due point picked by the injected random', async () => {
    const issuer = fakeIssuer();
    const tokens = await createRefreshingProvider({
      mint: issuer.mint,
      schedule: 'timer',
      // Due at refreshAt - jitter × random() = 0.8 - 0.1 × 0.5 = 75% of the lifetime.
      random: () => 0.5,
    });
    const dueAt = START + 0.75 * HOUR_MS;
    expect(tokens.snapshot().refreshDueAt).toBe(dueAt);

    await clock.tickAsync(dueAt - START - 1);
    expect(issuer.reasons).toEqual(['initial']);

    await clock.tickAsync(1); // the timer fires at the due point
    expect(issuer.reasons).toEqual(['initial', 'proactive']);
    expect(await tokens.get()).toBe('token-2');
    tokens.close();
  });
  // #endregion due-point

  // #region background
  it('serves the cached token while the background refresh runs', async () => {
    let minted = 0;
    let finishMint = (): void => {};
    const tokens = await createRefreshingProvider({
      random: () => 0, // due at exactly 80% of the lifetime
      mint: async () => {
        minted += 1;
        if (minted > 1) await new Promise<void>((resolve) => (finishMint = resolve));
        return credentialFromExpiresIn(`token-${minted}`, 3600);
      },
    });

    await clock.tickAsync(0.8 * HOUR_MS);
    expect(await tokens.get()).toBe('token-1'); // due: served, and a refresh starts behind it
    expect(tokens.snapshot().mintInFlight).toBe(true);
    expect(await tokens.get()).toBe('token-1'); // still served; no second mint
    expect(minted).toBe(2);

    finishMint();
    await clock.tickAsync(0);
    expect(await tokens.get()).toBe('token-2');
    tokens.close();
  });
  // #endregion background

  // #region breaker
  it('opens the breaker after five failed mints for an expired token, then probes after the cooldown', async () => {
    const issuer = fakeIssuer();
    const changes: string[] = [];
    const tokens = await createRefreshingProvider({
      mint: issuer.mint,
      reporter: { onBreakerStateChange: (e) => changes.push(`${e.from} -> ${e.to}`) },
    });
    issuer.down = true;
    await clock.tickAsync(HOUR_MS); // expired, and nobody asked during its due window

    for (let i = 0; i < 5; i += 1) {
      await expect(tokens.get()).rejects.toThrow('issuer unavailable');
    }
    expect(changes).toEqual(['closed -> open']);

    // Open: callers fail fast, without a mint, until the 60 s cooldown has passed.
    const refused = await tokens.get().catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(BreakerOpenError);
    expect((refused as BreakerOpenError).retryAfterMs).toBe(60_000);
    await clock.tickAsync(59_999);
    await expect(tokens.get()).rejects.toMatchObject({
      code: 'SLUICE_BREAKER_OPEN',
      retryAfterMs: 1,
    });
    expect(issuer.reasons).toHaveLength(6); // the initial mint and five failures

    issuer.down = false;
    await clock.tickAsync(1);
    expect(await tokens.get()).toBe('token-2'); // this caller's mint is the half-open probe
    expect(changes).toEqual(['closed -> open', 'open -> half-open', 'half-open -> closed']);
    tokens.close();
  });
  // #endregion breaker

  it('keeps serving a still-valid token while the breaker is open', async () => {
    const issuer = fakeIssuer();
    const tokens = await createRefreshingProvider({ mint: issuer.mint, random: () => 0 });
    issuer.down = true;
    await clock.tickAsync(0.8 * HOUR_MS); // due, not expired

    // Each call in the due window starts a background refresh, which fails.
    for (let i = 0; i < 5; i += 1) {
      expect(await tokens.get()).toBe('token-1');
      await clock.tickAsync(0);
    }
    expect(tokens.snapshot().breaker.state).toBe('open');
    expect(await tokens.get()).toBe('token-1');
    expect(issuer.reasons).toHaveLength(6); // open: the last call started no mint

    // Expired now, and the cooldown is over: this caller's mint is the probe; it fails, and
    // the breaker opens again for a fresh cooldown.
    await clock.tickAsync(0.2 * HOUR_MS);
    await expect(tokens.get()).rejects.toThrow('issuer unavailable');
    await expect(tokens.get()).rejects.toBeInstanceOf(BreakerOpenError);
    tokens.close();
  });
});

describe('with vitest fake timers', () => {
  // #region vitest
  beforeEach(() => {
    vi.useFakeTimers({
      now: START,
      toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date', 'performance'],
    });
  });

  afterEach(() => {
    vi.useRealTimers();
  });

  it('refreshes on access once the token is due', async () => {
    const issuer = fakeIssuer();
    const tokens = await createRefreshingProvider({ mint: issuer.mint, random: () => 0 });

    await vi.advanceTimersByTimeAsync(0.8 * HOUR_MS);
    expect(await tokens.get()).toBe('token-1');
    await vi.advanceTimersByTimeAsync(0); // let the background mint settle
    expect(await tokens.get()).toBe('token-2');
    expect(issuer.reasons).toEqual(['initial', 'proactive']);
    tokens.close();
  });
  // #endregion vitest
});

describe('with an injected clock', () => {
  // #region injected
  it('needs no fake timers when the provider and the credential share the clock', async () => {
    let now = START;
    const reasons: MintReason[] = [];
    const tokens = await createRefreshingProvider({
      now: () => now,
      random: () => 0,
      mint: async ({ reason }) => {
        reasons.push(reason);
        return credentialFromExpiresIn(`token-${reasons.length}`, 3600, { now: () => now });
      },
    });

    now += HOUR_MS; // expired: the next caller waits for one mint
    expect(await tokens.get()).toBe('token-2');
    expect(reasons).toEqual(['initial', 'expired']);
    tokens.close();
  });
  // #endregion injected
});
