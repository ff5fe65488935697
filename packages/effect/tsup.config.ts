import { defineConfig } from 'tsup';
import { sluiceTsupConfig } from '../tsup.shared.js';

// ESM only: `effect` 4 itself ships only ESM, so every consumer already loads ESM; a CommonJS
// build would add a second copy of this module for no user.
export default defineConfig(sluiceTsupConfig({ format: ['esm'] }));
