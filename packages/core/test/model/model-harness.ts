/**
 * The harness of the model-based race tests: random sequences of calls, aborts, clock moves
 * (ticks and wall-clock steps), mint outcomes and closes, run against the real provider
 * (single, lazy or eager; keyed, per-key or shared breaker) and the pure model in
 * `provider-model.ts`, compared after every step. Promise interleavings come from deferred
 * mints settled by commands and from bursts: several actions run synchronously, before any
 * microtask, so a mint settling races the calls, aborts, clock steps and closes issued in the
 * same tick.
 *
 * The generators cover every input class the API accepts, not only well-behaved ones:
 * - mints that answer synchronously (return or throw), return an already rejected promise, a
 *   thenable whose `then` getter throws, or a thenable that calls back synchronously;
 * - reporter hooks that call back into the provider (`get`, `getCredential`, `refresh`,
 *   `invalidate`, `close`, `delete`) when their event is delivered, and hooks that throw or
 *   return rejected promises (a per-run mode);
 * - clock readings that are NaN or throw (and wall-clock steps, as before).
 * Invariants checked besides agreement with the model: at most one mint in flight per key,
 * every call returns a promise (never throws, never returns anything else), never an expired
 * credential, the same outcome object to every waiter of a mint, no unhandled rejection, no
 * timer left after `close()`.
 *
 * Runs: `SLUICE_MODEL_RUNS` (default 200) per property; replay a failure with
 * `SLUICE_MODEL_SEED=<seed> SLUICE_MODEL_PATH=<path> SLUICE_MODEL_REPLAY=<replayPath>` as
 * printed (add `SLUICE_MODEL_VERBOSE=1` to list every failure met while shrinking).
 */

import fc from 'fast-check';
import { expect } from 'vitest';
import type { Credential } from '../../src/credential.js';
import {
  BreakerOpenError,
  InvalidCredentialError,
  MintedCredentialExpiredError,
  MintTimeoutError,
  ProviderClosedError,
} from '../../src/errors.js';
import { createKeyedProvider } from '../../src/keyed-provider.js';
import {
  type CallOptions,
  createRefreshingProvider,
  type MintContext,
  type ProviderSnapshot,
} from '../../src/refreshing-provider.js';
import type { Reporter } from '../../src/reporter.js';
import {
  type Deferred,
  deferred,
  flush,
  installClock,
  type TestClock,
} from '../support/fake-clock.js';
import * as model from './provider-model.js';

export const runs = Number(process.env.SLUICE_MODEL_RUNS ?? 200);
export const seed = Number(
  process.env.SLUICE_MODEL_SEED ?? (Date.now() ^ (Math.random() * 2 ** 31)) | 0,
);
const path = process.env.SLUICE_MODEL_PATH;
/** The commands' own replay path, printed as `replayPath=` in a counterexample. */
const replayPath = process.env.SLUICE_MODEL_REPLAY;

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const SINGLE_KEY = 'only';
const KEYS = ['a', 'b', 'c'] as const;

// ------------------------------------------------------------------------------- the harness

interface RealMint {
  readonly key: string;
  readonly context: MintContext<string>;
  readonly deferred: Deferred<Credential<string>>;
  settled: boolean;
}

type RealOutcome =
  | { readonly ok: true; readonly value: unknown; readonly at: number }
  | { readonly ok: false; readonly error: unknown; readonly at: number };

interface RealCaller {
  readonly controller: AbortController | undefined;
  readonly calledAt: number;
  /** The model said a valid credential was cached: this call must resolve. */
  readonly mustResolve: boolean;
  reason: unknown;
  outcome: RealOutcome | undefined;
  /** Its settled outcome was checked against the model. */
  verified: boolean;
}

interface Subject {
  call(key: string, op: model.Op, options: CallOptions | undefined): Promise<unknown>;
  peek(key: string): Credential<string> | undefined;
  invalidate(key: string, rejected: string | undefined): boolean;
  snapshot(key: string): ProviderSnapshot | undefined;
  delete(key: string): boolean;
  close(): void;
}

interface Real {
  readonly clock: TestClock;
  subject: Subject;
  readonly mints: RealMint[];
  readonly callers: RealCaller[];
  readonly events: string[];
  readonly violations: string[];
  readonly mintErrors: Map<number, Error>;
  readonly flightErrors: Map<number, unknown>;
  /** Expiry of each minted value, for checking what `get` resolved to. */
  readonly expiryOf: Map<string, number | undefined>;
  checkedMints: number;
  checkedEvents: number;
  /** How the next real mint behaves (mirrors the model's `nextMint`). */
  nextMint: model.MintBehaviour | null;
  /** The hook armed to call back into the provider (mirrors the model's `armed`). */
  armed: model.Trigger | null;
  /** What the provider's clock reads. */
  clockMode: 'ok' | 'nan' | 'throw';
}

/** fast-check's model box: the pure state is replaced, never mutated. */
interface Box {
  s: model.ModelState;
}

export const stats = {
  runs: 0,
  commands: 0,
  bursts: 0,
  burstActions: 0,
  mintSettlements: 0,
  timeouts: 0,
  calls: 0,
  aborts: 0,
  wallClockSteps: 0,
  syncMints: 0,
  hostileThenables: 0,
  hookCallbacks: 0,
  badClockSteps: 0,
};

