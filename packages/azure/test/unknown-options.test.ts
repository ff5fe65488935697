/**
 * Unknown option keys are refused by refreshingTokenCredential (issue 17 §4), naming the key
 * and the nearest valid one, never its value.
 */

import { describe, it } from 'vitest';
import { expectUnknownOption } from '../../../test/support/unknown-option.js';
import { refreshingTokenCredential } from '../src/index.js';

const SECRET = 'eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.secret-token';
const credential = {
  getToken: async () => ({ token: SECRET, expiresOnTimestamp: Date.now() + 3_600_000 }),
};

describe('unknown option keys', () => {
  it('refuses an unknown option key, naming it and the nearest valid one, without its value (refreshingTokenCredential)', async () => {
    await expectUnknownOption(
      () => refreshingTokenCredential(credential, { reportExpiry: 'actual' } as never),
      'reportExpiry',
      'reportedExpiry',
      SECRET,
    );
    await expectUnknownOption(
      () => refreshingTokenCredential(credential, { clientSecret: SECRET } as never),
      'clientSecret',
      undefined,
      SECRET,
    );
    // keyOf is the package's own (it keys by scopes, tenant and CAE): not an option here.
    await expectUnknownOption(
      () => refreshingTokenCredential(credential, { keyOf: String } as never),
      'keyOf',
      undefined,
      SECRET,
    );
  });
});
