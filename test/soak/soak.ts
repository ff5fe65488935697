/**
 * Soak and leak checks for @sluice/core. Four phases:
 *   provider  millions of calls and mints on one provider (refreshes, failures, outages,
 *             hung mints, aborts, invalidations, clock jumps) with an injected clock; the
 *             heap after forced GC must grow less than 1 MiB from the post-warm-up baseline,
 *             every AbortSignal listener Sluice adds must be removed, and no timer may be
 *             left after close();
 *   keyed     a stream of distinct keys through a keyed provider: its size never exceeds
 *             maxKeys, its heap stops growing once full, bytes per cached key reported;
 *   timers    the timer-driven paths under @sinonjs/fake-timers: countTimers() is 0 after
 *             close() and bounded while running;
 *   aborted   a million (100k short) callers of a hung mint abort: nothing of them is
 *             retained and none is counted as a waiter, while the mint still hangs.
 * Prints a summary table, writes bench-results/soak.json and exits 1 when a bound is broken.
 *
 * Usage: node --expose-gc --import tsx test/soak/soak.ts [--short] [--seed N]
 *   (pnpm soak: 10M gets / 1M mints / 1M keys / 1M aborted waiters; pnpm soak:short:
 *   1M / 100k / 100k / 100k, < 60 s)
 */

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { soakAborted } from './aborted-phase.js';
import { soakTimers } from './fake-timer-phase.js';
import { describeEnvironment } from './instruments.js';
import { soakKeyed } from './keyed-phase.js';
import { soakProvider } from './provider-phase.js';

const MiB = 1024 * 1024;
/** The provider's heap may grow less than this from the post-warm-up baseline. */
const HEAP_GROWTH_LIMIT_BYTES = 1 * MiB;
/** The keyed provider's heap may grow less than this once it holds maxKeys keys. */
const KEYED_GROWTH_LIMIT_BYTES = 1 * MiB;
/** A cached key (its provider cell, credential, entry and key string) costs less than this. */
const BYTES_PER_KEY_LIMIT = 4_096;

const args = process.argv.slice(2);
const short = args.includes('--short');
const seedArg = args.indexOf('--seed');
const seed = seedArg === -1 ? 20_240_601 : Number(args[seedArg + 1]);
const scale = short
  ? {
      gets: 1_000_000,
      mints: 100_000,
      warmupGets: 100_000,
      keys: 100_000,
      rounds: 2_000,
      aborted: 100_000,
    }
  : {
      gets: 10_000_000,
      mints: 1_000_000,
      warmupGets: 500_000,
      keys: 1_000_000,
      rounds: 20_000,
      aborted: 1_000_000,
    };
/** What Sluice may leave on the heap, above the no-Sluice floor, once aborted callers go. */
const ABORTED_RETAINED_LIMIT_BYTES = 1 * MiB;
const maxKeys = 1_000;

const log = (line: string): void => console.log(line);
let unhandled = 0;
process.on('unhandledRejection', (reason) => {
  unhandled += 1;
  if (unhandled <= 5) console.error('unhandled rejection:', reason);
});

const environment = describeEnvironment();
console.log(
  `soak${short ? ' (short)' : ''}: node ${environment.node}, ${environment.cores} cores, commit ${environment.commit ?? '?'}${environment.dirty ? ' (dirty)' : ''}, seed ${seed}`,
);
const started = performance.now();

console.log('\n==> provider');
const provider = await soakProvider({
  gets: scale.gets,
  mints: scale.mints,
  warmupGets: scale.warmupGets,
  seed,
  log,
});

console.log('\n==> keyed');
const keyed = await soakKeyed({ keys: scale.keys, maxKeys, seed, log });

console.log('\n==> timers (fake)');
const timersStarted = performance.now();
const timers = await soakTimers({ rounds: scale.rounds, seed });
const timersSeconds = (performance.now() - timersStarted) / 1000;

console.log('\n==> aborted waiters');
const aborted = await soakAborted({ waiters: scale.aborted, log });

