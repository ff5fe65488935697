/**
 * `invalidate()` of a provider cell: dropping the cached credential after a 401, only when
 * it is still the one that was refused, and the invalidation guard that keeps a credential
 * minted because of an invalidation for `minRefreshIntervalMs`.
 */

import type { Credential } from '../credential.js';
import { isSameCredential } from '../credential.js';
import type { CellState } from './cell-state.js';
import { hold, release } from './dispatch.js';

/** Drops the cached credential so the next call mints; returns whether it was dropped. */
export function invalidateCell<T>(
  cell: CellState<T>,
  rejected: T | Credential<T> | undefined,
): boolean {
  hold();
  try {
    const credential = cell.credential;
    if (cell.closed || credential === undefined) return false;
    if (rejected !== undefined && !isSameCredential(credential, rejected)) return false;
    if (refusesInvalidation(cell)) return false;
    cell.previous = credential;
    cell.invalidated = true;
    cell.clearCache();
    return true;
  } catch {
    return false; // a hostile `rejected` (a throwing getter) matches nothing
  } finally {
    release();
  }
}

/**
 * The invalidation guard: a credential minted because of an invalidation cannot itself be
 * invalidated for `minRefreshIntervalMs`, so a server that rejects every token costs at
 * most one mint per interval. A clock that cannot be read does not refuse.
 */
function refusesInvalidation<T>(cell: CellState<T>): boolean {
  const guardMs = cell.policy.timing.minRefreshIntervalMs;
  const schedule = cell.schedule;
  if (cell.installedReason !== 'invalidated' || guardMs === 0 || schedule === undefined) {
    return false;
  }
  const now = cell.read();
  cell.clock.fault = undefined;
  const ageMs = now - schedule.issuedAt;
  if (!(ageMs >= 0 && ageMs < guardMs)) return false;
  cell.events.invalidateRefused(ageMs, guardMs - ageMs);
  return true;
}
