import { createRequire } from 'node:module';
import { inspect } from 'node:util';
import { InvalidCredentialError, InvalidOptionError } from '@sluice/core';
import { createAuthFetch } from '@sluice/oauth';
import { Compute, OAuth2Client } from 'google-auth-library';
import { describe, expect, expectTypeOf, it } from 'vitest';
import {
  type GoogleAuthClientLike,
  type GoogleRefreshHandlerClient,
  googleAuthMint,
  googleTokens,
} from '../src/index.js';

const v9 = createRequire(createRequire(import.meta.url).resolve('@google-cloud/storage'))(
  'google-auth-library',
) as typeof import('google-auth-library');

const NOW = 1_800_000_000_000;
const SECRET = 'ya29.unit-secret-do-not-print';

/** A fake AuthClient: each getAccessToken issues the next token with `lifetimeMs`. */
function fakeClient(lifetimeMs: number | null = 3_600_000) {
  const client = {
    calls: 0,
    eagerRefreshThresholdMillis: 300_000,
    credentials: {} as { access_token?: string | null; expiry_date?: number | null },
    async getAccessToken() {
      client.calls += 1;
      const token = `${SECRET}-${client.calls}`;
      client.credentials = {
        access_token: token,
        ...(lifetimeMs === null ? {} : { expiry_date: NOW + lifetimeMs }),
      };
      return { token };
    },
  };
  return client;
}

const context = () => ({ signal: new AbortController().signal, reason: 'initial' as const });

describe('types', () => {
  it('clients of google-auth-library 9 and 10 fit the structural types', () => {
    expectTypeOf(new Compute()).toMatchTypeOf<GoogleAuthClientLike>();
    expectTypeOf(new v9.Compute()).toMatchTypeOf<GoogleAuthClientLike>();
    expectTypeOf(new OAuth2Client()).toMatchTypeOf<GoogleRefreshHandlerClient>();
    expectTypeOf(new v9.OAuth2Client()).toMatchTypeOf<GoogleRefreshHandlerClient>();
  });
});

describe('googleAuthMint', () => {
  it('makes the client fetch on every mint and takes the skew off its expiry_date', async () => {
    const client = fakeClient();
    const mint = googleAuthMint(client, { now: () => NOW, expirySkewMs: 30_000 });
    expect(await mint(context())).toEqual({
      value: `${SECRET}-1`,
      expiresAt: NOW + 3_600_000 - 30_000,
    });
    expect(client.eagerRefreshThresholdMillis).toBe(Number.MAX_SAFE_INTEGER);
    await mint(context());
    expect(client.calls).toBe(2);
  });

  it('never takes more than half the remaining lifetime', async () => {
    const mint = googleAuthMint(fakeClient(40_000), { now: () => NOW });
    expect((await mint(context())).expiresAt).toBe(NOW + 20_000);
  });

  it('a token without expiry_date, or no token, is an InvalidCredentialError that never shows the token', async () => {
    const noExpiry = googleAuthMint(fakeClient(null), { now: () => NOW });
    const empty = googleAuthMint({
      eagerRefreshThresholdMillis: 0,
      credentials: {},
      getAccessToken: async () => ({ token: null }),
    });
    for (const mint of [noExpiry, empty]) {
      const error = await Promise.resolve(mint(context())).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InvalidCredentialError);
      expect(
        `${String(error)} ${inspect(error, { depth: 5 })} ${JSON.stringify(error)}`,
      ).not.toContain(SECRET);
    }
  });

  it('refuses bad arguments with InvalidOptionError', () => {
    expect(() => googleAuthMint({} as never)).toThrow(InvalidOptionError);
    expect(() => googleAuthMint(fakeClient(), { expirySkewMs: -5 })).toThrow(/expirySkewMs/);
    expect(() => googleTokens(fakeClient(), { wrapMint: 'x' as never })).toThrow(/wrapMint/);
    expect(() => googleTokens(fakeClient(), { jitter: 2 })).toThrow(/jitter/);
    expect(() => googleTokens(fakeClient()).attach(null as never)).toThrow(InvalidOptionError);
  });
});

describe('googleTokens', () => {
  it('attach installs the handler with eagerRefreshThresholdMillis 0; the handler reports the due point as expiry_date', async () => {
    const tokens = googleTokens(fakeClient(), { now: () => NOW, jitter: 0 });
    const client = tokens.attach(new OAuth2Client());
    expect(client.refreshHandler).toBe(tokens.refreshHandler);
    expect(client.eagerRefreshThresholdMillis).toBe(0);
    const answer = await tokens.refreshHandler();
    expect(answer.access_token).toBe(`${SECRET}-1`);
    // 80 % of the 3,540 s left after the 60 s skew.
    expect(answer.expiry_date).toBe(NOW + 0.8 * 3_540_000);
    expect(tokens.provider.snapshot().refreshDueAt).toBe(answer.expiry_date);
    tokens.provider.close();
  });

  it('invalidate(rejected) clears only the attached clients holding that token, and only when the provider held it', async () => {
    const source = fakeClient();
    const tokens = googleTokens(source, { now: () => NOW, minRefreshIntervalMs: 0 });
    const [a, b] = [tokens.attach(new OAuth2Client()), tokens.attach(new OAuth2Client())];
    const first = await tokens.refreshHandler();
    a.setCredentials(first);
    b.setCredentials({ access_token: 'other', expiry_date: NOW + 1 });
    expect(tokens.invalidate('not-the-token')).toBe(false);
    expect(a.credentials.access_token).toBe(first.access_token);
    expect(tokens.invalidate(first.access_token)).toBe(true);
    expect(a.credentials).toEqual({});
    expect(b.credentials.access_token).toBe('other');
    expect((await tokens.refreshHandler()).access_token).toBe(`${SECRET}-2`);
    tokens.provider.close();
  });

  it('the tokens object and its provider never print the token', async () => {
    const tokens = googleTokens(fakeClient(), { now: () => NOW });
    tokens.attach(new OAuth2Client());
    await tokens.refreshHandler();
    for (const rendering of [
      inspect(tokens, { depth: 6, showHidden: true }),
      JSON.stringify(tokens.provider.snapshot()),
    ]) {
      expect(rendering).not.toContain(SECRET);
    }
    tokens.provider.close();
  });

  it('is a provider for @sluice/oauth createAuthFetch: a 401 replaces the token there and in the attached clients', async () => {
    const tokens = googleTokens(fakeClient(), { now: () => NOW });
    const client = tokens.attach(new OAuth2Client());
    client.setCredentials(await tokens.refreshHandler());
    const seen: string[] = [];
    const api = createAuthFetch(tokens, {
      fetch: async (_input, init) => {
        const auth = new Headers(init?.headers).get('authorization') ?? '';
        seen.push(auth.replace(`Bearer ${SECRET}-`, 'token '));
        return new Response(null, { status: seen.length === 1 ? 401 : 200 });
      },
    });
    const response = await api('https://storage.example/storage/v1/b/reports');
    expect(response.status).toBe(200);
    expect(seen).toEqual(['token 1', 'token 2']);
    expect(client.credentials).toEqual({});
    tokens.provider.close();
  });

  it('reports through the policy reporter, named google by default', async () => {
    const events: string[] = [];
    const tokens = googleTokens(fakeClient(), {
      now: () => NOW,
      reporter: { onRefreshSuccess: (event) => events.push(`success ${event.name}`) },
    });
    await tokens.get();
    expect(events).toEqual(['success google']);
    tokens.provider.close();
  });
});
