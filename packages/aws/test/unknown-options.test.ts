/**
 * Unknown option keys are refused by every options object of this package (issue 17 §4),
 * naming the key and the nearest valid one, never its value (an AWS secret key, say).
 */

import type { AwsCredentialIdentityProvider } from '@smithy/types';
import { describe, it } from 'vitest';
import { expectUnknownOption } from '../../../test/support/unknown-option.js';
import { awsCredentials, awsCredentialsByKey, awsKeyedMint, awsMint } from '../src/index.js';

const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const source: AwsCredentialIdentityProvider = async () => ({
  accessKeyId: 'AKIDEXAMPLE',
  secretAccessKey: SECRET,
});

describe('unknown option keys', () => {
  it('refuses an unknown option key, naming it and the nearest valid one, without its value (awsCredentials)', async () => {
    await expectUnknownOption(
      () => awsCredentials(source, { secretAccessKey: SECRET } as never),
      'secretAccessKey',
      undefined,
      SECRET,
    );
    await expectUnknownOption(
      () => awsCredentials(source, { wrapMnt: (mint: unknown) => mint } as never),
      'wrapMnt',
      'wrapMint',
      SECRET,
    );
    // A policy key is known through core's POLICY_OPTION_KEYS.
    await expectUnknownOption(
      () => awsCredentials(source, { refershAt: 0.5 } as never),
      'refershAt',
      'refreshAt',
      SECRET,
    );
  });

  it('refuses an unknown option key, naming it and the nearest valid one, without its value (awsCredentialsByKey)', async () => {
    await expectUnknownOption(
      () => awsCredentialsByKey((_role: string) => source, { maxKey: 10 } as never),
      'maxKey',
      'maxKeys',
      SECRET,
    );
  });

  it('refuses an unknown option key, naming it and the nearest valid one, without its value (awsMint, awsKeyedMint)', async () => {
    await expectUnknownOption(
      () => awsMint(source, { expirySkew: 1_000 } as never),
      'expirySkew',
      'expirySkewMs',
      SECRET,
    );
    await expectUnknownOption(
      () => awsKeyedMint((_role: string) => source, { credentials: SECRET } as never),
      'credentials',
      undefined,
      SECRET,
    );
  });
});
