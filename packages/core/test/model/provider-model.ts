/**
 * A small, pure model of a refreshing provider (or of a keyed one): the cache per key, the
 * wall clock and the provider's own readings of it, the mint in flight per key with its
 * timeout, the circuit breaker (one per key, or one shared), and the reporter's event queue.
 * Every exported function takes a state and returns a new one; nothing here touches timers,
 * promises or the code under test. The model is written from the documented behaviour, not
 * from the implementation: the model test runs both side by side and compares.
 *
 * Jitter is out of the model: the provider under test gets `random: () => 0`, so a
 * credential installed at `now` with lifetime `L` is due at
 * `max(now, min(now + L x refreshAt, expiresAt - refreshFloorMs))`, pushed to at least
 * `now + minRefreshIntervalMs` when that is `now` already or the expiry did not advance; a
 * credential whose expiry did not advance is due at `max(now, expiresAt - refreshFloorMs)`
 * (the kept-credential rule), pushed likewise. A credential with `refreshAfter` is due at
 * `max(now, min(refreshAfter, expiresAt, expiresAt - refreshFloorMs))` instead. A mint
 * rejection carrying a retry hint opens the breaker for the capped hint (docs/policy.md).
 *
 * What the model simulates beyond the plain policy:
 * - Reporter events are queued and delivered when the outermost operation ends, in the order
 *   they were emitted; a hook armed with a trigger calls back into the provider when its event
 *   is delivered, and that call's own events join the end of the queue.
 * - A mint's outcome reaches the provider in a later microtask "generation": a deferred mint
 *   settled by the test, a synchronous return or throw, or a thenable whose `then` getter
 *   throws take one generation; a thenable that calls back synchronously takes two. Outcomes
 *   are processed generation by generation, in the order they were issued.
 * - The provider's clock can be unreadable (NaN or a throw): calls then fail with the clock
 *   error, and outcomes landing meanwhile are dated at their mint's start.
 */

export type Op = 'get' | 'getCredential' | 'refresh';
export type SignalKind = 'none' | 'live' | 'aborted';
export type BreakerName = 'closed' | 'open' | 'half-open';
export type MintReason = 'initial' | 'proactive' | 'expired' | 'invalidated' | 'forced';

/** Why a caller was refused or a flight failed. */
export type ErrorKind =
  | 'mint' // the mint's own rejection, by identity
  | 'timeout' // MintTimeoutError
  | 'closed' // ProviderClosedError
  | 'breaker' // BreakerOpenError
  | 'invalid' // InvalidCredentialError
  | 'expired' // MintedCredentialExpiredError
  | 'clock' // InvalidClockError
  | 'abort'; // the caller's own signal.reason, by identity

/** What a mint resolves to, relative to the clock when it resolves. */
export type Payload =
  | {
      readonly kind: 'lifetime';
      readonly lifetimeMs: number; // <= 0: already expired
      /** `refreshAfter` relative to the clock when it resolves (any sign; past expiry too). */
      readonly refreshAfterMs?: number;
    }
  | { readonly kind: 'never'; readonly refreshAfterMs?: number } // no expiresAt
  | { readonly kind: 'malformed'; readonly shape: 'no-value' | 'nan' | 'string' | 'number' };

/**
 * How the next mint behaves (one-shot; then mints wait on a deferred again):
 * - `return`: returns the payload synchronously; `thenable`: returns a thenable whose `then`
 *   calls back synchronously with it (two generations);
 * - `throw`: throws synchronously; `rejected`: returns an already rejected promise;
 *   `then-throws`: returns an object whose `then` getter throws (all one generation).
 */
export type MintBehaviour =
  | { readonly kind: 'return' | 'thenable'; readonly payload: Payload }
  | { readonly kind: 'throw' | 'rejected' | 'then-throws' };

/** Which hook a trigger waits for: the first word of the event. */
export type HookName = 'start' | 'success' | 'failure' | 'breaker' | 'coalesced' | 'refused';

/** What an armed hook does, once, when its next event is delivered. */
export type TriggerAct =
  | { readonly act: 'call'; readonly op: Op; readonly key: string }
  | { readonly act: 'invalidate'; readonly key: string }
  | { readonly act: 'close' }
  | { readonly act: 'delete'; readonly key: string };

export interface Trigger {
  readonly hook: HookName;
  readonly does: TriggerAct;
}

