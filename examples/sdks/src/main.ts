/**
 * `pnpm example:sdks`: Sluice under the cloud SDKs services already run, each against local
 * endpoints (no network, no cloud account). Each SDK is one module exporting
 * `run(log)`; add one by importing it and listing it in SECTIONS.
 */

import * as aws from './aws.js';
import * as azure from './azure.js';
import * as google from './google.js';

type Section = readonly [title: string, run: (log: (line: string) => void) => Promise<void>];

const SECTIONS: readonly Section[] = [
  ['AWS: S3Client + @sluice/aws', aws.run],
  ['Google: @google-cloud/storage + @sluice/google', google.run],
  ['Azure: BlobServiceClient + @sluice/azure', azure.run],
];

let failed = false;
for (const [title, run] of SECTIONS) {
  console.log(`\n== ${title}`);
  try {
    await run((line) => console.log(`   ${line}`));
  } catch (error) {
    failed = true;
    console.error(`   FAILED: ${error instanceof Error ? error.message : String(error)}`);
  }
}
process.exit(failed ? 1 : 0);
