/**
 * Planner throughput and peak memory at the 100,000-profile cap (docs/architecture.md#measurements), from the file source.
 *
 *   npx tsx bench/planner.ts [--profiles 100000] [--segments-format jsonl|csv] [--repeats 3]
 *                            [--page-size 1000] [--seed 42] [--out bench/results/planner.json]
 *                            [--lambda-memory 1024]   (0: Node's own heap defaults)
 *                            [--semi-space MB|runtime] (default: what the stack deploys)
 *
 * Writes the deterministic sample segments (three overlapping) to a temporary directory, bundles
 * bench/planner-worker.ts with esbuild, and runs each measurement in a fresh `node` process: one
 * first-export run planned by the real `planRun`, in list and field mode, as a dry run (read, map,
 * validate, merge, diff, batch) and as a real run (also resolves lists against a fake Autopilot and
 * serialises every send-batch message). Only the `planRun` call is timed; peak memory is the
 * worker's maxRSS, under the heap limits the planner has on Lambda (lib/lambda-node-flags.ts): the
 * stack's NODE_OPTIONS for it, or with `--semi-space runtime` the limits the runtime itself gives the
 * memory size. Figures, not assertions: nothing here fails on a slow machine.
 */
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { generateSampleProfiles, SAMPLE_SEGMENTS, writeSampleFiles } from '#local/sample-data.ts';
import { REPO_ROOT } from '../cdk/constructs/bundling.ts';
import { PLANNER_SEMI_SPACE_MB, plannerNodeOptions, SIZING } from '../cdk/stacks/stateless-stack.ts';
import { BENCH_TMP, bundleWorker } from './lib/bundle-worker.ts';
import { lastJsonLine, runChild } from './lib/child.ts';
import { effectiveHeapFlags } from './lib/lambda-node-flags.ts';
import { machineInfo } from './lib/machine.ts';
import { round, type Spread, spread } from './lib/stats.ts';
import type { PlannerWorkerReport } from './planner-worker.ts';

const TARGETS = { profilesPerSecond: 20_000, peakMB: 256 } as const;

interface Scenario {
  name: string;
  mode: 'list' | 'field';
  trigger: 'dry-run' | 'on-demand';
}

const SCENARIOS: readonly Scenario[] = [
  { name: 'dry-run/list', mode: 'list', trigger: 'dry-run' },
  { name: 'dry-run/field', mode: 'field', trigger: 'dry-run' },
  { name: 'full/list', mode: 'list', trigger: 'on-demand' },
  { name: 'full/field', mode: 'field', trigger: 'on-demand' },
];

interface Run extends PlannerWorkerReport {
  scenario: string;
  repeat: number;
  profilesPerSecond: number;
  datasetProfilesPerSecond: number;
}

interface ScenarioSummary {
  scenario: string;
  mode: string;
  trigger: string;
  /** Profiles read (a profile in two segments is read twice) per second of `planRun`. */
  profilesPerSecond: Spread;
  /** Distinct dataset profiles per second: the stricter reading of the target. */
  datasetProfilesPerSecond: Spread;
  planMs: Spread;
  /** CPU time of planRun (all threads): less sensitive than wall time to other work on the machine. */
  cpuMs: Spread;
  maxRssMB: Spread;
  /** maxRSS minus the idle worker's: what planning itself added. */
  plannerRssMB: Spread;
  peakHeapUsedMB: Spread;
  profilesRead: number;
  distinct: number;
  batchesTotal: number;
  messagesQueued: number;
  requestsEstimated: number;
}

const roundSpread = (s: Spread, digits = 1): Spread => ({
  median: round(s.median, digits),
  min: round(s.min, digits),
  max: round(s.max, digits),
});

const membersOf = (membership: Uint8Array, segmentIndex: number): number => {
  let n = 0;
  for (const mask of membership) if (mask & (1 << segmentIndex)) n++;
  return n;
};

const workerArgs = (worker: string, heapFlags: readonly string[]): string[] => [
  '--expose-gc',
  ...heapFlags,
  worker,
];

