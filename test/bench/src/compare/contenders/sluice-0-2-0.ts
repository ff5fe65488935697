/**
 * Sluice 0.2.0 (`@sluice/core` as released, rebuilt from git by `baseline-core.ts`), with the
 * same settings as the `sluice` contender: so every run compares the working tree with the
 * last release on the same machine, in the same process.
 */

import { CORE_0_2_0, loadCoreRelease } from '../../baseline-core.js';
import { sluiceContender } from './sluice.js';

export const sluice020 = sluiceContender('sluice-0.2.0', 'Sluice 0.2.0', () =>
  loadCoreRelease(CORE_0_2_0),
);
