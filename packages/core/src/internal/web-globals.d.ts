/**
 * The few Web/runtime globals @sluice/core uses. The core compiles with `types: []` and the
 * ES2022 lib only, so nothing Node-specific can creep in; these declarations describe the
 * subset that every target runtime (Node, Deno, Bun, browsers, edge workers) provides.
 */

interface AbortSignal {
  readonly aborted: boolean;
  readonly reason: unknown;
  addEventListener(type: 'abort', listener: () => void, options?: { once?: boolean }): void;
  removeEventListener(type: 'abort', listener: () => void): void;
  throwIfAborted(): void;
}

declare var AbortSignal: {
  prototype: AbortSignal;
  /** Not constructible (`new AbortSignal()` throws); declared so `instanceof` type-checks. */
  new (): AbortSignal;
};

interface AbortController {
  readonly signal: AbortSignal;
  abort(reason?: unknown): void;
}

declare var AbortController: {
  prototype: AbortController;
  new (): AbortController;
};

declare function setTimeout(handler: () => void, timeoutMs: number): unknown;
declare function clearTimeout(handle: unknown): void;

declare function queueMicrotask(callback: () => void): void;