const LEGAL = new Set(['closed>open', 'open>half-open', 'half-open>closed', 'half-open>open']);

function recordingReporter(real: () => Real, shared: boolean, mode: RunConfig['hooks']): Reporter {
  const halfOpen = new Map<string, number>(); // scope -> mints started while half-open
  const scope = (key: string) => (shared ? '*' : key);
  const k = (e: { key?: string }) => e.key ?? SINGLE_KEY;
  /** Records the event, runs an armed trigger, then behaves as the run's hook mode says. */
  const record = (event: string): undefined => {
    const r = real();
    r.events.push(event);
    const trigger = r.armed;
    if (trigger !== null && event.startsWith(`${trigger.hook} `)) {
      r.armed = null;
      stats.hookCallbacks++;
      runTrigger(r, trigger.does);
    }
    if (mode === 'throw') throw new Error(`hook broke on ${event}`);
    if (mode === 'reject') {
      // What an async hook that fails returns; typed away because Reporter hooks return void.
      return Promise.reject(new Error(`async hook rejected on ${event}`)) as unknown as undefined;
    }
    return undefined;
  };
  return {
    onRefreshStart: (e) => {
      const started = halfOpen.get(scope(k(e)));
      if (started !== undefined) {
        halfOpen.set(scope(k(e)), started + 1);
        if (started + 1 > 1) real().violations.push(`second mint while half-open: ${k(e)}`);
      }
      return record(`start ${k(e)} ${e.reason}`);
    },
    onRefreshSuccess: (e) =>
      record(`success ${k(e)} ${e.reason} took=${e.durationMs} left=${e.remainingLifetimeSeconds}`),
    onRefreshFailure: (e) =>
      record(
        `failure ${k(e)} ${e.reason} took=${e.durationMs} code=${e.code ?? null} cached=${e.cachedRemainingLifetimeSeconds}`,
      ),
    onBreakerStateChange: (e) => {
      const pair = `${e.from}>${e.to}`;
      // A shared breaker may close from open: another key's mint, started while it was
      // closed, succeeded; the issuer answered. A per-key breaker never sees that.
      if (!LEGAL.has(pair) && !(shared && pair === 'open>closed')) {
        real().violations.push(`illegal breaker transition ${pair} (${k(e)})`);
      }
      if (e.to === 'half-open') halfOpen.set(scope(k(e)), 0);
      else halfOpen.delete(scope(k(e)));
      return record(
        `breaker ${k(e)} ${e.from}>${e.to} failures=${e.failures} retry=${e.retryAfterMs}`,
      );
    },
    onCoalesced: (e) => record(`coalesced ${k(e)} ${e.reason} waiters=${e.waiters} ok=${e.ok}`),
    onInvalidateRefused: (e) =>
      record(`refused ${k(e)} age=${e.credentialAgeMs} retry=${e.retryAfterMs}`),
    onKeyDropped: (e) => record(`dropped ${e.key} ${e.reason}`),
  };
}

/** A hook's call back into the real provider (the model does the same in `deliver`). */
function runTrigger(real: Real, t: model.TriggerAct): void {
  if (t.act === 'call') {
    const caller: RealCaller = {
      controller: undefined,
      calledAt: Date.now(),
      mustResolve: false, // checked against the model's own record of it instead
      reason: undefined,
      outcome: undefined,
      verified: false,
    };
    real.callers.push(caller);
    observe(real, caller, () => real.subject.call(t.key, t.op, undefined));
  } else if (t.act === 'invalidate') {
    real.subject.invalidate(t.key, undefined);
  } else if (t.act === 'close') {
    real.subject.close();
  } else {
    real.subject.delete(t.key);
  }
}

/** Makes a call, checking it returns a promise, and records how it settles. */
function observe(real: Real, caller: RealCaller, call: () => Promise<unknown>): void {
  let returned: unknown;
  try {
    returned = call();
  } catch (error) {
    real.violations.push(`a call threw synchronously: ${String(error)}`);
    caller.outcome = { ok: false, error, at: Date.now() };
    return;
  }
  if (!(returned instanceof Promise)) {
    real.violations.push(`a call returned ${typeof returned}, not a promise`);
    caller.outcome = { ok: false, error: returned, at: Date.now() };
    return;
  }
  returned.then(
    (value) => {
      caller.outcome = { ok: true, value, at: Date.now() };
    },
    (error: unknown) => {
      caller.outcome = { ok: false, error, at: Date.now() };
    },
  );
}

interface RunConfig {
  readonly failureThreshold: number;
  readonly cooldownMs: number;
  readonly maxRetryAfterMs: number;
  readonly mintTimeoutMs: number;
  readonly refreshAt: number;
  readonly refreshFloorMs: number;
  readonly minRefreshIntervalMs: number;
  readonly lazy: boolean;
  /** What every reporter hook does after recording: return, throw, or return a rejection. */
  readonly hooks: 'plain' | 'throw' | 'reject';
}

