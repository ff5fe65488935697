import { isSluiceError } from '@sluice/core';
import { describe, expect, it } from 'vitest';
import {
  parseMintError,
  RelayedMintError,
  rebuildMintError,
  serializeMintError,
} from '../../src/coordination/errors.js';

describe('errors', () => {
  it('a relayed failure keeps the failed mint’s code, carries its error as cause and is not counted by the breaker', () => {
    const cause = new Error('issuer answered HTTP 503');
    const relayed = new RelayedMintError(
      {
        name: 'TokenEndpointError',
        message: 'HTTP 503',
        code: 'TOKEN_ENDPOINT_ERROR',
        status: 503,
      },
      cause,
      900,
      3,
      { name: 'billing' },
    );
    expect(relayed).toMatchObject({
      code: 'TOKEN_ENDPOINT_ERROR',
      cause,
      retryAfterMs: 900,
      failures: 3,
      countsTowardsBreaker: false,
      name: 'RelayedMintError',
    });
    expect(relayed.message).toContain('[billing]');
    const timeout = new RelayedMintError(
      { name: 'E', message: 'm', code: 'SLUICE_MINT_TIMEOUT' },
      cause,
      1,
      1,
    );
    expect(isSluiceError(timeout, 'SLUICE_MINT_TIMEOUT')).toBe(true);
    const bare = new RelayedMintError({ name: 'E', message: 'm' }, cause, 1, 1);
    expect(bare.code).toBe('SLUICE_FLEET_RELAYED_FAILURE');
  });

  it('serialises any thrown value safely: name, truncated message, string code, numeric status, nothing else', () => {
    const hostile = Object.defineProperty({}, 'message', {
      get() {
        throw new Error('getter');
      },
    });
    expect(serializeMintError(hostile)).toEqual({ name: 'Error', message: 'unreadable error' });
    expect(serializeMintError('boom')).toEqual({ name: 'Error', message: 'boom' });
    expect(serializeMintError(null)).toEqual({ name: 'Error', message: 'null' });
    const rich = Object.assign(new TypeError('x'.repeat(600)), {
      code: 'E1',
      status: 503,
      token: 'secret',
    });
    const fields = serializeMintError(rich);
    expect(fields).toMatchObject({ name: 'TypeError', code: 'E1', status: 503 });
    expect(fields.message.length).toBeLessThanOrEqual(503);
    expect(JSON.stringify(fields)).not.toContain('secret');
  });

  it('parses what it serialised and refuses anything else; rebuilds an Error with the same fields', () => {
    const fields = { name: 'IssuerError', message: 'HTTP 503', code: 'E503', status: 503 };
    expect(parseMintError(JSON.stringify(fields))).toEqual(fields);
    for (const junk of ['', 'null', '[]', '{"name":1}', '{'])
      expect(parseMintError(junk)).toBeUndefined();
    expect(rebuildMintError(fields)).toMatchObject(fields);
    expect(rebuildMintError(fields)).toBeInstanceOf(Error);
  });
});
