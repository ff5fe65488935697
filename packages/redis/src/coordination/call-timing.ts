/**
 * The coordinator's waits for one call of a wrapped mint, derived from the provider that
 * calls it (`MintContext.mintTimeoutMs`), as a pure function: the provider's timeout is the
 * one source of truth, so a follower always gives up waiting early enough to mint locally
 * before its provider gives up on it.
 */

import { InvalidOptionError } from '@sluice/core';

/** How long one call may wait and renew, in milliseconds. */
export interface CallTiming {
  /** A follower that has waited this long for another's lease mints locally. */
  readonly waitMs: number;
  /** The leader renews its lease for at most this long while its mint runs. */
  readonly renewForMs: number;
}

/** Used only when neither the option nor the provider says (a mint called by hand). */
export const FALLBACK_MINT_TIMEOUT_MS = 15_000;

/**
 * The waits of one call. Without the coordinator's `mintTimeoutMs`: half of the provider's
 * timeout for a follower (the other half is left for its local mint), the whole of it for the
 * leader's renewals (the provider aborts the mint then anyway). With it: `leaseMs +
 * mintTimeoutMs` and `mintTimeoutMs`, once {@link checkRoom} accepts them.
 *
 * @throws {InvalidOptionError} `SLUICE_INVALID_OPTION` from {@link checkRoom}.
 */
export function callTiming(
  leaseMs: number,
  mintTimeoutMs: number | undefined,
  providerMintTimeoutMs: unknown,
): CallTiming {
  const provider =
    typeof providerMintTimeoutMs === 'number' &&
    Number.isFinite(providerMintTimeoutMs) &&
    providerMintTimeoutMs > 0
      ? providerMintTimeoutMs
      : undefined;
  if (mintTimeoutMs !== undefined) {
    if (provider !== undefined) checkRoom(leaseMs, mintTimeoutMs, provider);
    return { waitMs: leaseMs + mintTimeoutMs, renewForMs: mintTimeoutMs };
  }
  if (provider !== undefined) return { waitMs: Math.floor(provider / 2), renewForMs: provider };
  return { waitMs: leaseMs + FALLBACK_MINT_TIMEOUT_MS, renewForMs: FALLBACK_MINT_TIMEOUT_MS };
}

/**
 * Refuses a coordinator `mintTimeoutMs` whose wait (`leaseMs + mintTimeoutMs`) leaves less
 * than a third of the provider's `mintTimeoutMs` for the local mint that follows it: the
 * fallback would never fire before the provider gives up. The error names both values.
 *
 * @throws {InvalidOptionError} `SLUICE_INVALID_OPTION` naming `mintTimeoutMs`.
 */
export function checkRoom(leaseMs: number, mintTimeoutMs: number, providerMs: number): void {
  const waitMs = leaseMs + mintTimeoutMs;
  if (waitMs * 3 <= providerMs * 2) return;
  const most = Math.floor((providerMs * 2) / 3) - leaseMs;
  const fix = most >= 1 ? `at most ${most} ms` : `unset (no value fits with leaseMs ${leaseMs} ms)`;
  throw new InvalidOptionError(
    'mintTimeoutMs',
    `${fix}: the coordinator's leaseMs + mintTimeoutMs (${leaseMs} + ${mintTimeoutMs} = ${waitMs} ms) must leave a third of the provider's mintTimeoutMs (${providerMs} ms) for a local mint; leave the coordinator's mintTimeoutMs unset to derive it from the provider`,
    mintTimeoutMs,
  );
}
