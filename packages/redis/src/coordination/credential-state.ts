/**
 * What one instance remembers about each coordinated credential: which stored credential ids
 * it handed out (to recognise `previous` on an invalidation without ever comparing secrets in
 * the store), the fleet's failure window it is honouring, and a credential minted while the
 * store was away that should be offered to the store once it is back. Bounded: the least
 * recently used entries are forgotten past {@link MAX_TRACKED}.
 */

import type { Codec } from './codec.js';
import type { SerializedMintError } from './errors.js';

/** Most credentials remembered at once. */
export const MAX_TRACKED = 100_000;
/** Values remembered per credential. */
const HANDED_PER_CREDENTIAL = 4;

/** A fleet failure window this instance honours, on its monotonic clock. */
export interface HonouredFailure {
  readonly untilMonotonic: number;
  readonly failures: number;
  readonly error: SerializedMintError;
  /** The original error object when this instance failed itself, else the rebuilt one. */
  readonly cause: unknown;
}

/** A credential minted during a fallback, not yet in the store. */
export interface PendingStore {
  readonly value: unknown;
  /** Its expiry on the instance's clock; `Infinity` for never. */
  readonly expiresAt: number;
  /** When it was minted, on the instance's clock. */
  readonly mintedAt: number;
  /** The wrapped mint's codec. */
  readonly codec: Codec<unknown>;
  /** Remembers the id it was stored under. */
  readonly remember: (id: string) => void;
}

/** One credential's memory. */
export class CredentialState {
  readonly #handed: Array<{ readonly value: unknown; readonly id: string }> = [];
  failure: HonouredFailure | undefined;
  pending: PendingStore | undefined;
  /** Whether {@link pending} is being offered to the store now. */
  flushing = false;
  /** The highest generation stamp written or read, so a new one is always larger. */
  generation = 0;

  /** Remembers that `value` was handed out as the stored credential `id`. */
  remember(value: unknown, id: string): void {
    const handed = this.#handed;
    for (let i = 0; i < handed.length; i++) {
      if (Object.is((handed[i] as { value: unknown }).value, value)) handed.splice(i, 1);
    }
    handed.push({ value, id });
    if (handed.length > HANDED_PER_CREDENTIAL) handed.shift();
  }

  /** The stored id of a value handed out, if it is one of the last few. */
  idOf(value: unknown): string | undefined {
    for (let i = this.#handed.length - 1; i >= 0; i--) {
      const entry = this.#handed[i] as { value: unknown; id: string };
      if (Object.is(entry.value, value)) return entry.id;
    }
    return undefined;
  }
}

/** Per-credential memory, least recently used first. */
export class CredentialStates {
  readonly #states = new Map<string, CredentialState>();
  readonly #max: number;

  constructor(max = MAX_TRACKED) {
    this.#max = max;
  }

  /** The state of `ref`, created on first use and marked most recently used. */
  use(ref: string): CredentialState {
    const states = this.#states;
    let state = states.get(ref);
    if (state !== undefined) {
      states.delete(ref);
    } else {
      state = new CredentialState();
      if (states.size >= this.#max) {
        const oldest = states.keys().next().value;
        if (oldest !== undefined) states.delete(oldest);
      }
    }
    states.set(ref, state);
    return state;
  }

  /** The state of `ref` if there is one; no recency change. */
  peek(ref: string): CredentialState | undefined {
    return this.#states.get(ref);
  }

  /** Every state that holds a credential waiting to be stored. */
  *pending(): IterableIterator<[string, CredentialState]> {
    for (const entry of this.#states) if (entry[1].pending !== undefined) yield entry;
  }

  get size(): number {
    return this.#states.size;
  }

  clear(): void {
    this.#states.clear();
  }
}