const main = async (): Promise<void> => {
  const { values } = parseArgs({
    options: {
      profiles: { type: 'string', default: '100000' },
      'segments-format': { type: 'string', default: 'jsonl' },
      repeats: { type: 'string', default: '3' },
      'page-size': { type: 'string', default: '1000' },
      seed: { type: 'string', default: '42' },
      out: { type: 'string', default: join(REPO_ROOT, 'bench', 'results', 'planner.json') },
      'lambda-memory': { type: 'string', default: String(SIZING.planner.memorySize) },
      'semi-space': { type: 'string', default: String(PLANNER_SEMI_SPACE_MB) },
    },
  });
  const profiles = Number(values.profiles);
  const format = values['segments-format'] === 'csv' ? 'csv' : 'jsonl';
  const repeats = Number(values.repeats);
  const pageSize = Number(values['page-size']);
  const seed = Number(values.seed);
  const lambdaMemoryMB = Number(values['lambda-memory']);
  const semiSpace = values['semi-space'];
  const semiSpaceMB = semiSpace === 'runtime' ? null : Number(semiSpace);
  if (semiSpaceMB !== null && !(Number.isInteger(semiSpaceMB) && semiSpaceMB > 0))
    throw new Error(`--semi-space: expected a whole number of MB or "runtime", got "${semiSpace}"`);
  const nodeOptions =
    lambdaMemoryMB === 0 || semiSpaceMB === null ? [] : plannerNodeOptions(lambdaMemoryMB, semiSpaceMB);
  const heapFlags = lambdaMemoryMB === 0 ? [] : effectiveHeapFlags(lambdaMemoryMB, nodeOptions);

  const dir = mkdtempSync(join(tmpdir(), 'bench-planner-'));
  try {
    process.stdout.write(
      `Generating ${profiles.toLocaleString('en')} sample profiles (seed ${seed}, ${format})… `,
    );
    const dataset = generateSampleProfiles({ profiles, seed });
    const manifest = await writeSampleFiles(dir, dataset, { format });
    const files = manifest.map((m) => ({
      segment: m.id,
      bytes: statSync(join(dir, m.file)).size,
      profiles: membersOf(
        dataset.membership,
        SAMPLE_SEGMENTS.findIndex((s) => s.id === m.id),
      ),
    }));
    const counts = files.map((f) => `${f.segment}=${f.profiles}`).join(',');
    console.log(
      `${(files.reduce((a, f) => a + f.bytes, 0) / 2 ** 20).toFixed(1)} MB in ${readdirSync(dir).length} files`,
    );

    const worker = await bundleWorker('bench/planner-worker.ts', join(BENCH_TMP, 'planner-worker.mjs'));
    const runWorker = async (args: string[], what: string): Promise<PlannerWorkerReport> => {
      const result = await runChild(process.execPath, [...workerArgs(worker, heapFlags), ...args]);
      const report = lastJsonLine<PlannerWorkerReport>(result, what);
      if (result.code !== 0) throw new Error(`${what} exited ${result.code}: ${result.stderr}`);
      return report;
    };

    const idle: PlannerWorkerReport[] = [];
    for (let i = 0; i < repeats; i++) idle.push(await runWorker(['--idle'], 'idle worker'));
    const baselineRss = spread(idle.map((r) => r.maxRssMB)).median;
    console.log(`Idle worker (bundle loaded, nothing run): maxRSS ${baselineRss} MB\n`);

    const runs: Run[] = [];
    // Round-robin, so a drifting machine spreads over every scenario alike.
    for (let repeat = 1; repeat <= repeats; repeat++) {
      for (const s of SCENARIOS) {
        const r = await runWorker(
          [
            '--dir',
            dir,
            '--mode',
            s.mode,
            '--trigger',
            s.trigger,
            '--page-size',
            String(pageSize),
            '--counts',
            counts,
          ],
          s.name,
        );
        if (r.status !== (s.trigger === 'dry-run' ? 'succeeded' : 'sending'))
          throw new Error(`${s.name}: the run ended ${r.status}`);
        const seconds = (r.planMs ?? 0) / 1000;
        const run: Run = {
          scenario: s.name,
          repeat,
          ...r,
          profilesPerSecond: Math.round((r.profilesRead ?? 0) / seconds),
          datasetProfilesPerSecond: Math.round(profiles / seconds),
        };
        runs.push(run);
        console.log(
          `  ${s.name.padEnd(14)} #${repeat}  ${String(r.planMs).padStart(7)} ms (cpu ${r.cpuMs} ms)  ${run.profilesPerSecond.toLocaleString('en').padStart(7)} profiles/s  maxRSS ${r.maxRssMB} MB  heap ${r.peakHeapUsedMB} MB`,
        );
      }
    }

    const summaries: ScenarioSummary[] = SCENARIOS.map((s) => {
      const rs = runs.filter((r) => r.scenario === s.name);
      const first = rs[0] as Run;
      return {
        scenario: s.name,
        mode: s.mode,
        trigger: s.trigger,
        profilesPerSecond: roundSpread(spread(rs.map((r) => r.profilesPerSecond)), 0),
        datasetProfilesPerSecond: roundSpread(spread(rs.map((r) => r.datasetProfilesPerSecond)), 0),
        planMs: roundSpread(spread(rs.map((r) => r.planMs ?? 0))),
        cpuMs: roundSpread(spread(rs.map((r) => r.cpuMs ?? 0))),
        maxRssMB: roundSpread(spread(rs.map((r) => r.maxRssMB))),
        plannerRssMB: roundSpread(spread(rs.map((r) => r.maxRssMB - baselineRss))),
        peakHeapUsedMB: roundSpread(spread(rs.map((r) => r.peakHeapUsedMB))),
        profilesRead: first.profilesRead ?? 0,
        distinct: first.distinct ?? 0,
        batchesTotal: first.batchesTotal ?? 0,
        messagesQueued: first.messagesQueued ?? 0,
        requestsEstimated: first.requestsEstimated ?? 0,
      };
    });

    const met = Object.fromEntries(
      summaries.map((s) => [
        s.scenario,
        {
          profilesPerSecond: s.profilesPerSecond.median >= TARGETS.profilesPerSecond,
          profilesPerSecondEveryRun: s.profilesPerSecond.min >= TARGETS.profilesPerSecond,
          datasetProfilesPerSecond: s.datasetProfilesPerSecond.median >= TARGETS.profilesPerSecond,
          peakMB: s.maxRssMB.median <= TARGETS.peakMB,
          peakMBEveryRun: s.maxRssMB.max <= TARGETS.peakMB,
        },
      ]),
    );
    const result = {
      name: 'planner',
      ...machineInfo(),
      profiles,
      seed,
      segmentsFormat: format,
      pageSize,
      repeats,
      heap: {
        lambdaMemoryMB: lambdaMemoryMB === 0 ? null : lambdaMemoryMB,
        semiSpaceMB: lambdaMemoryMB === 0 ? null : semiSpaceMB,
        flags: heapFlags,
        what:
          "V8 heap limits of the worker: the planner's NODE_OPTIONS in the stack for lambdaMemoryMB (semiSpaceMB " +
          'given), or the limits the Lambda runtime gives lambdaMemoryMB (semiSpaceMB null), or Node defaults',
      },
      method:
        'One first-export run planned by the real planRun over FileSegmentSource, in a fresh `node` process per ' +
        'measurement (worker bundled with esbuild). planMs: the planRun call only. profilesPerSecond: profiles ' +
        'read (summed over the three overlapping segments) / planRun seconds; datasetProfilesPerSecond: distinct ' +
        'dataset profiles / planRun seconds. maxRssMB: process.resourceUsage().maxRSS of the worker; ' +
        'peakHeapUsedMB: heapUsed sampled every 5 ms and at every port call. dry-run: read, map, validate, ' +
        'merge, diff, batch, estimate. full: also resolves the lists (fake Autopilot) and serialises every ' +
        'send-batch message to JSON, as the SQS adapter does, then lets it go; before queueing it saves the ' +
        "decided plan as its checkpoint, compressed piece by piece by the DynamoDB adapter's own code, " +
        "and stages each chunk's snapshot changes encoded and compressed by that adapter's code, then let go.",
      files,
      baseline: {
        what: 'idle worker: the bundle loaded, nothing run',
        maxRssMB: roundSpread(spread(idle.map((r) => r.maxRssMB))),
        heapUsedMB: roundSpread(spread(idle.map((r) => r.peakHeapUsedMB))),
      },
      runs,
      median: Object.fromEntries(
        summaries.map((s) => [
          s.scenario,
          {
            profilesPerSecond: s.profilesPerSecond.median,
            datasetProfilesPerSecond: s.datasetProfilesPerSecond.median,
            planMs: s.planMs.median,
            cpuMs: s.cpuMs.median,
            maxRssMB: s.maxRssMB.median,
            plannerRssMB: s.plannerRssMB.median,
            peakHeapUsedMB: s.peakHeapUsedMB.median,
          },
        ]),
      ),
      scenarios: summaries,
      targets: TARGETS,
      met,
    };
    writeFileSync(values.out, `${JSON.stringify(result, null, 2)}\n`);

    console.log(
      `\nPlanner, ${profiles.toLocaleString('en')} profiles (${format}, page ${pageSize}): median [min–max] of ${repeats} runs; ${result.cpu} ×${result.cores}, Node ${process.version}, load ${result.loadAverage}; ` +
        (heapFlags.length === 0
          ? "Node's own heap limits"
          : `heap limits of a ${lambdaMemoryMB} MB Lambda, ${semiSpaceMB === null ? "the runtime's own" : 'NODE_OPTIONS'} (${heapFlags.join(' ')})`),
    );
    const fmt = (s: Spread, d = 0): string =>
      `${s.median.toFixed(d)} [${s.min.toFixed(d)}–${s.max.toFixed(d)}]`;
    const table: string[][] = [
      [
        'scenario',
        'planRun ms',
        'cpu ms',
        'read/s',
        'distinct/s',
        'maxRSS MB',
        'planner MB',
        'heap MB',
        'msgs',
      ],
      ...summaries.map((s) => [
        s.scenario,
        fmt(s.planMs),
        fmt(s.cpuMs),
        fmt(s.profilesPerSecond),
        fmt(s.datasetProfilesPerSecond),
        fmt(s.maxRssMB, 1),
        s.plannerRssMB.median.toFixed(1),
        fmt(s.peakHeapUsedMB, 1),
        String(s.messagesQueued),
      ]),
    ];
    const widths = (table[0] ?? []).map((_, c) => Math.max(...table.map((row) => (row[c] ?? '').length)));
    for (const row of table) console.log(row.map((cell, c) => cell.padStart(widths[c] ?? 0)).join('  '));
    console.log(
      `read/s: profiles read (${summaries[0]?.profilesRead.toLocaleString('en')}, a profile in two segments counts twice) per planRun second; distinct/s: the ${profiles.toLocaleString('en')} dataset profiles per second.`,
    );
    console.log(
      `planner MB: maxRSS minus the idle worker's ${baselineRss} MB. Targets: ≥ ${TARGETS.profilesPerSecond.toLocaleString('en')} profiles/s, ≤ ${TARGETS.peakMB} MB peak (maxRSS).`,
    );
    for (const s of summaries) {
      const m = met[s.scenario] as Record<string, boolean>;
      const word = (ok: boolean | undefined): string => (ok ? 'met' : 'MISSED');
      console.log(
        `  ${s.scenario.padEnd(14)} throughput ${word(m.profilesPerSecond)} (every run ${word(m.profilesPerSecondEveryRun)}; distinct/s ${word(m.datasetProfilesPerSecond)}), memory ${word(m.peakMB)} (every run ${word(m.peakMBEveryRun)})`,
      );
    }
    console.log(`\nWrote ${relative(process.cwd(), values.out)}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
};

await main();
