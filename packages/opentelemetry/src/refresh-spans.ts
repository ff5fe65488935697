/**
 * The `sluice.refresh` spans still open, per provider name and key, so the reporter that sees
 * a mint's `onCoalesced` can record on its span how many callers waited on it.
 *
 * Core reports `onCoalesced` while it settles the mint: after the traced mint has seen its
 * outcome and before any waiter sees it. A traced mint paired with a reporter therefore keeps
 * its span open until that event ends it (see `trace-mint.ts`).
 */

import type { Span } from '@opentelemetry/api';
import type { Reporter } from '@sluice/core';
import { OTEL_ATTRIBUTES } from './names.js';

/** One open span and how to end it. @internal */
export interface OpenSpan {
  readonly span: Span;
  /** Whether the traced mint has seen its outcome (settled, threw or was aborted). */
  settled: boolean;
  /** Ends the span (idempotent) and forgets it. */
  readonly end: () => void;
}

/** Open refresh spans by provider name and key. @internal */
export class RefreshSpans {
  readonly #open = new Map<string, OpenSpan[]>();

  /** Registers an open span; returns its remover. */
  add(name: string, key: string | undefined, open: OpenSpan): () => void {
    const id = spanId(name, key);
    const entries = this.#open.get(id) ?? [];
    entries.push(open);
    this.#open.set(id, entries);
    return () => {
      const current = this.#open.get(id);
      if (current === undefined) return;
      const index = current.indexOf(open);
      if (index >= 0) current.splice(index, 1);
      if (current.length === 0) this.#open.delete(id);
    };
  }

  /**
   * Records `waiters` on the one open span of `name` and `key`, and ends it once its mint has
   * settled. Two providers with the same name minting the same key at once make it
   * ambiguous: then nothing is recorded (each span ends by its own fallback).
   */
  recordWaiters(name: string, key: string | undefined, waiters: number): void {
    const entries = this.#open.get(spanId(name, key));
    if (entries?.length !== 1) return;
    const open = entries[0] as OpenSpan;
    try {
      open.span.setAttribute(OTEL_ATTRIBUTES.waiterCount, waiters);
    } catch {
      // A tracer that throws loses the count, not the span's end.
    }
    if (open.settled) open.end();
  }
}

function spanId(name: string, key: string | undefined): string {
  return key === undefined ? name : `${name}\u0000${key}`;
}

const registries = new WeakMap<object, RefreshSpans>();

/** The open-span registry of a reporter created by this package. @internal */
export function refreshSpansOf(reporter: Reporter): RefreshSpans | undefined {
  return registries.get(reporter);
}

/** Gives a reporter its open-span registry. @internal */
export function attachRefreshSpans(reporter: Reporter): RefreshSpans {
  const spans = new RefreshSpans();
  registries.set(reporter, spans);
  return spans;
}