export interface ModelConfig {
  readonly keys: readonly string[];
  readonly keyed: boolean;
  readonly sharedBreaker: boolean;
  readonly failureThreshold: number;
  readonly cooldownMs: number;
  /** The cap on a mint error's retry hint; 0 ignores hints. */
  readonly maxRetryAfterMs: number;
  readonly mintTimeoutMs: number;
  readonly refreshAt: number;
  readonly refreshFloorMs: number;
  readonly minRefreshIntervalMs: number;
}

interface Cached {
  readonly mintId: number;
  /** `Infinity` for a credential without expiry. */
  readonly expiresAt: number;
  readonly hasExpiry: boolean;
  readonly issuedAt: number;
  readonly dueAt: number;
  /** Why it was minted: the invalidation guard refuses to drop a young 'invalidated' one. */
  readonly reason: MintReason;
}

interface Flight {
  readonly mintId: number;
  readonly reason: MintReason;
  readonly startedAt: number;
  /** Monotonic milliseconds until the mint timeout fires (wall-clock jumps do not move it). */
  remainingMs: number;
  waiters: number;
  /** Creation order, to fire simultaneous timeouts in the order the timers were set. */
  readonly seq: number;
}

interface Cell {
  cached: Cached | null;
  /** The credential the next mint replaces after an invalidation. */
  previous: {
    readonly mintId: number;
    readonly hasExpiry: boolean;
    readonly expiresAt: number;
  } | null;
  invalidated: boolean;
  closed: boolean;
  flight: Flight | null;
}

interface Breaker {
  state: BreakerName;
  failures: number;
  openedAt: number;
  /** The length of the current opening when a retry hint set it; null: the cooldown. */
  openForMs: number | null;
  probe: string | null;
  /** The key whose half-open probe failed last (cleared by a success). */
  lastProber: string | null;
  /** Another key than the last prober was refused since the last probe was admitted. */
  othersWaiting: boolean;
  lastError: { readonly code: string | null; readonly at: number } | null;
}

export interface MintRecord {
  readonly key: string;
  readonly reason: MintReason;
  readonly previousMintId: number | null;
  /** Settled (by the test, or by its own synchronous behaviour); no later settlement. */
  settledByTest: boolean;
  /** The expiry its payload carried, if it resolved to a well-formed credential. */
  expiresAt: number | null;
  /** Its behaviour, when it did not wait on a deferred. */
  readonly behaviour: MintBehaviour | null;
}

/** The expected outcome of one call. */
export type Result =
  | {
      readonly ok: true;
      readonly mintId: number;
      readonly source: 'cached' | 'flight';
      readonly at: number;
    }
  | {
      readonly ok: false;
      readonly error: ErrorKind;
      /** The mint whose outcome this is (failures shared by a flight's waiters). */
      readonly flightMintId: number | null;
      readonly retryAfterMs: number | null;
    };

export interface CallerRecord {
  readonly key: string;
  readonly op: Op;
  readonly signal: SignalKind;
  readonly calledAt: number;
  /** Made by a reporter hook (re-entrantly), not by the test. */
  readonly fromHook: boolean;
  aborted: boolean;
  pendingOn: number | null;
  result: Result | null;
}

/** A mint outcome on its way to the provider through the microtask queue. */
interface Settlement {
  readonly mintId: number;
  readonly kind: 'resolve' | 'reject';
  readonly payload: Payload | null;
  readonly expiresAt: number;
  /** The credential's `refreshAfter` (absolute), if its payload has one. */
  readonly refreshAfter: number | undefined;
  /** The rejection's `retryAfterMs`, as the error carries it (any value). */
  readonly hintMs: number | undefined;
  /** The microtask generation it lands in (0 is the synchronous code that issued it). */
  readonly gen: number;
  readonly seq: number;
}

export interface ModelState {
  readonly config: ModelConfig;
  now: number;
  /** The provider's clock reads NaN or throws (the wall clock itself goes on). */
  clockBad: boolean;
  closed: boolean;
  /** Keys with a live cell (the keyed provider creates one on first use). */
  cells: Record<string, Cell>;
  breakers: Record<string, Breaker>;
  mints: MintRecord[];
  callers: CallerRecord[];
  /** Mint outcomes not yet seen by the provider, processed when microtasks run. */
  queued: Settlement[];
  settlementSeq: number;
  /** The generation being processed by `drain` (0 outside it). */
  gen: number;
  /** Reporter events delivered to the hooks, projected to strings. */
  events: string[];
  /** Events emitted by the operation in progress, delivered when it ends. */
  outbox: string[];
  /** A hook's one-shot call back into the provider. */
  armed: Trigger | null;
  /** How the next mint behaves; null: it waits on a deferred the test settles. */
  nextMint: MintBehaviour | null;
  flightSeq: number;
}

const SHARED = '*';

