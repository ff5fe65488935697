/**
 * @sluice/oauth inside @sluice/effect: a client-credentials mint against a real
 * oidc-provider, run as an Effect mint (interruption aborts the request; the mint's clock is
 * Effect's, so `TestClock` moves the token's expiry), its tokens presented to a resource
 * server that validates them.
 */

import type { MintReason } from '@sluice/core';
import { MintFailed, makeCredentialProvider } from '@sluice/effect';
import {
  type AccessToken,
  clientCredentialsMint,
  createAuthFetch,
  type TokenEndpointOptions,
} from '@sluice/oauth';
import { Cause, Effect, Exit } from 'effect';
import { TestClock } from 'effect/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runTest, START } from '../../packages/effect/test/support/harness.js';
import {
  API,
  type AuthorizationServer,
  startAuthorizationServer,
} from '../../packages/oauth/test/support/authorization-server.js';
import {
  type ResourceServer,
  startResourceServer,
} from '../../packages/oauth/test/support/resource-server.js';
import { effectMintOf } from './support/effect-mint.js';
import { SecretSentinel } from './support/sentinel.js';

let as: AuthorizationServer;
let rs: ResourceServer;
const TTL_SECONDS = 300;

/** A client-credentials mint whose clock is Effect's (as of each mint's start). */
function oauthEffectMint(clientSecret = as.basic.clientSecret) {
  const clock = { current: START };
  const mint = clientCredentialsMint({
    issuer: as.issuer,
    clientId: as.basic.clientId,
    clientAuth: { method: 'client_secret_basic', clientSecret },
    resource: API,
    allowInsecureRequests: true,
    now: () => clock.current,
  } satisfies TokenEndpointOptions & { resource: string });
  return effectMintOf(mint, clock);
}

describe('oauth x effect', () => {
  beforeAll(async () => {
    as = await startAuthorizationServer({ accessTokenTtlSeconds: TTL_SECONDS });
    rs = await startResourceServer(as.issuer, API);
  });

  afterEach(() => {
    rs.behave(undefined);
    rs.requests.length = 0;
  });

  afterAll(async () => {
    await Promise.allSettled([rs?.close(), as?.close()]);
  });

  it("an OAuth mint as an Effect mint: built with one token request, every fiber gets the token the resource server accepts, and its expiry follows Effect's TestClock", async () => {
    const before = as.tokenRequests();
    const reasons: MintReason[] = [];
    const tokens = await runTest(
      Effect.gen(function* () {
        const provider = yield* makeCredentialProvider<AccessToken, unknown, never>({
          name: 'billing-api',
          mint: oauthEffectMint(),
          reporter: { onRefreshStart: (event) => reasons.push(event.reason) },
        });
        const values = yield* Effect.all([provider.get, provider.get, provider.get], {
          concurrency: 'unbounded',
        });
        const first = values[0] as AccessToken;
        for (const value of values) expect(value.token).toBe(first.token);
        // createAuthFetch over the Effect service: get and invalidate as promises.
        const api = createAuthFetch(
          {
            get: () => Effect.runPromise(provider.get),
            invalidate: (rejected?: AccessToken) => Effect.runSync(provider.invalidate(rejected)),
          },
          { allowInsecureRequests: true },
        );
        const status = yield* Effect.promise(async () => (await api(`${rs.url}/x`)).status);
        expect(status).toBe(200);

        // Past the token's expiry on Effect's clock: the next get mints once more.
        yield* TestClock.adjust((TTL_SECONDS + 1) * 1000);
        const next = yield* provider.get;
        expect(next.token).not.toBe(first.token);
        return [first, next];
      }),
    );
    expect(reasons).toEqual(['initial', 'expired']);
    expect(as.tokenRequests() - before).toBe(2);
    expect(tokens).toHaveLength(2);
  });

  it('a refused client fails the build with MintFailed whose cause is the OAuth TokenEndpointError, and no rendering of the failure carries the client secret', async () => {
    const wrongSecret = `wrong-${as.basic.clientSecret}`;
    const exit = await runTest(
      Effect.exit(
        makeCredentialProvider<AccessToken, unknown, never>({
          name: 'refused-api',
          mint: oauthEffectMint(wrongSecret),
        }),
      ),
    );
    expect(Exit.isFailure(exit)).toBe(true);
    const failure = Exit.isFailure(exit) ? Cause.squash(exit.cause) : undefined;
    expect(failure).toBeInstanceOf(MintFailed);
    expect((failure as MintFailed).cause).toMatchObject({
      code: 'SLUICE_OAUTH_TOKEN_ENDPOINT',
      status: 401,
    });
    const sentinel = new SecretSentinel();
    sentinel.add('wrong client secret', wrongSecret.slice('wrong-'.length));
    sentinel.inspect('exit', exit);
    sentinel.inspect('cause pretty', Exit.isFailure(exit) ? Cause.pretty(exit.cause) : '');
    sentinel.expectClean();
  });

  it('a 401 handled in Effect: invalidate(rejected) drops exactly the refused token (one new token request), and a late invalidate of it drops nothing', async () => {
    const before = as.tokenRequests();
    await runTest(
      Effect.gen(function* () {
        const provider = yield* makeCredentialProvider<AccessToken, unknown, never>({
          name: 'billing-api',
          mint: oauthEffectMint(),
        });
        const refused = yield* provider.get;
        rs.revoke(refused.token);
        expect(yield* provider.invalidate(refused)).toBe(true);
        const replacement = yield* provider.get;
        expect(replacement.token).not.toBe(refused.token);
        expect(yield* provider.invalidate(refused)).toBe(false);
        expect(yield* provider.get).toBe(replacement);
      }),
    );
    expect(as.tokenRequests() - before).toBe(2);
  });
});
