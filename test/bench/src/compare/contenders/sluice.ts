/**
 * Sluice (`@sluice/core`): `createRefreshingProvider` with its defaults (refresh at 80% of
 * the lifetime in the background while serving, 10% jitter, 30 s floor, breaker 5 failures /
 * 60 s with one probe, one shared mint). Sets only:
 * - `lazy: true`: the first `get` mints, as for every other contender;
 * - `now` and `random` when the scenario injects them (simulated time, seeded jitter);
 * - `invalidate(token)`: passes the rejected token, so a 401 for a replaced token is ignored.
 */

import { createRefreshingProvider } from '@sluice/core';
import type { ContenderAdapter } from '../contender.js';

/** The Sluice adapter over one build of core (the working tree's, or a released one). */
export function sluiceContender(
  id: string,
  label: string,
  loadCore: () => Promise<Pick<typeof import('@sluice/core'), 'createRefreshingProvider'>>,
): ContenderAdapter {
  return {
    id,
    label,
    clock: 'injected',
    signals: true,
    tokenAwareInvalidate: true,
    async create({ mint, now, random }) {
      const core = await loadCore();
      const provider = await core.createRefreshingProvider<string>({
        name: `compare-${id}`,
        lazy: true,
        ...(now === undefined ? {} : { now }),
        ...(random === undefined ? {} : { random }),
        mint: ({ signal }) => mint(signal),
      });
      return {
        get: (signal) => (signal === undefined ? provider.get() : provider.get({ signal })),
        valueOf: (result) => result as string,
        invalidate: (token) => {
          provider.invalidate(token);
        },
        close: () => provider.close(),
      };
    },
  };
}

export const sluice: ContenderAdapter = sluiceContender('sluice', 'Sluice', async () => ({
  createRefreshingProvider,
}));
