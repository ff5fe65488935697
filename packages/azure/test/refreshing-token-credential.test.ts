/**
 * `refreshingTokenCredential` against a scripted inner `TokenCredential`, time moved by fake
 * timers. The real SDK clients are in azure-sdk*.test.ts and azure-cae.test.ts.
 */

import type { AccessToken, GetTokenOptions, TokenCredential } from '@azure/core-auth';
import {
  accessTokenCodec,
  azureTokenKey,
  NullAccessTokenError,
  refreshingTokenCredential,
} from '@sluice/azure';
import { isSluiceError, mintTraitsOf, type Reporter } from '@sluice/core';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

const START = Date.UTC(2026, 0, 5, 9, 0, 0);
const HOUR = 3_600_000;
const SCOPE = 'https://vault.azure.net/.default';

beforeEach(() => {
  vi.useFakeTimers({
    now: START,
    toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date', 'performance'],
  });
});
afterEach(() => {
  vi.useRealTimers();
});

interface Call {
  readonly scopes: string | string[];
  readonly options: GetTokenOptions | undefined;
}

/** An inner credential answering from a script; records each call. */
function scripted(
  answer: (call: Call, n: number) => Promise<AccessToken | null> | AccessToken | null,
) {
  const calls: Call[] = [];
  const credential: TokenCredential = {
    async getToken(scopes, options) {
      const call = { scopes, options };
      calls.push(call);
      return answer(call, calls.length);
    },
  };
  return { credential, calls };
}

const token = (n: number, lifetimeMs = HOUR): AccessToken => ({
  token: `secret-token-${n}`,
  expiresOnTimestamp: Date.now() + lifetimeMs,
  tokenType: 'Bearer',
});

describe('keys', () => {
  it('sorted, de-duplicated scopes share one token; tenantId and enableCae are keys of their own', async () => {
    const inner = scripted((_call, n) => token(n));
    using credential = refreshingTokenCredential(inner.credential);
    const a = await credential.getToken(['b', 'a', 'a']);
    const b = await credential.getToken(['a', 'b']);
    expect(b.token).toBe(a.token);
    expect(inner.calls[0]?.scopes).toEqual(['a', 'b']);
    await credential.getToken(['a', 'b'], { tenantId: 't2' });
    await credential.getToken(['a', 'b'], { enableCae: true });
    expect(inner.calls).toHaveLength(3);
    expect(inner.calls[1]?.options?.tenantId).toBe('t2');
    expect(inner.calls[2]?.options?.enableCae).toBe(true);
    expect(azureTokenKey(['b', 'a', 'a'])).toEqual({ scopes: ['a', 'b'], enableCae: false });
  });

  it('10 concurrent callers of a cold key share one inner call', async () => {
    const inner = scripted((_call, n) => token(n));
    using credential = refreshingTokenCredential(inner.credential);
    const tokens = await Promise.all(Array.from({ length: 10 }, () => credential.getToken(SCOPE)));
    expect(new Set(tokens.map((t) => t.token)).size).toBe(1);
    expect(inner.calls).toHaveLength(1);
  });

  it('bad scopes and options reject with SLUICE_INVALID_OPTION (never a synchronous throw)', async () => {
    const inner = scripted((_call, n) => token(n));
    using credential = refreshingTokenCredential(inner.credential);
    for (const scopes of [[], '', [''], [1], undefined]) {
      const pending = credential.getToken(scopes as never);
      await expect(pending).rejects.toMatchObject({
        code: 'SLUICE_INVALID_OPTION',
        option: 'scopes',
      });
    }
    await expect(credential.getToken(SCOPE, { tenantId: 5 } as never)).rejects.toMatchObject({
      code: 'SLUICE_INVALID_OPTION',
      option: 'tenantId',
    });
    expect(() => refreshingTokenCredential({} as never)).toThrow(/credential/);
    expect(() =>
      refreshingTokenCredential(inner.credential, { reportedExpiry: 'soon' as never }),
    ).toThrow(/reportedExpiry/);
    expect(inner.calls).toHaveLength(0);
  });
});

