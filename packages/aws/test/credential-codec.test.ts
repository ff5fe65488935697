import { checkCredentialCodec, mintTraitsOf } from '@sluice/core';
import type { AwsCredentialIdentity } from '@smithy/types';
import { describe, expect, it } from 'vitest';
import { awsCredentialCodec, awsKeyedMint, awsMint } from '../src/index.js';

const identity: AwsCredentialIdentity = {
  accessKeyId: 'AKIDCODEC',
  secretAccessKey: 'codec-secret-do-not-print',
  sessionToken: 'codec-session-do-not-print',
  accountId: '123456789012',
  expiration: new Date('2030-01-02T03:04:05.678Z'),
};

describe('awsCredentialCodec', () => {
  it('round-trips every field, with expiration back as a Date', () => {
    const withSource = { ...identity, $source: { CREDENTIALS_HTTP: 'z' } };
    const back = awsCredentialCodec.decode(awsCredentialCodec.encode(withSource));
    expect(back).toEqual(withSource);
    expect(back.expiration).toBeInstanceOf(Date);
    expect(() => checkCredentialCodec(awsCredentialCodec, 'codec')).not.toThrow();
  });

  it('round-trips a credential without expiration or session token', () => {
    const plain = { accessKeyId: 'AKID', secretAccessKey: 'secret' };
    expect(awsCredentialCodec.decode(awsCredentialCodec.encode(plain))).toEqual(plain);
  });

  it('refuses what it cannot write faithfully, naming the field but never a value', () => {
    const cases: Array<[unknown, RegExp]> = [
      [{ ...identity, expiration: new Date(Number.NaN) }, /expiration/],
      [{ ...identity, expiration: '2030-01-01' }, /expiration/],
      [{ ...identity, extra: 1 }, /extra/],
      [{ ...identity, sessionToken: 5 }, /sessionToken/],
      [{ ...identity, $source: { a: 1 } }, /\$source/],
      [{ secretAccessKey: 'codec-secret-do-not-print' }, /accessKeyId/],
    ];
    for (const [value, field] of cases) {
      let error: unknown;
      try {
        awsCredentialCodec.encode(value as AwsCredentialIdentity);
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(TypeError);
      expect(String((error as Error).message)).toMatch(field);
      expect(JSON.stringify(String(error))).not.toMatch(/do-not-print/);
    }
    expect(() =>
      awsCredentialCodec.decode('{"accessKeyId":"A","secretAccessKey":"B","expiration":"x"}'),
    ).toThrow(/expiration/);
  });

  it('is attached to awsMint and awsKeyedMint as their codec trait, so a coordinator stores Dates losslessly', () => {
    const source = async () => identity;
    expect(mintTraitsOf(awsMint(source))?.codec).toBe(awsCredentialCodec);
    expect(mintTraitsOf(awsKeyedMint(() => source))?.codec).toBe(awsCredentialCodec);
  });
});
