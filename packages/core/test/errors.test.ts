import { describe, expect, it } from 'vitest';
import {
  BreakerOpenError,
  InvalidClockError,
  InvalidCredentialError,
  InvalidOptionError,
  isSluiceError,
  KeysBusyError,
  MaxWaitError,
  MintedCredentialExpiredError,
  MintTimeoutError,
  ProviderClosedError,
  SluiceError,
} from '../src/errors.js';

describe('errors', () => {
  const cause = new Error('upstream');
  const cases: Array<[SluiceError, string, string]> = [
    [new BreakerOpenError(1500, { cause, name: 'api' }), 'SLUICE_BREAKER_OPEN', 'BreakerOpenError'],
    [new MintTimeoutError(30_000), 'SLUICE_MINT_TIMEOUT', 'MintTimeoutError'],
    [
      new MintedCredentialExpiredError(1, 2),
      'SLUICE_MINTED_CREDENTIAL_EXPIRED',
      'MintedCredentialExpiredError',
    ],
    [new InvalidCredentialError('no value'), 'SLUICE_INVALID_CREDENTIAL', 'InvalidCredentialError'],
    [
      new InvalidOptionError('refreshAt', 'a number in (0, 1]', 2),
      'SLUICE_INVALID_OPTION',
      'InvalidOptionError',
    ],
    [new ProviderClosedError(), 'SLUICE_PROVIDER_CLOSED', 'ProviderClosedError'],
    [new MaxWaitError(600_000, 4, { cause }), 'SLUICE_MAX_WAIT', 'MaxWaitError'],
  ];

  it.each(cases)('%s has a stable code and its class name', (error, code, name) => {
    expect(error).toBeInstanceOf(SluiceError);
    expect(error).toBeInstanceOf(Error);
    expect(error.code).toBe(code);
    expect(error.name).toBe(name);
    expect(isSluiceError(error)).toBe(true);
    expect(isSluiceError(error, code as never)).toBe(true);
    expect(
      isSluiceError(error, 'SLUICE_MAX_WAIT' === code ? 'SLUICE_MINT_TIMEOUT' : 'SLUICE_MAX_WAIT'),
    ).toBe(false);
  });

  it('passes cause through', () => {
    expect(new BreakerOpenError(1, { cause }).cause).toBe(cause);
    expect(new MaxWaitError(1, 1, { cause }).cause).toBe(cause);
  });

  it('isSluiceError matches a look-alike from a duplicate package copy by code, and nothing else', () => {
    const foreign = Object.assign(new Error('x'), { code: 'SLUICE_BREAKER_OPEN' });
    expect(isSluiceError(foreign, 'SLUICE_BREAKER_OPEN')).toBe(true);
    expect(isSluiceError(Object.assign(new Error('x'), { code: 'ECONNRESET' }))).toBe(false);
    expect(isSluiceError('SLUICE_BREAKER_OPEN')).toBe(false);
    expect(isSluiceError(null)).toBe(false);
  });

  it('InvalidOptionError names the option and echoes the bad value', () => {
    const error = new InvalidOptionError('breaker.cooldownMs', 'an integer', -5);
    expect(error.option).toBe('breaker.cooldownMs');
    expect(error.message).toBe('option `breaker.cooldownMs` must be an integer; received -5');
  });

  it('isSluiceError narrows to the class behind the code', () => {
    const error: unknown = new BreakerOpenError(250);
    if (!isSluiceError(error, 'SLUICE_BREAKER_OPEN')) throw new Error('expected a match');
    const retryAfterMs: number = error.retryAfterMs; // compiles only if narrowed
    expect(retryAfterMs).toBe(250);
  });

  it('never echoes a long string option value, which could be a misplaced secret', () => {
    const error = new InvalidOptionError(
      'expiresInSeconds',
      'a number',
      'eyJhbGciOiJIUzI1NiJ9.secret',
    );
    expect(error.message).not.toContain('eyJ');
    expect(error.message).toContain('a string of length 27');
  });

  it('InvalidOptionError with { secret: true } describes even a short value by its type only', () => {
    for (const [value, shown] of [
      ['hunter2', 'a string'],
      ['', 'an empty string'],
      [42, 'a number'],
      [7n, 'a bigint'],
      [{ method: 'x' }, 'an object'],
      [['s3cret'], 'an array'],
      [null, 'null'],
    ] as const) {
      const error = new InvalidOptionError('clientSecret', 'a string', value, { secret: true });
      expect(error.message).toBe(`option \`clientSecret\` must be a string; received ${shown}`);
    }
  });

  it('InvalidOptionError with { secret: false } shows a public string in full, bounded', () => {
    const url = 'http://auth.example.com/realms/x';
    expect(new InvalidOptionError('issuer', 'an https: URL', url, { secret: false }).message).toBe(
      `option \`issuer\` must be an https: URL; received "${url}"`,
    );
    const long = new InvalidOptionError('issuer', 'a URL', 'x'.repeat(500), { secret: false });
    expect(long.message).toContain(`"${'x'.repeat(199)}…"`);
  });

  it('never echoes a long bigint option value in full, by the same rule as strings', () => {
    const secret = 123456789012345678901234567890n;
    const error = new InvalidOptionError('maxKeys', 'an integer', secret);
    expect(error.message).not.toContain('1234567890');
    expect(error.message).toContain('a bigint of 30 digits');
    expect(new InvalidOptionError('maxKeys', 'an integer', 5n).message).toContain('received 5n');
  });

  it('InvalidClockError says what the clock did; KeysBusyError names maxKeys', () => {
    const threw = new Error('clock broke');
    const error = new InvalidClockError('threw', { cause: threw, name: 'billing' });
    expect(error.code).toBe('SLUICE_INVALID_CLOCK');
    expect(error.cause).toBe(threw);
    expect(error.message).toBe(
      '[billing] the clock (`now` option) threw; expected a finite number of epoch milliseconds',
    );
    const busy = new KeysBusyError(3);
    expect(busy.code).toBe('SLUICE_KEYS_BUSY');
    expect(busy.maxKeys).toBe(3);
    expect(isSluiceError(busy, 'SLUICE_KEYS_BUSY')).toBe(true);
  });

  it('MintedCredentialExpiredError tells a zero lifetime from a clock or unit problem', () => {
    expect(new MintedCredentialExpiredError(1_000, 1_000).message).toContain('no lifetime left');
    expect(new MintedCredentialExpiredError(1_000, 1_000).message).not.toContain('ago');
    expect(new MintedCredentialExpiredError(1_000, 6_000).message).toContain('expired 5000 ms ago');
  });

  it('BreakerOpenError says when to retry', () => {
    const error = new BreakerOpenError(1500, { name: 'api' });
    expect(error.retryAfterMs).toBe(1500);
    expect(error.message).toMatch(/^\[api\] .*retry in 1500 ms$/);
  });
});
