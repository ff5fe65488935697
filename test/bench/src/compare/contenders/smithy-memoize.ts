/**
 * `@smithy/property-provider` `memoize(provider, isExpired, requiresRefresh)`, configured as
 * the AWS SDK configures its credential provider (`memoizeIdentityProvider` in @smithy/core
 * with `isIdentityExpired` / `doesIdentityRequireRefresh`):
 * - `requiresRefresh`: the identity has an expiration;
 * - `isExpired`: `expiration - now < 5 minutes` (the SDK's `EXPIRATION_MS`), capped at 20% of
 *   the token lifetime for short tokens (see `cappedWindowMs`);
 * - the clock: `now` when injected, else `Date.now()` as in the SDK.
 * Inside the window every caller awaits the shared refresh; a failed refresh rejects the
 * callers even though the cached token is still valid. No signal support and no
 * invalidation API: a 401 is handled with `forceRefresh: true`, as the SDK's retry path does.
 */

import { memoize } from '@smithy/property-provider';
import { type ContenderAdapter, cappedWindowMs, type Token } from '../contender.js';

const SDK_EXPIRATION_MS = 300_000;

export const smithyMemoize: ContenderAdapter = {
  id: 'smithy-memoize',
  label: 'AWS SDK memoize',
  clock: 'injected',
  signals: false,
  tokenAwareInvalidate: false,
  create({ mint, now, lifetimeMs }) {
    const windowMs = cappedWindowMs(SDK_EXPIRATION_MS, lifetimeMs);
    const clock = now ?? Date.now;
    const provider = memoize<Token>(
      () => mint(),
      (token) => token.expiresAt - clock() < windowMs,
      (token) => token.expiresAt !== undefined,
    );
    const forced = { forceRefresh: true };
    let force = false;
    return {
      get: () => {
        if (!force) return provider();
        force = false;
        return provider(forced);
      },
      valueOf: (result) => (result as Token).value,
      invalidate: () => {
        force = true;
      },
      close: () => {},
    };
  },
};