const configArb: fc.Arbitrary<RunConfig> = fc.record({
  failureThreshold: fc.integer({ min: 1, max: 3 }),
  cooldownMs: fc.constantFrom(1_000, 60_000),
  maxRetryAfterMs: fc.constantFrom(300_000, 300_000, 30_000, 0),
  mintTimeoutMs: fc.constantFrom(1_000, 30_000),
  refreshAt: fc.constantFrom(0.5, 0.8, 1),
  refreshFloorMs: fc.constantFrom(0, 30_000),
  minRefreshIntervalMs: fc.constantFrom(0, 5_000),
  lazy: fc.boolean(),
  hooks: fc.constantFrom('plain' as const, 'plain' as const, 'throw' as const, 'reject' as const),
});

function modelConfig(c: RunConfig, keyed: 'single' | 'per-key' | 'shared'): model.ModelConfig {
  return {
    keys: keyed === 'single' ? [SINGLE_KEY] : KEYS,
    keyed: keyed !== 'single',
    sharedBreaker: keyed === 'shared',
    failureThreshold: c.failureThreshold,
    cooldownMs: c.cooldownMs,
    maxRetryAfterMs: c.maxRetryAfterMs,
    mintTimeoutMs: c.mintTimeoutMs,
    refreshAt: c.refreshAt,
    refreshFloorMs: c.refreshFloorMs,
    minRefreshIntervalMs: c.minRefreshIntervalMs,
  };
}

function newReal(clock: TestClock): Real {
  return {
    clock,
    subject: undefined as unknown as Subject,
    mints: [],
    callers: [],
    events: [],
    violations: [],
    mintErrors: new Map(),
    flightErrors: new Map(),
    expiryOf: new Map(),
    checkedMints: 0,
    checkedEvents: 0,
    nextMint: null,
    armed: null,
    clockMode: 'ok',
  };
}

function recordMint(
  real: Real,
  key: string,
  context: MintContext<string>,
): Promise<Credential<string>> | Credential<string> {
  const d = deferred<Credential<string>>();
  const mintId = real.mints.length;
  const behaviour = real.nextMint;
  real.nextMint = null;
  real.mints.push({ key, context, deferred: d, settled: behaviour !== null });
  if (behaviour === null) return d.promise;
  stats.syncMints++;
  const fail = (): Error => {
    const error = Object.assign(new Error(`mint ${mintId} failed (${behaviour.kind})`), {
      code: 'E_MINT',
    });
    real.mintErrors.set(mintId, error);
    return error;
  };
  switch (behaviour.kind) {
    case 'return':
      return rawCredential(real, mintId, behaviour.payload) as Credential<string>;
    case 'thenable': {
      stats.hostileThenables++;
      const raw = rawCredential(real, mintId, behaviour.payload);
      // Calls back synchronously, then again (a second call must be ignored).
      const thenable = {
        // biome-ignore lint/suspicious/noThenProperty: a misbehaving thenable is the input
        then(resolve: (value: unknown) => void, reject: (error: unknown) => void) {
          resolve(raw);
          reject(new Error('a second settlement'));
        },
      };
      return thenable as unknown as Credential<string>;
    }
    case 'throw':
      throw fail();
    case 'rejected':
      return Promise.reject(fail());
    case 'then-throws': {
      stats.hostileThenables++;
      const error = fail();
      const hostile = {
        // biome-ignore lint/suspicious/noThenProperty: a hostile thenable is the input
        get then(): never {
          throw error;
        },
      };
      return hostile as unknown as Credential<string>;
    }
  }
}

/** The raw value a mint resolves to for `payload`, at the current (fake) wall clock. */
function rawCredential(real: Real, mintId: number, p: model.Payload): unknown {
  const value = mintedValue(mintId);
  const withRefreshAfter = <C extends object>(credential: C, offset: number | undefined) =>
    offset === undefined ? credential : { ...credential, refreshAfter: Date.now() + offset };
  if (p.kind === 'lifetime') {
    const expiresAt = Date.now() + p.lifetimeMs;
    real.expiryOf.set(value, expiresAt);
    return withRefreshAfter({ value, expiresAt }, p.refreshAfterMs);
  }
  if (p.kind === 'never') {
    real.expiryOf.set(value, undefined);
    return withRefreshAfter({ value }, p.refreshAfterMs);
  }
  if (p.shape === 'no-value') return { expiresAt: Date.now() + HOUR };
  if (p.shape === 'nan') return { value, expiresAt: Number.NaN };
  if (p.shape === 'string') return { value, expiresAt: String(Date.now() + HOUR) };
  return 42;
}

