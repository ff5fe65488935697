/**
 * The breaker state providers read and write, and who may run the half-open probe. One box
 * per provider, or one shared by every key of a keyed provider (`breakerScope: 'shared'`).
 *
 * Choosing the probe of a shared breaker: the probe must prove the issuer, not one bad name.
 * A key whose probe failed ("the last prober") does not take the next probe when another key
 * asked for a mint during the cooldown, for up to one more cooldown; that other key probes
 * when it comes back. If nobody else asks, the last prober may probe again. So one key that
 * always fails (a name the issuer refuses) cannot keep every other key's breaker open.
 */

import {
  admitMint,
  type BreakerConfig,
  type BreakerState,
  breakerRetryAfterMs,
  CLOSED_BREAKER,
  openWindowMs,
} from '../circuit-breaker.js';

/** @internal */
export interface BreakerBox {
  state: BreakerState;
  lastError: unknown;
  lastErrorAt: number;
  hasError: boolean;
  /** The provider running the half-open probe, so a shared breaker admits only one. */
  probe: object | undefined;
  /** The provider whose probe failed last; cleared by a success. */
  lastProber: object | undefined;
  /** Another provider than the last prober was refused since the breaker last opened. */
  othersWaiting: boolean;
}

/** @internal */
export function createBreakerBox(): BreakerBox {
  return {
    state: CLOSED_BREAKER,
    lastError: undefined,
    lastErrorAt: 0,
    hasError: false,
    probe: undefined,
    lastProber: undefined,
    othersWaiting: false,
  };
}

/** What the box says to `who` asking for a mint at `now`. Pure: nothing is changed. */
export type BoxAdmission =
  | { readonly admitted: true; readonly next: BreakerState; readonly probe: boolean }
  | { readonly admitted: false; readonly next: BreakerState; readonly retryAfterMs: number };

/**
 * Asks the box for a mint. `retryAfterMs` of a refusal is 0 while another provider runs the
 * probe (the probe decides), else the milliseconds until `who` may probe.
 */
export function askBox(
  box: BreakerBox,
  who: object,
  now: number,
  config: BreakerConfig,
): BoxAdmission {
  const state = box.state;
  if (state.state === 'half-open' && box.probe !== undefined && box.probe !== who) {
    return { admitted: false, next: state, retryAfterMs: 0 };
  }
  if (
    state.state === 'open' &&
    who === box.lastProber &&
    box.othersWaiting &&
    breakerRetryAfterMs(state, now, config) === 0 &&
    now >= state.openedAt
  ) {
    // Another key waits for the probe: the last prober stands aside for one more cooldown.
    const barredUntil = state.openedAt + openWindowMs(state, config) + config.cooldownMs;
    if (now < barredUntil) return { admitted: false, next: state, retryAfterMs: barredUntil - now };
  }
  const admission = admitMint(state, now, config);
  if (!admission.admitted) return admission;
  return { admitted: true, next: admission.next, probe: admission.next.state === 'half-open' };
}

/** Notes a refusal of `who`: another key than the last prober wants the probe. */
export function noteRefusal(box: BreakerBox, who: object): void {
  if (box.lastProber !== undefined && who !== box.lastProber) box.othersWaiting = true;
}

/** `who` was admitted (as the probe when `probe`). */
export function noteAdmission(box: BreakerBox, who: object, probe: boolean): void {
  if (!probe) return;
  box.probe = who;
  box.othersWaiting = false;
}

/** `who`'s mint succeeded. */
export function noteSuccess(box: BreakerBox, who: object): void {
  if (box.probe === who) box.probe = undefined;
  box.lastProber = undefined;
  box.othersWaiting = false;
}

/** `who`'s mint failed; `wasProbe` when it was the half-open probe. */
export function noteFailure(box: BreakerBox, who: object, wasProbe: boolean): void {
  if (box.probe === who) box.probe = undefined;
  if (wasProbe) box.lastProber = who;
}

/** `who` goes away (closed, evicted): it neither probes nor stands aside any more. */
export function forget(box: BreakerBox, who: object): void {
  if (box.probe === who) box.probe = undefined;
  if (box.lastProber === who) {
    box.lastProber = undefined;
    box.othersWaiting = false;
  }
}
