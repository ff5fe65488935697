import { Context, Effect, Exit, Fiber, Layer, Option, Scope } from 'effect';
import { describe, expect, it } from 'vitest';
import {
  type CredentialProvider,
  credentialExpiringIn,
  credentialProviderLayer,
  type KeyedCredentialProvider,
  keyedCredentialProviderLayer,
  MintFailed,
  ProviderClosed,
} from '../src/index.js';
import {
  advance,
  flush,
  HOUR,
  manualMint,
  now,
  runTest,
  START,
  start,
  until,
} from './support/harness.js';

/** A service the mint needs: the layer must be given it, and the mint runs with it. */
class Issuer extends Context.Service<
  Issuer,
  { readonly issue: (audience: string) => Effect.Effect<{ token: string; expiresIn: number }> }
>()('test/Issuer') {}

class IssuerDown {
  readonly _tag = 'IssuerDown';
}

class BillingToken extends Context.Service<
  BillingToken,
  CredentialProvider<string, IssuerDown | import('@sluice/core').InvalidOptionError>
>()('test/BillingToken') {}

class TenantTokens extends Context.Service<TenantTokens, KeyedCredentialProvider<string, string>>()(
  'test/TenantTokens',
) {}

function issuerLayer() {
  const issued: string[] = [];
  const layer = Layer.succeed(Issuer, {
    issue: (audience) =>
      Effect.sync(() => {
        issued.push(audience);
        return { token: `${audience}#${issued.length}`, expiresIn: 3600 };
      }),
  });
  return { issued, layer };
}

const billingMint = () =>
  Effect.gen(function* () {
    const issuer = yield* Issuer;
    const body = yield* issuer.issue('billing');
    return yield* credentialExpiringIn(body.token, body.expiresIn);
  });

describe('credentialProviderLayer', () => {
  it('provides the service, runs the mint with the services given to the layer, and reads expires_in on the Effect clock', () =>
    runTest(
      Effect.gen(function* () {
        const { issued, layer } = issuerLayer();
        const live = credentialProviderLayer(BillingToken, { mint: billingMint }).pipe(
          Layer.provide(layer),
        );
        const credential = yield* BillingToken.use((tokens) => tokens.getCredential).pipe(
          Effect.provide(live),
        );
        expect(credential).toEqual({ value: 'billing#1', expiresAt: START + HOUR });
        expect(issued).toEqual(['billing']);
      }),
    ));

  it('closes the provider when the layer is released: a reference kept past it fails with ProviderClosed', () =>
    runTest(
      Effect.gen(function* () {
        const { layer } = issuerLayer();
        const live = credentialProviderLayer(BillingToken, { mint: billingMint }).pipe(
          Layer.provide(layer),
        );
        const kept = yield* Effect.gen(function* () {
          const tokens = yield* BillingToken;
          expect(yield* tokens.get).toBe('billing#1');
          return tokens;
        }).pipe(Effect.provide(live));
        const exit = yield* Effect.exit(kept.get);
        expect(Exit.isFailure(exit) && Exit.findErrorOption(exit)).toEqual(
          Option.some(expect.any(ProviderClosed)),
        );
        expect((yield* kept.snapshot).status).toBe('closed');
      }),
    ));

  it('fails to build with MintFailed when the first mint fails, and builds a lazy layer without minting', () =>
    runTest(
      Effect.gen(function* () {
        let mints = 0;
        const failing = () =>
          Effect.suspend(() => {
            mints++;
            return Effect.fail(new IssuerDown());
          });
        const eager = credentialProviderLayer(BillingToken, { mint: failing });
        const exit = yield* Effect.exit(
          BillingToken.use((tokens) => tokens.get).pipe(Effect.provide(eager)),
        );
        const error = Exit.isFailure(exit) ? Exit.findErrorOption(exit) : Option.none();
        expect(Option.getOrUndefined(error)).toBeInstanceOf(MintFailed);
        expect((Option.getOrThrow(error) as MintFailed<IssuerDown>).cause).toBeInstanceOf(
          IssuerDown,
        );
        expect(mints).toBe(1);

        const lazy = credentialProviderLayer(BillingToken, { mint: failing, lazy: true });
        const snapshot = yield* BillingToken.use((tokens) => tokens.snapshot).pipe(
          Effect.provide(lazy),
        );
        expect(snapshot.status).toBe('empty');
        expect(mints).toBe(1);
      }),
    ));

  it('tearing the layer down interrupts the mint in flight and fails its waiters with ProviderClosed', () =>
    runTest(
      Effect.gen(function* () {
        const m = manualMint<string, IssuerDown>();
        const live = credentialProviderLayer(BillingToken, { mint: m.mint, lazy: true });
        const program = yield* start(
          Effect.gen(function* () {
            const tokens = yield* BillingToken;
            // Detached, so it outlives the program and sees what the teardown does to it.
            const waiter = yield* Effect.forkDetach(Effect.exit(tokens.get));
            // The program ends (and the layer is released) while the mint still runs.
            yield* until(() => m.calls.length === 1, 'the mint');
            return waiter;
          }).pipe(Effect.provide(live)),
        );
        const waiter = yield* Fiber.join(program);
        expect(m.last().interrupted).toBe(true);
        expect(m.last().finalized).toBe(true);
        const exit = yield* Fiber.join(waiter);
        expect(
          Exit.isFailure(exit) && Option.getOrUndefined(Exit.findErrorOption(exit)),
        ).toBeInstanceOf(ProviderClosed);
      }),
    ));
});

describe('keyedCredentialProviderLayer', () => {
  it('provides a keyed service whose mint receives the key and the layer services', () =>
    runTest(
      Effect.gen(function* () {
        const { issued, layer } = issuerLayer();
        const live = keyedCredentialProviderLayer(TenantTokens, {
          mint: (tenant: string) =>
            Effect.gen(function* () {
              const body = yield* (yield* Issuer).issue(tenant);
              return { value: body.token, expiresAt: (yield* now) + body.expiresIn * 1000 };
            }),
        }).pipe(Layer.provide(layer));
        const tokens = yield* Effect.gen(function* () {
          const tenants = yield* TenantTokens;
          return [
            yield* tenants.get('acme'),
            yield* tenants.get('globex'),
            yield* tenants.get('acme'),
            yield* tenants.keys,
          ] as const;
        }).pipe(Effect.provide(live));
        expect(tokens).toEqual(['acme#1', 'globex#2', 'acme#1', ['globex', 'acme']]);
        expect(issued).toEqual(['acme', 'globex']);
      }),
    ));

  it('the sweep runs on TestClock inside the layer and stops with it', () =>
    runTest(
      Effect.gen(function* () {
        const m = manualMint<string, never>();
        const scope = yield* Scope.make();
        const live = keyedCredentialProviderLayer(TenantTokens, {
          mint: m.keyedMint,
          jitter: 0,
          sweep: { interval: '1 minute', jitter: 0 },
        });
        const context = yield* Layer.buildWithScope(live, scope);
        const tenants = Context.get(context, TenantTokens);
        const first = yield* start(tenants.get('acme'));
        yield* m.succeed('acme-1');
        expect(yield* Fiber.join(first)).toBe('acme-1');
        yield* advance(0.8 * HOUR);
        yield* until(() => m.calls.length === 2, 'the sweep refresh');
        expect(m.last()).toMatchObject({ key: 'acme' });
        expect(m.last().context.reason).toBe('proactive');
        yield* m.succeed('acme-2');
        yield* Scope.close(scope, Exit.void);
        yield* advance(2 * HOUR);
        yield* flush();
        expect(m.calls).toHaveLength(2);
      }),
    ));
});
