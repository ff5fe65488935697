/**
 * The leader's lease renewal while its mint runs.
 */

import type { Call, FleetShared, HeldLease } from './fleet-shared.js';

const noop = (): void => {};

/**
 * Renews the lease every `leaseMs / 3` while the mint runs: for at most `renewForMs`, and
 * never after the mint's signal aborted (its provider gave up on it, or closed). The renewals
 * run at a fixed rate, each independent of the previous one's answer, so one slow or
 * timed-out renewal never delays the next.
 */
export function holdLease<T>(
  shared: FleetShared,
  call: Call<T>,
  token: string,
  renewForMs: number,
): HeldLease {
  const { leaseMs } = shared.config;
  const signal = call.context.signal;
  const everyMs = Math.max(1, Math.floor(leaseMs / 3));
  const startedAt = performance.now();
  let timer: unknown;
  let stopped = false;
  const stop = (): void => {
    stopped = true;
    shared.timers.clear(timer);
    timer = undefined;
    shared.leases.delete(token);
    signal.removeEventListener('abort', stop);
  };
  const tick = (): void => {
    timer = undefined;
    if (stopped || shared.closed || performance.now() - startedAt >= renewForMs) return;
    timer = shared.timers.start(tick, everyMs);
    shared.guard
      .run('renew', () => shared.store.renew(call.ref, token, leaseMs))
      .then((held) => {
        if (stopped || held) return;
        shared.config.reporter.onLeaseLost?.({ ...call.label });
        stop();
      }, noop);
  };
  const lease = { ref: call.ref, stop };
  shared.leases.set(token, lease);
  signal.addEventListener('abort', stop, { once: true });
  timer = shared.timers.start(tick, everyMs);
  return lease;
}
