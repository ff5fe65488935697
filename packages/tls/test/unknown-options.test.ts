/**
 * Unknown option keys are refused by createSniCallback (issue 17 §4): the error names the key
 * with its path and the nearest valid key, and never the value, which may be key material.
 * Keys createSniCallback forwards to core's keyed provider are core's policy keys only.
 */

import { inspect } from 'node:util';
import { createKeyedProvider, isSluiceError, UnknownOptionError } from '@sluice/core';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  type CertificateMint,
  createSniCallback,
  normalizeServername,
  type TlsCertificate,
} from '../src/index.js';
import { createLocalCa, type LocalCa } from './support/local-ca.js';

let ca: LocalCa;

beforeAll(async () => {
  ca = await createLocalCa();
});

const mint: CertificateMint = async (servername) => {
  const leaf = await ca.issue(servername);
  return { value: leaf.certificate, expiresAt: Date.now() + 3_600_000 };
};
const allow = (): boolean => true;

/** The refusal names `option` and `suggestion`, and no rendering shows `secret`. */
function expectRefused(
  fn: () => unknown,
  option: string,
  suggestion: string | undefined,
  secret: string,
): void {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(UnknownOptionError);
  expect(isSluiceError(caught, 'SLUICE_INVALID_OPTION')).toBe(true);
  const error = caught as UnknownOptionError;
  expect(error.option).toBe(option);
  expect(error.suggestion).toBe(suggestion);
  expect(error.message).toContain(`\`${option}\``);
  for (const rendering of [
    error.message,
    String(error),
    JSON.stringify(error),
    inspect(error, { depth: 9, showHidden: true }),
  ]) {
    expect(rendering).not.toContain(secret.slice(0, 8));
    expect(rendering).not.toContain(secret.slice(40, 48));
  }
}

describe('unknown option keys', () => {
  it('refuses an unknown option key, naming it and the nearest valid one, without its value (createSniCallback)', async () => {
    const leaf = await ca.issue('a.example.com');
    const key = String(leaf.certificate.key);
    expectRefused(
      () => createSniCallback({ certificates: mint, allow, privateKey: key } as never),
      'privateKey',
      undefined,
      key,
    );
    expectRefused(
      () => createSniCallback({ certificates: mint, allow, handshakeTimeout: key } as never),
      'handshakeTimeout',
      'handshakeTimeoutMs',
      key,
    );
    // A nested policy option is checked by core, with its path.
    expectRefused(
      () => createSniCallback({ certificates: mint, allow, breaker: { cooldown: key } } as never),
      'breaker.cooldown',
      'cooldownMs',
      key,
    );
  });

  it('refuses an unknown option key with a ready-made keyed provider too', async () => {
    const provider = createKeyedProvider<string, TlsCertificate>({ mint });
    try {
      expectRefused(
        () => createSniCallback({ certificates: provider, alow: allow } as never),
        'alow',
        'allow',
        'not-a-secret-but-long-enough-to-slice-it-twice-0123456789',
      );
    } finally {
      provider.close();
    }
  });

  it('refuses an unknown option key, naming it and the nearest valid one, without its value (normalizeServername)', () => {
    expectRefused(
      () => normalizeServername('localhost', { allowSingleLabels: true } as never),
      'normalizeServername.allowSingleLabels',
      'allowSingleLabel',
      'not-a-secret-but-long-enough-to-slice-it-twice-0123456789',
    );
  });

  it('passes the timers policy option on to the keyed provider it builds (it was dropped)', async () => {
    let scheduled = 0;
    const timers = {
      setTimeout: (callback: () => void, delayMs: number) => {
        scheduled += 1;
        return globalThis.setTimeout(callback, delayMs);
      },
      clearTimeout: (handle: unknown) =>
        globalThis.clearTimeout(handle as ReturnType<typeof setTimeout>),
    };
    const sni = createSniCallback({ certificates: mint, allow, timers });
    try {
      await sni.provider.get('a.example.com');
      expect(scheduled).toBeGreaterThan(0);
    } finally {
      sni.close();
    }
  });
});
