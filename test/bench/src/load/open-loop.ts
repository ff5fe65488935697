/**
 * The open-loop arrival schedule of the load scenarios: calls are owed at a fixed rate from
 * the start, issued in batches every `batchIntervalMs`. A late tick issues everything owed
 * so far (arrivals never wait for earlier calls to finish), so a slow system under test
 * cannot lower the offered load; how late the ticks ran is reported as schedule lag.
 */

import { LatencySamples, type LatencySummary } from './latency.js';

/** Options of {@link runOpenLoop}. */
export interface OpenLoopOptions {
  /** Calls per second, offered whatever the system under test does. */
  readonly ratePerSecond: number;
  /** How long to keep offering calls, in milliseconds. */
  readonly durationMs: number;
  /** Time between batches, in milliseconds. */
  readonly batchIntervalMs: number;
  /**
   * Issues call number `index`; `nowMs` is the batch's `Date.now()` (the clock the provider
   * reads). Must not block.
   */
  readonly fire: (index: number, nowMs: number) => void;
  /** Called at each tick before the batch is fired, with the elapsed time in milliseconds. */
  readonly onTick?: (elapsedMs: number) => void;
}

/** What the schedule did. */
export interface OpenLoopResult {
  /** Calls issued (the rate times the duration, rounded down). */
  readonly issued: number;
  readonly batches: number;
  /** Wall time from the first tick to the last, in milliseconds. */
  readonly wallMs: number;
  /** How late each batch's first call was against its intended arrival time. */
  readonly scheduleLag: LatencySummary | null;
}

/** Offers `fire` calls at the given rate for the given duration. */
export function runOpenLoop(options: OpenLoopOptions): Promise<OpenLoopResult> {
  const { ratePerSecond, durationMs, batchIntervalMs, fire, onTick } = options;
  const total = Math.floor((ratePerSecond * durationMs) / 1000);
  const perMs = ratePerSecond / 1000;
  const lag = new LatencySamples(Math.ceil(durationMs / batchIntervalMs) + 16);
  const started = performance.now();
  let issued = 0;
  let batches = 0;

  return new Promise((resolve) => {
    const tick = (): void => {
      const elapsed = performance.now() - started;
      onTick?.(elapsed);
      const owed = Math.min(total, Math.floor(elapsed * perMs) + 1);
      if (owed > issued) {
        lag.push(Math.max(0, elapsed - issued / perMs));
        batches += 1;
        const now = Date.now();
        while (issued < owed) fire(issued++, now);
      }
      if (issued < total) {
        setTimeout(tick, batchIntervalMs);
        return;
      }
      resolve({
        issued,
        batches,
        wallMs: performance.now() - started,
        scheduleLag: lag.summary(),
      });
    };
    tick();
  });
}