async function setUp(
  c: RunConfig,
  kind: 'single' | 'per-key' | 'shared',
  clock: TestClock,
): Promise<{ box: Box; real: Real }> {
  const real = newReal(clock);
  const mc = modelConfig(c, kind);
  const box: Box = { s: model.initialState(mc, Date.now()) };
  const policy = {
    breaker: {
      failureThreshold: c.failureThreshold,
      cooldownMs: c.cooldownMs,
      maxRetryAfterMs: c.maxRetryAfterMs,
    },
    mintTimeoutMs: c.mintTimeoutMs,
    refreshAt: c.refreshAt,
    refreshFloorMs: c.refreshFloorMs,
    minRefreshIntervalMs: c.minRefreshIntervalMs,
    random: () => 0,
    now: () => {
      if (real.clockMode === 'ok') return Date.now();
      if (real.clockMode === 'nan') return Number.NaN;
      throw new Error('the clock broke');
    },
    reporter: recordingReporter(() => real, kind === 'shared', c.hooks),
  };
  if (kind === 'single') {
    const pending = createRefreshingProvider<string>({
      ...policy,
      lazy: c.lazy,
      mint: (context) => recordMint(real, SINGLE_KEY, context),
    });
    if (!c.lazy) {
      box.s = model.start(box.s);
      settle(box, real, 0, { kind: 'resolve', payload: { kind: 'lifetime', lifetimeMs: HOUR } });
      box.s = model.drain(box.s);
    }
    const provider = await pending;
    real.subject = {
      call: (_key, op, options) =>
        op === 'get'
          ? provider.get(options)
          : op === 'getCredential'
            ? provider.getCredential(options)
            : provider.refresh(options),
      peek: () => provider.peek(),
      invalidate: (_key, rejected) => provider.invalidate(rejected),
      snapshot: () => provider.snapshot(),
      delete: () => false,
      close: () => provider.close(),
    };
  } else {
    const provider = createKeyedProvider<string, string>({
      ...policy,
      breakerScope: kind,
      mint: (key, context) => recordMint(real, key, context),
    });
    real.subject = {
      call: (key, op, options) =>
        op === 'get'
          ? provider.get(key, options)
          : op === 'getCredential'
            ? provider.getCredential(key, options)
            : provider.refresh(key, options),
      peek: (key) => provider.peek(key),
      invalidate: (key, rejected) => provider.invalidate(key, rejected),
      snapshot: (key) => provider.snapshot(key),
      delete: (key) => provider.delete(key),
      close: () => provider.close(),
    };
  }
  await flush();
  verify(box.s, real);
  return { box, real };
}

// ------------------------------------------------------------------------------ the actions

/** One synchronous action; a command is one action, or a burst of several in one tick. */
type Action =
  | {
      readonly t: 'call';
      readonly key: number;
      readonly op: model.Op;
      readonly signal: model.SignalKind;
    }
  | { readonly t: 'peek'; readonly key: number }
  | {
      readonly t: 'invalidate';
      readonly key: number;
      readonly which: 'any' | 'current' | 'stale';
      readonly pick: number;
    }
  | { readonly t: 'abort'; readonly pick: number }
  | { readonly t: 'resolve'; readonly pick: number; readonly payload: model.Payload }
  | { readonly t: 'reject'; readonly pick: number; readonly hintMs?: number }
  | { readonly t: 'jump'; readonly to: 'back-hour' | 'forward-day' }
  | { readonly t: 'close' }
  | { readonly t: 'delete'; readonly key: number }
  | { readonly t: 'mint'; readonly behaviour: model.MintBehaviour }
  | {
      readonly t: 'arm';
      readonly hook: model.HookName;
      readonly act: 'get' | 'getCredential' | 'refresh' | 'invalidate' | 'close' | 'delete';
      readonly key: number;
    }
  | { readonly t: 'clock'; readonly mode: 'ok' | 'nan' | 'throw' };

const mintedValue = (mintId: number): string => `v${mintId}`;

function keyAt(box: Box, index: number): string {
  const keys = box.s.config.keys;
  return keys[index % keys.length] as string;
}

function settle(
  box: Box,
  real: Real,
  mintId: number,
  outcome: { kind: 'resolve'; payload: model.Payload } | { kind: 'reject'; hintMs?: number },
): void {
  box.s = model.settleMint(box.s, mintId, outcome);
  const mint = real.mints[mintId];
  if (mint === undefined) throw new Error(`no real mint ${mintId}`);
  mint.settled = true;
  stats.mintSettlements++;
  if (outcome.kind === 'reject') {
    const error = Object.assign(new Error(`mint ${mintId} failed`), { code: 'E_MINT' });
    if ('hintMs' in outcome) Object.assign(error, { retryAfterMs: outcome.hintMs });
    real.mintErrors.set(mintId, error);
    mint.deferred.reject(error);
    return;
  }
  mint.deferred.resolve(rawCredential(real, mintId, outcome.payload) as Credential<string>);
}

