import { defineConfig } from 'tsup';
import { sluiceTsupConfig } from '../tsup.shared.js';

export default defineConfig(sluiceTsupConfig());
