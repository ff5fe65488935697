/** Every contender of the comparison, Sluice first. */

import type { ContenderAdapter } from '../contender.js';
import { asyncMutex } from './async-mutex.js';
import { azureTokenCycler } from './azure.js';
import { effectCached } from './effect.js';
import { googleAuth } from './google.js';
import { lruCache } from './lru-cache.js';
import { pMemoizeExpiryMap } from './p-memoize.js';
import { sharedPromise } from './shared-promise.js';
import { sluice } from './sluice.js';
import { sluice020 } from './sluice-0-2-0.js';
import { smithyMemoize } from './smithy-memoize.js';

export const CONTENDERS: readonly ContenderAdapter[] = [
  sluice,
  sluice020,
  smithyMemoize,
  lruCache,
  pMemoizeExpiryMap,
  effectCached,
  sharedPromise,
  asyncMutex,
  azureTokenCycler,
  googleAuth,
];