function copy(state: ModelState): ModelState {
  return structuredClone(state);
}

/** A provider with nothing cached and closed breakers, at `now`. */
export function initialState(config: ModelConfig, now: number): ModelState {
  const state: ModelState = {
    config,
    now,
    clockBad: false,
    closed: false,
    cells: {},
    breakers: {},
    mints: [],
    callers: [],
    queued: [],
    settlementSeq: 0,
    gen: 0,
    events: [],
    outbox: [],
    armed: null,
    nextMint: null,
    flightSeq: 0,
  };
  if (config.sharedBreaker) state.breakers[SHARED] = freshBreaker();
  if (!config.keyed) createCell(state, config.keys[0] as string);
  return state;
}

function freshBreaker(): Breaker {
  return {
    state: 'closed',
    failures: 0,
    openedAt: 0,
    openForMs: null,
    probe: null,
    lastProber: null,
    othersWaiting: false,
    lastError: null,
  };
}

function createCell(s: ModelState, key: string): Cell {
  const cell: Cell = {
    cached: null,
    previous: null,
    invalidated: false,
    closed: false,
    flight: null,
  };
  s.cells[key] = cell;
  if (!s.config.sharedBreaker) s.breakers[key] = freshBreaker();
  return cell;
}

function breakerOf(s: ModelState, key: string): Breaker {
  return s.breakers[s.config.sharedBreaker ? SHARED : key] as Breaker;
}

/** How long the breaker's current opening lasts: a retry hint's window, or the cooldown. */
function windowOf(s: ModelState, b: Breaker): number {
  return b.openForMs ?? s.config.cooldownMs;
}

/** Milliseconds until an open breaker admits its probe; never more than its window. */
export function retryAfter(
  b: Pick<Breaker, 'state' | 'openedAt'>,
  now: number,
  windowMs: number,
): number {
  if (b.state !== 'open') return 0;
  return Math.min(Math.max(b.openedAt + windowMs - now, 0), windowMs);
}

/** fresh / due / expired / missing for the key's cached credential at `now`. */
export function decision(s: ModelState, key: string): 'fresh' | 'due' | 'expired' | 'missing' {
  const c = s.cells[key]?.cached;
  if (c === null || c === undefined) return 'missing';
  if (s.now >= c.expiresAt) return 'expired';
  if (s.now >= c.dueAt || s.now < c.issuedAt) return 'due';
  return 'fresh';
}

/** Whether a call for `key` must be served from the cache (valid, and the clock readable). */
export function hasValid(s: ModelState, key: string): boolean {
  if (s.closed || s.clockBad || s.cells[key]?.closed !== false) return false;
  const d = decision(s, key);
  return d === 'fresh' || d === 'due';
}

function emit(s: ModelState, event: string): void {
  s.outbox.push(event);
}

function transition(
  s: ModelState,
  key: string,
  b: Breaker,
  to: BreakerName,
  failures: number,
  openedAt: number,
  at = s.now,
  openForMs: number | null = null,
): void {
  const from = b.state;
  b.state = to;
  b.failures = failures;
  b.openedAt = openedAt;
  b.openForMs = to === 'open' && openForMs !== s.config.cooldownMs ? openForMs : null;
  if (from !== to) {
    const retry = retryAfter(b, at, windowOf(s, b));
    emit(s, `breaker ${key} ${from}>${to} failures=${failures} retry=${retry}`);
  }
}

/**
 * Asks the key's breaker for a mint. Returns the refusal's retryAfterMs, or null if admitted.
 * The probe of a shared breaker proves the issuer, not one key: the key whose probe failed
 * last stands aside (for up to one more cooldown) when another key was refused meanwhile.
 */
function admit(s: ModelState, key: string): number | null {
  const b = breakerOf(s, key);
  const refuse = (retryAfterMs: number): number => {
    if (b.lastProber !== null && key !== b.lastProber) b.othersWaiting = true;
    return retryAfterMs;
  };
  if (b.state === 'half-open' && b.probe !== null && b.probe !== key) return refuse(0);
  if (b.state === 'open') {
    const windowMs = windowOf(s, b);
    if (s.now < b.openedAt && windowMs > 0) {
      // The wall clock stepped back past the opening: the window restarts from now.
      b.openedAt = s.now;
      return refuse(windowMs);
    }
    const left = retryAfter(b, s.now, windowMs);
    if (left > 0) return refuse(left);
    const barredUntil = b.openedAt + windowMs + s.config.cooldownMs;
    if (key === b.lastProber && b.othersWaiting && s.now < barredUntil) {
      return refuse(barredUntil - s.now);
    }
    transition(s, key, b, 'half-open', b.failures, b.openedAt);
  }
  if (b.state === 'half-open') {
    b.probe = key;
    b.othersWaiting = false;
  }
  return null;
}

