/**
 * A Sluice {@link Reporter} that prints a compact, live table of what the provider does:
 * time since start, event, mint reason, remaining lifetime, breaker state, waiters, detail.
 * It also counts events, so the demo can check them. It never sees a credential value:
 * reporter events do not carry one.
 */

import type {
  BreakerStateName,
  CoalescedEvent,
  MintReason,
  RefreshFailureEvent,
  RefreshSuccessEvent,
  Reporter,
} from '@sluice/core';

/** Options of {@link createTimeline}. */
export interface TimelineOptions {
  /** Where each finished line goes (without its newline). */
  write: (line: string) => void;
  /** Use ANSI colours. Pass `process.stdout.isTTY` (and respect `NO_COLOR`). @default false */
  color?: boolean;
  /** The clock, in milliseconds; times are printed relative to its reading at creation. @default () => performance.now() */
  now?: () => number;
}

/** Per-event counts the timeline has seen. */
export interface TimelineCounts {
  readonly starts: number;
  readonly successes: number;
  readonly failures: number;
  /** Mints started, by reason. */
  readonly startsByReason: Readonly<Partial<Record<MintReason, number>>>;
  /** Breaker transitions, as `from→to`, in order. */
  readonly breakerTransitions: readonly string[];
  /** The `waiters` of every coalesced event, in order, with its reason and outcome. */
  readonly coalesced: readonly {
    readonly reason: MintReason;
    readonly waiters: number;
    readonly ok: boolean;
  }[];
}

/** A live table; see {@link createTimeline}. */
export interface Timeline {
  /** Pass as (or combine into) the provider's `reporter`. */
  readonly reporter: Reporter;
  /** Prints the column headings. */
  header(): void;
  /** Prints a phase heading. */
  phase(title: string): void;
  /** Prints a narration line. */
  note(text: string): void;
  /** Prints a caller-side row (`callers` event): a status line between reporter rows. */
  callers(
    detail: string,
    state: { lifetimeSeconds: number | undefined; breaker: BreakerStateName },
  ): void;
  /** Milliseconds since the timeline started. */
  elapsedMs(): number;
  /** The event counts so far (a fresh copy). */
  counts(): TimelineCounts;
  /** The breaker state as last reported. */
  breaker(): BreakerStateName;
}

type Paint = (text: string) => string;
const plain: Paint = (text) => text;
const ansi =
  (code: string): Paint =>
  (text) =>
    `\x1b[${code}m${text}\x1b[0m`;

/**
 * Creates the timeline. A success or failure row is held back until its `onCoalesced` event
 * (which Sluice emits right after it) so the row can show how many callers waited.
 *
 * @example
 * ```ts
 * const timeline = createTimeline({ write: console.log, color: process.stdout.isTTY });
 * const provider = await createRefreshingProvider({ name: 'demo', mint, reporter: timeline.reporter });
 * ```
 */
