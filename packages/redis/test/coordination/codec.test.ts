import { describe, expect, it } from 'vitest';
import { jsonCodec, tlsCertificateCodec } from '../../src/coordination/codec.js';
import { CodecError } from '../../src/coordination/errors.js';

describe('codecs', () => {
  it('jsonCodec round-trips strings and plain objects, and refuses what JSON cannot hold', () => {
    for (const value of ['token', { a: 1, b: ['x'] }, 42]) {
      expect(jsonCodec.decode(jsonCodec.encode(value))).toEqual(value);
    }
    expect(() => jsonCodec.encode(undefined)).toThrow(CodecError);
  });

  it('jsonCodec refuses every value JSON would store lossily, naming where and never quoting the value', () => {
    class AccessToken {
      constructor(readonly token: string) {}
      toJSON() {
        return { token: '[redacted]' };
      }
    }
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    const refused: Array<[unknown, string]> = [
      [new AccessToken('s3cret-token'), 'AccessToken'],
      [{ nested: { token: new AccessToken('s3cret-token') } }, '$.nested.token'],
      [{ toJSON: () => 'x' }, 'toJSON'],
      [new Date(0), 'Date'],
      [new Map([['a', 1]]), 'Map'],
      [{ f: () => 1 }, 'function'],
      [{ s: Symbol('x') }, 'symbol'],
      [{ [Symbol('k')]: 1 }, 'symbol keys'],
      [{ n: 1n }, 'bigint'],
      [{ u: undefined }, 'undefined at $.u'],
      [[1, undefined], 'undefined at $[1]'],
      // biome-ignore lint/suspicious/noSparseArray: a hole is the point
      [[1, , 3], 'hole'],
      [{ n: Number.NaN }, 'non-finite'],
      [Number.POSITIVE_INFINITY, 'non-finite'],
      [cycle, 'cycle'],
      [Buffer.from('s3cret-token'), 'Buffer'],
    ];
    for (const [value, where] of refused) {
      let thrown: unknown;
      try {
        jsonCodec.encode(value);
      } catch (error) {
        thrown = error;
      }
      expect(thrown, where).toBeInstanceOf(CodecError);
      expect((thrown as CodecError).code).toBe('SLUICE_FLEET_CODEC_FAILED');
      expect((thrown as Error).message).toContain(where);
      expect((thrown as Error).message).not.toContain('s3cret');
    }
    const plain = {
      a: [1, 'b', null, true, { c: -0.5 }],
      d: Object.assign(Object.create(null), { e: 1 }),
    };
    expect(jsonCodec.decode(jsonCodec.encode(plain))).toEqual(JSON.parse(JSON.stringify(plain)));
  });

  it('tlsCertificateCodec stores PEM strings or buffers and reads them back as strings', () => {
    const pair = { key: Buffer.from('-----BEGIN PRIVATE KEY-----\nk\n'), cert: 'CERT' };
    expect(tlsCertificateCodec.decode(tlsCertificateCodec.encode(pair))).toEqual({
      key: '-----BEGIN PRIVATE KEY-----\nk\n',
      cert: 'CERT',
    });
    expect(() => tlsCertificateCodec.encode(null as never)).toThrow(TypeError);
    expect(() => tlsCertificateCodec.encode({ key: 1, cert: 'x' } as never)).toThrow(TypeError);
    expect(() => tlsCertificateCodec.decode('{"key":1}')).toThrow(TypeError);
  });
});
