/**
 * Testing code that uses @sluice/effect with Effect's TestClock: the token endpoint is a test
 * layer, time moves only with `TestClock.adjust`, and nothing sleeps for real. docs/effect.md
 * quotes the regions of this file.
 */

// biome-ignore assist/source/organizeImports: docs/effect.md quotes the region's imports (it continues the sources)
import { Effect, Layer } from 'effect';
import { ApiToken, ApiTokenLive } from '../src/api-token.js';
import { TokenEndpoint, TokenEndpointError } from '../src/token-endpoint.js';
// #region testclock-setup
import { Fiber } from 'effect';
import { TestClock } from 'effect/testing';
import { describe, expect, it } from 'vitest';

/** A token endpoint that answers from a script and counts its calls. */
function scriptedEndpoint(answers: Array<'ok' | 'down' | 'hang'>) {
  let calls = 0;
  const requestToken = Effect.suspend(() => {
    const answer = answers[Math.min(calls, answers.length - 1)];
    calls++;
    if (answer === 'hang') return Effect.never;
    if (answer === 'down') {
      return Effect.fail(new TokenEndpointError({ code: 'temporarily_unavailable', status: 503 }));
    }
    return Effect.succeed({ access_token: `token-${calls}`, expires_in: 3600 });
  });
  return { calls: () => calls, layer: Layer.succeed(TokenEndpoint, { requestToken }) };
}
// #endregion testclock-setup

describe('ApiToken under TestClock', () => {
  // #region testclock-timeout
  it('a token endpoint that hangs fails the layer with MintTimeout after 5 s of TestClock time', () =>
    Effect.gen(function* () {
      const endpoint = Layer.succeed(TokenEndpoint, { requestToken: Effect.never });
      const fiber = yield* ApiToken.use((tokens) => tokens.get).pipe(
        Effect.provide(ApiTokenLive.pipe(Layer.provide(endpoint))),
        Effect.flip,
        Effect.forkChild,
      );
      yield* TestClock.adjust('5 seconds'); // fires the mint timeout: no real wait
      const error = yield* Fiber.join(fiber);
      expect(error._tag).toBe('MintTimeout');
    }).pipe(Effect.provide(TestClock.layer()), Effect.runPromise));
  // #endregion testclock-timeout

  // #region testclock-refresh
  it('refreshes in the background at 80% of the lifetime and serves the valid token through an outage', () =>
    Effect.gen(function* () {
      const endpoint = scriptedEndpoint(['ok', 'down', 'down', 'ok']);
      yield* Effect.gen(function* () {
        const tokens = yield* ApiToken;
        expect(yield* tokens.get).toBe('token-1');
        yield* TestClock.adjust('48 minutes'); // due (at most 80% of 3599 s), still valid
        expect(yield* tokens.get).toBe('token-1'); // served; the refresh fails behind it
        yield* TestClock.adjust('1 minute');
        expect(yield* tokens.get).toBe('token-1'); // served again; the second refresh fails
        yield* TestClock.adjust('1 minute');
        yield* tokens.get; // the third refresh succeeds in the background
        yield* TestClock.adjust('1 second');
        expect(yield* tokens.get).toBe('token-4');
      }).pipe(Effect.provide(ApiTokenLive.pipe(Layer.provide(endpoint.layer))));
      expect(endpoint.calls()).toBe(4);
    }).pipe(Effect.provide(TestClock.layer()), Effect.runPromise));
  // #endregion testclock-refresh
});