function runAction(a: Action, box: Box, real: Real): void {
  switch (a.t) {
    case 'call': {
      stats.calls++;
      const key = keyAt(box, a.key);
      const mustResolve =
        a.op !== 'refresh' && a.signal !== 'aborted' && model.hasValid(box.s, key);
      const next = model.call(box.s, key, a.op, a.signal);
      box.s = next.state;
      let controller: AbortController | undefined;
      let reason: unknown;
      if (a.signal !== 'none') {
        controller = new AbortController();
        if (a.signal === 'aborted') {
          reason = new Error(`caller ${next.caller} aborted before calling`);
          controller.abort(reason);
        }
      }
      const caller: RealCaller = {
        controller,
        calledAt: Date.now(),
        mustResolve,
        reason,
        outcome: undefined,
        verified: false,
      };
      real.callers.push(caller);
      observe(real, caller, () =>
        real.subject.call(
          key,
          a.op,
          controller === undefined ? undefined : { signal: controller.signal },
        ),
      );
      return;
    }
    case 'peek': {
      const key = keyAt(box, a.key);
      const expected = model.peek(box.s, key);
      expect(real.subject.peek(key)?.value, `peek(${key})`).toBe(
        expected === null ? undefined : mintedValue(expected),
      );
      return;
    }
    case 'invalidate': {
      const key = keyAt(box, a.key);
      let rejected: number | undefined;
      if (a.which === 'current') {
        rejected = model.peek(box.s, key) ?? undefined;
      } else if (a.which === 'stale') {
        const minted = box.s.mints.flatMap((m, id) => (m.expiresAt === null ? [] : [id]));
        rejected = minted.length === 0 ? undefined : minted[a.pick % minted.length];
      }
      const next = model.invalidate(box.s, key, rejected);
      box.s = next.state;
      const dropped = real.subject.invalidate(
        key,
        rejected === undefined ? undefined : mintedValue(rejected),
      );
      expect(dropped, `invalidate(${key}, ${rejected})`).toBe(next.dropped);
      return;
    }
    case 'abort': {
      const candidates = model.abortableCallers(box.s);
      if (candidates.length === 0) return;
      stats.aborts++;
      const index = candidates[a.pick % candidates.length] as number;
      box.s = model.abortCaller(box.s, index);
      const caller = real.callers[index] as RealCaller;
      caller.reason = new Error(`caller ${index} aborted`);
      caller.controller?.abort(caller.reason);
      return;
    }
    case 'resolve':
    case 'reject': {
      const candidates = model.unsettledMints(box.s);
      if (candidates.length === 0) return;
      const mintId = candidates[a.pick % candidates.length] as number;
      settle(
        box,
        real,
        mintId,
        a.t === 'reject'
          ? a.hintMs === undefined
            ? { kind: 'reject' }
            : { kind: 'reject', hintMs: a.hintMs }
          : { kind: 'resolve', payload: a.payload },
      );
      return;
    }
    case 'jump': {
      stats.wallClockSteps++;
      const to = Date.now() + (a.to === 'back-hour' ? -HOUR : DAY);
      box.s = model.setNow(box.s, to);
      real.clock.setSystemTime(to);
      return;
    }
    case 'close':
      box.s = model.close(box.s);
      real.subject.close();
      return;
    case 'delete': {
      if (!box.s.config.keyed) return;
      const key = keyAt(box, a.key);
      const next = model.deleteKey(box.s, key);
      box.s = next.state;
      expect(real.subject.delete(key), `delete(${key})`).toBe(next.deleted);
      return;
    }
    case 'mint':
      box.s = model.setNextMint(box.s, a.behaviour);
      real.nextMint = a.behaviour;
      return;
    case 'arm': {
      const key = keyAt(box, a.key);
      const does: model.TriggerAct =
        a.act === 'invalidate' || a.act === 'delete'
          ? { act: a.act, key }
          : a.act === 'close'
            ? { act: 'close' }
            : { act: 'call', op: a.act, key };
      if (does.act === 'delete' && !box.s.config.keyed) return;
      const trigger: model.Trigger = { hook: a.hook, does };
      box.s = model.arm(box.s, trigger);
      real.armed = trigger;
      return;
    }
    case 'clock':
      if (a.mode !== 'ok') stats.badClockSteps++;
      box.s = model.setClockBad(box.s, a.mode !== 'ok');
      real.clockMode = a.mode;
      return;
  }
}

function describeAction(a: Action): string {
  switch (a.t) {
    case 'call':
      return `${a.op}(key#${a.key}${a.signal === 'none' ? '' : `, ${a.signal} signal`})`;
    case 'peek':
      return `peek(key#${a.key})`;
    case 'invalidate':
      return `invalidate(key#${a.key}, ${a.which}#${a.pick})`;
    case 'abort':
      return `abort(caller#${a.pick})`;
    case 'resolve':
      return `resolve(mint#${a.pick}, ${JSON.stringify(a.payload)})`;
    case 'reject':
      return a.hintMs === undefined
        ? `reject(mint#${a.pick})`
        : `reject(mint#${a.pick}, retryAfterMs ${a.hintMs})`;
    case 'jump':
      return `setSystemTime(${a.to})`;
    case 'close':
      return 'close()';
    case 'delete':
      return `delete(key#${a.key})`;
    case 'mint':
      return `nextMint(${JSON.stringify(a.behaviour)})`;
    case 'arm':
      return `on(${a.hook}) => ${a.act}(key#${a.key})`;
    case 'clock':
      return `clock(${a.mode})`;
  }
}

// ---------------------------------------------------------------------------- verification

