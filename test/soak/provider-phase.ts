/**
 * The provider soak: millions of calls on one refreshing provider with short-lived
 * credentials, so it mints all the time, through every path: proactive refreshes, expiry,
 * invalidation, forced refreshes, failing and malformed mints, outages that open the
 * breaker, hung mints that time out, callers that abort, clock jumps and steps back.
 *
 * Time is an injected counter moved by one millisecond per call, never a real sleep. Calls
 * are issued in bursts of 1 to 16 (concurrent callers: cohorts form on the same mint); the
 * event loop turns once between bursts. A mint settles after 0 to 3 bursts, so callers
 * arrive while it runs; a hung mint is failed by the provider's real `mintTimeoutMs` timer.
 */

import {
  type Credential,
  createRefreshingProvider,
  isSluiceError,
  type MintContext,
  type MintReason,
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

export interface ProviderSoakOptions {
  /** `get`/`getCredential` calls to make, at least. */
  readonly gets: number;
  /** Mints to run, at least (the loop runs until both counts are reached). */
  readonly mints: number;
  /** Calls made before the heap baseline is taken. */
  readonly warmupGets: number;
  readonly seed: number;
  /** Progress lines go here. */
  readonly log: (line: string) => void;
}

export interface HeapSample {
  readonly gets: number;
  readonly bytes: number;
}

export interface ProviderSoakResult {
  readonly gets: number;
  readonly mints: number;
  readonly seconds: number;
  readonly operations: Record<string, number>;
  readonly outcomes: Record<string, number>;
  readonly mintBehaviours: Record<string, number>;
  readonly mintReasons: Record<string, number>;
  readonly breakerOpened: number;
  readonly largestCohort: number;
  readonly unexpectedErrors: readonly string[];
  readonly heap: {
    readonly baselineBytes: number;
    readonly finalBytes: number;
    readonly growthBytes: number;
    readonly afterCloseBytes: number;
    readonly samples: readonly HeapSample[];
  };
  readonly listeners: ListenerCounts;
  readonly timers: { readonly beforeClose: TimerCounts; readonly afterClose: TimerCounts };
}

/** What our mint throws for an issuer failure, so outcomes can be told apart. */
class IssuerError extends Error {
  override readonly name = 'IssuerError';
}

const START = 1_700_000_000_000;
const LIFETIME_MS = 12;
const MINT_TIMEOUT_MS = 20; // real milliseconds: only hung mints ever reach it
const OUTAGE_EVERY_MINTS = 5_000;
const OUTAGE_FAILURES = 12;
const HUNG_EVERY_MINTS = 25_000;
const MAX_LATENCY_BURSTS = 3;
const ABORT_REASON = new Error('caller aborted (soak)');

interface Pending {
  resolve(credential: Credential<string>): void;
  /** The mint's number: the token is `token-<n>`, valid for LIFETIME_MS from resolution. */
  readonly n: number;
}

export async function soakProvider(options: ProviderSoakOptions): Promise<ProviderSoakResult> {
  const { log } = options;
  const listeners = new AbortListenerCounter();
  const timers = new TimerCounter();
  listeners.install();
  timers.install();
  try {
    return await run(options, listeners, timers, log);
  } finally {
    timers.uninstall();
    listeners.uninstall();
  }
}

async function run(
  options: ProviderSoakOptions,
  listeners: AbortListenerCounter,
  timers: TimerCounter,
  log: (line: string) => void,
): Promise<ProviderSoakResult> {
  const started = performance.now();
  const pick = seededRandom(options.seed);
  const mintPick = seededRandom(options.seed ^ 0x5bd1e995);
  let now = START;

  // Mints waiting to be resolved, by how many bursts from now.
  const latent: Pending[][] = Array.from({ length: MAX_LATENCY_BURSTS + 1 }, () => []);
  let mints = 0;
  let outageLeft = 0;
  const mintBehaviours: Record<string, number> = {
    immediate: 0,
    latent: 0,
    sync: 0,
    rejected: 0,
    thrown: 0,
    malformed: 0,
    alreadyExpired: 0,
    outage: 0,
    hung: 0,
  };
  const mint = ({
    signal,
  }: MintContext<string>): Promise<Credential<string>> | Credential<string> => {
    mints += 1;
    const n = mints;
    if (outageLeft > 0 || n % OUTAGE_EVERY_MINTS === 0) {
      outageLeft = outageLeft > 0 ? outageLeft - 1 : OUTAGE_FAILURES - 1;
      mintBehaviours.outage! += 1;
      return Promise.reject(new IssuerError('issuer unavailable (outage)'));
    }
    // Offset by half a period: a multiple of OUTAGE_EVERY_MINTS is taken by the outage.
    if (n % HUNG_EVERY_MINTS === HUNG_EVERY_MINTS / 2) {
      mintBehaviours.hung! += 1;
      // A well-behaved mint that never hears back: it gives up when its signal aborts.
      return new Promise((_, reject) => {
        signal.addEventListener('abort', () => reject(signal.reason), { once: true });
      });
    }
    const r = mintPick();
    const credential = { value: `token-${n}`, expiresAt: now + LIFETIME_MS };
    if (r < 0.05) {
      mintBehaviours.rejected! += 1;
      return Promise.reject(new IssuerError('issuer answered 503'));
    }
    if (r < 0.07) {
      mintBehaviours.thrown! += 1;
      throw new IssuerError('mint threw synchronously');
    }
    if (r < 0.08) {
      mintBehaviours.malformed! += 1;
      return Promise.resolve({ value: undefined } as unknown as Credential<string>);
    }
    if (r < 0.09) {
      mintBehaviours.alreadyExpired! += 1;
      return Promise.resolve({ value: `expired-${n}`, expiresAt: now - 1 });
    }
    if (r < 0.15) {
      mintBehaviours.sync! += 1;
      return credential;
    }
    if (r < 0.45) {
      mintBehaviours.immediate! += 1;
      return Promise.resolve(credential);
    }
    mintBehaviours.latent! += 1;
    return new Promise((resolve) => {
      const delay = mintPick() < 0.9 ? 1 : 1 + Math.floor(mintPick() * MAX_LATENCY_BURSTS);
      latent[delay]!.push({ resolve, n });
    });
  };

  const mintReasons: Record<string, number> = {};
  let breakerOpened = 0;
  let largestCohort = 0;
  const provider = await createRefreshingProvider<string>({
    name: 'soak',
    lazy: true,
    now: () => now,
    random: seededRandom(options.seed + 1),
    refreshAt: 0.8,
    jitter: 0.1,
    refreshFloorMs: 0,
    minRefreshIntervalMs: 2,
    mintTimeoutMs: MINT_TIMEOUT_MS,
    breaker: { failureThreshold: 5, cooldownMs: 50 },
    mint,
    reporter: {
      onRefreshStart: (event: { reason: MintReason }) => {
        mintReasons[event.reason] = (mintReasons[event.reason] ?? 0) + 1;
      },
      onBreakerStateChange: (event: { to: string }) => {
        if (event.to === 'open') breakerOpened += 1;
      },
      onCoalesced: (event: { waiters: number }) => {
        if (event.waiters > largestCohort) largestCohort = event.waiters;
      },
    },
  });

  const outcomes: Record<string, number> = { value: 0, aborted: 0, issuer: 0 };
  const unexpectedErrors: string[] = [];
  let outstanding = 0;
  const onValue = (value: unknown): void => {
    outstanding -= 1;
    const ok =
      typeof value === 'string' ||
      (typeof value === 'object' &&
        value !== null &&
        typeof (value as Credential<unknown>).value === 'string');
    if (ok) outcomes.value! += 1;
    else if (unexpectedErrors.length < 10) unexpectedErrors.push(`bad value ${String(value)}`);
  };
  const onError = (error: unknown): void => {
    outstanding -= 1;
    if (error === ABORT_REASON) outcomes.aborted! += 1;
    else if (error instanceof IssuerError) outcomes.issuer! += 1;
    else if (isSluiceError(error)) outcomes[error.code] = (outcomes[error.code] ?? 0) + 1;
    else if (unexpectedErrors.length < 10) unexpectedErrors.push(String(error));
  };

  const operations: Record<string, number> = {
    get: 0,
    getCredential: 0,
    getWithSignal: 0,
    getWithSharedSignal: 0,
    sharedSignalAborted: 0,
    abortedAtOnce: 0,
    abortedLater: 0,
    refresh: 0,
    invalidate: 0,
    invalidateStale: 0,
    clockJump: 0,
    clockStepBack: 0,
  };
  const abortLater: AbortController[] = [];
  let shared = new AbortController();
  let gets = 0;

  /** Resolves the mints due this burst and lets the event loop turn. */
  const settleBurst = async (): Promise<void> => {
    const due = latent.shift()!;
    for (const pending of due) {
      pending.resolve({ value: `token-${pending.n}`, expiresAt: now + LIFETIME_MS });
    }
    due.length = 0;
    latent.push(due);
    await turn();
    for (const controller of abortLater) controller.abort(ABORT_REASON);
    abortLater.length = 0;
  };

  /** Resolves every latent mint and waits until every call has settled. */
  const quiesce = async (): Promise<void> => {
    const deadline = performance.now() + 10_000;
    while (outstanding > 0 || latent.some((bucket) => bucket.length > 0)) {
      for (let i = 0; i <= MAX_LATENCY_BURSTS; i++) await settleBurst();
      if (performance.now() > deadline) throw new Error(`${outstanding} calls never settled`);
    }
  };

  const track = (promise: Promise<unknown>): void => {
    outstanding += 1;
    promise.then(onValue, onError);
  };

  const burst = (): void => {
    const size = 1 + Math.floor(pick() * 16);
    for (let i = 0; i < size; i++) {
      now += 1;
      const r = pick();
      if (r < 0.05) {
        if (pick() < 0.1) {
          operations.invalidateStale! += 1;
          provider.invalidate('token-0'); // a late 401 for a long-gone credential: no-op
        } else {
          operations.invalidate! += 1;
          provider.invalidate();
        }
      } else if (r < 0.08) {
        operations.getWithSignal! += 1;
        gets += 1;
        const controller = new AbortController();
        track(provider.get({ signal: controller.signal }));
        const when = pick();
        if (when < 0.5) {
          operations.abortedAtOnce! += 1;
          controller.abort(ABORT_REASON);
        } else if (when < 0.8) {
          operations.abortedLater! += 1;
          abortLater.push(controller);
        }
      } else if (r < 0.085) {
        // Many calls under one long-lived signal (a request's, a shutdown's), which is
        // aborted or replaced now and then.
        operations.getWithSharedSignal! += 1;
        gets += 1;
        track(provider.get({ signal: shared.signal }));
        if (pick() < 0.005) {
          if (pick() < 0.5) {
            operations.sharedSignalAborted! += 1;
            shared.abort(ABORT_REASON);
          }
          shared = new AbortController();
        }
      } else if (r < 0.09) {
        operations.refresh! += 1;
        track(provider.refresh());
      } else if (r < 0.11) {
        operations.getCredential! += 1;
        gets += 1;
        track(provider.getCredential());
      } else {
        operations.get! += 1;
        gets += 1;
        track(provider.get());
      }
    }
    const event = pick();
    if (event < 0.000_05) {
      operations.clockJump! += 1;
      now += 5_000; // the process slept: everything cached has expired
    } else if (event < 0.000_1) {
      operations.clockStepBack! += 1;
      now -= 7; // NTP stepped the wall clock back
    }
  };

  const samples: HeapSample[] = [];
  let baselineBytes = 0;
  let nextSample = options.warmupGets;
  const sampleEvery = Math.max(1, Math.floor((options.gets - options.warmupGets) / 4));
  let lastLog = performance.now();
  while (gets < options.gets || mints < options.mints) {
    burst();
    await settleBurst();
    if (gets >= nextSample) {
      await quiesce();
      const bytes = await heapAfterGc();
      if (samples.length === 0) baselineBytes = bytes;
      samples.push({ gets, bytes });
      nextSample += sampleEvery;
      log(
        `  provider: ${gets.toLocaleString('en')} gets, ${mints.toLocaleString('en')} mints, heap ${(bytes / 1024).toFixed(0)} KiB${samples.length === 1 ? ' (baseline)' : ''}`,
      );
      lastLog = performance.now();
    } else if (performance.now() - lastLog > 10_000) {
      log(`  provider: ${gets.toLocaleString('en')} gets, ${mints.toLocaleString('en')} mints`);
      lastLog = performance.now();
    }
  }
  await quiesce();
  const finalBytes = await heapAfterGc();
  samples.push({ gets, bytes: finalBytes });
  const snapshot = provider.snapshot();
  if (snapshot.waiters !== 0 || snapshot.mintInFlight) {
    unexpectedErrors.push(`not idle before close: ${JSON.stringify(snapshot)}`);
  }
  const beforeClose = timers.counts();
  provider.close();
  track(provider.get()); // rejects with ProviderClosedError
  await quiesce();
  const afterClose = timers.counts();
  const afterCloseBytes = await heapAfterGc();

  return {
    gets,
    mints,
    seconds: (performance.now() - started) / 1000,
    operations,
    outcomes,
    mintBehaviours,
    mintReasons,
    breakerOpened,
    largestCohort,
    unexpectedErrors,
    heap: {
      baselineBytes,
      finalBytes,
      growthBytes: finalBytes - baselineBytes,
      afterCloseBytes,
      samples,
    },
    listeners: listeners.counts(),
    timers: { beforeClose, afterClose },
  };
}
