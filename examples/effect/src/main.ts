/**
 * `pnpm example:effect`: @sluice/effect against a real OAuth 2.0 server (oidc-provider) on
 * loopback, on Effect's live clock.
 *
 *   A. The layer mints once while it is built; 100 concurrent fibers then share that token.
 *   B. A 401: `invalidate(token)` drops it, 100 fibers share ONE new mint, and late 401s for
 *      the replaced token cause no further mint.
 *   C. A fiber that forces a refresh and is interrupted at once ends only its own wait: the
 *      shared mint completes and its token is cached.
 *   D. An outage (503): `refresh` fails with `MintFailed` carrying the endpoint's tagged
 *      error, while `get` keeps serving the still-valid token.
 *   E. Releasing the layer closes the provider: a reference kept past it fails with
 *      `ProviderClosed`.
 *
 * Every claim is checked; the process exits 1 if one does not hold. Token values are never
 * printed.
 */

import type { CredentialProvider } from '@sluice/effect';
import { Effect, Exit, Fiber, Layer, Option } from 'effect';
import { startOAuthServer } from '../../demo/src/oauth-server.js';
import { ApiToken, ApiTokenLive, type MintError } from './api-token.js';
import { TokenEndpointError, tokenEndpointLayer } from './token-endpoint.js';

const FIBERS = 100;
const HARD_LIMIT_MS = 60_000;

interface Check {
  readonly label: string;
  readonly ok: boolean;
  readonly actual: string;
}

async function main(): Promise<number> {
  const checks: Check[] = [];
  const check = (label: string, ok: boolean, actual: string): void => {
    checks.push({ label, ok, actual });
    console.log(`  ${ok ? '✓' : '✗'} ${label}${ok ? '' : ` (got ${actual})`}`);
  };
  const server = await startOAuthServer({ accessTokenTtlSeconds: 300 });
  try {
    console.log(`@sluice/effect example: oidc-provider at ${server.issuer}, 300 s tokens`);
    const live = ApiTokenLive.pipe(
      Layer.provide(
        tokenEndpointLayer({
          tokenEndpoint: server.tokenEndpoint,
          clientId: server.clientId,
          clientSecret: server.clientSecret,
          scope: server.scope,
        }),
      ),
    );
    const requests = () => server.tokenRequests();

    const program = Effect.gen(function* () {
      const tokens = yield* ApiToken;

      console.log('\nA. the layer minted while it was built; 100 fibers share that token');
      const served = yield* Effect.all(
        Array.from({ length: FIBERS }, () => tokens.get),
        { concurrency: 'unbounded' },
      );
      check('one token request so far', requests() === 1, String(requests()));
      check(
        `all ${FIBERS} fibers got the same token`,
        new Set(served).size === 1,
        String(new Set(served).size),
      );
      const first = served[0] as string;

      console.log('\nB. a 401: invalidate the token; 100 fibers share one new mint');
      // #region invalidate
      const rejected = yield* tokens.get; // the API answered 401 to this token
      yield* tokens.invalidate(rejected); // false when it was already replaced
      const next = yield* tokens.get; // one mint, shared by every fiber that asks now
      // #endregion invalidate
      const again = yield* Effect.all(
        Array.from({ length: FIBERS }, () => tokens.get),
        { concurrency: 'unbounded' },
      );
      check('a new token replaced the rejected one', next !== first, 'the same token');
      check(
        'the fibers got the new token',
        again.every((value) => value === next),
        'other values',
      );
      let dropped = 0;
      for (let i = 0; i < 50; i++) if (yield* tokens.invalidate(first)) dropped++;
      check('50 late 401s for the replaced token dropped nothing', dropped === 0, String(dropped));
      check('two token requests in all', requests() === 2, String(requests()));

      console.log('\nC. a fiber forces a refresh and is interrupted at once');
      // Started at once, the fiber has joined (started) the mint before it is interrupted.
      const quitter = yield* Effect.forkChild(tokens.refresh, { startImmediately: true });
      check(
        'the refresh started a mint',
        (yield* tokens.snapshot).mintInFlight,
        'no mint in flight',
      );
      yield* Fiber.interrupt(quitter);
      yield* waitFor(tokens, (snapshot) => !snapshot.mintInFlight);
      const afterRefresh = Option.getOrUndefined(yield* tokens.peek)?.value;
      check(
        'the fiber was interrupted',
        Exit.hasInterrupts(yield* Fiber.await(quitter)),
        'not interrupted',
      );
      check(
        'the shared mint completed and its token is cached',
        afterRefresh !== undefined && afterRefresh !== next,
        'no new token',
      );
      check('three token requests in all', requests() === 3, String(requests()));

      console.log('\nD. outage: the token endpoint answers 503');
      server.setOutage(true);
      // #region outage
      const outcome = yield* tokens.refresh.pipe(
        Effect.map(() => 'refreshed'),
        Effect.catchTag('MintFailed', (failed) =>
          Effect.succeed(
            failed.cause instanceof TokenEndpointError
              ? `mint failed: ${failed.cause.status} ${failed.cause.code}`
              : `mint failed: ${failed.code}`,
          ),
        ),
      );
      const stillServed = yield* tokens.get; // the cached token is valid: served through the outage
      // #endregion outage
      check(
        'refresh failed with MintFailed(TokenEndpointError 503 temporarily_unavailable)',
        outcome === 'mint failed: 503 temporarily_unavailable',
        outcome,
      );
      check('get kept serving the valid token', stillServed === afterRefresh, 'another value');
      server.setOutage(false);
      return tokens;
    });

    const kept = await Effect.runPromise(program.pipe(Effect.provide(live)));

    console.log('\nE. the layer was released when the program ended');
    const afterRelease = await Effect.runPromise(Effect.exit(kept.get));
    const error = Exit.isFailure(afterRelease)
      ? Option.getOrUndefined(Exit.findErrorOption(afterRelease))
      : undefined;
    check(
      'a reference kept past the layer fails with ProviderClosed',
      error?._tag === 'ProviderClosed',
      String(error?._tag ?? 'a success'),
    );
  } finally {
    await server.close();
  }
  const failed = checks.filter((c) => !c.ok);
  console.log(
    `\n${checks.length - failed.length} of ${checks.length} checks passed${failed.length > 0 ? `; FAILED: ${failed.map((c) => c.label).join('; ')}` : ''}`,
  );
  return failed.length === 0 ? 0 : 1;
}

/** Polls the provider's snapshot on the live clock until `done` holds (10 s at most). */
function waitFor(
  tokens: CredentialProvider<string, MintError>,
  done: (snapshot: { readonly mintInFlight: boolean }) => boolean,
) {
  return Effect.gen(function* () {
    for (let i = 0; i < 1_000; i++) {
      if (done(yield* tokens.snapshot)) return;
      yield* Effect.sleep('10 millis');
    }
    return yield* Effect.die(new Error('the provider never reached the expected state'));
  });
}

const limit = setTimeout(() => {
  console.error(`example did not finish within ${HARD_LIMIT_MS} ms`);
  process.exit(1);
}, HARD_LIMIT_MS);
limit.unref();
main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  },
);
