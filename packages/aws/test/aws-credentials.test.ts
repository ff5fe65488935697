import { inspect } from 'node:util';
import { InvalidCredentialError, InvalidOptionError, type Mint } from '@sluice/core';
import type { AwsCredentialIdentity } from '@smithy/types';
import { describe, expect, it } from 'vitest';
import { awsCredentials, awsCredentialsByKey, awsMint } from '../src/index.js';

const NOW = 1_800_000_000_000;
const SECRET = 'unit-secret-do-not-print';

function identity(n: number, lifetimeMs?: number): AwsCredentialIdentity {
  return {
    accessKeyId: `AKID${n}`,
    secretAccessKey: `${SECRET}-${n}`,
    sessionToken: `session-${n}`,
    ...(lifetimeMs === undefined ? {} : { expiration: new Date(NOW + lifetimeMs) }),
  };
}

describe('awsCredentials', () => {
  it('carries memoized: true and exposes the provider, and mints nothing until asked', () => {
    let calls = 0;
    const credentials = awsCredentials(async () => {
      calls += 1;
      return identity(calls, 3_600_000);
    });
    expect(credentials.memoized).toBe(true);
    expect(typeof credentials.provider.invalidate).toBe('function');
    expect(credentials.provider.snapshot().status).toBe('empty');
    expect(calls).toBe(0);
    credentials.provider.close();
  });

  it('hands out a fresh copy each call, so the SDK annotating it never touches the cache', async () => {
    const credentials = awsCredentials(async () => ({ ...identity(1, 3_600_000), $source: {} }), {
      now: () => NOW,
    });
    const first = (await credentials()) as AwsCredentialIdentity & {
      $source: Record<string, string>;
    };
    first.$source.CREDENTIALS_CODE = 'e';
    (first as { accessKeyId: string }).accessKeyId = 'changed';
    const second = (await credentials()) as AwsCredentialIdentity & {
      $source: Record<string, string>;
    };
    expect(second.accessKeyId).toBe('AKID1');
    expect(second.$source).toEqual({});
    credentials.provider.close();
  });

  it('reports expiration less the skew, never more than half the remaining lifetime; none for static keys', async () => {
    const long = awsCredentials(async () => identity(1, 3_600_000), { now: () => NOW });
    expect((await long()).expiration?.getTime()).toBe(NOW + 3_600_000 - 60_000);
    long.provider.close();
    const short = awsCredentials(async () => identity(1, 40_000), { now: () => NOW });
    expect((await short()).expiration?.getTime()).toBe(NOW + 20_000);
    short.provider.close();
    const fixed = awsCredentials(async () => identity(1), { now: () => NOW });
    const value = await fixed();
    expect(value.expiration).toBeUndefined();
    expect('expiration' in value).toBe(false);
    fixed.provider.close();
  });

  it('passes the mint through wrapMint (fleet coordination) and calls the source with forceRefresh', async () => {
    const requests: unknown[] = [];
    const wrapped: string[] = [];
    const credentials = awsCredentials(
      async (request) => {
        requests.push(request);
        return identity(1, 3_600_000);
      },
      {
        now: () => NOW,
        wrapMint: (mint: Mint<AwsCredentialIdentity>) => async (context) => {
          wrapped.push(context.reason);
          return mint(context);
        },
      },
    );
    await credentials({ callerClientConfig: { region: 'eu-west-1' } });
    expect(wrapped).toEqual(['initial']);
    expect(requests).toEqual([{ forceRefresh: true }]);
    credentials.provider.close();
  });

  it('refuses bad options with InvalidOptionError naming them', () => {
    const source = async () => identity(1);
    expect(() => awsCredentials('nope' as never)).toThrow(InvalidOptionError);
    expect(() => awsCredentials(source, { expirySkewMs: -1 })).toThrow(/expirySkewMs/);
    expect(() => awsCredentials(source, { expirySkewMs: 1.5 })).toThrow(/expirySkewMs/);
    expect(() => awsCredentials(source, { wrapMint: 1 as never })).toThrow(/wrapMint/);
    expect(() => awsCredentials(source, { wrapMint: () => 1 as never })).toThrow(/wrapMint/);
    expect(() => awsCredentials(source, { refreshAt: 0 })).toThrow(/refreshAt/);
  });

  it('a source answer that is not a credential is an InvalidCredentialError that never shows the secret', async () => {
    const bad: unknown[] = [
      null,
      'AKID',
      { secretAccessKey: SECRET },
      { accessKeyId: 'AKID', secretAccessKey: '' },
      { accessKeyId: 'AKID', secretAccessKey: SECRET, expiration: `${SECRET}-date` },
    ];
    for (const answer of bad) {
      const mint = awsMint(async () => answer as AwsCredentialIdentity);
      const error = await Promise.resolve(
        mint({ signal: new AbortController().signal, reason: 'initial' }),
      ).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InvalidCredentialError);
      for (const rendering of [
        String(error),
        inspect(error, { depth: 5 }),
        JSON.stringify(error),
      ]) {
        expect(rendering).not.toContain(SECRET);
      }
    }
  });

  it('the credentials value and its provider never print the secret', async () => {
    const credentials = awsCredentials(async () => identity(1, 3_600_000), { now: () => NOW });
    await credentials();
    for (const rendering of [
      inspect(credentials, { depth: 5, showHidden: true }),
      JSON.stringify(credentials.provider.snapshot()),
      inspect(credentials.provider, { depth: 5 }),
    ]) {
      expect(rendering).not.toContain(SECRET);
    }
    credentials.provider.close();
  });

  it('reports through the policy reporter, named aws by default', async () => {
    const events: string[] = [];
    const credentials = awsCredentials(async () => identity(1, 3_600_000), {
      now: () => NOW,
      reporter: {
        onRefreshStart: (event) => events.push(`start ${event.name} ${event.reason}`),
        onRefreshSuccess: (event) => events.push(`success ${event.name}`),
      },
    });
    await credentials();
    await credentials({ forceRefresh: true });
    expect(events).toEqual(['start aws initial', 'success aws', 'start aws forced', 'success aws']);
    credentials.provider.close();
  });

  it('awsCredentialsByKey passes each key through wrapMint and keeps one credential per key', async () => {
    const wrapped: string[] = [];
    let calls = 0;
    const roles = awsCredentialsByKey(
      (_role: string) => async () => {
        calls += 1;
        return identity(calls, 3_600_000);
      },
      {
        now: () => NOW,
        wrapMint: (mint) => async (key, context) => {
          wrapped.push(key);
          return mint(key, context);
        },
      },
    );
    const [a1, a2, b] = await Promise.all([
      roles.credentials('a')(),
      roles.credentials('a')(),
      roles.credentials('b')(),
    ]);
    expect(a1.accessKeyId).toBe(a2.accessKeyId);
    expect(b.accessKeyId).not.toBe(a1.accessKeyId);
    expect(wrapped.sort()).toEqual(['a', 'b']);
    expect(roles.credentials('a').memoized).toBe(true);
    expect(roles.credentials('a').snapshot()?.status).toBe('fresh');
    expect(roles.credentials('zzz').snapshot()).toBeUndefined();
    roles.provider.close();
  });
});