function verify(s: model.ModelState, real: Real): void {
  expect(real.violations, 'reporter-observed violations').toEqual([]);
  // Every mint the model expects started, for the right key and reason, replacing the right one.
  expect(real.mints.length, 'mints started').toBe(s.mints.length);
  for (; real.checkedMints < real.mints.length; real.checkedMints++) {
    const r = real.mints[real.checkedMints] as RealMint;
    const m = s.mints[real.checkedMints] as model.MintRecord;
    expect({ key: r.key, reason: r.context.reason, previous: r.context.previous?.value }).toEqual({
      key: m.key,
      reason: m.reason,
      previous: m.previousMintId === null ? undefined : mintedValue(m.previousMintId),
    });
  }
  // At most one mint in flight per key (started, neither settled nor aborted).
  const active = new Map<string, number>();
  for (const m of real.mints) {
    if (!m.settled && !m.context.signal.aborted) active.set(m.key, (active.get(m.key) ?? 0) + 1);
  }
  for (const [key, n] of active) expect(n, `mints in flight for ${key}`).toBeLessThanOrEqual(1);
  // Every call settled as the model says, when it says.
  expect(real.callers.length).toBe(s.callers.length);
  for (let i = 0; i < s.callers.length; i++) {
    const r = real.callers[i] as RealCaller;
    if (r.verified) continue; // a settled promise never changes
    checkCaller(real, s.callers[i] as model.CallerRecord, r, i);
  }
  // Reporter events agree with the model, in order (only the new ones: the rest were checked).
  expect(real.events.length, 'reporter events').toBe(s.events.length);
  expect(real.events.slice(real.checkedEvents)).toEqual(s.events.slice(real.checkedEvents));
  real.checkedEvents = real.events.length;
  // Diagnostics and peek agree with the model.
  for (const key of s.config.keys) {
    const expected = model.snapshot(s, key);
    const actual = real.subject.snapshot(key);
    if (expected === undefined || actual === undefined) {
      expect(actual === undefined, `snapshot(${key}) presence`).toBe(expected === undefined);
      continue;
    }
    expect(
      {
        status: actual.status,
        issuedAt: actual.issuedAt,
        expiresAt: actual.expiresAt,
        refreshDueAt: actual.refreshDueAt,
        mintInFlight: actual.mintInFlight,
        waiters: actual.waiters,
        breaker: actual.breaker,
        lastError:
          actual.lastError === null
            ? null
            : { code: actual.lastError.code, at: actual.lastError.at },
      },
      `snapshot(${key})`,
    ).toEqual(expected);
    const peeked = model.peek(s, key);
    expect(real.subject.peek(key)?.value).toBe(peeked === null ? undefined : mintedValue(peeked));
  }
}

function checkCaller(real: Real, c: model.CallerRecord, r: RealCaller, index: number): void {
  const label = `caller ${index}: ${c.op}(${c.key}) at ${c.calledAt}`;
  if (c.result === null) {
    expect(r.outcome, `${label} should still wait`).toBeUndefined();
    return;
  }
  const outcome = r.outcome;
  expect(outcome, `${label} should have settled`).toBeDefined();
  if (outcome === undefined) return;
  const result = c.result;
  if (r.mustResolve) expect(outcome.ok, `${label}: a valid credential is never refused`).toBe(true);
  if (result.ok) {
    expect(
      outcome.ok,
      `${label} should resolve, got ${outcome.ok ? '' : String(outcome.error)}`,
    ).toBe(true);
    if (!outcome.ok) return;
    const value = mintedValue(result.mintId);
    const credential =
      c.op === 'get'
        ? { value: outcome.value, expiresAt: real.expiryOf.get(value) }
        : (outcome.value as Credential<string>);
    expect(credential.value, label).toBe(value);
    r.verified = true;
    // Never an expired credential: checked at the call for a cached one, at settlement otherwise.
    const at = result.source === 'cached' ? r.calledAt : outcome.at;
    if (credential.expiresAt !== undefined) {
      expect(credential.expiresAt, `${label}: expired credential served`).toBeGreaterThan(at);
    }
    return;
  }
  expect(outcome.ok, `${label} should reject with ${result.error}`).toBe(false);
  if (outcome.ok) return;
  const error = outcome.error;
  switch (result.error) {
    case 'mint':
      expect(error, label).toBe(real.mintErrors.get(result.flightMintId as number));
      break;
    case 'abort':
      expect(error, label).toBe(r.reason);
      break;
    case 'timeout':
      expect(error, label).toBeInstanceOf(MintTimeoutError);
      break;
    case 'closed':
      expect(error, label).toBeInstanceOf(ProviderClosedError);
      break;
    case 'invalid':
      expect(error, label).toBeInstanceOf(InvalidCredentialError);
      break;
    case 'expired':
      expect(error, label).toBeInstanceOf(MintedCredentialExpiredError);
      break;
    case 'breaker':
      expect(error, label).toBeInstanceOf(BreakerOpenError);
      expect((error as BreakerOpenError).retryAfterMs, `${label} retryAfterMs`).toBe(
        result.retryAfterMs,
      );
      break;
  }
  // Every waiter of one flight gets the same error object.
  if (result.flightMintId !== null) {
    const first = real.flightErrors.get(result.flightMintId);
    if (first === undefined) real.flightErrors.set(result.flightMintId, error);
    else expect(error, `${label}: same error object for every waiter`).toBe(first);
  }
  r.verified = true;
}

// ------------------------------------------------------------------------------ the commands

