/**
 * What the soak counts: AbortSignal 'abort' listeners added and removed, live timers, heap
 * after a forced GC, and the run's context. Sluice looks up `setTimeout`/`clearTimeout` and
 * the AbortSignal methods when it uses them, so wrapping the globals sees every call it makes.
 */

import { getHeapStatistics } from 'node:v8';
import { mulberry32 } from '../bench/src/compare/prng.js';

type Listener = ((event: Event) => void) | { handleEvent(event: Event): void };
type ListenerOptions = { once?: boolean; capture?: boolean } | boolean;

/** Counts of 'abort' listeners on AbortSignals while {@link AbortListenerCounter} is installed. */
export interface ListenerCounts {
  /** Listeners added (a duplicate add, which EventTarget ignores, is not counted). */
  readonly added: number;
  /** Removed by `removeEventListener`. */
  readonly removedExplicitly: number;
  /** Removed by the runtime because they were `{ once: true }` and fired. */
  readonly removedByOnce: number;
  /** Still attached: added − removed. */
  readonly live: number;
}

/**
 * Wraps `AbortSignal.prototype.addEventListener`/`removeEventListener` to keep, per signal,
 * the 'abort' listeners attached. A `{ once: true }` listener is registered through a
 * wrapper that notes its own removal when it fires, so live = added − removed exactly.
 */
export class AbortListenerCounter {
  #added = 0;
  #removedExplicitly = 0;
  #removedByOnce = 0;
  readonly #attached = new WeakMap<AbortSignal, Map<Listener, Listener>>();
  #restore: (() => void) | undefined;

  install(): void {
    if (this.#restore !== undefined) return;
    const proto = AbortSignal.prototype;
    const add = proto.addEventListener;
    const remove = proto.removeEventListener;
    const ownAdd = Object.hasOwn(proto, 'addEventListener');
    const ownRemove = Object.hasOwn(proto, 'removeEventListener');
    const attached = this.#attached;
    const counter = this;
    proto.addEventListener = function (
      this: AbortSignal,
      type: string,
      listener: Listener | null,
      options?: ListenerOptions,
    ): void {
      if (type !== 'abort' || listener === null) {
        add.call(this, type, listener as Listener, options);
        return;
      }
      let byListener = attached.get(this);
      if (byListener === undefined) {
        byListener = new Map();
        attached.set(this, byListener);
      }
      if (byListener.has(listener)) return; // EventTarget ignores duplicates
      const once = typeof options === 'object' && options.once === true;
      let registered: Listener = listener;
      if (once) {
        const signal = this;
        registered = function (this: unknown, event: Event): void {
          if (byListener.get(listener) === registered) {
            byListener.delete(listener);
            counter.#removedByOnce += 1;
          }
          if (typeof listener === 'function') listener.call(signal, event);
          else listener.handleEvent(event);
        };
      }
      byListener.set(listener, registered);
      counter.#added += 1;
      add.call(this, type, registered, options);
    };
    proto.removeEventListener = function (
      this: AbortSignal,
      type: string,
      listener: Listener | null,
      options?: ListenerOptions,
    ): void {
      if (type !== 'abort' || listener === null) {
        remove.call(this, type, listener as Listener, options);
        return;
      }
      const byListener = attached.get(this);
      const registered = byListener?.get(listener);
      if (registered === undefined) {
        remove.call(this, type, listener, options); // not ours to count (or already gone)
        return;
      }
      byListener?.delete(listener);
      counter.#removedExplicitly += 1;
      remove.call(this, type, registered, options);
    };
    this.#restore = () => {
      // Inherited from EventTarget.prototype unless the runtime defines its own.
      if (ownAdd) proto.addEventListener = add;
      else delete (proto as Partial<AbortSignal>).addEventListener;
      if (ownRemove) proto.removeEventListener = remove;
      else delete (proto as Partial<AbortSignal>).removeEventListener;
    };
  }

  uninstall(): void {
    this.#restore?.();
    this.#restore = undefined;
  }

  counts(): ListenerCounts {
    const removed = this.#removedExplicitly + this.#removedByOnce;
    return {
      added: this.#added,
      removedExplicitly: this.#removedExplicitly,
      removedByOnce: this.#removedByOnce,
      live: this.#added - removed,
    };
  }
}

/** Counts of timers made through the global `setTimeout` while {@link TimerCounter} is installed. */
export interface TimerCounts {
  readonly started: number;
  readonly fired: number;
  readonly cleared: number;
  /** Started, neither fired nor cleared yet. */
  readonly live: number;
  /** The most live at once, sampled at every start. */
  readonly maxLive: number;
}

/** Wraps the global `setTimeout`/`clearTimeout` to track live timers. */
export class TimerCounter {
  readonly #live = new Set<unknown>();
  #started = 0;
  #fired = 0;
  #cleared = 0;
  #maxLive = 0;
  #restore: (() => void) | undefined;

  install(): void {
    if (this.#restore !== undefined) return;
    const realSet = globalThis.setTimeout;
    const realClear = globalThis.clearTimeout;
    const live = this.#live;
    const wrappedSet = (
      callback: (...args: unknown[]) => void,
      delay?: number,
      ...args: unknown[]
    ) => {
      const handle = realSet(() => {
        if (live.delete(handle)) this.#fired += 1;
        callback(...args);
      }, delay);
      live.add(handle);
      this.#started += 1;
      if (live.size > this.#maxLive) this.#maxLive = live.size;
      return handle;
    };
    const wrappedClear = (handle: Parameters<typeof clearTimeout>[0]) => {
      if (live.delete(handle)) this.#cleared += 1;
      realClear(handle);
    };
    globalThis.setTimeout = wrappedSet as typeof setTimeout;
    globalThis.clearTimeout = wrappedClear as typeof clearTimeout;
    this.#restore = () => {
      globalThis.setTimeout = realSet;
      globalThis.clearTimeout = realClear;
    };
  }

  uninstall(): void {
    this.#restore?.();
    this.#restore = undefined;
  }

  counts(): TimerCounts {
    return {
      started: this.#started,
      fired: this.#fired,
      cleared: this.#cleared,
      live: this.#live.size,
      maxLive: this.#maxLive,
    };
  }
}

const exposedGc = (globalThis as { gc?: () => void }).gc;

/** Lets the event loop turn once (a macrotask), so finalizers and settled work run. */
export function turn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** V8's used heap in bytes after forced full collections. Needs `node --expose-gc`. */
export async function heapAfterGc(): Promise<number> {
  if (exposedGc === undefined) {
    throw new Error('run with `node --expose-gc --import tsx test/soak/soak.ts` (or `pnpm soak`)');
  }
  for (let i = 0; i < 3; i++) {
    await turn();
    exposedGc();
  }
  return getHeapStatistics().used_heap_size;
}

/** Where and when the soak ran: the same header the benchmarks record. */
export { describeEnvironment, type Environment } from '../bench/src/environment.js';

/** A small, fast, seedable PRNG (mulberry32), so every soak run makes the same choices. */
export const seededRandom = mulberry32;