function startMint(s: ModelState, key: string, reason: MintReason): Flight {
  const cell = s.cells[key] as Cell;
  emit(s, `start ${key} ${reason}`);
  const prev = cell.cached ?? cell.previous;
  const flight: Flight = {
    mintId: s.mints.length,
    reason,
    startedAt: s.now,
    remainingMs: s.config.mintTimeoutMs,
    waiters: 0,
    seq: s.flightSeq++,
  };
  const behaviour = s.nextMint;
  s.nextMint = null;
  s.mints.push({
    key,
    reason,
    previousMintId: prev === null ? null : prev.mintId,
    settledByTest: behaviour !== null,
    expiresAt: null,
    behaviour,
  });
  cell.flight = flight;
  if (behaviour !== null) {
    // The mint answered synchronously: its outcome is on its way through the microtasks.
    if (behaviour.kind === 'return' || behaviour.kind === 'thenable') {
      queueResolve(s, flight.mintId, behaviour.payload, behaviour.kind === 'thenable' ? 2 : 1);
    } else {
      queueSettlement(s, flight.mintId, 'reject', null, Number.NaN, 1, undefined, undefined);
    }
  }
  return flight;
}

function queueResolve(s: ModelState, mintId: number, p: Payload, hops: number): void {
  const expiresAt = p.kind === 'lifetime' ? s.now + p.lifetimeMs : Number.POSITIVE_INFINITY;
  if (p.kind !== 'malformed') (s.mints[mintId] as MintRecord).expiresAt = expiresAt;
  const offset = p.kind === 'malformed' ? undefined : p.refreshAfterMs;
  const refreshAfter = offset === undefined ? undefined : s.now + offset;
  queueSettlement(s, mintId, 'resolve', p, expiresAt, hops, refreshAfter, undefined);
}

function queueSettlement(
  s: ModelState,
  mintId: number,
  kind: 'resolve' | 'reject',
  payload: Payload | null,
  expiresAt: number,
  hops: number,
  refreshAfter: number | undefined,
  hintMs: number | undefined,
): void {
  s.queued.push({
    mintId,
    kind,
    payload,
    expiresAt,
    refreshAfter,
    hintMs,
    gen: s.gen + hops,
    seq: s.settlementSeq++,
  });
}

function done(caller: CallerRecord, result: Result): void {
  caller.pendingOn = null;
  caller.result = result;
}

// -------------------------------------------------------------- operations (mutate a copy)

function callIn(s: ModelState, key: string, op: Op, signal: SignalKind, fromHook: boolean): number {
  const caller: CallerRecord = {
    key,
    op,
    signal,
    calledAt: s.now,
    fromHook,
    aborted: signal === 'aborted',
    pendingOn: null,
    result: null,
  };
  s.callers.push(caller);
  const index = s.callers.length - 1;
  const refuse = (error: ErrorKind, retryAfterMs: number | null = null): number => {
    done(caller, { ok: false, error, flightMintId: null, retryAfterMs });
    return index;
  };
  if (s.closed) return refuse('closed');
  // Checked in this order: closed, an aborted signal, an unreadable clock. A keyed provider
  // creates or touches nothing while its clock cannot be read.
  if (s.clockBad) return refuse(signal === 'aborted' ? 'abort' : 'clock');
  let cell = s.cells[key];
  if (cell !== undefined && s.config.keyed) {
    // A use makes the key the most recently used: it moves to the end of the order.
    delete s.cells[key];
    s.cells[key] = cell;
  }
  cell ??= createCell(s, key);
  if (cell.closed) return refuse('closed');
  if (signal === 'aborted') return refuse('abort');
  let reason: MintReason = 'forced';
  if (op !== 'refresh') {
    const d = decision(s, key);
    if (d === 'fresh' || d === 'due') {
      const cached = cell.cached as Cached;
      done(caller, { ok: true, mintId: cached.mintId, source: 'cached', at: s.now });
      if (d === 'due' && cell.flight === null && admit(s, key) === null) {
        startMint(s, key, 'proactive');
      }
      return index;
    }
    reason = d === 'expired' ? 'expired' : cell.invalidated ? 'invalidated' : 'initial';
  }
  if (cell.flight === null) {
    const refusal = admit(s, key);
    if (refusal !== null) return refuse('breaker', refusal);
    startMint(s, key, reason);
  }
  // The mint may have failed already (a hook closed the provider): the caller shares that.
  const flight = cell.flight as Flight | null;
  if (flight === null) return refuse('closed');
  flight.waiters += 1;
  caller.pendingOn = flight.mintId;
  return index;
}

