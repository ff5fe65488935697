/** Reading an injected random source without letting it break anything. */

/**
 * A jitter sample from `random` in [0, 1] (`Math.random()` when absent): a value outside is
 * clamped, and a `random` that throws or returns no finite number samples 0 (no jitter), so
 * a broken random source never fails a mint or spins a timer.
 */
export function sample(random: (() => number) | undefined): number {
  if (random === undefined) return Math.random();
  try {
    const value = random();
    return typeof value === 'number' && Number.isFinite(value)
      ? Math.min(Math.max(value, 0), 1)
      : 0;
  } catch {
    return 0;
  }
}