export function createTimeline(options: TimelineOptions): Timeline {
  const { write } = options;
  const clock = options.now ?? (() => performance.now());
  const startedAt = clock();
  const color = options.color === true;
  const paint = {
    dim: color ? ansi('2') : plain,
    bold: color ? ansi('1') : plain,
    green: color ? ansi('32') : plain,
    red: color ? ansi('31') : plain,
    yellow: color ? ansi('33') : plain,
    cyan: color ? ansi('36') : plain,
  };

  let breakerState: BreakerStateName = 'closed';
  const counts = {
    starts: 0,
    successes: 0,
    failures: 0,
    startsByReason: {} as Partial<Record<MintReason, number>>,
    breakerTransitions: [] as string[],
    coalesced: [] as { reason: MintReason; waiters: number; ok: boolean }[],
  };
  // An outcome row waits for its onCoalesced (to show the waiters); a breaker change that
  // Sluice reports just before that outcome is printed after it, where a reader expects it.
  let pending: { cells: Omit<Row, 'waiters'>; paint: Paint } | undefined;
  let heldBreaker: Row | undefined;

  const elapsedMs = (): number => clock() - startedAt;

  const row = (cells: Row, tint: Paint, time?: string): void => {
    const line = [
      (time ?? `+${(elapsedMs() / 1000).toFixed(3)}s`).padStart(9),
      cells.event.padEnd(13),
      cells.reason.padEnd(11),
      cells.lifetime.padStart(8),
      cells.breaker.padEnd(9),
      cells.waiters.padStart(7),
      cells.detail,
    ].join('  ');
    write(tint(line.trimEnd()));
  };

  const flushOutcome = (waiters: string): void => {
    if (pending === undefined) return;
    const { cells, paint: tint } = pending;
    pending = undefined;
    row({ ...cells, waiters }, tint);
  };
  const flush = (waiters: string): void => {
    flushOutcome(waiters);
    if (heldBreaker === undefined) return;
    const cells = heldBreaker;
    heldBreaker = undefined;
    row(cells, paint.yellow);
  };

  const reporter: Reporter = {
    onRefreshStart(event) {
      flush('?');
      counts.starts += 1;
      counts.startsByReason[event.reason] = (counts.startsByReason[event.reason] ?? 0) + 1;
      row(
        {
          event: 'mint start',
          reason: event.reason,
          lifetime: '',
          breaker: breakerState,
          waiters: '',
          detail: '',
        },
        paint.dim,
      );
    },
    onRefreshSuccess(event: RefreshSuccessEvent) {
      flushOutcome('?');
      counts.successes += 1;
      pending = {
        cells: {
          event: 'mint ok',
          reason: event.reason,
          lifetime: seconds(event.remainingLifetimeSeconds),
          breaker: breakerState,
          detail: `new token, took ${Math.round(event.durationMs)} ms`,
        },
        paint: paint.green,
      };
      queueMicrotask(() => flush('?'));
    },
    onRefreshFailure(event: RefreshFailureEvent) {
      flushOutcome('?');
      counts.failures += 1;
      pending = {
        cells: {
          event: 'mint FAILED',
          reason: event.reason,
          lifetime: seconds(event.cachedRemainingLifetimeSeconds),
          breaker: breakerState,
          detail: `${shortError(event.error)}, took ${Math.round(event.durationMs)} ms`,
        },
        paint: paint.red,
      };
      queueMicrotask(() => flush('?'));
    },
    onCoalesced(event: CoalescedEvent) {
      counts.coalesced.push({ reason: event.reason, waiters: event.waiters, ok: event.ok });
      flush(String(event.waiters));
    },
    onBreakerStateChange(event) {
      flush('?');
      breakerState = event.to;
      counts.breakerTransitions.push(`${event.from}→${event.to}`);
      const detail =
        event.to === 'open'
          ? `after ${event.failures} consecutive failures; probe in ${event.retryAfterMs} ms`
          : event.to === 'half-open'
            ? 'cooldown over: one probe mint admitted'
            : 'probe succeeded';
      const cells: Row = {
        event: 'breaker',
        reason: '',
        lifetime: '',
        breaker: event.to,
        waiters: '',
        detail: `${event.from} → ${event.to}, ${detail}`,
      };
      if (event.to === 'half-open') {
        row(cells, paint.yellow);
        return;
      }
      heldBreaker = cells;
      queueMicrotask(() => flush('?'));
    },
  };

  return {
    reporter,
    header() {
      row(
        {
          event: 'event',
          reason: 'reason',
          lifetime: 'lifetime',
          breaker: 'breaker',
          waiters: 'waiters',
          detail: 'detail',
        },
        paint.bold,
        't',
      );
    },
    phase(title) {
      flush('?');
      write('');
      write(paint.bold(paint.cyan(title)));
    },
    note(text) {
      flush('?');
      write(paint.dim(`           ${text}`));
    },
    callers(detail, state) {
      flush('?');
      row(
        {
          event: 'callers',
          reason: '',
          lifetime: seconds(state.lifetimeSeconds),
          breaker: state.breaker,
          waiters: '',
          detail,
        },
        plain,
      );
    },
    elapsedMs,
    counts: () => ({
      ...counts,
      startsByReason: { ...counts.startsByReason },
      breakerTransitions: [...counts.breakerTransitions],
      coalesced: [...counts.coalesced],
    }),
    breaker: () => breakerState,
  };
}

interface Row {
  event: string;
  reason: string;
  lifetime: string;
  breaker: string;
  waiters: string;
  detail: string;
}

function seconds(value: number | undefined): string {
  return value === undefined ? '—' : `${value.toFixed(1)} s`;
}

/** The first line of an error's message, cut short; errors never carry the token. */
function shortError(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const line = message.split('\n')[0] ?? '';
  return line.length > 80 ? `${line.slice(0, 77)}...` : line;
}