describe('what the SDK is told', () => {
  it("'call-time' (default): expiresOnTimestamp is the time of the call, so every client asks again", async () => {
    const inner = scripted((_call, n) => ({
      ...token(n),
      refreshAfterTimestamp: START + HOUR / 2,
    }));
    using credential = refreshingTokenCredential(inner.credential);
    const first = await credential.getToken(SCOPE);
    expect(first.expiresOnTimestamp).toBe(START);
    expect(first.refreshAfterTimestamp).toBeUndefined();
    expect(first.tokenType).toBe('Bearer');
    expect(credential.snapshot(SCOPE)?.expiresAt).toBe(START + HOUR);
  });

  it("'actual': the real expiry, and refreshAfterTimestamp set to Sluice's due point", async () => {
    const inner = scripted((_call, n) => token(n));
    using credential = refreshingTokenCredential(inner.credential, { reportedExpiry: 'actual' });
    const first = await credential.getToken(SCOPE);
    expect(first.expiresOnTimestamp).toBe(START + HOUR);
    expect(first.refreshAfterTimestamp).toBe(credential.snapshot(SCOPE)?.refreshDueAt);
    expect(first.refreshAfterTimestamp).toBeLessThanOrEqual(START + 0.8 * HOUR);
  });

  it("the issuer's refreshAfterTimestamp becomes the due point: a 24 h token is refreshed at ~12 h, not 19 h", async () => {
    const inner = scripted((_call, n) => ({
      ...token(n, 24 * HOUR),
      refreshAfterTimestamp: Date.now() + 12 * HOUR,
    }));
    using credential = refreshingTokenCredential(inner.credential, { random: () => 0.5 });
    await credential.getToken(SCOPE);
    const due = credential.snapshot(SCOPE)?.refreshDueAt ?? Number.NaN;
    expect(due).toBeGreaterThanOrEqual(START + 12 * HOUR);
    expect(due).toBeLessThan(START + 13 * HOUR);
    vi.setSystemTime(due + 1);
    const served = await credential.getToken(SCOPE);
    expect(served.token).toBe('secret-token-1'); // served while the refresh runs
    await vi.waitFor(() => expect(inner.calls).toHaveLength(2));
  });
});

describe('failures', () => {
  it('getToken never rejects while a valid token exists: the inner credential failing near expiry', async () => {
    const inner = scripted((_call, n) => {
      if (n === 1) return token(1);
      throw new Error('identity endpoint down');
    });
    using credential = refreshingTokenCredential(inner.credential, {
      breaker: { failureThreshold: 3, cooldownMs: 60_000 },
    });
    await credential.getToken(SCOPE);
    vi.setSystemTime(START + HOUR - 60_000); // due, 1 minute left
    for (let i = 0; i < 50; i += 1) {
      await expect(credential.getToken(SCOPE)).resolves.toMatchObject({ token: 'secret-token-1' });
      await vi.advanceTimersByTimeAsync(1_000);
    }
    expect(inner.calls.length).toBeGreaterThan(1);
    expect(inner.calls.length).toBeLessThanOrEqual(1 + 3);
  });

  it('a null from the inner credential is NullAccessTokenError (SLUICE_AZURE_NULL_TOKEN) for every waiter', async () => {
    const inner = scripted(() => null);
    using credential = refreshingTokenCredential(inner.credential);
    const results = await Promise.allSettled([
      credential.getToken(SCOPE),
      credential.getToken(SCOPE),
    ]);
    for (const result of results) {
      expect(result.status).toBe('rejected');
      const reason = (result as PromiseRejectedResult).reason;
      expect(reason).toBeInstanceOf(NullAccessTokenError);
      expect(isSluiceError(reason, 'SLUICE_AZURE_NULL_TOKEN')).toBe(true);
      expect(reason.scopes).toEqual([SCOPE]);
    }
    expect(inner.calls).toHaveLength(1);
  });

  it('a malformed AccessToken is SLUICE_INVALID_CREDENTIAL, and no rendering of the error holds the token', async () => {
    const inner = scripted(
      () => ({ token: 'secret-token-abcdef', expiresOnTimestamp: 'soon' }) as never,
    );
    using credential = refreshingTokenCredential(inner.credential);
    const error = await credential.getToken(SCOPE).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'SLUICE_INVALID_CREDENTIAL' });
    const { inspect } = await import('node:util');
    for (const text of [String(error), JSON.stringify(error), inspect(error, { depth: 5 })]) {
      expect(text).not.toContain('secret-token');
    }
  });

  it('no snapshot, key listing or rendering of the credential holds the token', async () => {
    const inner = scripted((_call, n) => token(n));
    using credential = refreshingTokenCredential(inner.credential);
    await credential.getToken(SCOPE);
    const { inspect } = await import('node:util');
    const renderings = [
      JSON.stringify(credential.snapshot(SCOPE)),
      JSON.stringify(credential.provider.snapshots()),
      JSON.stringify(credential.provider.keys()),
      inspect(credential, { depth: 6, showHidden: true }),
    ];
    for (const text of renderings) expect(text).not.toContain('secret-token');
  });

  it("abortSignal ends the caller's own wait only; the shared mint goes on for the others", async () => {
    let release: (value: AccessToken) => void = () => {};
    const inner = scripted(() => new Promise<AccessToken>((resolve) => (release = resolve)));
    using credential = refreshingTokenCredential(inner.credential);
    const controller = new AbortController();
    const aborted = credential.getToken(SCOPE, { abortSignal: controller.signal });
    const other = credential.getToken(SCOPE);
    const reason = new Error('caller gave up');
    controller.abort(reason);
    await expect(aborted).rejects.toBe(reason);
    release(token(1));
    await expect(other).resolves.toMatchObject({ token: 'secret-token-1' });
    expect(inner.calls).toHaveLength(1);
  });

  it('reporters see the mints', async () => {
    const inner = scripted((_call, n) => token(n));
    const events: string[] = [];
    const reporter: Reporter = {
      onRefreshStart: () => void events.push('start'),
      onRefreshSuccess: () => void events.push('success'),
    };
    using credential = refreshingTokenCredential(inner.credential, { reporter, name: 'vault' });
    await credential.getToken(SCOPE);
    expect(events).toEqual(['start', 'success']);
  });
});

