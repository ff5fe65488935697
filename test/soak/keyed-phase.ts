/**
 * The keyed soak: a stream of distinct keys through a keyed provider bounded by `maxKeys`.
 * Its size must never exceed `maxKeys`, and the heap after GC must stop growing once the
 * cache is full: evicted keys (and their in-flight mints) leave nothing behind.
 */

import {
  type Credential,
  createKeyedProvider,
  isSluiceError,
} from '../../packages/core/src/index.js';
import {
  AbortListenerCounter,
  heapAfterGc,
  type ListenerCounts,
  seededRandom,
  TimerCounter,
  type TimerCounts,
  turn,
} from './instruments.js';

export interface KeyedSoakOptions {
  /** Distinct keys to stream through. */
  readonly keys: number;
  readonly maxKeys: number;
  readonly seed: number;
  readonly log: (line: string) => void;
}

export interface KeyedSoakResult {
  readonly keys: number;
  readonly maxKeys: number;
  readonly calls: number;
  readonly mints: number;
  readonly maxSize: number;
  readonly seconds: number;
  readonly outcomes: Record<string, number>;
  readonly unexpectedErrors: readonly string[];
  readonly heap: {
    /** Before the keyed provider existed. */
    readonly emptyBytes: number;
    /** Once `maxKeys` keys were cached. */
    readonly fullBytes: number;
    /** After every key was streamed through (still full). */
    readonly finalBytes: number;
    /** finalBytes − fullBytes: must stay under the bound. */
    readonly growthBytes: number;
    /** (finalBytes − emptyBytes) / cached keys: what a full cache costs per key at the end. */
    readonly bytesPerKey: number;
    /** (fullBytes − emptyBytes) / maxKeys: the same, measured right after the first fill. */
    readonly bytesPerKeyAtFill: number;
    readonly afterCloseBytes: number;
  };
  readonly listeners: ListenerCounts;
  readonly timers: { readonly afterClose: TimerCounts };
}

const START = 1_700_000_000_000;
const ABORT_REASON = new Error('caller aborted (keyed soak)');

class IssuerError extends Error {
  override readonly name = 'IssuerError';
}

export async function soakKeyed(options: KeyedSoakOptions): Promise<KeyedSoakResult> {
  const listeners = new AbortListenerCounter();
  const timers = new TimerCounter();
  listeners.install();
  timers.install();
  try {
    return await run(options, listeners, timers);
  } finally {
    timers.uninstall();
    listeners.uninstall();
  }
}

async function run(
  options: KeyedSoakOptions,
  listeners: AbortListenerCounter,
  timers: TimerCounter,
): Promise<KeyedSoakResult> {
  const { keys, maxKeys, log } = options;
  const started = performance.now();
  const pick = seededRandom(options.seed);
  let now = START;
  let mints = 0;

  const emptyBytes = await heapAfterGc();
  const keyed = createKeyedProvider<string, string>({
    name: 'soak-keyed',
    now: () => now,
    random: seededRandom(options.seed + 1),
    maxKeys,
    refreshFloorMs: 0,
    mintTimeoutMs: 1_000,
    mint: (key): Promise<Credential<string>> => {
      mints += 1;
      if (pick() < 0.03) return Promise.reject(new IssuerError(`issuer refused ${key}`));
      return Promise.resolve({ value: `token-${mints}`, expiresAt: now + 60_000 });
    },
  });

  const outcomes: Record<string, number> = { value: 0, aborted: 0, issuer: 0 };
  const unexpectedErrors: string[] = [];
  let outstanding = 0;
  let calls = 0;
  let maxSize = 0;
  const onValue = (value: unknown): void => {
    outstanding -= 1;
    if (typeof value === 'string') outcomes.value! += 1;
    else if (unexpectedErrors.length < 10) unexpectedErrors.push(`bad value ${String(value)}`);
  };
  const onError = (error: unknown): void => {
    outstanding -= 1;
    if (error === ABORT_REASON) outcomes.aborted! += 1;
    else if (error instanceof IssuerError) outcomes.issuer! += 1;
    else if (isSluiceError(error)) outcomes[error.code] = (outcomes[error.code] ?? 0) + 1;
    else if (unexpectedErrors.length < 10) unexpectedErrors.push(String(error));
  };
  const call = (key: string): void => {
    calls += 1;
    outstanding += 1;
    if (pick() < 0.01) {
      const controller = new AbortController();
      keyed.get(key, { signal: controller.signal }).then(onValue, onError);
      controller.abort(ABORT_REASON);
    } else {
      keyed.get(key).then(onValue, onError);
    }
    if (keyed.size > maxSize) maxSize = keyed.size;
  };
  const quiesce = async (): Promise<void> => {
    const deadline = performance.now() + 10_000;
    while (outstanding > 0) {
      await turn();
      if (performance.now() > deadline) throw new Error(`${outstanding} keyed calls never settled`);
    }
  };

  // Fill the cache, then stream the rest: mostly new keys, some recent ones (hits or
  // re-mints after eviction), in bursts of up to 64 concurrent calls.
  let next = 0;
  while (next < maxKeys) call(`tenant-${next++}`);
  await quiesce();
  const fullBytes = await heapAfterGc();
  log(
    `  keyed: ${maxKeys.toLocaleString('en')} keys cached, heap +${((fullBytes - emptyBytes) / 1024).toFixed(0)} KiB`,
  );
  let lastLog = performance.now();
  while (next < keys) {
    const size = 1 + Math.floor(pick() * 64);
    for (let i = 0; i < size && next < keys; i++) {
      now += 1;
      if (pick() < 0.1) call(`tenant-${Math.max(0, next - 1 - Math.floor(pick() * 2 * maxKeys))}`);
      else call(`tenant-${next++}`);
    }
    await turn();
    if (performance.now() - lastLog > 10_000) {
      log(`  keyed: ${next.toLocaleString('en')} keys streamed, size ${keyed.size}`);
      lastLog = performance.now();
    }
  }
  await quiesce();
  const finalBytes = await heapAfterGc();
  const cached = keyed.size;
  keyed.close();
  outstanding += 1;
  keyed.get('after-close').then(onValue, onError); // rejects with ProviderClosedError
  await quiesce();
  const afterCloseBytes = await heapAfterGc();
  return {
    keys,
    maxKeys,
    calls,
    mints,
    maxSize,
    seconds: (performance.now() - started) / 1000,
    outcomes,
    unexpectedErrors,
    heap: {
      emptyBytes,
      fullBytes,
      finalBytes,
      growthBytes: finalBytes - fullBytes,
      bytesPerKey: Math.round((finalBytes - emptyBytes) / Math.max(1, cached)),
      bytesPerKeyAtFill: Math.round((fullBytes - emptyBytes) / maxKeys),
      afterCloseBytes,
    },
    listeners: listeners.counts(),
    timers: { afterClose: timers.counts() },
  };
}