function invalidateIn(s: ModelState, key: string, rejected: number | undefined): boolean {
  const cell = s.cells[key];
  if (s.closed || cell === undefined || cell.closed || cell.cached === null) return false;
  if (rejected !== undefined && rejected !== cell.cached.mintId) return false;
  // The invalidation guard: a credential minted because of an invalidation is kept for
  // minRefreshIntervalMs, whatever rejects it. An unreadable clock never refuses.
  const age = s.now - cell.cached.issuedAt;
  const guardMs = s.config.minRefreshIntervalMs;
  if (
    !s.clockBad &&
    cell.cached.reason === 'invalidated' &&
    guardMs > 0 &&
    age >= 0 &&
    age < guardMs
  ) {
    emit(s, `refused ${key} age=${age} retry=${guardMs - age}`);
    return false;
  }
  const cached = cell.cached;
  cell.previous = {
    mintId: cached.mintId,
    hasExpiry: cached.hasExpiry,
    expiresAt: cached.expiresAt,
  };
  cell.invalidated = true;
  cell.cached = null;
  return true;
}

function closeIn(s: ModelState): void {
  if (s.closed) return;
  s.closed = true;
  for (const key of Object.keys(s.cells)) closeCell(s, key);
  if (s.config.keyed) s.cells = {};
}

function deleteIn(s: ModelState, key: string): boolean {
  if (s.cells[key] === undefined) return false;
  closeCell(s, key);
  delete s.cells[key];
  emit(s, `dropped ${key} deleted`);
  return true;
}

/** Delivers queued events in order; an armed hook acts when its event is delivered. */
function deliver(s: ModelState): void {
  while (s.outbox.length > 0) {
    const event = s.outbox.shift() as string;
    s.events.push(event);
    const trigger = s.armed;
    if (trigger === null || !event.startsWith(`${trigger.hook} `)) continue;
    s.armed = null;
    const t = trigger.does;
    if (t.act === 'call') callIn(s, t.key, t.op, 'none', true);
    else if (t.act === 'invalidate') invalidateIn(s, t.key, undefined);
    else if (t.act === 'close') closeIn(s);
    else if (s.config.keyed) deleteIn(s, t.key);
  }
}

// ---------------------------------------------------------------------- the public API

/**
 * A call of `op` for `key`. Returns the new state and the caller's index in `callers`.
 * The caller's expected result is set at once, or when its flight settles.
 */
export function call(
  state: ModelState,
  key: string,
  op: Op,
  signal: SignalKind,
): { state: ModelState; caller: number } {
  const s = copy(state);
  const caller = callIn(s, key, op, signal, false);
  deliver(s);
  return { state: s, caller };
}

/** The eager first mint of a single provider (`createRefreshingProvider` without `lazy`). */
export function start(state: ModelState): ModelState {
  const s = copy(state);
  const key = s.config.keys[0] as string;
  const refusal = admit(s, key);
  if (refusal !== null) throw new Error('model: a fresh breaker refused the first mint');
  const flight = startMint(s, key, 'initial');
  flight.waiters += 1;
  deliver(s);
  return s;
}

/** The mint id of the credential `peek` returns, or null. */
export function peek(s: ModelState, key: string): number | null {
  const cell = s.cells[key];
  if (s.closed || s.clockBad || cell === undefined || cell.cached === null) return null;
  return s.now < cell.cached.expiresAt ? cell.cached.mintId : null;
}

/** `invalidate(key, rejected)`, `rejected` naming a minted credential by id (or none). */
export function invalidate(
  state: ModelState,
  key: string,
  rejected: number | undefined,
): { state: ModelState; dropped: boolean } {
  const s = copy(state);
  const dropped = invalidateIn(s, key, rejected);
  deliver(s);
  return { state: s, dropped };
}

/** The caller's own signal aborts. */
export function abortCaller(state: ModelState, index: number): ModelState {
  const s = copy(state);
  const caller = s.callers[index] as CallerRecord;
  caller.aborted = true;
  if (caller.result === null) {
    // An aborted waiter is released at once: the flight no longer counts it.
    const flight = Object.values(s.cells).find(
      (c) => c.flight?.mintId === caller.pendingOn,
    )?.flight;
    if (flight !== undefined && flight !== null) flight.waiters -= 1;
    done(caller, { ok: false, error: 'abort', flightMintId: null, retryAfterMs: null });
  }
  return s;
}