describe('claims (CAE) and proof of possession', () => {
  it('a claims challenge replaces the key once: concurrent and late callers with the same claims share it', async () => {
    const inner = scripted((_call, n) => token(n));
    using credential = refreshingTokenCredential(inner.credential);
    await credential.getToken(SCOPE, { enableCae: true });
    const renewed = await Promise.all([
      credential.getToken(SCOPE, { enableCae: true, claims: '{"c":1}' }),
      credential.getToken(SCOPE, { enableCae: true, claims: '{"c":1}' }),
    ]);
    expect(renewed.map((t) => t.token)).toEqual(['secret-token-2', 'secret-token-2']);
    const late = await credential.getToken(SCOPE, { enableCae: true, claims: '{"c":1}' });
    expect(late.token).toBe('secret-token-2');
    expect(inner.calls.map((call) => call.options?.claims)).toEqual([undefined, '{"c":1}']);
    // New claims (a new revocation) replace it again.
    await credential.getToken(SCOPE, { enableCae: true, claims: '{"c":2}' });
    expect(inner.calls).toHaveLength(3);
  });

  it('a claims challenge arriving during a mint without claims mints again, with the claims', async () => {
    const releases: Array<() => void> = [];
    const inner = scripted(
      (_call, n) => new Promise<AccessToken>((resolve) => releases.push(() => resolve(token(n)))),
    );
    using credential = refreshingTokenCredential(inner.credential);
    const cold = credential.getToken(SCOPE);
    const challenged = credential.getToken(SCOPE, { claims: '{"c":1}' });
    releases[0]?.();
    await expect(cold).resolves.toMatchObject({ token: 'secret-token-1' });
    await vi.waitFor(() => expect(inner.calls).toHaveLength(2));
    releases[1]?.();
    await expect(challenged).resolves.toMatchObject({ token: 'secret-token-2' });
    expect(inner.calls[1]?.options?.claims).toBe('{"c":1}');
  });

  it('proofOfPossessionOptions bypasses the cache: each call goes to the inner credential as given', async () => {
    const inner = scripted((_call, n) => ({ ...token(n), tokenType: 'pop' }));
    using credential = refreshingTokenCredential(inner.credential);
    const pop = {
      nonce: 'n',
      resourceRequestMethod: 'GET' as const,
      resourceRequestUrl: 'https://x.example',
    };
    const a = await credential.getToken(SCOPE, { proofOfPossessionOptions: pop });
    const b = await credential.getToken(SCOPE, { proofOfPossessionOptions: pop });
    expect([a.token, b.token]).toEqual(['secret-token-1', 'secret-token-2']);
    expect(inner.calls[0]?.options?.proofOfPossessionOptions).toBe(pop);
    expect(credential.provider.size).toBe(0);
  });
});

describe('invalidate()', () => {
  it('drops every key of the scopes; with a rejected token, only while it is still cached', async () => {
    const inner = scripted((_call, n) => token(n));
    using credential = refreshingTokenCredential(inner.credential, { minRefreshIntervalMs: 0 });
    await credential.getToken(SCOPE, { enableCae: true });
    await credential.getToken(SCOPE);
    expect(credential.invalidate(SCOPE, undefined, 'not-the-cached-one')).toBe(false);
    expect(credential.invalidate(SCOPE)).toBe(true);
    expect(credential.provider.peek(azureTokenKey(SCOPE))).toBeUndefined();
    expect((await credential.getToken(SCOPE, { enableCae: true })).token).toBe('secret-token-3');
    expect(credential.invalidate(SCOPE, { enableCae: true }, 'secret-token-3')).toBe(true);
  });
});

describe('accessTokenCodec', () => {
  it('round-trips every field and is the mint trait a coordinator reads', () => {
    const full: AccessToken = {
      token: 't',
      expiresOnTimestamp: 1_900_000_000_000,
      refreshAfterTimestamp: 1_899_000_000_000,
      tokenType: 'pop',
    };
    expect(accessTokenCodec.decode(accessTokenCodec.encode(full))).toEqual(full);
    const bare = { token: 't', expiresOnTimestamp: 1 };
    expect(accessTokenCodec.decode(accessTokenCodec.encode(bare))).toEqual(bare);
    expect(() =>
      accessTokenCodec.decode('{"token":"secret-xyz","expiresOnTimestamp":"x"}'),
    ).toThrow(/expiresOnTimestamp/);
    expect(() => accessTokenCodec.decode('{"token":"secret-xyz"')).not.toThrow(/secret-xyz/);
    let seen: unknown;
    refreshingTokenCredential(scripted(() => null).credential, {
      coordinator: {
        wrapKeyed: (_name, mint) => {
          seen = mintTraitsOf(mint)?.codec;
          return mint;
        },
      },
    }).close();
    expect(seen).toBe(accessTokenCodec);
  });
});
