import { describe, expect, it } from 'vitest';
import { jsonCodec, tlsCertificateCodec } from '../../src/coordination/codec.js';

describe('codecs', () => {
  it('jsonCodec round-trips strings and plain objects, and refuses what JSON cannot hold', () => {
    for (const value of ['token', { a: 1, b: ['x'] }, 42]) {
      expect(jsonCodec.decode(jsonCodec.encode(value))).toEqual(value);
    }
    expect(() => jsonCodec.encode(undefined)).toThrow(TypeError);
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