/** The test settles mint `mintId`; the provider sees it when microtasks run ({@link drain}). */
export function settleMint(
  state: ModelState,
  mintId: number,
  outcome: { kind: 'resolve'; payload: Payload } | { kind: 'reject'; hintMs?: number },
): ModelState {
  const s = copy(state);
  const mint = s.mints[mintId] as MintRecord;
  if (mint.settledByTest) throw new Error(`model: mint ${mintId} settled twice`);
  mint.settledByTest = true;
  if (outcome.kind === 'reject') {
    queueSettlement(s, mintId, 'reject', null, Number.NaN, 1, undefined, outcome.hintMs);
  } else queueResolve(s, mintId, outcome.payload, 1);
  return s;
}

/** How the next mint behaves (null: it waits on a deferred). */
export function setNextMint(state: ModelState, behaviour: MintBehaviour | null): ModelState {
  const s = copy(state);
  s.nextMint = behaviour;
  return s;
}

/** Arms a hook to call back into the provider when its next event is delivered. */
export function arm(state: ModelState, trigger: Trigger | null): ModelState {
  const s = copy(state);
  s.armed = trigger;
  return s;
}

/** The provider's clock becomes unreadable (NaN or a throw), or readable again. */
export function setClockBad(state: ModelState, bad: boolean): ModelState {
  const s = copy(state);
  s.clockBad = bad;
  return s;
}

/**
 * Microtasks run: the queued outcomes reach their flights generation by generation, in the
 * order they were issued; each one is an operation of its own (its events are delivered, and
 * armed hooks act, before the next).
 */
export function drain(state: ModelState): ModelState {
  if (state.queued.length === 0) return state;
  const s = copy(state);
  while (s.queued.length > 0) {
    let next = 0;
    for (let i = 1; i < s.queued.length; i++) {
      const a = s.queued[i] as Settlement;
      const b = s.queued[next] as Settlement;
      if (a.gen < b.gen || (a.gen === b.gen && a.seq < b.seq)) next = i;
    }
    const q = s.queued.splice(next, 1)[0] as Settlement;
    s.gen = q.gen;
    land(s, q);
    deliver(s);
  }
  s.gen = 0;
  return s;
}

function land(s: ModelState, q: Settlement): void {
  const mint = s.mints[q.mintId] as MintRecord;
  const cell = s.cells[mint.key];
  const flight = cell?.flight;
  if (cell === undefined || flight === null || flight === undefined || flight.mintId !== q.mintId) {
    return; // timed out, closed or deleted: a late result never wins
  }
  if (q.kind === 'reject') failFlight(s, mint.key, 'mint', q.hintMs);
  else if (q.payload?.kind === 'malformed') failFlight(s, mint.key, 'invalid');
  else if (s.clockBad) failFlight(s, mint.key, 'clock');
  else if (q.expiresAt <= s.now) failFlight(s, mint.key, 'expired');
  else install(s, mint.key, q.mintId, q.payload?.kind === 'lifetime', q.expiresAt, q.refreshAfter);
}

function install(
  s: ModelState,
  key: string,
  mintId: number,
  hasExpiry: boolean,
  expiresAt: number,
  refreshAfter: number | undefined,
): void {
  const { refreshAt, refreshFloorMs, minRefreshIntervalMs } = s.config;
  const cell = s.cells[key] as Cell;
  const flight = cell.flight as Flight;
  const now = s.now;
  const prior = cell.cached ?? cell.previous;
  const priorExpiry = prior === null || !prior.hasExpiry ? undefined : prior.expiresAt;
  let dueAt = Number.POSITIVE_INFINITY;
  const kept = hasExpiry && priorExpiry !== undefined && expiresAt <= priorExpiry;
  if (refreshAfter !== undefined) {
    // refreshAfter replaces the fraction (no jitter: random() is 0), clamped to the expiry,
    // never later than the floor, never before now.
    const target = Math.min(refreshAfter, expiresAt);
    dueAt = Math.max(Math.min(target, expiresAt - refreshFloorMs), now);
  } else if (hasExpiry) {
    const lifetime = expiresAt - now;
    dueAt = Math.max(Math.min(now + lifetime * refreshAt, expiresAt - refreshFloorMs), now);
  }
  // The kept-credential rule: the expiry did not advance, so next try at the floor, unless
  // the credential's refreshAfter is still ahead.
  if (kept && !(refreshAfter !== undefined && refreshAfter > now)) {
    dueAt = Math.max(expiresAt - refreshFloorMs, now);
  }
  if (dueAt !== Number.POSITIVE_INFINITY && (dueAt <= now || kept)) {
    dueAt = Math.max(dueAt, now + minRefreshIntervalMs);
  }
  cell.cached = { mintId, expiresAt, hasExpiry, issuedAt: now, dueAt, reason: flight.reason };
  cell.previous = null;
  cell.invalidated = false;
  cell.flight = null;
  const b = breakerOf(s, key);
  if (b.probe === key) b.probe = null;
  b.lastProber = null;
  b.othersWaiting = false;
  transition(s, key, b, 'closed', 0, 0);
  const remaining = hasExpiry ? (expiresAt - now) / 1000 : undefined;
  emit(s, `success ${key} ${flight.reason} took=${now - flight.startedAt} left=${remaining}`);
  emit(s, `coalesced ${key} ${flight.reason} waiters=${flight.waiters} ok=true`);
  settleWaiters(s, flight.mintId, { ok: true, mintId, source: 'flight', at: now });
}

