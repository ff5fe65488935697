/**
 * Unknown option keys are refused by every options object of this package (issue 17 §4): the
 * constructor dies with core's `UnknownOptionError` naming the key and the nearest valid one,
 * never its value. A core spelling (`mintTimeoutMs`) was dropped without a word before.
 */

import { Cause, Effect, Exit, type Scope } from 'effect';
import { describe, it } from 'vitest';
import { expectUnknownOption } from '../../../test/support/unknown-option.js';
import {
  credentialExpiringIn,
  credentialProviderLayer,
  makeCredentialProvider,
  makeKeyedCredentialProvider,
} from '../src/index.js';
import { runTest } from './support/harness.js';

const SECRET = 'sk_live_2Vb8Qx4Lw7RtZp';
const mint = () => Effect.succeed({ value: 'x' });

/** Throws the defect `effect` dies with, so the shared assertion can inspect it. */
function defectOf(effect: Effect.Effect<unknown, unknown, Scope.Scope>): Promise<never> {
  return runTest(
    Effect.gen(function* () {
      const exit = yield* Effect.exit(effect);
      throw Exit.isFailure(exit) ? Cause.squash(exit.cause) : new Error('no failure');
    }),
  );
}

describe('unknown option keys', () => {
  it('refuses an unknown option key, naming it and the nearest valid one, without its value (makeCredentialProvider)', async () => {
    await expectUnknownOption(
      () => defectOf(makeCredentialProvider({ mint, mintTimeoutMs: 5_000 } as never)),
      'mintTimeoutMs',
      'mintTimeout',
      SECRET,
    );
    await expectUnknownOption(
      () => defectOf(makeCredentialProvider({ mint, clientSecret: SECRET } as never)),
      'clientSecret',
      undefined,
      SECRET,
    );
  });

  it('refuses an unknown option key, naming it and the nearest valid one, without its value (credentialProviderLayer)', async () => {
    class Token {}
    await expectUnknownOption(
      () =>
        defectOf(
          Effect.asVoid(
            Effect.provide(
              Effect.void,
              credentialProviderLayer(Token as never, { mint, lazzy: true } as never),
            ),
          ) as Effect.Effect<unknown, unknown, Scope.Scope>,
        ),
      'lazzy',
      'lazy',
      SECRET,
    );
  });

  it('refuses an unknown option key, naming it and the nearest valid one, without its value (breaker)', async () => {
    await expectUnknownOption(
      () => defectOf(makeCredentialProvider({ mint, breaker: { cooldownMs: 1_000 } } as never)),
      'breaker.cooldownMs',
      'cooldown',
      SECRET,
    );
  });

  it('refuses an unknown option key, naming it and the nearest valid one, without its value (makeKeyedCredentialProvider and sweep)', async () => {
    const keyed = (_key: string) => mint();
    await expectUnknownOption(
      () => defectOf(makeKeyedCredentialProvider({ mint: keyed, idleTtlMs: 1_000 } as never)),
      'idleTtlMs',
      'idleTtl',
      SECRET,
    );
    await expectUnknownOption(
      () =>
        defectOf(
          makeKeyedCredentialProvider({
            mint: keyed,
            sweep: { interval: '1 minute', intervalMs: SECRET },
          } as never),
        ),
      'sweep.intervalMs',
      'interval',
      SECRET,
    );
  });

  it('refuses an unknown option key, naming it and the nearest valid one, without its value (credentialExpiringIn)', async () => {
    await expectUnknownOption(
      () => defectOf(credentialExpiringIn(SECRET, 60, { skew: 5 } as never)),
      'credentialExpiringIn.skew',
      'skewSeconds',
      SECRET,
    );
  });
});
