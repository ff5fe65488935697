import type { Options } from 'tsup';

/**
 * The one build recipe every published Sluice package uses: ESM + CJS + `.d.ts`
 * from `src/index.ts`, targeting Node 20 and modern runtimes.
 */
export function sluiceTsupConfig(overrides: Partial<Options> = {}): Options {
  return {
    entry: ['src/index.ts'],
    format: ['esm', 'cjs'],
    dts: true,
    clean: true,
    sourcemap: true,
    target: 'es2022',
    treeshake: true,
    splitting: false,
    outDir: 'dist',
    ...overrides,
  };
}