class SyncStep implements fc.AsyncCommand<Box, Real, false> {
  constructor(readonly actions: readonly Action[]) {}
  check(): boolean {
    return true;
  }
  async run(box: Box, real: Real): Promise<void> {
    stats.commands++;
    if (this.actions.length > 1) {
      stats.bursts++;
      stats.burstActions += this.actions.length;
    }
    for (const action of this.actions) runAction(action, box, real);
    box.s = model.drain(box.s);
    await flush();
    verify(box.s, real);
  }
  toString(): string {
    return this.actions.length === 1
      ? describeAction(this.actions[0] as Action)
      : `burst[${this.actions.map(describeAction).join(', ')}]`;
  }
}

class Advance implements fc.AsyncCommand<Box, Real, false> {
  constructor(readonly ms: number | 'to-next-timeout') {}
  check(): boolean {
    return true;
  }
  async run(box: Box, real: Real): Promise<void> {
    stats.commands++;
    await advanceBoth(box, real, this.ms);
    verify(box.s, real);
  }
  toString(): string {
    return `tickAsync(${this.ms})`;
  }
}

async function advanceBoth(box: Box, real: Real, ms: number | 'to-next-timeout'): Promise<void> {
  let step = 1_000;
  if (typeof ms === 'number') step = ms;
  else {
    const remaining = box.s.config.keys
      .map((key) => model.flightOf(box.s, key)?.remainingMs)
      .filter((r): r is number => r !== undefined);
    if (remaining.length > 0) step = Math.min(...remaining);
  }
  const before = countInFlight(box.s);
  box.s = model.advance(box.s, step);
  stats.timeouts += before - countInFlight(box.s);
  await real.clock.tickAsync(step);
  await flush();
}

function countInFlight(s: model.ModelState): number {
  return s.config.keys.filter((key) => model.flightOf(s, key) !== null).length;
}

// --------------------------------------------------------------------------- the arbitraries

const payloadArb: fc.Arbitrary<model.Payload> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc
      .constantFrom(1, 500, 20_000, 60_000, HOUR, 2 * DAY)
      .map((lifetimeMs) => ({ kind: 'lifetime' as const, lifetimeMs })),
  },
  {
    // The credential's own due point: in the past, soon, mid-life, past expiry.
    weight: 2,
    arbitrary: fc
      .record({
        lifetimeMs: fc.constantFrom(20_000, 60_000, HOUR, 2 * DAY),
        refreshAfterMs: fc.constantFrom(-HOUR, 0, 2_000, 30_000, HOUR / 2, 3 * DAY),
      })
      .map((p) => ({ kind: 'lifetime' as const, ...p })),
  },
  {
    weight: 1,
    arbitrary: fc
      .constantFrom(-1_000, 10_000, HOUR)
      .map((refreshAfterMs) => ({ kind: 'never' as const, refreshAfterMs })),
  },
  {
    weight: 1,
    arbitrary: fc
      .constantFrom(0, -1_000)
      .map((lifetimeMs) => ({ kind: 'lifetime' as const, lifetimeMs })),
  },
  { weight: 1, arbitrary: fc.constant({ kind: 'never' as const }) },
  {
    weight: 1,
    arbitrary: fc
      .constantFrom('no-value' as const, 'nan' as const, 'string' as const, 'number' as const)
      .map((shape) => ({ kind: 'malformed' as const, shape })),
  },
);

function actionArbs(keyed: boolean): Array<{ weight: number; arbitrary: fc.Arbitrary<Action> }> {
  const key = fc.nat({ max: keyed ? KEYS.length - 1 : 0 });
  const arbs: Array<{ weight: number; arbitrary: fc.Arbitrary<Action> }> = [
    {
      weight: 8,
      arbitrary: fc.record({
        t: fc.constant('call' as const),
        key,
        op: fc.constantFrom<model.Op>('get', 'get', 'getCredential', 'refresh'),
        signal: fc.constantFrom<model.SignalKind>('none', 'none', 'live', 'live', 'aborted'),
      }),
    },
    { weight: 1, arbitrary: fc.record({ t: fc.constant('peek' as const), key }) },
    {
      weight: 2,
      arbitrary: fc.record({
        t: fc.constant('invalidate' as const),
        key,
        which: fc.constantFrom('any' as const, 'current' as const, 'stale' as const),
        pick: fc.nat(),
      }),
    },
    { weight: 2, arbitrary: fc.record({ t: fc.constant('abort' as const), pick: fc.nat() }) },
    {
      weight: 6,
      arbitrary: fc.record({
        t: fc.constant('resolve' as const),
        pick: fc.nat(),
        payload: payloadArb,
      }),
    },
    { weight: 3, arbitrary: fc.record({ t: fc.constant('reject' as const), pick: fc.nat() }) },
    {
      weight: 1,
      arbitrary: fc.record({
        t: fc.constant('reject' as const),
        pick: fc.nat(),
        // A retry hint: valid (short, long, capped, fractional) or malformed.
        hintMs: fc.constantFrom(500, 2_500.5, 120_000, 36_000_000, 0, -5, Number.NaN),
      }),
    },
    {
      weight: 1,
      arbitrary: fc.record({
        t: fc.constant('jump' as const),
        to: fc.constantFrom('back-hour' as const, 'forward-day' as const),
      }),
    },
  ];
  arbs.push({ weight: 1, arbitrary: fc.constant({ t: 'close' as const }) });
  if (keyed)
    arbs.push({ weight: 1, arbitrary: fc.record({ t: fc.constant('delete' as const), key }) });
  arbs.push({
    weight: 3,
    arbitrary: fc.record({
      t: fc.constant('mint' as const),
      behaviour: fc.oneof(
        fc.record({
          kind: fc.constantFrom('return' as const, 'thenable' as const),
          payload: payloadArb,
        }),
        fc.record({
          kind: fc.constantFrom('throw' as const, 'rejected' as const, 'then-throws' as const),
        }),
      ),
    }),
  });
  arbs.push({
    weight: 3,
    arbitrary: fc.record({
      t: fc.constant('arm' as const),
      hook: fc.constantFrom<model.HookName>(
        'start',
        'start',
        'success',
        'failure',
        'breaker',
        'coalesced',
        'refused',
      ),
      act: fc.constantFrom(
        'get' as const,
        'getCredential' as const,
        'refresh' as const,
        'invalidate' as const,
        'close' as const,
        'delete' as const,
      ),
      key,
    }),
  });
  arbs.push({
    weight: 2,
    arbitrary: fc.record({
      t: fc.constant('clock' as const),
      mode: fc.constantFrom('ok' as const, 'ok' as const, 'nan' as const, 'throw' as const),
    }),
  });
  return arbs;
}

