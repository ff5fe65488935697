/**
 * Unknown option keys are refused by every options object of this package (issue 17 §4),
 * naming the key and the nearest valid one, never its value.
 */

import type { Mint } from '@sluice/core';
import { describe, it } from 'vitest';
import { expectUnknownOption } from '../../../test/support/unknown-option.js';
import { createOpenTelemetryReporter, traceKeyedMint, traceMint } from '../src/index.js';

const SECRET = 'tok_4Hn8Qx2Lw7RtZp3V';
const mint: Mint<string> = () => ({ value: 'v', expiresAt: Date.now() + 60_000 });
const keyedMint = (_key: string) => mint({ reason: 'initial', signal: AbortSignal.abort() });

describe('unknown option keys', () => {
  it('refuses an unknown option key, naming it and the nearest valid one, without its value (createOpenTelemetryReporter)', async () => {
    await expectUnknownOption(
      () => createOpenTelemetryReporter({ includeKeys: SECRET } as never),
      'includeKeys',
      'includeKey',
      SECRET,
    );
  });

  it('refuses an unknown option key, naming it and the nearest valid one, without its value (traceMint)', async () => {
    await expectUnknownOption(
      () => traceMint(mint, { tracer: SECRET } as never),
      'traceMint.tracer',
      'tracerProvider',
      SECRET,
    );
    // includeKey belongs to traceKeyedMint only: a plain mint has no key to record.
    await expectUnknownOption(
      () => traceMint(mint, { includeKey: true } as never),
      'traceMint.includeKey',
      undefined,
      SECRET,
    );
  });

  it('refuses an unknown option key, naming it and the nearest valid one, without its value (traceKeyedMint)', async () => {
    await expectUnknownOption(
      () => traceKeyedMint(keyedMint, { keyFor: SECRET } as never),
      'traceKeyedMint.keyFor',
      'keyOf',
      SECRET,
    );
  });
});
