/** The shape of `bench-results/compare.json`, shared by the suite, the report and the charts. */

import type { Environment } from '../environment.js';
import type { AbortResult } from './scenarios/abort.js';
import type { Burst401Result } from './scenarios/burst-401.js';
import type { CohortResult } from './scenarios/cohort.js';
import type { FleetResult } from './scenarios/fleet.js';
import type { HotPathCase } from './scenarios/hot-path.js';
import type { OutageResult } from './scenarios/outage.js';

export interface ContenderInfo {
  readonly id: string;
  readonly label: string;
  readonly clock: string;
  readonly signals: boolean;
  readonly tokenAwareInvalidate: boolean;
}

export interface CompareResults {
  readonly environment: Environment;
  readonly quick: boolean;
  readonly durationS: number;
  readonly seeds: { readonly outage: number; readonly fleet: number };
  readonly method: Record<string, unknown>;
  readonly contenders: readonly ContenderInfo[];
  readonly hotPath: readonly HotPathCase[];
  readonly cohorts: readonly CohortResult[];
  readonly outage: readonly OutageResult[];
  readonly burst401: readonly Burst401Result[];
  readonly abort: readonly AbortResult[];
  readonly fleet: readonly FleetResult[];
}
