import {
  BreakerOpenError,
  InvalidClockError,
  InvalidCredentialError,
  InvalidOptionError,
  KeysBusyError,
  MintedCredentialExpiredError,
  MintTimeoutError,
  ProviderClosedError,
} from '@sluice/core';
import { Cause, Duration, Effect, Exit, Option } from 'effect';
import { describe, expect, it } from 'vitest';
import {
  BreakerOpen,
  credentialExpiringIn,
  InvalidClock,
  InvalidCredential,
  KeysBusy,
  MintFailed,
  MintTimeout,
  ProviderClosed,
} from '../src/index.js';
import { fiberTimers } from '../src/internal/fiber-timers.js';
import { MintDefect, mintFailed, translate } from '../src/internal/translate.js';
import { advance, flush, HOUR, runTest, START } from './support/harness.js';

describe('translating core rejections', () => {
  it.each([
    [new MintTimeoutError(5_000), MintTimeout, { code: 'SLUICE_MINT_TIMEOUT' }],
    [
      new InvalidCredentialError('no value'),
      InvalidCredential,
      { code: 'SLUICE_INVALID_CREDENTIAL' },
    ],
    [
      new MintedCredentialExpiredError(1, 2),
      InvalidCredential,
      { code: 'SLUICE_MINTED_CREDENTIAL_EXPIRED' },
    ],
    [new ProviderClosedError(), ProviderClosed, { code: 'SLUICE_PROVIDER_CLOSED' }],
    [new InvalidClockError('returned NaN'), InvalidClock, { code: 'SLUICE_INVALID_CLOCK' }],
    [new KeysBusyError(7), KeysBusy, { code: 'SLUICE_KEYS_BUSY', maxKeys: 7 }],
  ])('%s becomes a tagged failure with the same code', (error, tag, fields) => {
    const outcome = translate(error);
    expect('fail' in outcome && outcome.fail).toBeInstanceOf(tag);
    expect('fail' in outcome && outcome.fail).toMatchObject({ ...fields, message: error.message });
  });

  it('translates one rejection once: every waiter gets the same tagged error', () => {
    const error = new MintTimeoutError(5_000);
    expect(translate(error)).toBe(translate(error));
    const outcome = translate(error);
    expect(
      Duration.toMillis(('fail' in outcome && (outcome.fail as MintTimeout).timeout) || 0),
    ).toBe(5_000);
  });

  it('BreakerOpen carries retryAfter as a Duration and the last failure as the Effect side knows it', () => {
    const last = mintFailed(new Error('down'), 'billing');
    const outcome = translate(new BreakerOpenError(1_500, { cause: last }));
    const open = 'fail' in outcome ? (outcome.fail as BreakerOpen) : undefined;
    expect(open).toBeInstanceOf(BreakerOpen);
    expect(Duration.toMillis(open?.retryAfter ?? Duration.zero)).toBe(1_500);
    expect(open?.cause).toBe(last);
    const defect = new Error('bug');
    const afterDefect = translate(new BreakerOpenError(1, { cause: new MintDefect(defect, 'x') }));
    expect('fail' in afterDefect && (afterDefect.fail as BreakerOpen).cause).toBe(defect);
  });

  it('MintFailed passes through unchanged; MintDefect, InvalidOptionError and foreign errors are defects', () => {
    const failed = mintFailed({ code: 'ECONNRESET' }, 'billing');
    expect(failed).toBeInstanceOf(MintFailed);
    expect(failed.code).toBe('ECONNRESET');
    expect(failed.message).toBe('[billing] mint failed: a non-Error object');
    expect(translate(failed)).toEqual({ fail: failed });
    const defect = new TypeError('bug');
    expect(translate(new MintDefect(defect, 'billing'))).toEqual({ die: defect });
    const bad = new InvalidOptionError('key', 'a string', 42);
    expect(translate(bad)).toEqual({ die: bad });
    const foreign = new Error('foreign');
    expect(translate(foreign)).toEqual({ die: foreign });
    expect(translate('a string')).toEqual({ die: 'a string' });
  });
});

describe('fiber timers', () => {
  it('fire when TestClock reaches the delay, not before; a zero delay fires without moving the clock', () =>
    runTest(
      Effect.gen(function* () {
        const fired: string[] = [];
        const run = yield* Effect.map(Effect.context<never>(), (context) =>
          Effect.runForkWith(context),
        );
        const timers = fiberTimers(run);
        timers.setTimeout(() => fired.push('later'), 1_000);
        timers.setTimeout(() => fired.push('now'), 0);
        yield* flush();
        expect(fired).toEqual(['now']);
        yield* advance(999);
        expect(fired).toEqual(['now']);
        yield* advance(1);
        yield* flush();
        expect(fired).toEqual(['now', 'later']);
      }),
    ));

  it('clearTimeout interrupts the timer fiber, so its callback never runs; handles have no ref/unref', () =>
    runTest(
      Effect.gen(function* () {
        let fired = false;
        const run = yield* Effect.map(Effect.context<never>(), (context) =>
          Effect.runForkWith(context),
        );
        const timers = fiberTimers(run);
        const handle = timers.setTimeout(() => {
          fired = true;
        }, 1_000);
        expect(typeof (handle as { unref?: unknown }).unref).toBe('undefined');
        expect(typeof (handle as { ref?: unknown }).ref).toBe('undefined');
        timers.clearTimeout(handle);
        yield* advance(HOUR);
        yield* flush();
        expect(fired).toBe(false);
      }),
    ));
});

describe('credentialExpiringIn', () => {
  it('reads expiresAt from the Effect clock, minus the skew', () =>
    runTest(
      Effect.gen(function* () {
        expect(yield* credentialExpiringIn('t', 3600)).toEqual({
          value: 't',
          expiresAt: START + HOUR,
        });
        expect(yield* credentialExpiringIn('t', 3600, { skewSeconds: 60 })).toEqual({
          value: 't',
          expiresAt: START + HOUR - 60_000,
        });
        expect(yield* credentialExpiringIn('t', undefined)).toEqual({ value: 't' });
      }),
    ));

  it("fails with InvalidOptionError for the issuer's bad expires_in; dies for a bad skewSeconds", () =>
    runTest(
      Effect.gen(function* () {
        const failed = yield* Effect.exit(credentialExpiringIn('t', Number.NaN));
        const error = Exit.isFailure(failed) ? Cause.findErrorOption(failed.cause) : Option.none();
        expect(Option.getOrUndefined(error)).toBeInstanceOf(InvalidOptionError);
        const died = yield* Effect.exit(credentialExpiringIn('t', 60, { skewSeconds: -1 }));
        expect(Exit.isFailure(died) && Cause.hasDies(died.cause)).toBe(true);
      }),
    ));
});
