import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidOptionError } from '../src/errors.js';
import { classifyHttpStatus, isTransientNetworkError } from '../src/http-status.js';

describe('classifyHttpStatus', () => {
  it.each([
    [200, 'done'],
    [201, 'done'],
    [202, 'done'],
    [204, 'done'],
    [299, 'done'],
    [429, 'pending'],
    [500, 'pending'],
    [502, 'pending'],
    [503, 'pending'],
    [504, 'pending'],
    [599, 'pending'],
    [400, 'failed'],
    [401, 'failed'],
    [403, 'failed'],
    [404, 'failed'],
    [408, 'failed'],
    [409, 'failed'],
    [422, 'failed'],
    [428, 'failed'],
    [430, 'failed'],
    [499, 'failed'],
    [100, 'failed'],
    [101, 'failed'],
    [199, 'failed'],
    [301, 'failed'],
    [302, 'failed'],
    [304, 'failed'],
    [399, 'failed'],
    [0, 'failed'],
    [99, 'failed'],
    [600, 'failed'],
    [999, 'failed'],
    [-1, 'failed'],
  ] as const)('classifies %i as %s', (status, expected) => {
    expect(classifyHttpStatus(status)).toBe(expected);
  });

  it('answers done for every 2xx and pending for every 5xx', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 200, max: 299 }),
        fc.integer({ min: 500, max: 599 }),
        (ok, down) => {
          expect(classifyHttpStatus(ok)).toBe('done');
          expect(classifyHttpStatus(down)).toBe('pending');
        },
      ),
    );
  });

  it.each([200.5, Number.NaN, Number.POSITIVE_INFINITY, '200', undefined])(
    'throws InvalidOptionError for the non-integer status %s',
    (status) => {
      expect(() => classifyHttpStatus(status as number)).toThrow(InvalidOptionError);
      expect(() => classifyHttpStatus(status as number)).toThrow(
        expect.objectContaining({ option: 'classifyHttpStatus.status' }),
      );
    },
  );
});

function withCode(code: string, message = code): Error {
  return Object.assign(new Error(message), { code });
}

describe('isTransientNetworkError', () => {
  it.each([
    [
      'a fetch failure caused by ECONNREFUSED',
      new TypeError('fetch failed', { cause: withCode('ECONNREFUSED') }),
    ],
    [
      'a fetch failure caused by UND_ERR_SOCKET',
      new TypeError('fetch failed', { cause: withCode('UND_ERR_SOCKET') }),
    ],
    [
      'a fetch failure caused by an aggregate of ECONNREFUSED',
      new TypeError('fetch failed', {
        cause: new AggregateError([withCode('ECONNREFUSED'), withCode('ECONNREFUSED')]),
      }),
    ],
    ['a fetch failure with no cause', new TypeError('fetch failed')],
    ["Chromium's failed fetch", new TypeError('Failed to fetch')],
    ["Safari's failed fetch", new TypeError('Load failed')],
    ['ECONNRESET', withCode('ECONNRESET')],
    ['ETIMEDOUT', withCode('ETIMEDOUT')],
    ['EAI_AGAIN', withCode('EAI_AGAIN')],
    ['UND_ERR_CONNECT_TIMEOUT', withCode('UND_ERR_CONNECT_TIMEOUT')],
    ['UND_ERR_HEADERS_TIMEOUT', withCode('UND_ERR_HEADERS_TIMEOUT')],
    ['a per-request TimeoutError', new DOMException('timed out', 'TimeoutError')],
  ])('treats %s as transient', (_, error) => {
    expect(isTransientNetworkError(error)).toBe(true);
  });

  it.each([
    [
      'a fetch failure caused by ENOTFOUND',
      new TypeError('fetch failed', { cause: withCode('ENOTFOUND') }),
    ],
    [
      'a fetch failure caused by an expired certificate',
      new TypeError('fetch failed', { cause: withCode('CERT_HAS_EXPIRED') }),
    ],
    ['UND_ERR_INVALID_ARG', withCode('UND_ERR_INVALID_ARG')],
    ['an AbortError', new DOMException('aborted', 'AbortError')],
    ['an unrelated TypeError', new TypeError('res.json is not a function')],
    ['a plain Error', new Error('fetch failed')],
    ['a string code', 'ECONNRESET'],
    ['null', null],
    ['undefined', undefined],
  ])('treats %s as not transient', (_, error) => {
    expect(isTransientNetworkError(error)).toBe(false);
  });

  it('terminates on a cyclic cause chain', () => {
    const a: Error & { cause?: unknown } = new Error('a');
    const b = new Error('b', { cause: a });
    a.cause = b;
    expect(isTransientNetworkError(a)).toBe(false);
  });
});
