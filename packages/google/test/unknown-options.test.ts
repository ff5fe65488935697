/**
 * Unknown option keys are refused by every options object of this package (issue 17 §4),
 * naming the key and the nearest valid one, never its value.
 */

import { describe, it } from 'vitest';
import { expectUnknownOption } from '../../../test/support/unknown-option.js';
import { googleAuthMint, googleTokens } from '../src/index.js';

const SECRET = 'ya29.a0AfB_byC7Kq2Lw9RtZp4Vb8Nx';
const client = {
  async getAccessToken() {
    return { token: SECRET, res: { data: { expiry_date: Date.now() + 3_600_000 } } };
  },
};

describe('unknown option keys', () => {
  it('refuses an unknown option key, naming it and the nearest valid one, without its value (googleTokens)', async () => {
    await expectUnknownOption(
      () => googleTokens(client as never, { accessToken: SECRET } as never),
      'accessToken',
      undefined,
      SECRET,
    );
    await expectUnknownOption(
      () => googleTokens(client as never, { mintTimeout: 5_000 } as never),
      'mintTimeout',
      'mintTimeoutMs',
      SECRET,
    );
  });

  it('refuses an unknown option key, naming it and the nearest valid one, without its value (googleAuthMint)', async () => {
    await expectUnknownOption(
      () => googleAuthMint(client as never, { expirySkewMS: 60 } as never),
      'expirySkewMS',
      'expirySkewMs',
      SECRET,
    );
  });
});