const CODES: Record<ErrorKind, string | null> = {
  mint: 'E_MINT',
  timeout: 'SLUICE_MINT_TIMEOUT',
  closed: 'SLUICE_PROVIDER_CLOSED',
  breaker: 'SLUICE_BREAKER_OPEN',
  invalid: 'SLUICE_INVALID_CREDENTIAL',
  expired: 'SLUICE_MINTED_CREDENTIAL_EXPIRED',
  clock: 'SLUICE_INVALID_CLOCK',
  abort: null,
};

/**
 * The key's flight fails with `error`. With the clock unreadable, the failure is dated at
 * the mint's start. A credential that landed while the clock could not be read (`clock`) is
 * not counted by the breaker (the issuer answered); its probe, if it was one, is handed on.
 */
function failFlight(s: ModelState, key: string, error: ErrorKind, hintMs?: number): void {
  const cell = s.cells[key] as Cell;
  const flight = cell.flight as Flight;
  cell.flight = null;
  const at = s.clockBad ? flight.startedAt : s.now;
  const b = breakerOf(s, key);
  b.lastError = { code: CODES[error], at };
  if (error === 'clock') {
    releaseProbe(s, key); // as when closing: the next caller probes at once
  } else {
    if (b.probe === key) {
      if (b.state === 'half-open') b.lastProber = key;
      b.probe = null;
    }
    const failures = b.failures + 1;
    // A retry hint (a finite retryAfterMs > 0, whole ms rounded up, capped) opens at once;
    // it never shortens the breaker's own opening, nor one already running longer.
    const cap = s.config.maxRetryAfterMs;
    const valid = typeof hintMs === 'number' && Number.isFinite(hintMs) && hintMs > 0 && cap > 0;
    const hint = valid ? Math.min(Math.ceil(hintMs as number), cap) : null;
    const opensAnyway = b.state !== 'closed' || failures >= s.config.failureThreshold;
    if (opensAnyway || hint !== null) {
      let length = opensAnyway ? Math.max(s.config.cooldownMs, hint ?? 0) : (hint as number);
      if (b.state === 'open' && at >= b.openedAt) {
        length = Math.max(length, b.openedAt + windowOf(s, b) - at);
      }
      transition(s, key, b, 'open', failures, at, at, length);
    } else {
      transition(s, key, b, 'closed', failures, 0, at);
    }
  }
  const cached = cell.cached;
  const left =
    cached === null || !cached.hasExpiry || s.clockBad ? undefined : (cached.expiresAt - at) / 1000;
  emit(
    s,
    `failure ${key} ${flight.reason} took=${at - flight.startedAt} code=${CODES[error]} cached=${left}`,
  );
  emit(s, `coalesced ${key} ${flight.reason} waiters=${flight.waiters} ok=false`);
  settleWaiters(s, flight.mintId, {
    ok: false,
    error,
    flightMintId: flight.mintId,
    retryAfterMs: null,
  });
}

function settleWaiters(s: ModelState, mintId: number, result: Result): void {
  for (const caller of s.callers) if (caller.pendingOn === mintId) done(caller, result);
}

/** The key gives up its half-open probe: back to open with the cooldown already elapsed. */
function releaseProbe(s: ModelState, key: string): void {
  const b = breakerOf(s, key);
  if (b.probe !== key) return;
  b.probe = null;
  if (b.state === 'half-open') {
    const at = s.clockBad ? b.openedAt + s.config.cooldownMs : s.now;
    transition(s, key, b, 'open', b.failures, at - s.config.cooldownMs, at);
  }
}

