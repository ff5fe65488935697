import { describe, expect, it } from 'vitest';
import {
  combineReporters,
  errorCode,
  errorType,
  OTHER_ERROR_TYPE,
  REPORTER_HOOKS,
  type RefreshStartEvent,
  type Reporter,
} from '../src/reporter.js';

const START_EVENT: RefreshStartEvent = { name: 'api', reason: 'proactive' };

describe('combineReporters', () => {
  it('forwards each event to every reporter that has the hook, in order', () => {
    const seen: string[] = [];
    const a: Reporter = { onRefreshStart: (e) => seen.push(`a:${e.reason}`) };
    const b: Reporter = {
      onRefreshStart: (e) => seen.push(`b:${e.reason}`),
      onCoalesced: () => seen.push('b:c'),
    };
    const combined = combineReporters(a, undefined, b);
    combined.onRefreshStart?.(START_EVENT);
    expect(seen).toEqual(['a:proactive', 'b:proactive']);
  });

  it('has only the hooks some reporter has, so absent hooks stay free', () => {
    const combined = combineReporters({ onCoalesced: () => {} });
    expect(Object.keys(combined)).toEqual(['onCoalesced']);
    expect(combineReporters()).toEqual({});
  });

  it('forwards onBreakerRefused, which REPORTER_HOOKS lists', () => {
    expect(REPORTER_HOOKS).toContain('onBreakerRefused');
    const seen: number[] = [];
    const combined = combineReporters({ onBreakerRefused: (e) => seen.push(e.retryAfterMs) });
    expect(Object.keys(combined)).toEqual(['onBreakerRefused']);
    combined.onBreakerRefused?.({ name: 'api', retryAfterMs: 5000 });
    expect(seen).toEqual([5000]);
  });

  it('isolates a throwing reporter from the others', () => {
    const seen: string[] = [];
    const combined = combineReporters(
      {
        onRefreshStart: () => {
          throw new Error('bug');
        },
      },
      { onRefreshStart: () => seen.push('second') },
    );
    expect(() => combined.onRefreshStart?.(START_EVENT)).not.toThrow();
    expect(seen).toEqual(['second']);
  });

  it('keeps `this` for class-based reporters with prototype methods', () => {
    class Counter implements Reporter {
      count = 0;
      onRefreshStart(): void {
        this.count++;
      }
    }
    const counter = new Counter();
    combineReporters(counter).onRefreshStart?.(START_EVENT);
    expect(counter.count).toBe(1);
  });
});

describe('errorCode', () => {
  it('reads a string code and ignores anything else', () => {
    expect(errorCode(Object.assign(new Error('x'), { code: 'ECONNRESET' }))).toBe('ECONNRESET');
    expect(errorCode({ code: 42 })).toBeUndefined();
    expect(errorCode('boom')).toBeUndefined();
    expect(errorCode(undefined)).toBeUndefined();
  });
});

describe('errorType', () => {
  it('is the code when it is a short identifier, else the name, else _OTHER, never the message', () => {
    expect(errorType(Object.assign(new Error('x'), { code: 'ECONNRESET' }))).toBe('ECONNRESET');
    expect(errorType(new TypeError('fetch failed for https://a/b?token=1'))).toBe('TypeError');
    expect(errorType(Object.assign(new Error('x'), { code: 'has spaces in it' }))).toBe('Error');
    expect(errorType('a thrown string')).toBe(OTHER_ERROR_TYPE);
    expect(errorType(undefined)).toBe('_OTHER');
    const hostile = {
      get code(): never {
        throw new Error('getter');
      },
      get name(): never {
        throw new Error('getter');
      },
    };
    expect(errorType(hostile)).toBe('_OTHER');
    expect(errorType(new Error('x'), 'SLUICE_MINT_TIMEOUT')).toBe('SLUICE_MINT_TIMEOUT');
  });
});