function commandArbs(keyed: boolean): Array<fc.Arbitrary<fc.AsyncCommand<Box, Real, false>>> {
  const action = fc.oneof(...actionArbs(keyed));
  return [
    action.map((a) => new SyncStep([a])),
    action.map((a) => new SyncStep([a])),
    action.map((a) => new SyncStep([a])),
    fc.array(action, { minLength: 2, maxLength: 4 }).map((as) => new SyncStep(as)),
    fc
      .constantFrom<number | 'to-next-timeout'>(
        1,
        999,
        1_000,
        29_000,
        30_000,
        0.8 * HOUR,
        HOUR,
        'to-next-timeout',
      )
      .map((ms) => new Advance(ms)),
  ];
}

// ------------------------------------------------------------------------------ the property

async function runModel(
  kind: 'single' | 'per-key' | 'shared',
  config: RunConfig,
  cmds: Iterable<fc.AsyncCommand<Box, Real, false>>,
): Promise<void> {
  stats.runs++;
  const clock = installClock();
  let real: Real | undefined;
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);
  process.on('unhandledRejection', onUnhandled);
  process.on('uncaughtException', onUnhandled);
  try {
    const setup = await setUp(config, kind, clock);
    real = setup.real;
    const { box } = setup;
    await fc.asyncModelRun(() => ({ model: box, real: setup.real }), cmds);
    // No hook calls back any more, so nothing new starts while the run winds down.
    box.s = model.arm(box.s, null);
    setup.real.armed = null;
    // Every call settles within mintTimeoutMs: advance past it and nothing is left waiting.
    await advanceBoth(box, setup.real, config.mintTimeoutMs + 1);
    verify(box.s, setup.real);
    expect(setup.real.callers.filter((c) => c.outcome === undefined)).toHaveLength(0);
    // Nothing pending after close(): no caller, no timer.
    box.s = model.close(box.s);
    setup.real.subject.close();
    await flush();
    verify(box.s, setup.real);
    expect(clock.countTimers(), 'timers left after close').toBe(0);
    // Node reports unhandled rejections once the microtask queue is empty: wait a macrotask.
    await new Promise((resolve) => setImmediate(resolve));
    expect(unhandled, 'unhandled rejections or uncaught exceptions').toEqual([]);
  } finally {
    process.off('unhandledRejection', onUnhandled);
    process.off('uncaughtException', onUnhandled);
    real?.subject?.close();
    clock.uninstall();
  }
}

export function assertModel(kind: 'single' | 'per-key' | 'shared'): Promise<void> {
  const keyed = kind !== 'single';
  return fc.assert(
    fc.asyncProperty(
      configArb,
      fc.commands(commandArbs(keyed), {
        maxCommands: 40,
        size: 'medium',
        ...(replayPath === undefined ? {} : { replayPath }),
      }),
      (config, cmds) => runModel(kind, config, cmds),
    ),
    {
      numRuns: runs,
      seed,
      ...(path === undefined ? {} : { path }),
      verbose:
        process.env.SLUICE_MODEL_VERBOSE === undefined
          ? fc.VerbosityLevel.None
          : fc.VerbosityLevel.Verbose,
    },
  );
}

/** The summary printed after each model test file: how many interleavings were explored. */
export function summary(): string {
  return (
    `[model] seed=${seed} runs=${stats.runs} commands=${stats.commands} bursts=${stats.bursts} ` +
    `(actions in bursts=${stats.burstActions}) mintSettlements=${stats.mintSettlements} ` +
    `mintTimeouts=${stats.timeouts} calls=${stats.calls} aborts=${stats.aborts} ` +
    `wallClockSteps=${stats.wallClockSteps} syncMints=${stats.syncMints} ` +
    `hostileThenables=${stats.hostileThenables} hookCallbacks=${stats.hookCallbacks} ` +
    `badClockSteps=${stats.badClockSteps}`
  );
}

/** A generous per-test timeout that grows with the number of runs. */
export const modelTimeoutMs = Math.max(60_000, runs * 100);
