/**
 * Sluice 0.2.0 (`@sluice/core` as released, rebuilt from git by `baseline-core.ts`), with the
 * same settings as the `sluice` contender: so every run compares the working tree with the
 * last release on the same machine, in the same process.
 */

import { CORE_0_2_0, loadCoreRelease } from '../../baseline-core.js';
import type { ContenderAdapter } from '../contender.js';

export const sluice020: ContenderAdapter = {
  id: 'sluice-0.2.0',
  label: 'Sluice 0.2.0',
  clock: 'injected',
  signals: true,
  tokenAwareInvalidate: true,
  async create({ mint, now, random }) {
    const core = await loadCoreRelease(CORE_0_2_0);
    const provider = await core.createRefreshingProvider<string>({
      name: 'compare-0.2.0',
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
