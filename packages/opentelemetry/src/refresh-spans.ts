/**
 * The `sluice.refresh` spans still open, per provider name and key, so the reporter that sees
 * a mint's `onCoalesced` can record on its span how many callers waited on it.
 *
 * Core reports `onCoalesced` while it settles the mint, after the traced mint's own promise
 * settled and before any waiter sees the outcome; a traced mint paired with a reporter
 * therefore ends its span only after core has settled (see `trace-mint.ts`).
 */

import type { Span } from '@opentelemetry/api';
import type { Reporter } from '@sluice/core';
import { OTEL_ATTRIBUTES } from './names.js';

/** Open refresh spans by provider name and key. @internal */
export class RefreshSpans {
  readonly #open = new Map<string, Span[]>();

  /** Registers an open span; returns its remover. */
  add(name: string, key: string | undefined, span: Span): () => void {
    const id = spanId(name, key);
    const spans = this.#open.get(id) ?? [];
    spans.push(span);
    this.#open.set(id, spans);
    return () => {
      const current = this.#open.get(id);
      if (current === undefined) return;
      const index = current.indexOf(span);
      if (index >= 0) current.splice(index, 1);
      if (current.length === 0) this.#open.delete(id);
    };
  }

  /**
   * Records `waiters` on the one open span of `name` and `key`. Two providers with the same
   * name minting the same key at once make it ambiguous: then nothing is recorded.
   */
  recordWaiters(name: string, key: string | undefined, waiters: number): void {
    const spans = this.#open.get(spanId(name, key));
    if (spans?.length !== 1) return;
    (spans[0] as Span).setAttribute(OTEL_ATTRIBUTES.waiterCount, waiters);
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
