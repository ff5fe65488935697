/**
 * The hot path's clock: a `Date.now()` reading shared by up to {@link MAX_REUSES} calls
 * within one turn of the event loop, so that `get()` of a fresh credential does not pay a
 * clock read (as costly as the `await` itself on many VMs) on every call.
 *
 * A shared reading can only be behind the true time, never ahead, so it may only ever say
 * "still before the due point" when that is true with a margin: callers compare it against
 * a bound at least {@link COARSE_MARGIN_MS} before expiry, and anything else goes through an
 * exact reading. The reading is dropped:
 * - after {@link MAX_REUSES} reuses (a chain of awaits that never yields to the event loop
 *   cannot stretch it further);
 * - by an unref'd one-millisecond timer, i.e. as soon as the event loop turns (an idle
 *   process never reuses an old reading);
 * - and it is never taken at all while `Date.now` or `setTimeout` is not the runtime's own
 *   function (fake timers, a test's stub): then every call reads the clock, as before.
 *
 * The two native functions are captured at import only to recognise replacement; every
 * reading and every timer still goes through the globals of the moment.
 */

/** How many calls may reuse one reading before the clock is read again. */
export const MAX_REUSES = 16;
/**
 * A shared reading is trusted only up to this long before a credential expires, in ms: it
 * can lag the true time by at most the synchronous work of {@link MAX_REUSES} calls that
 * never let the event loop turn.
 */
export const COARSE_MARGIN_MS = 1_000;

/** What a coarse clock reads and arms; the runtime's own functions outside tests. */
export interface CoarseClockHost {
  /** Reads the wall clock. */
  readonly now: () => number;
  /** Whether the clock and the timers are the runtime's own (false under fake timers). */
  readonly native: () => boolean;
  /** Runs `drop` once the event loop turns (an unref'd one-millisecond timer). */
  readonly onTurn: (drop: () => void) => void;
}

/** A clock whose reading is shared as described above. NaN: read the exact clock instead. */
export type CoarseClock = () => number;

/** Builds a coarse clock over `host`; the module's {@link coarseNow} uses the runtime. */
export function createCoarseClock(host: CoarseClockHost): CoarseClock {
  let reading = Number.NaN;
  let reuses = 0;
  let armed = false;
  const drop = (): void => {
    reuses = 0;
    armed = false;
  };
  return () => {
    if (reuses > 0 && host.native()) {
      reuses--;
      return reading;
    }
    if (!host.native()) return Number.NaN;
    reading = host.now();
    reuses = MAX_REUSES;
    if (!armed) {
      armed = true;
      host.onTurn(drop);
    }
    return reading;
  };
}

// Captured only to recognise replacement (fake timers); never called through these names.
const nativeNow: unknown = typeof Date === 'function' ? Date.now : undefined;
const nativeSetTimeout: unknown =
  typeof setTimeout === 'function' ? globalThis.setTimeout : undefined;

let inspectedNow: unknown;
let inspectedNowIsNative = false;

/**
 * Whether `Date.now` is the engine's own function, by its source text: fake timers installed
 * BEFORE this module was imported (a test setup file) are recognised too, since the identity
 * check above would then compare the fake with itself. Inspected once per function.
 */
function nowIsNativeCode(): boolean {
  const now: unknown = Date.now;
  if (now !== inspectedNow) {
    inspectedNow = now;
    try {
      inspectedNowIsNative =
        typeof now === 'function' &&
        /\{\s*\[native code\]\s*\}\s*$/.test(Function.prototype.toString.call(now));
    } catch {
      inspectedNowIsNative = false;
    }
  }
  return inspectedNowIsNative;
}

/**
 * `Date.now()`, possibly shared with the calls just before this one (see the module's doc),
 * or NaN when it cannot be shared (the caller then reads the clock exactly).
 */
export const coarseNow: CoarseClock = createCoarseClock({
  now: () => Date.now(),
  native: () =>
    Date.now === nativeNow && globalThis.setTimeout === nativeSetTimeout && nowIsNativeCode(),
  onTurn: (drop) => {
    const timer = setTimeout(drop, 1) as unknown as { unref?: () => void };
    timer.unref?.();
  },
});
