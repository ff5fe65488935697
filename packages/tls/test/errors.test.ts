import { isSluiceError, SluiceError } from '@sluice/core';
import { describe, expect, it } from 'vitest';
import {
  HandshakeTimeoutError,
  isTlsError,
  ServernameInvalidError,
  ServernameRefusedError,
  TlsError,
} from '../src/index.js';

describe('TLS errors', () => {
  const errors = [
    new ServernameInvalidError('bad_name', 'bad-character'),
    new ServernameRefusedError('example.com'),
    new HandshakeTimeoutError('example.com', 10_000),
  ];

  it.each(errors)(
    '$name is a SluiceError with a SLUICE_TLS_ code that both guards match',
    (error) => {
      expect(error).toBeInstanceOf(TlsError);
      expect(error).toBeInstanceOf(SluiceError);
      expect(error.code.startsWith('SLUICE_TLS_')).toBe(true);
      expect(isTlsError(error)).toBe(true);
      expect(isTlsError(error, error.code)).toBe(true);
      expect(isSluiceError(error)).toBe(true);
      expect(isSluiceError(error, error.code)).toBe(true);
    },
  );

  it('isTlsError does not match core errors or foreign codes', () => {
    expect(isTlsError(Object.assign(new Error('x'), { code: 'SLUICE_BREAKER_OPEN' }))).toBe(false);
    expect(isTlsError(Object.assign(new Error('x'), { code: 'ECONNRESET' }))).toBe(false);
  });
});
