/**
 * Turns what core rejects a call with into what the Effect fails (or dies) with, and runs a
 * core call as an interruptible Effect. The translation is memoised per rejection, so every
 * fiber that waited on one mint sees the SAME tagged error, as core's waiters see the same
 * error object.
 */

import { errorCode, isSluiceError } from '@sluice/core';
import { Duration, Effect } from 'effect';
import {
  BreakerOpen,
  InvalidClock,
  InvalidCredential,
  type KeyedCredentialError,
  KeysBusy,
  MintFailed,
  MintTimeout,
  ProviderClosed,
} from '../errors.js';

/**
 * What an Effect mint that did not fail with a typed error (it died, or interrupted itself)
 * rejects core's mint with. Waiters die with `defect`; reporters and snapshots see this error
 * (name `MintDefect`, no `code`).
 */
export class MintDefect extends Error {
  /** The defect every waiter dies with. */
  readonly defect: unknown;

  constructor(defect: unknown, provider: string) {
    super(`[${provider}] mint died: ${describe(defect)}`, { cause: defect });
    this.name = 'MintDefect';
    this.defect = defect;
  }
}

/** Builds the {@link MintFailed} a mint's typed failure becomes. */
export function mintFailed<E>(cause: E, provider: string): MintFailed<E> {
  const retryAfterMs = retryHintOf(cause);
  return new MintFailed({
    cause,
    code: errorCode(cause),
    message: `[${provider}] mint failed: ${describe(cause)}`,
    ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
  });
}

/** `cause.retryAfterMs` when it is a finite number > 0; a throwing getter gives no hint. */
function retryHintOf(cause: unknown): number | undefined {
  if (typeof cause !== 'object' || cause === null) return undefined;
  try {
    const hint = (cause as { retryAfterMs?: unknown }).retryAfterMs;
    return typeof hint === 'number' && Number.isFinite(hint) && hint > 0 ? hint : undefined;
  } catch {
    return undefined;
  }
}

type Outcome = { readonly fail: unknown } | { readonly die: unknown };

const outcomes = new WeakMap<object, Outcome>();

/**
 * The outcome of a core rejection: a tagged error to fail with, or a defect to die with
 * (a bad key, a mint that died, anything unexpected).
 */
export function translate(error: unknown): Outcome {
  if (typeof error !== 'object' || error === null) return { die: error };
  let outcome = outcomes.get(error);
  if (outcome === undefined) {
    outcome = translateOnce(error);
    outcomes.set(error, outcome);
  }
  return outcome;
}

function translateOnce(error: object): Outcome {
  if (error instanceof MintFailed) return { fail: error };
  if (error instanceof MintDefect) return { die: error.defect };
  if (isSluiceError(error, 'SLUICE_MINT_TIMEOUT')) {
    const timeout = Duration.millis(error.timeoutMs);
    return { fail: new MintTimeout({ code: error.code, timeout, message: error.message }) };
  }
  if (
    isSluiceError(error, 'SLUICE_INVALID_CREDENTIAL') ||
    isSluiceError(error, 'SLUICE_MINTED_CREDENTIAL_EXPIRED')
  ) {
    return {
      fail: new InvalidCredential({ code: error.code, cause: error, message: error.message }),
    };
  }
  if (isSluiceError(error, 'SLUICE_BREAKER_OPEN')) {
    return {
      fail: new BreakerOpen({
        code: error.code,
        retryAfter: Duration.millis(error.retryAfterMs),
        cause: lastFailure(error.cause),
        message: error.message,
      }),
    };
  }
  if (isSluiceError(error, 'SLUICE_PROVIDER_CLOSED')) {
    return { fail: new ProviderClosed({ code: error.code, message: error.message }) };
  }
  if (isSluiceError(error, 'SLUICE_INVALID_CLOCK')) {
    return { fail: new InvalidClock({ code: error.code, cause: error, message: error.message }) };
  }
  if (isSluiceError(error, 'SLUICE_KEYS_BUSY')) {
    return {
      fail: new KeysBusy({ code: error.code, maxKeys: error.maxKeys, message: error.message }),
    };
  }
  // SLUICE_INVALID_OPTION (a key `keyOf` cannot turn into a string), codes this version does
  // not know, and anything that is not a Sluice error: defects.
  return { die: error };
}

/** The breaker's last mint failure as the Effect side knows it. */
function lastFailure(cause: unknown): unknown {
  const outcome = translate(cause);
  return 'fail' in outcome ? outcome.fail : outcome.die;
}

/** The Effect that fails or dies as a core rejection says. */
export function fromRejection<Err extends KeyedCredentialError<unknown>>(
  error: unknown,
): Effect.Effect<never, Err> {
  const outcome = translate(error);
  return 'fail' in outcome ? Effect.fail(outcome.fail as Err) : Effect.die(outcome.die);
}

/**
 * Runs a core call as an Effect. The fiber's interruption aborts the signal given to `start`,
 * which ends only this caller's wait (core never aborts a shared mint for one caller).
 */
export function fromCall<A, Err extends KeyedCredentialError<unknown>>(
  start: (signal: AbortSignal) => Promise<A>,
): Effect.Effect<A, Err> {
  return Effect.callback<A, Err>((resume, signal) => {
    let pending: Promise<A>;
    try {
      pending = start(signal);
    } catch (error) {
      resume(fromRejection<Err>(error));
      return;
    }
    pending.then(
      (value) => resume(Effect.succeed(value)),
      (error: unknown) => resume(fromRejection<Err>(error)),
    );
  });
}

/** A short description of a thrown value for messages. */
function describe(value: unknown): string {
  if (value instanceof Error) return value.message === '' ? value.name : value.message;
  if (typeof value === 'object' && value !== null) {
    const tag = (value as { _tag?: unknown })._tag;
    if (typeof tag === 'string') return tag;
    return 'a non-Error object';
  }
  return typeof value === 'string' ? value : String(value);
}