interface Check {
  readonly name: string;
  readonly measured: string;
  readonly bound: string;
  readonly ok: boolean;
}
const kib = (bytes: number): string => `${(bytes / 1024).toFixed(1)} KiB`;
const count = (n: number): string => n.toLocaleString('en');
const checks: Check[] = [
  {
    name: 'provider: calls and mints',
    measured: `${count(provider.gets)} gets, ${count(provider.mints)} mints`,
    bound: `>= ${count(scale.gets)} gets, >= ${count(scale.mints)} mints`,
    ok: provider.gets >= scale.gets && provider.mints >= scale.mints,
  },
  {
    name: 'provider: heap growth after GC',
    measured: kib(provider.heap.growthBytes),
    bound: `< ${kib(HEAP_GROWTH_LIMIT_BYTES)}`,
    ok: provider.heap.growthBytes < HEAP_GROWTH_LIMIT_BYTES,
  },
  {
    name: 'provider: abort listeners',
    measured: `${count(provider.listeners.added)} added, ${count(provider.listeners.removedExplicitly)} + ${count(provider.listeners.removedByOnce)} removed (explicitly + once fired), ${provider.listeners.live} live`,
    bound: '0 live',
    ok: provider.listeners.live === 0,
  },
  {
    name: 'provider: timers after close()',
    measured: `${provider.timers.afterClose.live} live (${count(provider.timers.afterClose.started)} started, max ${provider.timers.afterClose.maxLive} at once)`,
    bound: '0 live',
    ok: provider.timers.afterClose.live === 0,
  },
  {
    name: 'provider: unexpected errors',
    measured: String(provider.unexpectedErrors.length),
    bound: '0',
    ok: provider.unexpectedErrors.length === 0,
  },
  {
    name: 'keyed: size',
    measured: `max ${count(keyed.maxSize)} over ${count(keyed.keys)} distinct keys`,
    bound: `<= maxKeys ${count(maxKeys)}`,
    ok: keyed.maxSize <= maxKeys,
  },
  {
    name: 'keyed: heap growth once full',
    measured: kib(keyed.heap.growthBytes),
    bound: `< ${kib(KEYED_GROWTH_LIMIT_BYTES)}`,
    ok: keyed.heap.growthBytes < KEYED_GROWTH_LIMIT_BYTES,
  },
  {
    name: 'keyed: bytes per cached key',
    measured: `${count(keyed.heap.bytesPerKey)} B at the end (${count(keyed.heap.bytesPerKeyAtFill)} B at first fill)`,
    bound: `< ${count(BYTES_PER_KEY_LIMIT)} B`,
    ok: keyed.heap.bytesPerKey < BYTES_PER_KEY_LIMIT,
  },
  {
    name: 'keyed: listeners and timers',
    measured: `${keyed.listeners.live} listeners live (${count(keyed.listeners.added)} added), ${keyed.timers.afterClose.live} timers live`,
    bound: '0 and 0',
    ok:
      keyed.listeners.live === 0 &&
      keyed.timers.afterClose.live === 0 &&
      keyed.unexpectedErrors.length === 0,
  },
  {
    name: 'fake timers: after close()',
    measured: `${timers.timersAfterClose} (max ${timers.maxTimersWhileRunning} while running)`,
    bound: '0',
    ok: timers.timersAfterClose === 0,
  },
  {
    name: 'aborted waiters: retained after abort',
    measured: `${kib(aborted.retainedAfterAbortBytes)} (floor without Sluice ${kib(aborted.floorRetainedBytes)}) of ${kib(aborted.heldWhileWaitingBytes)} held by ${count(aborted.waiters)} waiters; ${aborted.waitersAfterAbort} still counted`,
    bound: `< floor + ${kib(ABORTED_RETAINED_LIMIT_BYTES)}, 0 counted`,
    ok:
      aborted.retainedAfterAbortBytes < aborted.floorRetainedBytes + ABORTED_RETAINED_LIMIT_BYTES &&
      aborted.waitersAfterAbort === 0,
  },
  {
    name: 'unhandled rejections',
    measured: String(unhandled),
    bound: '0',
    ok: unhandled === 0,
  },
];

const totalSeconds = (performance.now() - started) / 1000;
console.log(`\n==> summary (${totalSeconds.toFixed(1)} s)`);
const width = Math.max(...checks.map((check) => check.name.length));
const measuredWidth = Math.max(...checks.map((check) => check.measured.length));
for (const check of checks) {
  console.log(
    `  ${check.ok ? 'PASS' : 'FAIL'}  ${check.name.padEnd(width)}  ${check.measured.padEnd(measuredWidth)}  ${check.bound}`,
  );
}
for (const error of [...provider.unexpectedErrors, ...keyed.unexpectedErrors]) {
  console.log(`  unexpected: ${error}`);
}
console.log(
  `  provider: ${provider.seconds.toFixed(1)} s; outcomes ${JSON.stringify(provider.outcomes)}; mint reasons ${JSON.stringify(provider.mintReasons)}; breaker opened ${provider.breakerOpened}x; largest cohort ${provider.largestCohort}`,
);
console.log(
  `  keyed: ${keyed.seconds.toFixed(1)} s, ${count(keyed.calls)} calls, ${count(keyed.mints)} mints; timers: ${timersSeconds.toFixed(1)} s, ${timers.simulatedHours.toFixed(1)} simulated hours, ${count(timers.mints)} mints, ${timers.polls} polls`,
);

const root = fileURLToPath(new URL('../..', import.meta.url));
const outDir = join(root, 'bench-results');
mkdirSync(outDir, { recursive: true });
const outFile = join(outDir, short ? 'soak-short.json' : 'soak.json');
const passed = checks.filter((check) => check.ok).length;
const failed = checks.length - passed;
writeFileSync(
  outFile,
  `${JSON.stringify(
    {
      mode: short ? 'short' : 'full',
      seed,
      environment,
      seconds: totalSeconds,
      passed: failed === 0,
      checks,
      provider,
      keyed,
      timers: { ...timers, seconds: timersSeconds },
      aborted,
      unhandledRejections: unhandled,
    },
    null,
    2,
  )}\n`,
);
console.log(`  wrote ${outFile}`);
console.log(`soak: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
