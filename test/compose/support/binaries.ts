/**
 * Which real binaries a compose file needs, and whether it runs: a missing binary skips the
 * file locally (printing why and how to install it) and fails it under `CI=true`, where the
 * file runs and its `beforeAll` throws the install hint.
 */

import { redisAvailable } from '../../../packages/redis/test/support/redis-server.js';
import { findPromtool, PROMTOOL_INSTALL_HINT, PROMTOOL_REQUIRED } from '../../support/promtool.js';

/** Whether a file needing these binaries runs here (see the file comment). */
export function binariesAvailable(needs: { redis?: boolean; promtool?: boolean }): boolean {
  let ok = true;
  if (needs.redis === true && !redisAvailable()) ok = false; // redisAvailable() warns itself
  if (needs.promtool === true && findPromtool() === undefined && !PROMTOOL_REQUIRED) {
    console.warn(`skipping: ${PROMTOOL_INSTALL_HINT}`);
    ok = false;
  }
  return ok;
}