/** Closes the key's cell: gives up its probe, drops its credential, fails its flight. */
function closeCell(s: ModelState, key: string): void {
  const cell = s.cells[key] as Cell;
  cell.closed = true;
  const b = breakerOf(s, key);
  releaseProbe(s, key);
  if (b.lastProber === key) {
    b.lastProber = null;
    b.othersWaiting = false;
  }
  cell.cached = null;
  cell.previous = null;
  const flight = cell.flight;
  cell.flight = null;
  // Closing fails the flight at once: its waiters are settled before any later abort.
  if (flight !== null) {
    settleWaiters(s, flight.mintId, {
      ok: false,
      error: 'closed',
      flightMintId: flight.mintId,
      retryAfterMs: null,
    });
  }
}

/** `close()`: every key, least recently used first. */
export function close(state: ModelState): ModelState {
  if (state.closed) return state;
  const s = copy(state);
  closeIn(s);
  deliver(s);
  return s;
}

/** Keyed `delete(key)`. */
export function deleteKey(state: ModelState, key: string): { state: ModelState; deleted: boolean } {
  if (state.cells[key] === undefined) return { state, deleted: false };
  const s = copy(state);
  const deleted = deleteIn(s, key);
  deliver(s);
  return { state: s, deleted };
}

/** The wall clock is set to `now`; timers keep their remaining delays. */
export function setNow(state: ModelState, now: number): ModelState {
  const s = copy(state);
  s.now = now;
  return s;
}

/**
 * `ms` pass on both clocks; mint timeouts fire on the way, in the order they were set, each
 * an operation of its own (its events delivered, armed hooks acting).
 */
export function advance(state: ModelState, ms: number): ModelState {
  const s = copy(state);
  let left = ms;
  for (;;) {
    let next: { key: string; flight: Flight } | null = null;
    for (const [key, cell] of Object.entries(s.cells)) {
      const f = cell.flight;
      if (f === null || f.remainingMs > left) continue;
      if (
        next === null ||
        f.remainingMs < next.flight.remainingMs ||
        (f.remainingMs === next.flight.remainingMs && f.seq < next.flight.seq)
      ) {
        next = { key, flight: f };
      }
    }
    if (next === null) break;
    const step = next.flight.remainingMs;
    elapse(s, step);
    left -= step;
    failFlight(s, next.key, 'timeout');
    deliver(s);
    // A hook may have started mints with synchronous outcomes: they land before time moves on.
    if (s.queued.length > 0) Object.assign(s, drain(s));
  }
  elapse(s, left);
  return s;
}

function elapse(s: ModelState, ms: number): void {
  s.now += ms;
  for (const cell of Object.values(s.cells))
    if (cell.flight !== null) cell.flight.remainingMs -= ms;
}

/** The expected `snapshot(key)`, or undefined when the keyed provider holds no such key. */
export function snapshot(s: ModelState, key: string) {
  const cell = s.cells[key];
  if (cell === undefined) return undefined;
  const b = breakerOf(s, key);
  const c = cell.cached;
  // An unreadable clock reports a cached credential as expired, and no wait for the breaker.
  const d = s.clockBad ? (c === null ? 'missing' : 'expired') : decision(s, key);
  return {
    status: cell.closed ? 'closed' : d === 'missing' ? 'empty' : d,
    issuedAt: c === null ? null : c.issuedAt,
    expiresAt: c === null || !Number.isFinite(c.expiresAt) ? null : c.expiresAt,
    refreshDueAt: c === null || !Number.isFinite(c.dueAt) ? null : c.dueAt,
    mintInFlight: cell.flight !== null,
    waiters: cell.flight?.waiters ?? 0,
    breaker: {
      state: b.state,
      failures: b.failures,
      retryAfterMs: s.clockBad ? 0 : retryAfter(b, s.now, windowOf(s, b)),
    },
    lastError: b.lastError,
  };
}

/** Mints the test may still settle (in flight, timed out or aborted, not yet settled). */
export function unsettledMints(s: ModelState): number[] {
  const ids: number[] = [];
  s.mints.forEach((m, id) => {
    if (!m.settledByTest) ids.push(id);
  });
  return ids;
}

/** The mint in flight for `key`, if any. */
export function flightOf(
  s: ModelState,
  key: string,
): { mintId: number; remainingMs: number } | null {
  const f = s.cells[key]?.flight;
  return f === null || f === undefined ? null : { mintId: f.mintId, remainingMs: f.remainingMs };
}

/** Callers with a live signal that have not aborted yet. */
export function abortableCallers(s: ModelState): number[] {
  const ids: number[] = [];
  s.callers.forEach((c, i) => {
    if (c.signal === 'live' && !c.aborted) ids.push(i);
  });
  return ids;
}
