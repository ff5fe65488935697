/**
 * The one Web global @sluice/effect touches: the `AbortSignal` Effect hands to `Effect.callback`
 * and core's calls take. The package compiles with `types: []` and the ES2022 lib, like core,
 * so nothing runtime-specific creeps in.
 */

interface AbortSignal {
  readonly aborted: boolean;
  readonly reason: unknown;
  addEventListener(type: 'abort', listener: () => void, options?: { once?: boolean }): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}
