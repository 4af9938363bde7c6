/**
 * `npm run bench`: every benchmark in turn (each in its own process, so they do not disturb one
 * another): the pipeline against the rate budget, a 100,000-profile export into the Ortto stand-in
 * at 10 requests/s, the planner at 100,000 profiles, the planner
 * reading 1,000,000 rows per format from S3, the Lambda bundles and the sender's memory sizing.
 * Results land in bench/results/. Extra arguments go to the pipeline benchmark. The
 * million-profile run is apart (`npm run bench:million`: it takes a while).
 *
 *   npm run bench                      # defaults: 10,000 profiles, modes list, list-bulk, field
 *   npm run bench -- --profiles 20000 --modes list
 */
import { spawnSync } from 'node:child_process';

const steps: Array<[string, string[]]> = [
  ['bench/pipeline.ts', process.argv.slice(2)],
  ['bench/ortto.ts', []],
  ['bench/planner.ts', []],
  ['bench/planner-s3.ts', []],
  ['bench/bundles.ts', []],
  ['bench/sender-sizing.ts', []],
];

for (const [script, args] of steps) {
  console.log(`\n=== ${script} ${args.join(' ')}`);
  const result = spawnSync(process.execPath, ['--import', 'tsx', script, ...args], { stdio: 'inherit' });
  if (result.status !== 0) {
    console.error(`${script} failed (exit ${result.status})`);
    process.exit(result.status ?? 1);
  }
}
console.log('\nAll results are in bench/results/.');
